//! The decision charts, drawn with plotters as SVG: per decision size, wall
//! time and peak memory of every row of its table (one session), on log
//! axes with the value written beside each bar. A failed run is drawn where it
//! stopped, as a red marker labelled with its cause; an output that did not
//! verify is drawn grey and says so.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::decision::{Decision, exporter_label};
use super::markdown::{bytes, short_count, size_stem};
use super::model::Stats;

const PREDBENCH: RGBColor = RGBColor(78, 121, 167);
const PEER: RGBColor = RGBColor(242, 142, 43);
const NOT_VERIFIED: RGBColor = RGBColor(170, 170, 170);
const FAILED: RGBColor = RGBColor(200, 40, 40);

/// A chart to write: its file name (under `charts/`) and SVG text.
pub struct Chart {
    /// `time-seed-6000000.svg`.
    pub name: String,
    /// The SVG document.
    pub svg: String,
}

/// The time and memory charts of one decision table.
pub fn decision_charts(decision: &Decision) -> anyhow::Result<Vec<Chart>> {
    let stem = size_stem(&decision.dataset, decision.rows);
    let rows = decision.rows();
    let runs = rows.iter().map(|stats| stats.runs()).max().unwrap_or(1);
    let title = format!(
        "{} rows, the seed's job, session {}",
        short_count(decision.rows),
        decision.session.id()
    );
    let time_bars: Vec<Bar> = rows
        .iter()
        .map(|stats| Bar::of(stats, Measure::Time))
        .collect();
    let memory_bars: Vec<Bar> = rows
        .iter()
        .map(|stats| Bar::of(stats, Measure::Memory))
        .collect();
    let time_axis = if runs > 1 {
        format!("wall seconds, log scale (median of {runs} runs; line: fastest to slowest)")
    } else {
        "wall seconds, log scale (one run)".to_string()
    };
    Ok(vec![
        Chart {
            name: format!("time-{stem}.svg"),
            svg: draw(&format!("Wall time, {title}"), &time_axis, &time_bars)?,
        },
        Chart {
            name: format!("memory-{stem}.svg"),
            svg: draw(
                &format!("Peak memory, {title}"),
                "peak RSS in GiB, log scale",
                &memory_bars,
            )?,
        },
    ])
}

/// What a chart shows.
#[derive(Clone, Copy, PartialEq)]
enum Measure {
    /// Wall seconds.
    Time,
    /// Peak RSS in GiB.
    Memory,
}

const GIBIBYTE: f64 = 1073741824.0;

impl Measure {
    /// The value of a run that succeeded, or of one that failed.
    fn of(self, wall: f64, peak_rss: u64) -> f64 {
        match self {
            Measure::Time => wall,
            Measure::Memory => peak_rss as f64 / GIBIBYTE,
        }
    }

    fn show(self, value: f64) -> String {
        match self {
            Measure::Time => format!("{value:.2} s"),
            Measure::Memory => bytes((value * GIBIBYTE) as u64),
        }
    }
}

struct Bar {
    label: String,
    color: RGBColor,
    /// The bar's length; for a failed run, where it stopped.
    value: f64,
    /// Fastest and slowest run, when there were several.
    range: Option<(f64, f64)>,
    /// Written beside the bar.
    note: String,
    failed: bool,
}

impl Bar {
    /// The bar of `stats`: its median when a run succeeded, else where its
    /// first failure stopped.
    fn of(stats: &Stats, measure: Measure) -> Bar {
        let label = exporter_label(&stats.configuration).replace('`', "");
        let predbench = stats.configuration.peer.is_none()
            || stats.configuration.peer.as_deref() == Some("predbench-on-spark");
        match (stats.median_wall(), stats.failures.first()) {
            (Some(wall), _) => {
                let value = measure.of(wall, stats.peak_rss);
                let not_verified = stats.not_verified();
                Bar {
                    label,
                    color: if not_verified {
                        NOT_VERIFIED
                    } else if predbench {
                        PREDBENCH
                    } else {
                        PEER
                    },
                    value,
                    range: (measure == Measure::Time && stats.walls.len() > 1)
                        .then(|| (stats.walls[0], stats.walls[stats.walls.len() - 1])),
                    note: if not_verified {
                        format!(
                            "{} (output not verified: {})",
                            measure.show(value),
                            super::decision::verified_cell(stats)
                        )
                    } else {
                        measure.show(value)
                    },
                    failed: false,
                }
            }
            (None, Some(failure)) => Bar {
                label,
                color: FAILED,
                value: measure.of(failure.wall, failure.peak_rss),
                range: None,
                note: failure.describe(),
                failed: true,
            },
            (None, None) => unreachable!("a configuration has runs"),
        }
    }
}

/// Where the log axis ends so that every bar's note, written from just past
/// its bar, fits before the right edge (and at least twice the largest value).
fn axis_end(bars: &[Bar], start: f64, high: f64) -> f64 {
    // The plot's width in pixels: 1000 less the label area and the margins.
    const PLOT_WIDTH: f64 = 1000.0 - 230.0 - 2.0 * 14.0;
    // An average character of the 13 px notes, generously.
    const CHARACTER_WIDTH: f64 = 7.2;
    let (low, mut end) = (start.log10(), (high * 2.0).max(1.0).log10());
    for bar in bars {
        let value = bar.range.map_or(bar.value, |range| range.1.max(bar.value));
        let note_start = (value * 1.12).log10();
        let note = (bar.note.chars().count() as f64 * CHARACTER_WIDTH + 12.0).min(PLOT_WIDTH * 0.8);
        // (end - note_start) / (end - low) of the width must hold the note.
        end = end.max((note_start * PLOT_WIDTH - note * low) / (PLOT_WIDTH - note));
    }
    10f64.powf(end)
}

fn draw(title: &str, axis: &str, bars: &[Bar]) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let height = 110 + 34 * bars.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (1000, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let values = bars
            .iter()
            .flat_map(|bar| [Some(bar.value), bar.range.map(|range| range.1)])
            .flatten();
        let (low, high) = values.fold((f64::MAX, f64::MIN), |(low, high), value| {
            (low.min(value), high.max(value))
        });
        let x_range = (low / 2.0).max(1e-3)..axis_end(bars, (low / 2.0).max(1e-3), high);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(230)
            .build_cartesian_2d(
                x_range.clone().log_scale(),
                (0..bars.len() - 1).into_segmented(),
            )?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(bars.len())
            .y_label_formatter(&|value| match value {
                SegmentValue::CenterOf(row) if *row < bars.len() => {
                    bars[bars.len() - 1 - row].label.clone()
                }
                _ => String::new(),
            })
            .x_labels(8)
            .x_label_formatter(&|value| format_axis(*value))
            .x_desc(axis)
            .draw()?;
        chart.draw_series(rectangles(bars, x_range.start))?;
        chart.draw_series(spreads(bars))?;
        chart.draw_series(crosses(bars))?;
        chart.draw_series(notes(bars))?;
        root.present()?;
    }
    Ok(svg)
}

/// A point of a chart: a value on the log axis, a bar's row.
type Point = (f64, SegmentValue<usize>);

/// The row of bar `index` (the first bar on top).
fn row_of(bars: &[Bar], index: usize) -> usize {
    bars.len() - 1 - index
}

/// The bars that finished, from the axis's `start` to their value.
fn rectangles(bars: &[Bar], start: f64) -> impl Iterator<Item = Rectangle<Point>> + '_ {
    bars.iter()
        .enumerate()
        .filter(|(_, bar)| !bar.failed)
        .map(move |(index, bar)| {
            let row = row_of(bars, index);
            let mut rectangle = Rectangle::new(
                [
                    (start, SegmentValue::Exact(row)),
                    (bar.value, SegmentValue::Exact(row + 1)),
                ],
                bar.color.filled(),
            );
            rectangle.set_margin(6, 6, 0, 0);
            rectangle
        })
}

/// The spread of the runs: a line from the fastest to the slowest.
fn spreads(bars: &[Bar]) -> impl Iterator<Item = PathElement<Point>> + '_ {
    bars.iter().enumerate().filter_map(|(index, bar)| {
        let (fastest, slowest) = bar.range?;
        let row = SegmentValue::CenterOf(row_of(bars, index));
        Some(PathElement::new(
            vec![(fastest, row.clone()), (slowest, row)],
            BLACK.stroke_width(2),
        ))
    })
}

/// The runs that failed: a cross where they stopped.
fn crosses(bars: &[Bar]) -> impl Iterator<Item = Cross<Point, i32>> + '_ {
    bars.iter()
        .enumerate()
        .filter(|(_, bar)| bar.failed)
        .map(|(index, bar)| {
            let at = (bar.value, SegmentValue::CenterOf(row_of(bars, index)));
            Cross::new(at, 8, FAILED.stroke_width(3))
        })
}

/// Every bar's note, right of its end.
fn notes(bars: &[Bar]) -> impl Iterator<Item = Text<'_, Point, String>> + '_ {
    bars.iter().enumerate().map(|(index, bar)| {
        let end = bar.range.map_or(bar.value, |range| range.1.max(bar.value));
        Text::new(
            bar.note.clone(),
            (end * 1.12, SegmentValue::CenterOf(row_of(bars, index))),
            ("sans-serif", 13)
                .into_font()
                .color(if bar.failed { &FAILED } else { &BLACK })
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
        )
    })
}

/// `0.5`, `3`, `120`, `1k`: short labels for a log axis.
fn format_axis(value: f64) -> String {
    if value >= 1000.0 {
        format!("{}k", (value / 1000.0 * 10.0).round() / 10.0)
    } else if value >= 10.0 {
        format!("{value:.0}")
    } else if value >= 1.0 {
        let text = format!("{value:.1}");
        text.trim_end_matches(".0").to_string()
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').to_string()
    }
}
