//! Behaviour of the generator as a library: schema, row counts, determinism,
//! distributions, null and NaN rates, atomic publication.

use std::fs::File;
use std::path::Path;

use arrow_array::{Array, Float64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use predbench_generator::{
    Compression, Distribution, FloatEncoding, GeneratorConfig, Manifest, RunOptions, generate,
    generate_shard, merge_shard_manifests,
};
use sha2::{Digest, Sha256};

fn run(config: &GeneratorConfig, out: &Path, threads: usize) -> Manifest {
    let options = RunOptions {
        threads,
        force: false,
    };
    generate(config, out, &options, &mut |_| {})
        .unwrap()
        .manifest
}

fn read_batches(dir: &Path) -> Vec<RecordBatch> {
    let manifest = Manifest::read(dir).unwrap();
    let mut batches = Vec::new();
    for part in &manifest.parts {
        let file = File::open(dir.join(&part.file)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        batches.extend(reader.map(|batch| batch.unwrap()));
    }
    batches
}

/// A hash of every value (ids as text, doubles as bits, nulls marked), in row order.
fn data_hash(dir: &Path) -> String {
    let mut hasher = Sha256::new();
    for batch in read_batches(dir) {
        let ids = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        for row in 0..batch.num_rows() {
            hasher.update(ids.value(row).as_bytes());
            for column in &batch.columns()[1..] {
                let values = column.as_any().downcast_ref::<Float64Array>().unwrap();
                if values.is_null(row) {
                    hasher.update(b"null");
                } else {
                    hasher.update(values.value(row).to_bits().to_le_bytes());
                }
            }
        }
    }
    format!("{:x}", hasher.finalize())
}

fn file_hashes(dir: &Path) -> Vec<String> {
    let manifest = Manifest::read(dir).unwrap();
    manifest
        .parts
        .iter()
        .map(|part| {
            format!(
                "{:x}",
                Sha256::digest(std::fs::read(dir.join(&part.file)).unwrap())
            )
        })
        .collect()
}

fn small_config(rows: u64) -> GeneratorConfig {
    GeneratorConfig {
        batch_rows: 5000,
        row_group_rows: 5000,
        file_rows: 12_000,
        ..GeneratorConfig::new(rows)
    }
}

#[test]
fn schema_and_row_count_match_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let manifest = run(&small_config(30_001), &out, 2);
    assert_eq!(manifest.rows, 30_001);
    assert_eq!(manifest.parts.len(), 3);
    assert_eq!(
        manifest
            .parts
            .iter()
            .map(|part| part.rows)
            .collect::<Vec<_>>(),
        vec![12_000, 12_000, 6001]
    );
    let batches = read_batches(&out);
    let schema = batches[0].schema();
    assert_eq!(schema.fields().len(), 31);
    assert_eq!(schema.field(0).name(), "id_client");
    assert_eq!(schema.field(0).data_type(), &arrow_schema::DataType::Utf8);
    for (index, field) in schema.fields().iter().skip(1).enumerate() {
        assert_eq!(field.name(), &format!("class_{index}"));
        assert_eq!(field.data_type(), &arrow_schema::DataType::Float64);
        assert!(field.is_nullable());
    }
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 30_001);
    // Every file on disk is listed, and its size is right.
    for part in &manifest.parts {
        assert_eq!(
            std::fs::metadata(out.join(&part.file)).unwrap().len(),
            part.bytes
        );
    }
}

#[test]
fn data_is_identical_across_threads_and_batch_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let reference = small_config(25_000);
    run(&reference, &dir.path().join("a"), 1);
    run(&reference, &dir.path().join("b"), 4);
    let rebatched = GeneratorConfig {
        batch_rows: 777,
        row_group_rows: 300,
        file_rows: 9_999,
        ..reference.clone()
    };
    run(&rebatched, &dir.path().join("c"), 3);

    let hash = data_hash(&dir.path().join("a"));
    assert_eq!(hash, data_hash(&dir.path().join("b")));
    assert_eq!(hash, data_hash(&dir.path().join("c")));
    // Same batch size: byte-identical files whatever the thread count.
    assert_eq!(
        file_hashes(&dir.path().join("a")),
        file_hashes(&dir.path().join("b"))
    );
    // A different seed gives different data.
    let other = GeneratorConfig {
        seed: 1,
        ..reference
    };
    run(&other, &dir.path().join("d"), 2);
    assert_ne!(hash, data_hash(&dir.path().join("d")));
}

#[test]
fn every_codec_and_encoding_reads_back_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let base = small_config(9_000);
    run(&base, &dir.path().join("base"), 2);
    let expected = data_hash(&dir.path().join("base"));
    for (index, (compression, encoding)) in [
        (Compression::Zstd, FloatEncoding::ByteStreamSplit),
        (Compression::Lz4, FloatEncoding::Plain),
        (Compression::None, FloatEncoding::ByteStreamSplit),
    ]
    .into_iter()
    .enumerate()
    {
        let config = GeneratorConfig {
            compression,
            float_encoding: encoding,
            ..base.clone()
        };
        let out = dir.path().join(format!("variant-{index}"));
        run(&config, &out, 2);
        assert_eq!(data_hash(&out), expected, "{compression:?} {encoding:?}");
    }
}

fn class_values(dir: &Path) -> Vec<Vec<Option<f64>>> {
    let mut rows = Vec::new();
    for batch in read_batches(dir) {
        for row in 0..batch.num_rows() {
            rows.push(
                batch.columns()[1..]
                    .iter()
                    .map(|column| {
                        let values = column.as_any().downcast_ref::<Float64Array>().unwrap();
                        (!values.is_null(row)).then(|| values.value(row))
                    })
                    .collect(),
            );
        }
    }
    rows
}

#[test]
fn uniform_values_have_mean_one_half() {
    let dir = tempfile::tempdir().unwrap();
    run(&small_config(20_000), &dir.path().join("u"), 2);
    let values: Vec<f64> = class_values(&dir.path().join("u"))
        .into_iter()
        .flatten()
        .map(|value| value.unwrap())
        .collect();
    assert_eq!(values.len(), 600_000);
    assert!(values.iter().all(|value| (0.0..1.0).contains(value)));
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    // The standard error of the mean is sqrt(1/12 / 600000) ~ 0.00037.
    assert!((mean - 0.5).abs() < 0.002, "mean {mean}");
}

#[test]
fn dirichlet_rows_sum_to_one_and_small_alpha_is_peaked() {
    let dir = tempfile::tempdir().unwrap();
    let mut peaks = Vec::new();
    for alpha in [0.05, 1.0, 50.0] {
        let config = GeneratorConfig {
            distribution: Distribution::Dirichlet { alpha },
            ..small_config(5_000)
        };
        let out = dir.path().join(format!("alpha-{alpha}"));
        run(&config, &out, 2);
        let rows = class_values(&out);
        let mut peak_sum = 0.0;
        for row in &rows {
            let values: Vec<f64> = row.iter().map(|value| value.unwrap()).collect();
            let sum: f64 = values.iter().sum();
            assert!((sum - 1.0).abs() < 1e-9, "alpha {alpha}: row sums to {sum}");
            assert!(values.iter().all(|value| *value >= 0.0));
            peak_sum += values.iter().cloned().fold(0.0, f64::max);
        }
        peaks.push(peak_sum / rows.len() as f64);
    }
    // Mean largest probability: high for a small alpha, near 1/30 for a large one.
    assert!(peaks[0] > 0.45, "alpha 0.05 peak {}", peaks[0]);
    assert!(peaks[0] > peaks[1] && peaks[1] > peaks[2], "{peaks:?}");
    assert!(peaks[2] < 0.1, "alpha 50 peak {}", peaks[2]);
}

#[test]
fn null_and_nan_rates_are_respected() {
    let dir = tempfile::tempdir().unwrap();
    let config = GeneratorConfig {
        null_rate: 0.1,
        nan_rate: 0.05,
        ..small_config(10_000)
    };
    run(&config, &dir.path().join("n"), 2);
    let cells: Vec<Option<f64>> = class_values(&dir.path().join("n"))
        .into_iter()
        .flatten()
        .collect();
    let total = cells.len() as f64;
    let nulls = cells.iter().filter(|cell| cell.is_none()).count() as f64 / total;
    let nans = cells
        .iter()
        .filter(|cell| cell.is_some_and(f64::is_nan))
        .count() as f64
        / total;
    // 300,000 cells: the standard error of a 10% rate is ~0.0005.
    assert!((nulls - 0.1).abs() < 0.005, "null rate {nulls}");
    assert!((nans - 0.05).abs() < 0.005, "NaN rate {nans}");
    // No id is ever null.
    for batch in read_batches(&dir.path().join("n")) {
        assert_eq!(batch.column(0).null_count(), 0);
    }
}

#[test]
fn existing_output_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "precious").unwrap();
    let options = RunOptions {
        threads: 2,
        force: false,
    };
    let error = generate(&small_config(100), &out, &options, &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("already exists"), "{error}");
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "precious"
    );

    let forced = RunOptions {
        force: true,
        ..options
    };
    generate(&small_config(100), &out, &forced, &mut |_| {}).unwrap();
    assert!(!out.join("keep.txt").exists());
    assert_eq!(Manifest::read(&out).unwrap().rows, 100);
    // Nothing but the dataset is left beside it.
    let siblings: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(siblings.len(), 1);
}

#[test]
fn invalid_configuration_leaves_nothing_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let options = RunOptions {
        threads: 2,
        force: false,
    };
    let bad = GeneratorConfig {
        classes: 0,
        ..small_config(10)
    };
    let error = generate(&bad, &out, &options, &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("invalid classes"), "{error}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn shard(index: u64, count: u64) -> predbench_common::Shard {
    predbench_common::Shard::new(index, count).unwrap()
}

#[test]
fn shards_write_the_one_machine_files_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let config = GeneratorConfig {
        file_rows: 2_000,
        batch_rows: 700,
        row_group_rows: 300,
        null_rate: 0.01,
        ..small_config(9_001)
    };
    let whole = dir.path().join("whole");
    run(&config, &whole, 2);
    let options = RunOptions {
        threads: 1,
        force: false,
    };
    // 5 part files in 3 shards, run out of order; the last to finish completes the set.
    let sharded = dir.path().join("sharded");
    for index in [2, 0] {
        let summary =
            generate_shard(&config, &sharded, shard(index, 3), &options, &mut |_| {}).unwrap();
        assert!(summary.completed.is_none());
    }
    assert!(!sharded.join(predbench_generator::MANIFEST_FILE).exists());
    let last = generate_shard(&config, &sharded, shard(1, 3), &options, &mut |_| {}).unwrap();
    assert_eq!(last.shard_manifest.parts.len(), 2);
    let manifest = last.completed.expect("the last shard completes the set");
    assert_eq!(manifest, Manifest::read(&whole).unwrap());
    for part in &manifest.parts {
        assert_eq!(
            std::fs::read(whole.join(&part.file)).unwrap(),
            std::fs::read(sharded.join(&part.file)).unwrap(),
            "{}",
            part.file
        );
    }
    // Nothing but the parts and the manifests is left: no temporary file.
    let hidden = std::fs::read_dir(&sharded)
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with('.')
        })
        .count();
    assert_eq!(hidden, 0);
}

#[test]
fn shards_of_another_run_or_a_changed_dataset_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = GeneratorConfig {
        file_rows: 1_000,
        batch_rows: 500,
        ..small_config(3_000)
    };
    let out = dir.path().join("data");
    let options = RunOptions {
        threads: 1,
        force: false,
    };
    generate_shard(&config, &out, shard(0, 2), &options, &mut |_| {}).unwrap();

    // Other parameters, another shard count: refused before anything is written.
    let other = GeneratorConfig {
        batch_rows: 1_000,
        ..config.clone()
    };
    let error = generate_shard(&other, &out, shard(1, 2), &options, &mut |_| {}).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("batch_rows 500 there, 1000 here"),
        "{error}"
    );
    let error = generate_shard(&config, &out, shard(1, 3), &options, &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("in 2 shards"), "{error}");
    assert!(!out.join("part-00002.parquet").exists());

    // The same shard again: refused without force, rewritten with it.
    let error = generate_shard(&config, &out, shard(0, 2), &options, &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("pass `force`"), "{error}");
    let forced = RunOptions {
        force: true,
        ..options.clone()
    };
    generate_shard(&config, &out, shard(0, 2), &forced, &mut |_| {}).unwrap();

    // Incomplete: the merge names the missing shard.
    let error = merge_shard_manifests(&out).unwrap_err();
    assert!(error.to_string().contains("shards 1/2 have not"), "{error}");

    // A part rewritten after its shard recorded it: the merge refuses.
    generate_shard(&config, &out, shard(1, 2), &options, &mut |_| {}).unwrap();
    std::fs::remove_file(out.join(predbench_generator::MANIFEST_FILE)).unwrap();
    std::fs::write(out.join("part-00001.parquet"), b"not the same").unwrap();
    let error = merge_shard_manifests(&out).unwrap_err();
    assert!(error.to_string().contains("the dataset changed"), "{error}");
    assert!(!out.join(predbench_generator::MANIFEST_FILE).exists());
}
