//! `cargo bench`: the export strategies against each other (strategy x
//! grouping x sink) and the generator's batch sizes and codecs, at reduced
//! scale. Test data is generated once per parameter set and cached under
//! `target/predbench-bench-data`; only the measured work is timed.
//! `PREDBENCH_BENCH_ROWS` changes the scale (default 1,000,000 rows).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use predbench_exporter::sink::{NullSink, ParquetSink};
use predbench_exporter::{Dataset, ExportOptions, Grouping, Strategy, export};
use predbench_generator::{Compression, GeneratorConfig, Manifest, RunOptions, generate};

fn bench_rows() -> u64 {
    std::env::var("PREDBENCH_BENCH_ROWS")
        .ok()
        .and_then(|rows| rows.parse().ok())
        .unwrap_or(1_000_000)
}

fn cache_directory() -> PathBuf {
    // Benches run with the package directory as the working directory.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/predbench-bench-data")
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The cached seed-shaped dataset of `rows` rows, generated on first use.
fn cached_dataset(rows: u64) -> PathBuf {
    let config = GeneratorConfig::new(rows);
    let path = cache_directory().join(format!("seed-{rows}"));
    let fresh = Manifest::read(&path).is_ok_and(|manifest| manifest.config == config);
    if !fresh {
        let options = RunOptions {
            threads: threads(),
            force: true,
        };
        std::fs::create_dir_all(cache_directory()).expect("cannot create the bench data cache");
        generate(&config, &path, &options, &mut |_| {}).expect("cannot generate bench data");
    }
    path
}

fn export_benches(c: &mut Criterion) {
    let rows = bench_rows();
    let dataset = Dataset::open(&cached_dataset(rows)).expect("bench data opens");
    let output = cache_directory().join("export-output.parquet");
    let mut group = c.benchmark_group("export");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(rows));
    for strategy in Strategy::ALL {
        // Packed to SQS's 256 KiB: what packing costs beside contiguous K = 10.
        for (grouping, max_message_bytes) in [
            (Grouping::Modulo, None),
            (Grouping::Contiguous, None),
            (Grouping::Packed, Some(256 << 10)),
        ] {
            for sink in ["null", "parquet"] {
                let options = ExportOptions {
                    grouping,
                    max_message_bytes,
                    memory_budget: 1 << 30,
                    ..ExportOptions::new(strategy)
                };
                let id = BenchmarkId::new(format!("{}/{grouping:?}", strategy.name()), sink);
                group.bench_function(id, |bencher| {
                    bencher.iter_custom(|iterations| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iterations {
                            let started = Instant::now();
                            if sink == "null" {
                                export(&dataset, &options, NullSink::default(), &mut |_| {})
                                    .expect("export runs");
                            } else {
                                // lz4, as `predbench export` writes by default.
                                let sink = ParquetSink::create(
                                    &output,
                                    predbench_generator::parquet_output::parquet_codec(
                                        Compression::Lz4,
                                    ),
                                    true,
                                )
                                .expect("sink opens");
                                export(&dataset, &options, sink, &mut |_| {}).expect("export runs");
                            }
                            total += started.elapsed();
                        }
                        total
                    })
                });
            }
        }
    }
    group.finish();
    let _ = std::fs::remove_file(output);
}

fn generate_benches(c: &mut Criterion) {
    let rows = bench_rows();
    let mut group = c.benchmark_group("generate");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(rows));
    let out = cache_directory().join("generate-output");
    for batch_rows in [65_536u64, 262_144, 1_048_576] {
        for compression in [Compression::Snappy, Compression::None] {
            let config = GeneratorConfig {
                batch_rows,
                row_group_rows: batch_rows,
                compression,
                ..GeneratorConfig::new(rows)
            };
            let id = BenchmarkId::new(format!("{compression:?}"), batch_rows);
            group.bench_function(id, |bencher| {
                bencher.iter_custom(|iterations| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iterations {
                        let options = RunOptions {
                            threads: threads(),
                            force: true,
                        };
                        let started = Instant::now();
                        generate(&config, &out, &options, &mut |_| {}).expect("generation runs");
                        total += started.elapsed();
                    }
                    total
                })
            });
        }
    }
    group.finish();
    let _ = std::fs::remove_dir_all(out);
}

criterion_group!(benches, export_benches, generate_benches);
criterion_main!(benches);
