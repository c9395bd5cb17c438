//! The appendix's per-size tables: every configuration of a session at one
//! dataset size (generators, disk floors, strategies x groupings x sinks,
//! peers), one table per session. A session's table is shown while it holds a
//! configuration no newer session re-measured at that size; otherwise the
//! session is superseded there. Every ratio divides figures of the same table.

use std::collections::BTreeSet;

use predbench_exporter::{Grouping, Strategy};

use super::Used;
use super::markdown::{Align, Table, bytes, commit_text, count, ratio, seconds, size_title};
use super::model::{Model, SessionModel, Stats, in_size_tables};
use crate::record::{
    Configuration, DATASET_EDGE_CASES, DATASET_SEED, DiskFloor, RunKind, SinkKind,
};

const VERIFIED_NOTE: &str = "\"verified\": `predbench verify` of the first run's output (the \
exact grouping for predbench's strategies, completeness and values by id for the peers, which \
number rows their own way), with its own wall time. \"vs `time -v`\": the largest difference \
between the harness's wall time and `/usr/bin/time -v`'s for the same child, beyond `time`'s \
0.01 s rounding. Each configuration's exact command line is in `records.json` \
(`configuration.command`).";

/// Every size's tables, the seed's files first.
pub fn render(model: &Model, used: &mut Used) -> String {
    let mut sizes: Vec<(String, u64)> = model
        .sessions
        .iter()
        .flat_map(SessionModel::sizes)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    sizes.sort_by_key(|(dataset, rows)| {
        let rank = match dataset.as_str() {
            DATASET_SEED => 0,
            DATASET_EDGE_CASES => 2,
            _ => 1,
        };
        (rank, dataset.clone(), *rows)
    });
    let mut out = String::new();
    for (dataset, rows) in sizes {
        let shown = shown_sessions(model, &dataset, rows);
        if shown.is_empty() {
            continue;
        }
        out.push_str(&format!("## {}\n\n", size_title(&dataset, rows)));
        for session in shown {
            used.note(
                session.id(),
                &format!("{} table", size_title(&dataset, rows)),
            );
            out.push_str(&session_table(session, &dataset, rows));
        }
    }
    out
}

/// The sessions whose table is shown at a size, newest first.
fn shown_sessions<'a>(model: &'a Model, dataset: &str, rows: u64) -> Vec<&'a SessionModel> {
    let mut seen: Vec<Configuration> = Vec::new();
    let mut shown = Vec::new();
    for session in model.newest_first() {
        let identities: Vec<Configuration> = session
            .at(dataset, rows)
            .filter(|stats| in_size_tables(&stats.configuration))
            .map(|stats| stats.configuration.identity())
            .collect();
        if identities.iter().any(|identity| !seen.contains(identity)) {
            shown.push(session);
        }
        seen.extend(identities);
    }
    shown
}

fn rows_of<'a>(session: &'a SessionModel, dataset: &'a str, rows: u64) -> Vec<&'a Stats> {
    let mut stats: Vec<&Stats> = session
        .at(dataset, rows)
        .filter(|stats| in_size_tables(&stats.configuration))
        .collect();
    stats.sort_by_key(|stats| stats.display_order());
    stats
}

fn session_table(session: &SessionModel, dataset: &str, rows: u64) -> String {
    let stats = rows_of(session, dataset, rows);
    let (buffered, direct) = (
        disk_speed(&stats, DiskFloor::Buffered),
        disk_speed(&stats, DiskFloor::Direct),
    );
    let fastest = stats
        .iter()
        .filter(|stats| stats.configuration.kind == RunKind::Export)
        .filter_map(|stats| Some((stats.median_wall()?, stats.configuration.name.clone())))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let reference = session
        .reference(dataset, rows)
        .and_then(Stats::median_wall);
    let mut out = format!(
        "### Session {}\n\nCommit {}; {}.\n",
        session.id(),
        commit_text(&session.info),
        super::markdown::machine_text(&session.info)
    );
    if buffered.is_some() || direct.is_some() {
        out.push_str(&disk_floor_sentence(buffered, direct));
    }
    out.push('\n');
    let fastest_column = fastest
        .as_ref()
        .map_or("× fastest export".to_string(), |(wall, name)| {
            format!("× fastest export ({name}, {} s)", seconds(*wall))
        });
    let reference_column = reference.map_or("× rayon".to_string(), |wall| {
        format!("× rayon modulo parquet ({} s)", seconds(wall))
    });
    let mut table = Table::new(&[
        ("configuration", Align::Left),
        ("runs", Align::Right),
        ("median s", Align::Right),
        ("spread s", Align::Left),
        ("user s", Align::Right),
        ("sys s", Align::Right),
        ("peak RSS", Align::Right),
        ("bytes produced", Align::Right),
        ("rows/s", Align::Right),
        (&fastest_column, Align::Right),
        (&reference_column, Align::Right),
        ("× dd", Align::Right),
        ("× dd direct", Align::Right),
        ("verified", Align::Left),
        ("vs `time -v`", Align::Right),
    ]);
    let divisors = Divisors {
        fastest: fastest.as_ref().map(|(wall, _)| *wall),
        reference,
        disk: (buffered, direct),
    };
    for stats in &stats {
        table.row(row(stats, rows, &divisors));
    }
    out.push_str(&table.render());
    out.push_str(VERIFIED_NOTE);
    out.push_str("\n\n");
    for observation in stats
        .iter()
        .flat_map(|stats| &stats.observations)
        .collect::<BTreeSet<_>>()
    {
        out.push_str(&format!("Noticed: {observation}.\n\n"));
    }
    out.push_str(&failure_notes(&stats));
    out.push_str(&cpu_floor(session, &stats, rows));
    out
}

/// A disk floor's write speed in bytes a second, when the session measured it.
fn disk_speed(stats: &[&Stats], kind: DiskFloor) -> Option<f64> {
    stats
        .iter()
        .find(|stats| stats.configuration.disk_floor == Some(kind))
        .and_then(|floor| {
            let wall = floor.median_wall()?;
            (wall > 0.0 && floor.produced_bytes > 0).then(|| floor.produced_bytes as f64 / wall)
        })
}

/// The sentence under a session's heading on its disk floors.
fn disk_floor_sentence(buffered: Option<f64>, direct: Option<f64>) -> String {
    let speed = |speed: Option<f64>| {
        speed.map_or("not measured".to_string(), |speed| {
            format!("{:.0} MB/s", speed / 1e6)
        })
    };
    format!(
        "Disk floor: `dd` with `conv=fsync` writes {} through the page cache and {} with \
         `oflag=direct`; \"× dd\" is a configuration's time over the time those speeds need \
         for the bytes it produced (for the null sink, the JSON it discarded).\n",
        speed(buffered),
        speed(direct)
    )
}

/// What a row's times are divided by: the fastest export's and `rayon`'s
/// median seconds, and the disk's two write speeds.
struct Divisors {
    fastest: Option<f64>,
    reference: Option<f64>,
    disk: (Option<f64>, Option<f64>),
}

fn row(stats: &Stats, rows: u64, divisors: &Divisors) -> Vec<String> {
    let configuration = &stats.configuration;
    let Some(wall) = stats.median_wall() else {
        return failed_row(stats);
    };
    let export = configuration.kind == RunKind::Export;
    let versus = |divisor: Option<f64>| match divisor {
        Some(divisor) if export && divisor > 0.0 => ratio(wall / divisor),
        _ => String::new(),
    };
    let versus_disk = |speed: Option<f64>| match speed {
        Some(speed) if stats.produced_bytes > 0 && configuration.kind != RunKind::DiskFloor => {
            ratio(wall / (stats.produced_bytes as f64 / speed))
        }
        _ => String::new(),
    };
    vec![
        configuration.name.clone(),
        if stats.failures.is_empty() {
            stats.runs().to_string()
        } else {
            format!("{} of {} ok", stats.walls.len(), stats.runs())
        },
        seconds(wall),
        spread(stats),
        format!("{:.2}", stats.user),
        format!("{:.2}", stats.system),
        bytes(stats.peak_rss),
        match (stats.produced_bytes, stats.spilled_bytes) {
            (0, _) => String::new(),
            (produced, 0) => bytes(produced),
            (produced, spilled) => format!("{} (spilled {})", bytes(produced), bytes(spilled)),
        },
        if configuration.kind == RunKind::DiskFloor {
            String::new()
        } else {
            count((rows as f64 / wall) as u64)
        },
        versus(divisors.fastest),
        versus(divisors.reference),
        versus_disk(divisors.disk.0),
        versus_disk(divisors.disk.1),
        match &stats.verification {
            Some(check) if check.ok => format!("✓ ({:.1} s)", check.wall_seconds),
            Some(_) => super::decision::verified_cell(stats),
            None => String::new(),
        },
        stats
            .time_v_difference
            .map_or_else(String::new, |difference| {
                format!("{:.1}%", difference * 100.0)
            }),
    ]
}

/// `1.02 – 1.30`: the fastest and the slowest run, when there are several.
fn spread(stats: &Stats) -> String {
    if stats.walls.len() > 1 {
        format!(
            "{} – {}",
            seconds(stats.walls[0]),
            seconds(stats.walls[stats.walls.len() - 1])
        )
    } else {
        String::new()
    }
}

/// The row of a configuration none of whose runs finished: how it ended.
fn failed_row(stats: &Stats) -> Vec<String> {
    let failure = stats.failures.first();
    let mut cells = vec![
        stats.configuration.name.clone(),
        format!("0 of {} ok", stats.runs()),
        failure.map_or_else(String::new, |failure| {
            format!("{} ✗", seconds(failure.wall))
        }),
    ];
    cells.extend(std::iter::repeat_n(String::new(), 3));
    cells.push(failure.map_or_else(String::new, |failure| bytes(failure.peak_rss)));
    cells.extend(std::iter::repeat_n(String::new(), 6));
    cells.push(failure.map_or_else(String::new, |failure| failure.describe()));
    cells.push(String::new());
    cells
}

fn failure_notes(stats: &[&Stats]) -> String {
    let mut notes = String::new();
    for stats in stats {
        for failure in &stats.failures {
            notes.push_str(&format!(
                "- {} run {}: {}: {}\n",
                stats.configuration.name,
                failure.run,
                failure.describe(),
                super::markdown::cell(&failure.detail)
            ));
        }
        if let Some(check) = stats.verification.as_ref().filter(|check| !check.ok) {
            notes.push_str(&format!(
                "- {} is not verified: {}\n",
                stats.configuration.name,
                super::markdown::cell(&check.findings.join(" / "))
            ));
        }
    }
    if notes.is_empty() {
        return notes;
    }
    format!("Failed runs and outputs that did not verify:\n\n{notes}\n")
}

/// Whether `configuration` is `single-thread` modulo into `sink`.
fn single_thread(configuration: &Configuration, sink: SinkKind) -> bool {
    configuration.kind == RunKind::Export
        && configuration.peer.is_none()
        && configuration.strategy == Some(Strategy::SingleThread)
        && configuration.grouping == Some(Grouping::Modulo)
        && configuration.sink == Some(sink)
}

/// The CPU floor of the seed's job, from the `single-thread` runs of the
/// table: the CPU a row costs to decode and encode (into the null sink) and
/// what the Parquet sink adds; their sum over the cores is the least wall time
/// any strategy on this machine can reach with this encoder and codec.
fn cpu_floor(session: &SessionModel, stats: &[&Stats], rows: u64) -> String {
    let cpu = |sink: SinkKind| {
        stats
            .iter()
            .find(|stats| single_thread(&stats.configuration, sink))
            .filter(|stats| stats.median_wall().is_some())
            .map(|stats| stats.user + stats.system)
    };
    let (Some(encode), Some(encode_and_codec)) = (cpu(SinkKind::Null), cpu(SinkKind::Parquet))
    else {
        return String::new();
    };
    let cores = session.info.machine.logical_cores.max(1) as f64;
    let rows = rows as f64;
    let codec = (encode_and_codec - encode).max(0.0);
    let (floor_null, floor_parquet) = (encode / cores, encode_and_codec / cores);
    let mut out = format!(
        "CPU floor (from the `single-thread` runs above): decoding and encoding cost {:.2} µs \
         of CPU a row; the Parquet sink adds {:.2} µs a row (compression and writing). On {cores} \
         cores no strategy with this encoder and codec can beat {} s into the null sink or {} s \
         into Parquet.",
        encode / rows * 1e6,
        codec / rows * 1e6,
        seconds(floor_null),
        seconds(floor_parquet),
    );
    for (sink, floor) in [
        (SinkKind::Null, floor_null),
        (SinkKind::Parquet, floor_parquet),
    ] {
        let rayon = stats.iter().find(|stats| {
            let configuration = &stats.configuration;
            configuration.kind == RunKind::Export
                && configuration.peer.is_none()
                && configuration.strategy == Some(Strategy::Rayon)
                && configuration.grouping == Some(Grouping::Modulo)
                && configuration.sink == Some(sink)
        });
        if let Some((name, wall)) =
            rayon.and_then(|stats| Some((&stats.configuration.name, stats.median_wall()?)))
        {
            out.push_str(&format!(
                " `{name}` takes {}x that floor.",
                ratio(wall / floor)
            ));
        }
    }
    out.push_str("\n\n");
    out
}
