//! The verdict on the report's first screen: what to build at each size, how
//! much faster and leaner than each peer, what memory buys, which peers fail
//! and how, what the peers write for NaN, the queue's delivery rate, the cost
//! of going through Spark, and which machine said so. Every sentence is rendered from the
//! decision tables' sessions (or, for the queue, the newest queue session)
//! and names them.

use super::decision::{Conventions, Decision, ON_SPARK, codec_of, exporter_label, family_of};
use super::delivery;
use super::markdown::{bytes, count, machine_text, ratio, seconds, short_count};
use super::memory::{self, Study};
use super::model::{Model, Stats};
use crate::peers::peer_named;
use crate::record::{Configuration, RunKind};

/// The verdict as a Markdown list.
pub fn render(
    model: &Model,
    decisions: &[Decision],
    conventions: &Conventions,
    studies: &[Study],
) -> String {
    let mut bullets = Vec::new();
    if let Some(build) = build(decisions) {
        bullets.push(build);
    }
    bullets.extend(memory::verdict_line(studies));
    bullets.extend(failures(decisions));
    if let Some(nan) = nan(decisions, conventions) {
        bullets.push(nan);
    }
    bullets.extend(delivery::verdict(model));
    if let Some(spark) = through_spark(decisions) {
        bullets.push(spark);
    }
    if let Some(machine) = machine(model, decisions) {
        bullets.push(machine);
    }
    let mut out = String::new();
    for bullet in bullets {
        out.push_str(&format!("- {bullet}\n"));
    }
    out.push('\n');
    out
}

/// Peers that compete (predbench run by Spark is predbench).
fn competitors<'a>(decision: &'a Decision) -> Vec<&'a Stats> {
    decision
        .peers()
        .into_iter()
        .filter(|stats| stats.configuration.peer.as_deref() != Some(ON_SPARK))
        .collect()
}

fn build(decisions: &[Decision]) -> Option<String> {
    let sizes: Vec<String> = decisions
        .iter()
        .filter_map(|decision| {
            let reference = decision.reference();
            let wall = reference.median_wall()?;
            let finished: Vec<&Stats> = competitors(decision)
                .into_iter()
                .filter(|stats| !stats.failed())
                .collect();
            let fastest = finished
                .iter()
                .filter_map(|stats| Some((stats.median_wall()?, *stats)))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let leanest = finished.iter().min_by_key(|stats| stats.peak_rss);
            let against = match (fastest, leanest) {
                (Some((peer_wall, fastest)), Some(leanest)) => format!(
                    "; the fastest peer, {}, {} s{} ({}x); the leanest peer that finished, {}, \
                     {} ({:.0}x)",
                    exporter_label(&fastest.configuration),
                    seconds(peer_wall),
                    fastest.spread_or_one_run(),
                    ratio(peer_wall / wall),
                    exporter_label(&leanest.configuration),
                    bytes(leanest.peak_rss),
                    leanest.peak_rss as f64 / reference.peak_rss.max(1) as f64
                ),
                _ => "; no peer finished".to_string(),
            };
            Some(format!(
                "  - {} rows (session {}): {} s{} in {}{against}.",
                short_count(decision.rows),
                decision.session.id(),
                seconds(wall),
                reference.spread_or_one_run(),
                bytes(reference.peak_rss),
            ))
        })
        .collect();
    let beats = |better: &dyn Fn(&Stats, &Stats) -> bool| {
        decisions.iter().all(|decision| {
            competitors(decision)
                .into_iter()
                .all(|peer| better(decision.reference(), peer))
        })
    };
    let faster = beats(
        &|rayon, peer| match (rayon.median_wall(), peer.median_wall()) {
            (Some(ours), Some(theirs)) => ours < theirs,
            (Some(_), None) => true,
            (None, _) => false,
        },
    );
    let leaner = beats(&|rayon, peer| peer.failed() || rayon.peak_rss < peer.peak_rss);
    let claim = match (faster, leaner) {
        (true, true) => {
            "faster than every peer and in less memory than any that finished, at every size measured"
        }
        (true, false) => "faster than every peer at every size measured",
        _ => "as below, beside the fastest and the leanest peer at each size",
    };
    (!sizes.is_empty()).then(|| {
        format!(
            "**Build the export as one process with predbench's `rayon` strategy**: it does the \
             seed's job (modulo grouping into Parquet, on the seed generator's files) {claim}:\n{}",
            sizes.join("\n")
        )
    })
}

fn failures(decisions: &[Decision]) -> Vec<String> {
    let mut lines = Vec::new();
    for decision in decisions {
        let mut failed: Vec<String> = Vec::new();
        for stats in decision.peers() {
            if let (true, Some(failure)) = (stats.failed(), stats.failures.first()) {
                failed.push(format!(
                    "{}: {}",
                    exporter_label(&stats.configuration),
                    failure.describe()
                ));
            } else if stats.not_verified() {
                failed.push(format!(
                    "{} wrote output that does not verify ({})",
                    exporter_label(&stats.configuration),
                    super::decision::verified_cell(stats)
                ));
            }
        }
        if !failed.is_empty() {
            let machine = &decision.session.info.machine;
            let disk = machine.disk.as_ref().map_or_else(String::new, |disk| {
                format!(
                    ", {} free on the data's disk when the session began",
                    bytes(disk.available_bytes)
                )
            });
            lines.push(format!(
                "**At {} rows on this machine** ({} of memory{disk}): {} (session {}).",
                short_count(decision.rows),
                bytes(machine.memory_bytes),
                failed.join("; "),
                decision.session.id()
            ));
        }
    }
    lines
}

/// What each exporter of the edge-case session writes for NaN, where it is
/// not Spark's `"NaN"`, beside those that write it as Spark does.
fn nan(decisions: &[Decision], conventions: &Conventions) -> Option<String> {
    let session = conventions.session?;
    // The exporters of the conventions' own session: the sizes of other
    // sessions may not have run every peer.
    let decision = decisions
        .iter()
        .find(|decision| std::ptr::eq(decision.session, session))
        .or(decisions.last())?;
    let mut alike: Vec<String> = Vec::new();
    let mut odd = Vec::new();
    for stats in decision.rows() {
        let configuration = &stats.configuration;
        let convention = conventions.describe(configuration);
        match (configuration.peer.as_deref(), convention.as_str()) {
            (_, "") => {}
            (None, "as Spark") => alike.insert(0, "predbench".to_string()),
            (Some(name), "as Spark") => {
                let spark_itself =
                    peer_named(name).is_some_and(|peer| peer.spark || peer.runs_predbench());
                if !spark_itself {
                    alike.push(family_label(configuration));
                }
            }
            _ => odd.push(format!("{}: {convention}", family_label(configuration))),
        }
    }
    let alike = match alike.len() {
        0 => String::new(),
        1 => format!(", and so does {}", alike[0]),
        _ => format!(", and so do {}", list(&alike)),
    };
    (!odd.is_empty()).then(|| {
        format!(
            "**JSON for NaN**: Spark writes `\"NaN\"`{alike}; {} (session {}, a table with NaN \
             and nulls).",
            odd.join("; "),
            session.id()
        )
    })
}

/// The tool a row's exporter is a variant of: the edge cases ran the
/// family's first variant, so what they found is the tool's, not the variant's.
fn family_label(configuration: &Configuration) -> String {
    peer_named(family_of(configuration)).map_or_else(
        || exporter_label(configuration),
        |family| family.label.to_string(),
    )
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [head @ .., last] => format!("{} and {last}", head.join(", ")),
    }
}

fn through_spark(decisions: &[Decision]) -> Option<String> {
    let measured: Vec<(u64, f64, f64)> = decisions
        .iter()
        .filter_map(|decision| {
            let on_spark = decision
                .session
                .peer(&decision.dataset, decision.rows, ON_SPARK)?
                .median_wall()?;
            let rayon = decision.reference().median_wall()?;
            Some((decision.rows, on_spark, rayon))
        })
        .collect();
    let sizes: Vec<String> = measured
        .iter()
        .map(|(rows, on_spark, rayon)| {
            format!(
                "{} s against {} s at {} rows ({}x, {:+.1} s)",
                seconds(*on_spark),
                seconds(*rayon),
                short_count(*rows),
                ratio(on_spark / rayon),
                on_spark - rayon
            )
        })
        .collect();
    let gaps: Vec<f64> = measured
        .iter()
        .map(|(_, on_spark, rayon)| on_spark - rayon)
        .collect();
    let trend = if gaps.len() > 1 && gaps.windows(2).all(|pair| pair[1] > pair[0]) {
        "; the ratio falls as the data grows, but the seconds Spark adds grow with it: more \
         than a start-up cost"
    } else {
        ""
    };
    (!sizes.is_empty()).then(|| {
        format!(
            "**Past one machine**, predbench's shards run as Spark tasks (`local-cluster`, same \
             cores; each size from its decision table's session): {}{trend}.",
            sizes.join(", ")
        )
    })
}

/// Share of CPU time spent in the kernel above which a peer's time is "largely the kernel's".
const KERNEL_HEAVY_SHARE: f64 = 0.4;

fn machine(model: &Model, decisions: &[Decision]) -> Option<String> {
    let decision = decisions
        .iter()
        .max_by_key(|decision| competitors(decision).len())?;
    let system_share = |stats: &Stats| stats.system / (stats.user + stats.system).max(0.01);
    // The finished export, at any size, whose time is most the kernel's, if any is largely.
    let kernel_heavy = decisions
        .iter()
        .flat_map(|decision| {
            competitors(decision)
                .into_iter()
                .filter(|stats| !stats.failed() && stats.configuration.kind == RunKind::Export)
                .map(move |stats| (decision, stats))
        })
        .filter(|(_, stats)| system_share(stats) >= KERNEL_HEAVY_SHARE)
        .max_by(|(_, a), (_, b)| system_share(a).total_cmp(&system_share(b)));
    let contrast = match kernel_heavy {
        Some((heavy, stats)) => format!(
            "at {} rows (session {}) predbench's time is user-mode CPU ({:.1} s user, {:.1} s \
             system) while {} time is largely the kernel's ({:.1} s user, {:.1} s system, page \
             faults for its {})",
            count(heavy.rows),
            heavy.session.id(),
            heavy.reference().user,
            heavy.reference().system,
            possessive(&exporter_label(&stats.configuration)),
            stats.user,
            stats.system,
            bytes(stats.peak_rss),
        ),
        None => format!(
            "at {} rows predbench's time is user-mode CPU ({:.1} s user, {:.1} s system), and \
             so is most of every finished peer's",
            count(decision.rows),
            decision.reference().user,
            decision.reference().system,
        ),
    };
    Some(format!(
        "**Machine**: {} (session {}). A ratio is a property of the machine too: {contrast}; the \
         ratios move with how fast a machine runs user-mode code against its kernel and disk, so \
         compare them within one session only{}.",
        machine_text(&decision.session.info),
        decision.session.id(),
        speeds(model, decisions).unwrap_or_default(),
    ))
}

/// Sessions of one size this far apart in `rayon`'s time ran on machines
/// that differ, whatever their description says.
const OTHER_SPEED: f64 = 1.3;

/// How many times the slower of two times is the faster.
fn apart(a: f64, b: f64) -> f64 {
    (a / b).max(b / a)
}

/// `; the sizes' sessions ran ... at different speeds: ...`, when the newest
/// other session that timed `rayon` at a decision table's size, writing the
/// same codec, took a time far from the table's.
fn speeds(model: &Model, decisions: &[Decision]) -> Option<String> {
    let (decision, wall, other, other_wall) = decisions
        .iter()
        .filter_map(|decision| {
            let reference = decision.reference();
            let wall = reference.median_wall()?;
            let (session, other) = model
                .newest_first()
                .filter(|session| session.id() != decision.session.id())
                .find_map(|session| {
                    let other = session.reference(&decision.dataset, decision.rows)?;
                    (codec_of(other) == codec_of(reference)).then_some((session, other))
                })?;
            Some((decision, wall, session, other.median_wall()?))
        })
        .max_by(|a, b| apart(a.1, a.3).total_cmp(&apart(b.1, b.3)))
        .filter(|(_, wall, _, other_wall)| apart(*wall, *other_wall) >= OTHER_SPEED)?;
    Some(format!(
        "; the sizes' sessions ran on machines of that description at different speeds: at {} \
         rows `rayon` took {} s in session {} and {} s in session {} ({}x)",
        count(decision.rows),
        seconds(wall),
        decision.session.id(),
        seconds(other_wall),
        other.id(),
        ratio(apart(wall, other_wall)),
    ))
}

/// `Polars'`, `DuckDB's`.
fn possessive(name: &str) -> String {
    if name.ends_with('s') {
        format!("{name}'")
    } else {
        format!("{name}'s")
    }
}
