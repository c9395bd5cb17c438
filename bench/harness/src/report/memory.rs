//! What memory buys (`compare --memory-study`): the seed's own question. An
//! online application's machine must not feel the export; a dedicated one
//! should use all it has. Per size, from the newest session that ran the
//! study: every point's time and peak RSS, the fastest configuration under
//! each memory cap (predbench's and the peers' of the same session), and a
//! chart of time against peak RSS with the peers' points on it.

use plotters::prelude::*;

use super::Used;
use super::charts::Chart;
use super::decision::{exporter_label, verified_cell};
use super::markdown::{Align, Table, bytes, seconds, short_count, size_stem, size_title};
use super::model::{Model, SessionModel, Stats};
use crate::record::{DATASET_EDGE_CASES, RunKind};
use predbench_exporter::Strategy;

const PREDBENCH: RGBColor = RGBColor(78, 121, 167);
const PEER: RGBColor = RGBColor(242, 142, 43);
const MEBIBYTE: f64 = 1048576.0;

/// The memory caps the report reads the study at.
const CAPS: [u64; 8] = [
    128 << 20,
    256 << 20,
    512 << 20,
    1 << 30,
    2 << 30,
    4 << 30,
    8 << 30,
    16 << 30,
];

/// One size's study: its points and the peers measured beside them.
pub struct Study<'a> {
    session: &'a SessionModel,
    dataset: String,
    rows: u64,
    points: Vec<&'a Stats>,
    peers: Vec<&'a Stats>,
}

/// Per size, the newest session that ran the memory study.
pub fn studies(model: &Model) -> Vec<Study<'_>> {
    let mut found: Vec<Study> = Vec::new();
    for session in model.newest_first() {
        for (dataset, rows) in session.sizes() {
            let known = found
                .iter()
                .any(|study| study.dataset == dataset && study.rows == rows);
            if known || dataset == DATASET_EDGE_CASES {
                continue;
            }
            let here = |stats: &&Stats| {
                stats.configuration.dataset == dataset && stats.configuration.rows == rows
            };
            let mut points: Vec<&Stats> = session
                .stats
                .iter()
                .filter(here)
                .filter(|stats| stats.configuration.memory_study)
                .collect();
            if points.is_empty() {
                continue;
            }
            points.sort_by_key(|stats| stats.peak_rss);
            let peers = session
                .stats
                .iter()
                .filter(here)
                .filter(|stats| {
                    let configuration = &stats.configuration;
                    configuration.kind == RunKind::Export
                        && configuration.is_peer_export()
                        && configuration.has_default_knobs()
                })
                .collect();
            found.push(Study {
                session,
                dataset,
                rows,
                points,
                peers,
            });
        }
    }
    found.sort_by_key(|study| (study.dataset.clone(), study.rows));
    found
}

/// The report's section: per study, the caps table, the points table and the chart's link.
pub fn render(studies: &[Study], used: &mut Used) -> String {
    if studies.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## What memory buys\n\nThe seed's question: the right export depends on what else the \
         machine does. An online application's host must not feel the export's memory; a \
         dedicated machine should use all of it. predbench's strategies doing the seed's job \
         (modulo, Parquet) across the knobs that trade memory for time: `rayon` on 1 to all \
         threads and its chunk size (it holds threads + 2 chunks), `single-thread`, and \
         `window-sort` at memory budgets small enough to make it spill; beside them, the peers \
         of the same session. Under each cap, the fastest configuration whose peak RSS fits and \
         whose output verified.\n\n",
    );
    for study in studies {
        used.note(study.session.id(), "what memory buys");
        out.push_str(&format!(
            "### {} — session {}\n\n{}{}![memory-study-{stem}.svg](charts/memory-study-{stem}.svg)\n\n",
            size_title(&study.dataset, study.rows),
            study.session.id(),
            caps_table(study),
            points_table(study),
            stem = size_stem(&study.dataset, study.rows),
        ));
    }
    out
}

/// The verdict's line, from the largest size's study: the leanest and the
/// fastest configuration that verified, and what the leanest peer needed.
pub fn verdict_line(studies: &[Study]) -> Option<String> {
    let study = studies.iter().max_by_key(|study| study.rows)?;
    let usable_points: Vec<(&Stats, f64)> = study
        .points
        .iter()
        .filter(|stats| usable(stats))
        .filter_map(|stats| Some((*stats, stats.median_wall()?)))
        .collect();
    let leanest = usable_points
        .iter()
        .min_by_key(|(stats, _)| stats.peak_rss)?;
    let fastest = usable_points.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    let describe = |(stats, wall): &(&Stats, f64)| {
        format!(
            "{}: {} s{} in {}",
            point_label(stats),
            seconds(*wall),
            stats.spread(),
            bytes(stats.peak_rss)
        )
    };
    let peer = study
        .peers
        .iter()
        .filter(|stats| usable(stats))
        .filter_map(|stats| Some((*stats, stats.median_wall()?)))
        .min_by_key(|(stats, _)| stats.peak_rss)
        .map_or_else(
            || "no peer of the session finished and verified".to_string(),
            |(stats, wall)| {
                format!(
                    "the leanest peer, {}, needed {} ({} s)",
                    exporter_label(&stats.configuration),
                    bytes(stats.peak_rss),
                    seconds(wall)
                )
            },
        );
    Some(format!(
        "**What memory buys** ({} rows, session {}): the leanest configuration, {}; the \
         fastest, {}; {}. The fastest configuration under each memory cap is in the report's \
         \"What memory buys\".",
        short_count(study.rows),
        study.session.id(),
        describe(leanest),
        describe(fastest),
        peer
    ))
}

/// What a point is, in a few words: `rayon, 1 thread, chunk 4,096 rows`.
fn point_label(stats: &Stats) -> String {
    let configuration = &stats.configuration;
    let threads = format!(
        "{} thread{}",
        configuration.threads,
        if configuration.threads == 1 { "" } else { "s" }
    );
    match (configuration.strategy, configuration.chunk_rows) {
        (Some(Strategy::WindowSort), _) => format!(
            "`window-sort`, {threads}, budget {}",
            bytes(configuration.memory_budget.unwrap_or(0))
        ),
        (Some(strategy), Some(chunk_rows)) => format!(
            "`{strategy}`, {threads}, chunk {} rows",
            predbench_common::units::count(chunk_rows)
        ),
        (_, _) => exporter_label(configuration),
    }
}

/// A point's label on the chart: `rayon 1t 4k`, `single 16k`, `window 256 MiB`.
fn short_label(stats: &Stats) -> String {
    let configuration = &stats.configuration;
    let chunk = configuration
        .chunk_rows
        .map_or_else(String::new, |rows| format!("{}k", rows / 1024));
    match configuration.strategy {
        Some(Strategy::WindowSort) => {
            format!("window {}", bytes(configuration.memory_budget.unwrap_or(0)))
        }
        Some(Strategy::SingleThread) => format!("single {chunk}"),
        _ => format!("rayon {}t {chunk}", configuration.threads),
    }
}

/// Whether a run can be named under a cap: it finished and verified.
fn usable(stats: &Stats) -> bool {
    !stats.failed() && !stats.not_verified()
}

/// The fastest usable run among `candidates` whose peak RSS fits under `cap`.
fn fastest_under<'a>(candidates: &[&'a Stats], cap: u64) -> Option<(&'a Stats, f64)> {
    candidates
        .iter()
        .filter(|stats| usable(stats) && stats.peak_rss <= cap)
        .filter_map(|stats| Some((*stats, stats.median_wall()?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Per cap, predbench's fastest point and the fastest peer that fit; a cap
/// whose choices are the smaller cap's is left out.
fn caps_table(study: &Study) -> String {
    let mut table = Table::new(&[
        ("memory cap", Align::Right),
        ("predbench's fastest under it", Align::Left),
        ("wall s", Align::Right),
        ("peak RSS", Align::Right),
        ("fastest peer under it", Align::Left),
        ("peer wall s", Align::Right),
        ("peer peak RSS", Align::Right),
    ]);
    let mut previous: Option<(Option<&Stats>, Option<&Stats>)> = None;
    for cap in CAPS {
        let ours = fastest_under(&study.points, cap);
        let theirs = fastest_under(&study.peers, cap);
        let chosen = (ours.map(|(stats, _)| stats), theirs.map(|(stats, _)| stats));
        let same = |a: Option<&Stats>, b: Option<&Stats>| match (a, b) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            (None, None) => true,
            _ => false,
        };
        let unchanged = previous.is_some_and(|(a, b)| same(a, chosen.0) && same(b, chosen.1));
        if ours.is_none() && theirs.is_none() || unchanged {
            continue;
        }
        previous = Some(chosen);
        table.row(vec![
            bytes(cap),
            ours.map_or_else(String::new, |(stats, _)| point_label(stats)),
            ours.map_or_else(String::new, |(stats, wall)| {
                format!("{}{}", seconds(wall), stats.spread())
            }),
            ours.map_or_else(String::new, |(stats, _)| bytes(stats.peak_rss)),
            theirs.map_or_else(
                || "none fits".to_string(),
                |(stats, _)| exporter_label(&stats.configuration),
            ),
            theirs.map_or_else(String::new, |(stats, wall)| {
                format!("{}{}", seconds(wall), stats.spread())
            }),
            theirs.map_or_else(String::new, |(stats, _)| bytes(stats.peak_rss)),
        ]);
    }
    format!(
        "{}A cap not listed chooses as the largest listed cap below it.\n\n",
        table.render()
    )
}

/// Every point, by peak RSS.
fn points_table(study: &Study) -> String {
    let mut table = Table::new(&[
        ("configuration", Align::Left),
        ("runs", Align::Right),
        ("wall s", Align::Right),
        ("CPU user s", Align::Right),
        ("CPU sys s", Align::Right),
        ("peak RSS", Align::Right),
        ("spilled", Align::Right),
        ("output", Align::Left),
    ]);
    for stats in &study.points {
        let wall = stats.median_wall();
        let failure = stats.failures.first();
        table.row(vec![
            point_label(stats),
            stats.runs().to_string(),
            match (wall, failure) {
                (Some(wall), _) => format!("{}{}", seconds(wall), stats.spread()),
                (None, Some(failure)) => format!("{} ✗", seconds(failure.wall)),
                (None, None) => String::new(),
            },
            format!("{:.1}", stats.user),
            format!("{:.1}", stats.system),
            bytes(stats.peak_rss),
            if stats.spilled_bytes > 0 {
                bytes(stats.spilled_bytes)
            } else {
                String::new()
            },
            match (wall, failure) {
                (None, Some(failure)) => failure.describe(),
                _ => verified_cell(stats),
            },
        ]);
    }
    table.hide_empty(&["spilled"]);
    format!(
        "Every point of the study, by peak RSS:\n\n{}",
        table.render()
    )
}

/// The chart of every study: wall time against peak RSS (log scale: the
/// points span a few hundred MiB to the peers' GiB), predbench's points and
/// the peers' labelled.
pub fn charts(studies: &[Study]) -> anyhow::Result<Vec<Chart>> {
    studies
        .iter()
        .map(|study| {
            Ok(Chart {
                name: format!("memory-study-{}.svg", size_stem(&study.dataset, study.rows)),
                svg: draw(study)?,
            })
        })
        .collect()
}

/// A chart point: peak RSS in MiB, wall seconds, label, colour.
struct Point {
    mebibytes: f64,
    wall: f64,
    label: String,
    color: RGBColor,
}

fn chart_points(study: &Study) -> Vec<Point> {
    let ours = study.points.iter().map(|stats| (stats, PREDBENCH, true));
    let theirs = study.peers.iter().map(|stats| (stats, PEER, false));
    ours.chain(theirs)
        .filter(|(stats, _, _)| usable(stats))
        .filter_map(|(stats, color, ours)| {
            Some(Point {
                mebibytes: stats.peak_rss as f64 / MEBIBYTE,
                wall: stats.median_wall()?,
                label: if ours {
                    short_label(stats)
                } else {
                    stats.configuration.peer.clone().unwrap_or_default()
                },
                color,
            })
        })
        .collect()
}

fn draw(study: &Study) -> anyhow::Result<String> {
    let points = chart_points(study);
    let low = points.iter().map(|p| p.mebibytes).fold(f64::MAX, f64::min) / 1.3;
    let high = points.iter().map(|p| p.mebibytes).fold(0.0, f64::max) * 1.6;
    let top = points.iter().map(|p| p.wall).fold(0.0, f64::max) * 1.08;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 580)).into_drawing_area();
        root.fill(&WHITE)?;
        let title = format!(
            "Time against memory, {} rows, session {}",
            short_count(study.rows),
            study.session.id()
        );
        let root = root.titled(&title, ("sans-serif", 18))?;
        let (legend_area, plot_area) = root.split_vertically(28);
        draw_legend(&legend_area)?;
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(
                (low.max(1.0)..high.max(2.0))
                    .log_scale()
                    .with_key_points(power_of_two_ticks(low, high)),
                0.0..top.max(1.0),
            )?;
        chart
            .configure_mesh()
            .x_desc("peak RSS (log scale)")
            .y_desc("wall seconds (median)")
            .x_label_formatter(&|value| bytes((value * MEBIBYTE) as u64).replace(".0 ", " "))
            .light_line_style(WHITE)
            .draw()?;
        chart.draw_series(
            points
                .iter()
                .map(|point| Circle::new((point.mebibytes, point.wall), 5, point.color.filled())),
        )?;
        let pixels: Vec<(i32, i32)> = points
            .iter()
            .map(|point| chart.backend_coord(&(point.mebibytes, point.wall)))
            .collect();
        let offsets = place_labels(&points, &pixels);
        chart.draw_series(points.iter().zip(offsets).map(|(point, offset)| {
            EmptyElement::at((point.mebibytes, point.wall))
                + Text::new(
                    point.label.clone(),
                    offset,
                    ("sans-serif", 11).into_font().color(&BLACK),
                )
        }))?;
        root.present()?;
    }
    Ok(svg)
}

/// The powers of two of MiB between `low` and `high`: the axis's ticks.
fn power_of_two_ticks(low: f64, high: f64) -> Vec<f64> {
    (0..24)
        .map(|power| f64::from(1u32 << power))
        .filter(|tick| (low..=high).contains(tick))
        .collect()
}

/// Which colour is which, in a band above the plot.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let mut x = 76;
    for (color, text) in [
        (PREDBENCH, "predbench"),
        (PEER, "peers (their own defaults)"),
    ] {
        area.draw(&Circle::new((x + 6, 12), 6, color.filled()))?;
        area.draw(&Text::new(
            text,
            (x + 18, 6),
            ("sans-serif", 13).into_font(),
        ))?;
        x += 18 + text.chars().count() as i32 * 8 + 24;
    }
    Ok(())
}

/// Width of a character of the 11 px labels, generously.
const LABEL_CHARACTER: i32 = 6;
/// Height of a label.
const LABEL_HEIGHT: i32 = 12;

/// Where each label goes, relative to its point: right of it where that
/// overlaps no label placed before and no other point, else below, above,
/// or left of it (points placed left to right).
fn place_labels(points: &[Point], pixels: &[(i32, i32)]) -> Vec<(i32, i32)> {
    type Boxed = (i32, i32, i32, i32);
    let overlaps = |a: Boxed, b: Boxed| a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
    let dots: Vec<Boxed> = pixels
        .iter()
        .map(|(x, y)| (x - 5, y - 5, x + 5, y + 5))
        .collect();
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&index| pixels[index]);
    let mut placed: Vec<Boxed> = Vec::new();
    let mut offsets = vec![(8, -6); points.len()];
    for index in order {
        let (x, y) = pixels[index];
        let width = points[index].label.chars().count() as i32 * LABEL_CHARACTER;
        let candidates = [
            (8, -6),
            (8, 6),
            (8, -18),
            (-8 - width, -6),
            (8, 18),
            (-8 - width, 6),
            (-8 - width, -18),
            (8, -30),
        ];
        let free = candidates.into_iter().find(|(dx, dy)| {
            let label = (x + dx, y + dy, x + dx + width, y + dy + LABEL_HEIGHT);
            !placed.iter().any(|other| overlaps(label, *other))
                && !dots
                    .iter()
                    .enumerate()
                    .any(|(other, dot)| other != index && overlaps(label, *dot))
        });
        let (dx, dy) = free.unwrap_or(candidates[0]);
        placed.push((x + dx, y + dy, x + dx + width, y + dy + LABEL_HEIGHT));
        offsets[index] = (dx, dy);
    }
    offsets
}
