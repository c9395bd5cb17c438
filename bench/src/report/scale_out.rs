//! "Past one machine": what `compare --scale-out` and the `predbench-on-spark`
//! peer measured, from the records alone: the cost of going through Spark on
//! one machine, the shards of the seed's job run one after another to
//! simulate N machines, and how far one machine's cores can take `rayon`
//! before its reader stops it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use predbench_generator::config::format_bytes;

use super::{ConfigurationStats, REFERENCE_EXPORT, Scale};
use crate::record::DATASET_EDGE_CASES;

/// The peer that runs predbench's shards on Spark.
const ON_SPARK: &str = "predbench-on-spark";
/// Spark's own job done right, at the same parallelism.
const SPARK_JVM: &str = "spark-jvm";
/// The reader alone on one thread and on all, and the encoders on one thread.
const DECODE_ONE: &str = "decode only modulo, 1 thread";
const DECODE_ALL: &str = "decode only modulo";
const ENCODE_ONE: &str = "export rayon modulo null, 1 thread";
const ENCODE_ALL: &str = "export rayon modulo null";

/// Renders the section when any scale measured something of it.
pub fn render(out: &mut String, scales: &[Scale]) {
    let scales: Vec<&Scale> = scales
        .iter()
        .filter(|scale| scale.dataset != DATASET_EDGE_CASES && has_scale_out(scale))
        .collect();
    if scales.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Past one machine\n");
    let _ = writeln!(
        out,
        "predbench numbers rows from the Parquet footers and finds a modulo group's members at a \
         fixed stride, so any range of groups can be exported by anyone who can read the files: \
         `predbench export --shard I/N` takes groups [I·G/N, (I+1)·G/N) and the shards' parts, \
         read in order, are the one-machine export message for message. \
         `scripts/spark/predbench_on_spark.py` lets Spark's scheduler run them, one task per \
         shard. Every ratio below divides figures of one session.\n"
    );
    for scale in scales {
        let _ = writeln!(out, "### {}\n", scale.title());
        render_spark(out, scale);
        render_shards(out, scale);
        render_ceiling(out, scale);
    }
}

fn has_scale_out(scale: &Scale) -> bool {
    !scale.shards.is_empty()
        || scale
            .configurations
            .iter()
            .any(|stats| stats.peer.as_deref() == Some(ON_SPARK) || stats.name == DECODE_ONE)
}

/// A configuration of `scale` measured in `session`.
fn find<'a>(
    scale: &'a Scale,
    session: &str,
    test: impl Fn(&ConfigurationStats) -> bool,
) -> Option<&'a ConfigurationStats> {
    scale
        .configurations
        .iter()
        .find(|stats| stats.session == session && test(stats))
}

/// predbench through Spark against the one-process export and Spark's own job.
fn render_spark(out: &mut String, scale: &Scale) {
    let Some(on_spark) = scale
        .configurations
        .iter()
        .find(|stats| stats.peer.as_deref() == Some(ON_SPARK))
    else {
        return;
    };
    let session = on_spark.session.as_str();
    let rayon = find(scale, session, |stats| stats.name == REFERENCE_EXPORT);
    let spark_jvm = find(scale, session, |stats| {
        stats.peer.as_deref() == Some(SPARK_JVM)
    });
    let _ = writeln!(
        out,
        "**Through Spark on this machine** (session {session}): `predbench-on-spark` runs \
         {threads} shards as Spark tasks on `local-cluster[{threads},1,1024]` (separate executor \
         JVMs, one core each, one `predbench export --shard I/N --threads 1` per task); the \
         one-process `rayon` export and Spark's own job (`spark-jvm`, `local[{threads}]`) at the \
         same parallelism.\n",
        threads = on_spark.threads
    );
    let _ = writeln!(
        out,
        "| configuration | median s | peak RSS | × rayon (one process) | verified |\n|---|---:|---:|---:|---|"
    );
    let reference = rayon.and_then(ConfigurationStats::median_wall);
    for stats in [rayon, Some(on_spark), spark_jvm].into_iter().flatten() {
        let Some(seconds) = stats.median_wall() else {
            let _ = writeln!(out, "| {} | failed | | | |", stats.name);
            continue;
        };
        let ratio = reference.map_or(String::new(), |reference| {
            format!("{:.2}", seconds / reference)
        });
        let verified = stats
            .verification
            .as_ref()
            .map_or("not checked", |check| if check.ok { "yes" } else { "NO" });
        let _ = writeln!(
            out,
            "| {} | {seconds:.2} | {} | {ratio} | {verified} |",
            stats.name,
            format_bytes(stats.peak_rss)
        );
    }
    out.push('\n');
    if let (Some(on_spark), Some(jvm)) = (
        on_spark.median_wall(),
        spark_jvm.and_then(ConfigurationStats::median_wall),
    ) {
        let _ = writeln!(
            out,
            "Spark's own job takes {:.1}x the time of predbench's shards run by Spark.",
            jvm / on_spark
        );
    }
    if let (Some(on_spark), Some(reference)) = (on_spark.median_wall(), reference) {
        let difference = on_spark - reference;
        if difference >= 0.0 {
            let _ = writeln!(
                out,
                "Going through Spark costs {difference:.1} s over the one-process export here: \
                 starting the driver and executor JVMs and their Python workers, which does not \
                 grow with the data."
            );
        } else {
            let _ = writeln!(
                out,
                "predbench's shards on Spark took {:.1} s less than the one-process export here: \
                 at this size Spark's fixed start-up is within the runs' own variation.",
                -difference
            );
        }
    }
    out.push('\n');
}

/// The shards of the seed's job run one after another: time per shard vs N.
fn render_shards(out: &mut String, scale: &Scale) {
    let mut by_count: BTreeMap<u64, Vec<&ConfigurationStats>> = BTreeMap::new();
    for stats in &scale.shards {
        if let Some(shard) = stats.shard {
            by_count.entry(shard.count).or_default().push(stats);
        }
    }
    if by_count.is_empty() {
        return;
    }
    let session = &scale.shards[0].session;
    let _ = writeln!(
        out,
        "**Shards, simulated** (session {session}): for every N, the N shards of the seed's job \
         (`predbench export --shard I/N --strategy rayon --grouping modulo --sink parquet:`, all \
         cores each) run one after another on this machine. On N machines they run at once, so \
         the job takes about its slowest shard: \"speed-up\" is the 1-shard time over the \
         slowest shard, \"imbalance\" the slowest shard over the median one.\n"
    );
    let _ = writeln!(
        out,
        "| shards N | median shard s | slowest shard s | imbalance | sum of shards s | sum / 1 shard | speed-up on N machines | efficiency |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let whole = by_count
        .get(&1)
        .and_then(|shards| shards.first())
        .and_then(|stats| stats.median_wall());
    for (count, shards) in &by_count {
        let mut times: Vec<f64> = shards
            .iter()
            .filter_map(|stats| stats.median_wall())
            .collect();
        if times.len() as u64 != *count {
            let _ = writeln!(
                out,
                "| {count} | {} of {count} shards measured | | | | | | |",
                times.len()
            );
            continue;
        }
        times.sort_by(f64::total_cmp);
        let median = super::median(&times).unwrap_or(0.0);
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
        let _ = writeln!(
            out,
            "| {count} | {median:.2} | {slowest:.2} | {:.2} | {sum:.2} | {overhead} | {speed_up} | {efficiency} |",
            slowest / median.max(1e-9)
        );
    }
    let _ = writeln!(
        out,
        "\n\"sum / 1 shard\" is the work N shards do together over the work of one: what \
         sharding itself costs (every shard opens the files and reads the footers; a modulo \
         shard's K cursors each start inside a row group). Storage shared by N machines must \
         also carry N times the read rate.\n"
    );
}

/// The reader's ceiling: per-row CPU of decoding and of encoding, and the
/// core count where `rayon` would stop scaling with one reading thread.
fn render_ceiling(out: &mut String, scale: &Scale) {
    let Some(decode_one) = scale
        .configurations
        .iter()
        .find(|stats| stats.name == DECODE_ONE)
    else {
        return;
    };
    let session = decode_one.session.as_str();
    let Some(encode_one) = find(scale, session, |stats| stats.name == ENCODE_ONE) else {
        return;
    };
    let rows = scale.rows.max(1) as f64;
    let per_row = |stats: &ConfigurationStats| (stats.user + stats.system) / rows * 1e6;
    let decode = per_row(decode_one);
    let whole = per_row(encode_one);
    let encode = (whole - decode).max(0.0);
    let group_size = scale.example.configuration.group_size.unwrap_or(10) as f64;
    let _ = write!(
        out,
        "**Scale up before scaling out** (session {session}, CPU seconds per row of runs on one \
         thread): reading and decoding (`export --decode-only`) costs {decode:.3} µs a row, \
         the whole export into the null sink {whole:.3} µs, so encoding {encode:.3} µs. \
         A reader in which one thread decodes for every encoder stops scaling at \
         {whole:.3} / {decode:.3} = {:.1} cores. predbench decodes on one thread per cursor (a modulo export has K = {group_size:.0} \
         member cursors), so decoding stops it only at about {:.0} cores; what stays serial is \
         joining each chunk's member slices and the writer.",
        whole / decode.max(1e-9),
        group_size * whole / decode.max(1e-9)
    );
    let all_decode = find(scale, session, |stats| stats.name == DECODE_ALL);
    let all_encode = find(scale, session, |stats| stats.name == ENCODE_ALL);
    if let (Some(decode), Some(encode)) = (
        all_decode.and_then(ConfigurationStats::median_wall),
        all_encode.and_then(ConfigurationStats::median_wall),
    ) {
        let _ = writeln!(
            out,
            " On all {} cores of this machine the reader alone runs {:.1}x as fast as the whole \
             export ({decode:.2} s against {encode:.2} s).",
            all_decode.map_or(0, |_| scale.example.machine.logical_cores),
            encode / decode.max(1e-9)
        );
    }
    out.push('\n');
}
