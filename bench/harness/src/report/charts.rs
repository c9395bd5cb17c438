//! The decision charts, drawn with plotters as SVG: per decision size, wall
//! time and peak memory of every row of its table (one session), on linear
//! axes from zero that end at the largest value (a bar twice as long is twice
//! the time), the value written beside each bar or on it where it would not
//! fit. A failed run is drawn where it stopped, as a red cross labelled with
//! its cause; an output that did not verify is drawn grey and says so; a
//! legend above the plot says which colour is which.

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
        format!("wall seconds (median of {runs} runs; line: fastest to slowest)")
    } else {
        "wall seconds (one run)".to_string()
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
                "peak RSS, GiB",
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

/// Pixels: the chart's width, the label column, the margin.
const WIDTH: u32 = 1000;
const LABEL_AREA: u32 = 230;
const MARGIN: u32 = 14;
/// An average character of the 13 px notes, generously.
const CHARACTER_WIDTH: f64 = 7.2;

fn draw(title: &str, axis: &str, bars: &[Bar]) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let height = 140 + 34 * bars.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let root = root.titled(title, ("sans-serif", 18))?;
        let (legend_area, plot_area) = root.split_vertically(28);
        draw_legend(&legend_area, bars)?;
        let end = bars
            .iter()
            .map(|bar| bar.range.map_or(bar.value, |range| range.1.max(bar.value)))
            .fold(0.0, f64::max)
            * 1.02;
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(LABEL_AREA)
            .build_cartesian_2d(0.0..end.max(1e-6), (0..bars.len() - 1).into_segmented())?;
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
        chart.draw_series(rectangles(bars))?;
        chart.draw_series(spreads(bars))?;
        chart.draw_series(crosses(bars))?;
        chart.draw_series(notes(bars, end))?;
        root.present()?;
    }
    Ok(svg)
}

/// The colours the bars of `bars` use, each with what it means, in a row.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    bars: &[Bar],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let entries = [
        (PREDBENCH, "predbench", false),
        (PEER, "peers", false),
        (NOT_VERIFIED, "output not verified", false),
        (FAILED, "failed, drawn where it stopped", true),
    ];
    let mut x = (LABEL_AREA + MARGIN) as i32;
    for (color, text, cross) in entries {
        let used = bars.iter().any(|bar| {
            bar.color == color || (cross && bar.failed) || (color == PEER && bar.color == PEER)
        });
        if !used {
            continue;
        }
        if cross {
            area.draw(&Cross::new((x + 6, 12), 6, color.stroke_width(3)))?;
        } else {
            area.draw(&Rectangle::new([(x, 6), (x + 12, 18)], color.filled()))?;
        }
        area.draw(&Text::new(
            text,
            (x + 18, 6),
            ("sans-serif", 13).into_font(),
        ))?;
        x += 18 + (text.chars().count() as f64 * CHARACTER_WIDTH) as i32 + 24;
    }
    Ok(())
}

/// A point of a chart: a value on the axis, a bar's row.
type Point = (f64, SegmentValue<usize>);

/// The row of bar `index` (the first bar on top).
fn row_of(bars: &[Bar], index: usize) -> usize {
    bars.len() - 1 - index
}

/// The bars that finished, from zero to their value.
fn rectangles(bars: &[Bar]) -> impl Iterator<Item = Rectangle<Point>> + '_ {
    bars.iter()
        .enumerate()
        .filter(|(_, bar)| !bar.failed)
        .map(move |(index, bar)| {
            let row = row_of(bars, index);
            let mut rectangle = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
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

/// Every bar's note: right of its end where it fits before the axis's
/// `end`, else ending just before it (on the bar, in white; left of a cross).
fn notes(bars: &[Bar], end: f64) -> impl Iterator<Item = Text<'_, Point, String>> + '_ {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let plot_width = f64::from(WIDTH - LABEL_AREA - 2 * MARGIN);
    bars.iter().enumerate().map(move |(index, bar)| {
        let reach = bar.range.map_or(bar.value, |range| range.1.max(bar.value));
        let note = bar.note.chars().count() as f64 * CHARACTER_WIDTH + 8.0;
        let fits_right = (reach / end) * plot_width + note <= plot_width;
        let (at, anchor, color) = if fits_right {
            (
                reach + end * 0.01,
                HPos::Left,
                if bar.failed { &FAILED } else { &BLACK },
            )
        } else if bar.failed {
            (bar.value - end * 0.015, HPos::Right, &FAILED)
        } else {
            (bar.value - end * 0.01, HPos::Right, &WHITE)
        };
        Text::new(
            bar.note.clone(),
            (at, SegmentValue::CenterOf(row_of(bars, index))),
            ("sans-serif", 13)
                .into_font()
                .color(color)
                .pos(Pos::new(anchor, VPos::Center)),
        )
    })
}

/// `0.5`, `3`, `120`, `1k`: short labels for an axis.
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
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
