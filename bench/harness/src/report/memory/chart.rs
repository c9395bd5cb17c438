//! The memory study's chart: wall time against peak RSS on a log axis,
//! predbench's points and the peers' labelled where they do not collide.

use plotters::prelude::*;

use super::{Study, usable};
use crate::report::charts::Chart;
use crate::report::markdown::{bytes, short_count, size_stem};
use crate::report::model::Stats;
use predbench_exporter::Strategy;

const PREDBENCH: RGBColor = RGBColor(78, 121, 167);
const PEER: RGBColor = RGBColor(242, 142, 43);
const MEBIBYTE: f64 = 1048576.0;

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
