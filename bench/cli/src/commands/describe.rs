//! The one-line accounts more than one command prints: a grouping, a drain,
//! a peak memory.

use std::path::Path;

use predbench_common::units::format_bytes;
use predbench_exporter::Grouping;
use predbench_exporter::delivery::DrainSummary;

use crate::progress::peak_rss_bytes;

/// `modulo grouping, K=10` or `packed grouping, at most 262144 bytes a message`.
pub fn grouping(grouping: Grouping, group_size: u64, max_message_bytes: Option<u64>) -> String {
    match (grouping, max_message_bytes) {
        (Grouping::Packed, Some(limit)) => {
            format!("packed grouping, at most {limit} bytes a message")
        }
        (grouping, _) => format!("{grouping} grouping, K={group_size}"),
    }
}

/// This process's peak resident memory, or `unknown`.
pub fn peak_rss() -> String {
    peak_rss_bytes().map_or_else(|| "unknown".to_string(), format_bytes)
}

/// One line of what a drain did.
pub fn drained(queue: &str, output: &Path, summary: &DrainSummary, seconds: f64) -> String {
    format!(
        "drained {} messages from {} into {} ({} parts): {} written ({} predictions, {} of JSON), \
         {} duplicates dropped{} in {seconds:.2} s, prefetch {} messages, peak RSS {}",
        summary.received,
        queue,
        output.display(),
        summary.parts,
        summary.messages,
        summary.predictions,
        format_bytes(summary.message_bytes),
        summary.duplicates,
        if summary.missing > 0 {
            format!(", {} groups MISSING", summary.missing)
        } else {
            String::new()
        },
        summary.prefetch,
        peak_rss(),
    )
}
