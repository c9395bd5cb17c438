//! SVG charts of the report, drawn with plotters: time and peak memory per
//! configuration for every dataset size, and the scaling curve across sizes.

use std::path::Path;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::{ConfigurationStats, Scale};

/// File name of the scaling chart.
pub const SCALING_CHART: &str = "scaling.svg";

/// File name of the time chart of one scale.
pub fn time_chart_name(scale: &Scale) -> String {
    format!("time-{}.svg", scale.file_stem())
}

/// File name of the memory chart of one scale.
pub fn memory_chart_name(scale: &Scale) -> String {
    format!("memory-{}.svg", scale.file_stem())
}

/// Draws every chart into `dir`; returns the file names written.
pub fn draw_all(scales: &[Scale], dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut written = Vec::new();
    for scale in scales {
        let measured: Vec<&ConfigurationStats> = scale
            .configurations
            .iter()
            .filter(|stats| !stats.walls.is_empty())
            .collect();
        if measured.is_empty() {
            continue;
        }
        let mut families = Vec::new();
        let bars: Vec<Bar> = measured
            .iter()
            .map(|stats| {
                let (color, light) = style_of(&stats.name, &mut families);
                Bar {
                    label: stats.name.clone(),
                    color,
                    light,
                    value: stats.median_wall().unwrap_or(0.0),
                    low: stats.walls[0],
                    high: stats.walls[stats.walls.len() - 1],
                }
            })
            .collect();
        let name = time_chart_name(scale);
        draw_bars(
            &dir.join(&name),
            &format!("Wall time, {}", scale.title()),
            "seconds (bar: median; line: fastest to slowest run)",
            &bars,
        )?;
        written.push(name);

        let mut families = Vec::new();
        let bars: Vec<Bar> = measured
            .iter()
            .map(|stats| {
                let mebibytes = stats.peak_rss as f64 / f64::from(1 << 20);
                let (color, light) = style_of(&stats.name, &mut families);
                Bar {
                    label: stats.name.clone(),
                    color,
                    light,
                    value: mebibytes,
                    low: mebibytes,
                    high: mebibytes,
                }
            })
            .collect();
        let name = memory_chart_name(scale);
        draw_bars(
            &dir.join(&name),
            &format!("Peak RSS, {}", scale.title()),
            "MiB (median of the runs' peak resident set size)",
            &bars,
        )?;
        written.push(name);
    }
    if draw_scaling(&dir.join(SCALING_CHART), scales)? {
        written.push(SCALING_CHART.to_string());
    }
    Ok(written)
}

/// Ten distinct colours (Tableau 10), assigned by what a configuration does
/// apart from its sink, so `rayon modulo null` and `rayon modulo parquet`
/// share a colour and differ in shade or dash.
const PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];

/// Colour of a configuration, and whether it writes a file (drawn lighter or dashed).
fn style_of(name: &str, families: &mut Vec<String>) -> (RGBColor, bool) {
    let words: Vec<&str> = name.split(' ').collect();
    let writes_file = words
        .iter()
        .any(|word| matches!(*word, "parquet" | "ndjson"));
    let family = words
        .iter()
        .filter(|word| !matches!(**word, "null" | "parquet" | "ndjson"))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let index = match families.iter().position(|known| *known == family) {
        Some(index) => index,
        None => {
            families.push(family);
            families.len() - 1
        }
    };
    (PALETTE[index % PALETTE.len()], writes_file)
}

struct Bar {
    label: String,
    color: RGBColor,
    light: bool,
    value: f64,
    low: f64,
    high: f64,
}

fn draw_bars(path: &Path, title: &str, axis: &str, bars: &[Bar]) -> anyhow::Result<()> {
    let height = 90 + 28 * bars.len() as u32;
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = bars
        .iter()
        .map(|bar| bar.high.max(bar.value))
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.08;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(300)
        .build_cartesian_2d(0.0..x_max, (0..bars.len()).into_segmented())?;
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
        .x_desc(axis)
        .draw()?;
    let row = |index: usize| bars.len() - 1 - index;
    chart.draw_series(bars.iter().enumerate().map(|(index, bar)| {
        let mut rectangle = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(row(index))),
                (bar.value, SegmentValue::Exact(row(index) + 1)),
            ],
            bar.color.mix(if bar.light { 0.5 } else { 1.0 }).filled(),
        );
        rectangle.set_margin(5, 5, 0, 0);
        rectangle
    }))?;
    chart.draw_series(
        bars.iter()
            .enumerate()
            .filter(|(_, bar)| bar.high > bar.low)
            .map(|(index, bar)| {
                PathElement::new(
                    vec![
                        (bar.low, SegmentValue::CenterOf(row(index))),
                        (bar.high, SegmentValue::CenterOf(row(index))),
                    ],
                    BLACK.stroke_width(2),
                )
            }),
    )?;
    root.present()?;
    Ok(())
}

/// Log-log rows vs median seconds, one line per configuration, dataset and
/// session measured at two sizes or more: a line never joins two sessions (two
/// machine states), and the legend names the session when the chart holds
/// several. Returns false when no line has two points.
fn draw_scaling(path: &Path, scales: &[Scale]) -> anyhow::Result<bool> {
    // (configuration, dataset, session) and its points.
    type LineKey = (String, String, String);
    let mut lines: Vec<(LineKey, Vec<(f64, f64)>)> = Vec::new();
    for scale in scales {
        for stats in &scale.configurations {
            let Some(seconds) = stats.median_wall() else {
                continue;
            };
            let point = (scale.rows as f64, seconds.max(1e-3));
            let key = (
                stats.name.clone(),
                scale.dataset.clone(),
                stats.session.clone(),
            );
            match lines.iter_mut().find(|(known, _)| *known == key) {
                Some((_, points)) => points.push(point),
                None => lines.push((key, vec![point])),
            }
        }
    }
    lines.retain(|(_, points)| points.len() >= 2);
    let sessions: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|((_, _, session), _)| session.as_str())
        .collect();
    let several_sessions = sessions.len() > 1;
    let lines: Vec<(String, Vec<(f64, f64)>)> = lines
        .iter()
        .map(|((name, dataset, session), points)| {
            let mut label = name.clone();
            if dataset != crate::record::DATASET_PREDBENCH {
                label.push_str(&format!(" [{dataset} files]"));
            }
            if several_sessions {
                label.push_str(&format!(" ({session})"));
            }
            (label, points.clone())
        })
        .collect();
    if lines.is_empty() {
        return Ok(false);
    }
    let all = lines.iter().flat_map(|(_, points)| points.iter());
    let (x_min, x_max, y_min, y_max) = all.fold(
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
        |(x0, x1, y0, y1), &(x, y)| (x0.min(x), x1.max(x), y0.min(y), y1.max(y)),
    );
    let root = SVGBackend::new(path, (1100, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot_area, legend_area) = root.split_horizontally(760);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(
            "Scaling: rows vs median wall time (log-log, one session a line)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (x_min * 0.8..x_max * 1.25).log_scale(),
            (y_min * 0.8..y_max * 1.25).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("rows")
        .y_desc("seconds")
        .x_labels(6)
        .x_label_formatter(&|rows| compact_count(*rows))
        .y_label_formatter(&|seconds| format_seconds(*seconds))
        .draw()?;
    let mut families = Vec::new();
    for (index, (name, points)) in lines.iter().enumerate() {
        let (color, dashed) = style_of(name, &mut families);
        let style = color.stroke_width(2);
        if dashed {
            chart.draw_series(DashedLineSeries::new(points.iter().copied(), 6, 4, style))?;
        } else {
            chart.draw_series(LineSeries::new(points.iter().copied(), style))?;
        }
        chart.draw_series(
            points
                .iter()
                .map(|&point| Circle::new(point, 3, color.filled())),
        )?;
        let y = 40 + 22 * index as i32;
        if dashed {
            legend_area.draw(&PathElement::new(vec![(8, y), (14, y)], style))?;
            legend_area.draw(&PathElement::new(vec![(20, y), (26, y)], style))?;
        } else {
            legend_area.draw(&PathElement::new(vec![(8, y), (26, y)], style))?;
        }
        legend_area.draw(&Text::new(
            name.clone(),
            (34, y - 7),
            ("sans-serif", 13).into_font().color(&BLACK),
        ))?;
    }
    root.present()?;
    Ok(true)
}

/// `0.25`, `3`, `120` — no float noise on log axes.
fn format_seconds(seconds: f64) -> String {
    if seconds >= 10.0 {
        format!("{seconds:.0}")
    } else if seconds >= 1.0 {
        format!("{seconds:.1}")
    } else {
        let text = format!("{seconds:.3}");
        text.trim_end_matches('0').to_string()
    }
}

/// `1000000` as `1M`, `500000` as `500k`: short labels for a log axis.
fn compact_count(value: f64) -> String {
    let (scaled, suffix) = if value >= 1e6 {
        (value / 1e6, "M")
    } else if value >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let text = format!("{scaled:.1}");
    format!(
        "{}{suffix}",
        text.trim_end_matches('0').trim_end_matches('.')
    )
}
