//! "Past one machine": what `compare --scale-out` and the `predbench-on-spark`
//! peer measured: the cost of going through Spark on one machine, the shards
//! of the seed's job run one after another to simulate N machines, and how
//! far one machine's cores can take `rayon` before its reader stops it. Each
//! table from one session.

use std::collections::BTreeMap;

use predbench_exporter::Strategy;

use super::decision::ON_SPARK;
use super::markdown::{Align, Table, bytes, ratio, seconds, size_title};
use super::model::{Model, SessionModel, Stats, median};
use crate::record::{Configuration, DATASET_EDGE_CASES, RunKind, SinkKind};

/// Spark's own job done right, at the same parallelism.
const SPARK_JVM: &str = "spark-jvm";

const INTRODUCTION: &str = "predbench numbers rows from the Parquet footers and finds a modulo \
group's members at a fixed stride, so any range of groups can be exported by anyone who can read \
the files: `predbench export --shard I/N` takes groups [I·G/N, (I+1)·G/N) and the shards' parts, \
read in order, are the one-machine export message for message. `scripts/spark/predbench_on_spark.py` \
lets Spark's scheduler run them, one task per shard.";

const SHARDS_NOTE: &str = "\"sum / 1 shard\" is the work N shards do together over the work of \
one: what sharding itself costs (every shard opens the files and reads the footers; a modulo \
shard's K cursors each start inside a row group). Storage shared by N machines must also carry N \
times the read rate.";

/// The section, for the appendix.
pub fn render(model: &Model, used: &mut super::Used) -> String {
    let mut parts = Vec::new();
    for session in model.newest_first() {
        for (dataset, rows) in session.sizes() {
            if dataset == DATASET_EDGE_CASES {
                continue;
            }
            let mut text = spark(session, &dataset, rows);
            text.push_str(&shards(session, &dataset, rows));
            text.push_str(&ceiling(session, &dataset, rows));
            let known = parts
                .iter()
                .any(|(known, size, _, _)| *known == dataset && *size == rows);
            if !text.is_empty() && !known {
                parts.push((dataset.clone(), rows, session.id().to_string(), text));
            }
        }
    }
    if parts.is_empty() {
        return String::new();
    }
    // Per size, from the newest session that measured any of it.
    parts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut out = format!("## Past one machine\n\n{INTRODUCTION}\n\n");
    for (dataset, rows, session, text) in parts {
        used.note(&session, "past one machine");
        out.push_str(&format!(
            "### {}, session {session}\n\n{text}",
            size_title(&dataset, rows)
        ));
    }
    out
}

/// predbench through Spark against the one-process export and Spark's own job.
fn spark(session: &SessionModel, dataset: &str, rows: u64) -> String {
    let Some(on_spark) = session.peer(dataset, rows, ON_SPARK) else {
        return String::new();
    };
    let rayon = session.reference(dataset, rows);
    let spark_jvm = session.peer(dataset, rows, SPARK_JVM);
    let reference = rayon.and_then(Stats::median_wall);
    let mut out = format!(
        "**Through Spark on this machine**: `predbench-on-spark` runs {threads} shards as Spark \
         tasks on `local-cluster[{threads},1,1024]` (separate executor JVMs, one core each, one \
         `predbench export --shard I/N --threads 1` per task); the one-process `rayon` export \
         and Spark's own job (`spark-jvm`, `local[{threads}]`) at the same parallelism.\n\n",
        threads = on_spark.configuration.threads
    );
    let mut table = Table::new(&[
        ("configuration", Align::Left),
        ("median s", Align::Right),
        (
            &format!(
                "× rayon{}",
                reference.map_or_else(String::new, |wall| format!(" ({} s)", seconds(wall)))
            ),
            Align::Right,
        ),
        ("peak RSS", Align::Right),
        ("verified", Align::Left),
    ]);
    for stats in [rayon, Some(on_spark), spark_jvm].into_iter().flatten() {
        let row = match stats.median_wall() {
            Some(wall) => vec![
                stats.configuration.name.clone(),
                seconds(wall),
                reference.map_or_else(String::new, |reference| ratio(wall / reference)),
                bytes(stats.peak_rss),
                super::decision::verified_cell(stats),
            ],
            None => vec![
                stats.configuration.name.clone(),
                "✗".to_string(),
                String::new(),
                String::new(),
                stats
                    .failures
                    .first()
                    .map_or_else(String::new, |failure| failure.describe()),
            ],
        };
        table.row(row);
    }
    out.push_str(&table.render());
    if let (Some(on_spark), Some(reference)) = (on_spark.median_wall(), reference) {
        let difference = on_spark - reference;
        out.push_str(&if difference >= 0.0 {
            format!(
                "Going through Spark costs {difference:.1} s over the one-process export here; \
                 the verdict follows that cost from size to size.\n\n"
            )
        } else {
            format!(
                "predbench's shards on Spark took {:.1} s less than the one-process export \
                 here.\n\n",
                -difference
            )
        });
    }
    out
}

/// The shards of the seed's job run one after another: time per shard vs N.
fn shards(session: &SessionModel, dataset: &str, rows: u64) -> String {
    let mut by_count: BTreeMap<u64, Vec<&Stats>> = BTreeMap::new();
    for stats in session.at(dataset, rows) {
        if let (RunKind::ExportShard, Some(shard)) =
            (stats.configuration.kind, stats.configuration.shard)
        {
            by_count.entry(shard.count).or_default().push(stats);
        }
    }
    if by_count.is_empty() {
        return String::new();
    }
    let whole = by_count
        .get(&1)
        .and_then(|shards| shards.first())
        .and_then(|stats| stats.median_wall());
    let mut out = "**Shards, simulated**: for every N, the N shards of the seed's job \
         (`predbench export --shard I/N --strategy rayon --grouping modulo --sink parquet:`, all \
         cores each) run one after another on this machine. On N machines they run at once, so \
         the job takes about its slowest shard: \"speed-up\" is the 1-shard time over the \
         slowest shard, \"imbalance\" the slowest shard over the median one.\n\n"
        .to_string();
    let mut table = Table::new(&[
        ("shards N", Align::Right),
        ("median shard s", Align::Right),
        ("slowest shard s", Align::Right),
        ("imbalance", Align::Right),
        ("sum of shards s", Align::Right),
        (
            &format!(
                "sum / 1 shard{}",
                whole.map_or_else(String::new, |wall| format!(" ({} s)", seconds(wall)))
            ),
            Align::Right,
        ),
        ("speed-up on N machines", Align::Right),
        ("efficiency", Align::Right),
    ]);
    for (count, shards) in &by_count {
        let mut times: Vec<f64> = shards
            .iter()
            .filter_map(|stats| stats.median_wall())
            .collect();
        if times.len() as u64 != *count {
            let mut row = vec![
                count.to_string(),
                format!("{} of {count} shards measured", times.len()),
            ];
            row.extend(std::iter::repeat_n(String::new(), 6));
            table.row(row);
            continue;
        }
        times.sort_by(f64::total_cmp);
        let middle = median(&times).unwrap_or(0.0);
        let slowest = times.last().copied().unwrap_or(0.0);
        let sum: f64 = times.iter().sum();
        let (overhead, speed_up, efficiency) = match whole {
            Some(whole) if slowest > 0.0 => (
                format!("{:.2}", sum / whole),
                format!("{:.2}", whole / slowest),
                format!("{:.0}%", 100.0 * whole / slowest / *count as f64),
            ),
            _ => Default::default(),
        };
        table.row(vec![
            count.to_string(),
            seconds(middle),
            seconds(slowest),
            format!("{:.2}", slowest / middle.max(1e-9)),
            seconds(sum),
            overhead,
            speed_up,
            efficiency,
        ]);
    }
    out.push_str(&table.render());
    out.push_str(SHARDS_NOTE);
    out.push_str("\n\n");
    out
}

/// Whether `configuration` is `rayon` modulo into the null sink (or the reader alone).
fn null_probe(configuration: &Configuration, kind: RunKind, pinned: bool) -> bool {
    configuration.kind == kind
        && configuration.pinned_threads == pinned
        && configuration.sink == Some(SinkKind::Null)
        && configuration.strategy == Some(Strategy::Rayon)
        && configuration.peer.is_none()
        && configuration.shard.is_none()
}

/// The reader's ceiling: per-row CPU of decoding and of encoding, and the
/// core count where `rayon` would stop scaling with one reading thread.
fn ceiling(session: &SessionModel, dataset: &str, rows: u64) -> String {
    let probe = |kind, pinned| {
        session.find(dataset, rows, |configuration| {
            null_probe(configuration, kind, pinned)
        })
    };
    let (Some(decode_one), Some(encode_one)) = (
        probe(RunKind::DecodeOnly, true),
        probe(RunKind::Export, true),
    ) else {
        return String::new();
    };
    let per_row = |stats: &Stats| (stats.user + stats.system) / rows.max(1) as f64 * 1e6;
    let decode = per_row(decode_one);
    let whole = per_row(encode_one);
    let encode = (whole - decode).max(0.0);
    let group_size = encode_one.configuration.group_size.unwrap_or(10) as f64;
    let mut out = format!(
        "**Scale up before scaling out** (CPU seconds per row of runs on one thread): reading \
         and decoding (`export --decode-only`) costs {decode:.3} µs a row, the whole export into \
         the null sink {whole:.3} µs, so encoding {encode:.3} µs. A reader in which one thread \
         decodes for every encoder stops scaling at {whole:.3} / {decode:.3} = {:.1} cores. \
         predbench decodes on one thread per cursor (a modulo export has K = {group_size:.0} \
         member cursors), so decoding stops it only at about {:.0} cores; what stays serial is \
         joining each chunk's member slices and the writer.",
        whole / decode.max(1e-9),
        group_size * whole / decode.max(1e-9)
    );
    if let (Some(decode_all), Some(encode_all)) = (
        probe(RunKind::DecodeOnly, false).and_then(Stats::median_wall),
        probe(RunKind::Export, false).and_then(Stats::median_wall),
    ) {
        out.push_str(&format!(
            " On all {} cores of this machine the reader alone runs {:.1}x as fast as the whole \
             export ({} s against {} s).",
            session.info.machine.logical_cores,
            encode_all / decode_all.max(1e-9),
            seconds(decode_all),
            seconds(encode_all)
        ));
    }
    out.push_str("\n\n");
    out
}
