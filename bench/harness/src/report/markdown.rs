//! Small pieces every section writes with: a table builder (headers,
//! alignment, escaped cells), numbers as the report prints them, and the
//! one-line descriptions of a session's commit, machine and software.

use predbench_common::units::format_bytes;

use crate::record::{
    DATASET_EDGE_CASES, DATASET_PREDBENCH, DATASET_PREDBENCH_FLOAT32, DATASET_SEED, SessionInfo,
};

/// How a column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A Markdown table.
pub struct Table {
    headers: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns.
    pub fn new(headers: &[(&str, Align)]) -> Table {
        Table {
            headers: headers
                .iter()
                .map(|(name, align)| (name.to_string(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; it must have a cell per column.
    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(cells.len(), self.headers.len(), "a cell per column");
        self.rows.push(cells);
    }

    /// Leaves out the columns named `optional` whose every cell is empty
    /// (what a session did not measure).
    pub fn hide_empty(&mut self, optional: &[&str]) {
        let hidden: Vec<bool> = self
            .headers
            .iter()
            .enumerate()
            .map(|(column, (name, _))| {
                optional.contains(&name.as_str())
                    && self.rows.iter().all(|row| row[column].is_empty())
            })
            .collect();
        let keep = |column: &usize| !hidden[*column];
        let kept = |cells: &[String]| -> Vec<String> {
            (0..cells.len())
                .filter(keep)
                .map(|column| cells[column].clone())
                .collect()
        };
        self.rows = self.rows.iter().map(|row| kept(row)).collect();
        self.headers = (0..self.headers.len())
            .filter(keep)
            .map(|column| self.headers[column].clone())
            .collect();
    }

    /// The table, followed by a blank line.
    pub fn render(&self) -> String {
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut out = line(self.headers.iter().map(|(name, _)| cell(name)).collect());
        out.push_str(&line(
            self.headers
                .iter()
                .map(|(_, align)| match align {
                    Align::Left => "---".to_string(),
                    Align::Right => "---:".to_string(),
                })
                .collect(),
        ));
        for row in &self.rows {
            out.push_str(&line(row.iter().map(|text| cell(text)).collect()));
        }
        out.push('\n');
        out
    }
}

/// Text fit for a table cell: no pipes, no line breaks.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

pub use predbench_common::units::count;

/// `60000000` as `60M`, `10000` as `10k`.
pub fn short_count(value: u64) -> String {
    if value >= 1_000_000 && value % 1_000_000 == 0 {
        format!("{}M", value / 1_000_000)
    } else if value >= 1_000 && value % 1_000 == 0 {
        format!("{}k", value / 1_000)
    } else {
        count(value)
    }
}

/// Bytes in binary units: `492.1 MiB`.
pub fn bytes(value: u64) -> String {
    format_bytes(value)
}

/// Seconds with two decimals.
pub fn seconds(value: f64) -> String {
    format!("{value:.2}")
}

/// A ratio: two decimals under 10, one above.
pub fn ratio(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.1}")
    }
}

/// `6,000,000 rows, the seed generator's files`.
pub fn size_title(dataset: &str, rows: u64) -> String {
    match dataset {
        DATASET_PREDBENCH => format!("{} rows of predbench's files", count(rows)),
        DATASET_PREDBENCH_FLOAT32 => {
            format!("{} rows of predbench's files, float32 scores", count(rows))
        }
        DATASET_SEED => format!("{} rows, the seed generator's files", count(rows)),
        DATASET_EDGE_CASES => format!("{} rows with NaN and nulls", count(rows)),
        path => format!("{} rows of {path}", count(rows)),
    }
}

/// A file-name-safe name of a size: `seed-6000000`.
pub fn size_stem(dataset: &str, rows: u64) -> String {
    let dataset: String = dataset
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{}-{rows}", dataset.trim_matches('-'))
}

/// `` `05ca319b563d` `` or `` `05ca319b563d` (uncommitted changes) ``.
pub fn commit_text(info: &SessionInfo) -> String {
    match (&info.git_commit, info.git_dirty) {
        (Some(commit), Some(true)) => format!(
            "`{}` (uncommitted changes)",
            &commit[..12.min(commit.len())]
        ),
        (Some(commit), _) => format!("`{}`", &commit[..12.min(commit.len())]),
        (None, _) => "unknown".to_string(),
    }
}

/// `AMD EPYC, 2 cores, 23.5 GiB, Linux (Debian GNU/Linux 12)`.
pub fn machine_text(info: &SessionInfo) -> String {
    let machine = &info.machine;
    let disk = machine.disk.as_ref().map_or_else(String::new, |disk| {
        format!(
            ", data on {} ({}{})",
            disk.device,
            disk.file_system,
            disk.kind
                .as_ref()
                .map_or_else(String::new, |kind| format!(", {kind}"))
        )
    });
    format!(
        "{}, {} cores, {}, {}{disk}",
        machine.cpu_model,
        machine.logical_cores,
        bytes(machine.memory_bytes),
        machine.os,
    )
}

/// `rustc 1.95.0, Python 3.11.7, pyspark 4.3.0, ...`, or "not recorded".
pub fn software_text(info: &SessionInfo) -> String {
    if info.software.is_empty() {
        return "not recorded (before records kept versions)".to_string();
    }
    info.software
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(60_000_000), "60,000,000");
        assert_eq!(short_count(60_000_000), "60M");
        assert_eq!(short_count(10_000), "10k");
        assert_eq!(short_count(12_345), "12,345");
        assert_eq!(ratio(4.6666), "4.67");
        assert_eq!(ratio(15.44), "15.4");
    }

    #[test]
    fn tables_escape_their_cells() {
        let mut table = Table::new(&[("name", Align::Left), ("s", Align::Right)]);
        table.row(vec!["a|b\nc".to_string(), "1.00".to_string()]);
        assert_eq!(
            table.render(),
            "| name | s |\n| --- | ---: |\n| a\\|b / c | 1.00 |\n\n"
        );
    }
}
