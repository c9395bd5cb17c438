//! Where a drain stands (`_drain.json`, rewritten after every committed
//! part), and the output directory it goes into: made, gone on from when an
//! unfinished drain of the same queue left it, or refused when it is not a
//! drain's.

use std::path::Path;

use predbench_common::atomic_file::{is_temporary, write_json_atomically};
use serde::{Deserialize, Serialize};

use super::{DrainOptions, DrainSummary, SeenIds};
use crate::error::{ExportError, Result};

/// `_drain.json`: where a drain stands, rewritten after every committed part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Progress {
    /// The queue drained (without password).
    pub(crate) queue: String,
    /// `message_id` of the next message to write.
    pub(crate) next_id: u64,
    /// True once the drain has finished.
    pub(crate) complete: bool,
    /// What it did so far.
    pub(crate) summary: DrainSummary,
    /// A drain in any order: the `message_id`s of the committed parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) committed_ids: Option<SeenIds>,
}

/// The progress file inside the output directory.
pub const PROGRESS_FILE: &str = "_drain.json";

/// Makes `output`, or reads the progress an unfinished drain of the same
/// `queue` (as described for people) left there; a directory that is not a drain's is refused without `force`.
pub(crate) fn prepare_output(
    queue: &str,
    output: &Path,
    options: &DrainOptions,
) -> Result<Progress> {
    let progress_path = output.join(PROGRESS_FILE);
    if progress_path.is_file() {
        let text = std::fs::read_to_string(&progress_path)
            .map_err(|e| ExportError::io("cannot read", &progress_path, e))?;
        let progress: Progress = serde_json::from_str(&text).map_err(|e| {
            ExportError::io(
                "cannot parse",
                &progress_path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        if progress.queue != queue {
            return Err(ExportError::invalid(
                "messages",
                format!(
                    "{} holds a drain of {}, not of {}",
                    output.display(),
                    progress.queue,
                    queue
                ),
            ));
        }
        if progress.committed_ids.is_some() != options.any_order {
            let (was, now) = match options.any_order {
                true => ("in message_id order", "in any order"),
                false => ("in any order", "in message_id order"),
            };
            return Err(ExportError::invalid(
                "messages",
                format!(
                    "{} holds an unfinished drain {was}; it goes on {was}, not {now}",
                    output.display()
                ),
            ));
        }
        remove_stale_parts(output, progress.summary.parts)?;
        return Ok(progress);
    }
    if output.exists() {
        let empty = std::fs::read_dir(output)
            .map_err(|e| ExportError::io("cannot list", output, e))?
            .next()
            .is_none();
        if !empty && !options.force {
            return Err(ExportError::invalid(
                "messages",
                format!(
                    "{} exists and is not a drain's directory; remove it or pass `force`",
                    output.display()
                ),
            ));
        }
        if !empty {
            std::fs::remove_dir_all(output)
                .map_err(|e| ExportError::io("cannot remove", output, e))?;
        }
    }
    std::fs::create_dir_all(output).map_err(|e| ExportError::io("cannot create", output, e))?;
    Ok(Progress {
        queue: queue.to_string(),
        next_id: options.first_id,
        complete: false,
        summary: DrainSummary::default(),
        committed_ids: options.any_order.then(|| SeenIds::new(options.first_id)),
    })
}

/// Removes parts past the committed ones (a part renamed into place after the
/// last progress was written: its messages were not acknowledged, so the
/// broker delivers them again) and temporaries a killed drain left.
fn remove_stale_parts(output: &Path, committed: u64) -> Result<()> {
    let entries =
        std::fs::read_dir(output).map_err(|e| ExportError::io("cannot list", output, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale_part = name
            .strip_prefix("part-")
            .and_then(|rest| rest.strip_suffix(".parquet"))
            .and_then(|index| index.parse::<u64>().ok())
            .is_some_and(|index| index >= committed);
        if stale_part || is_temporary(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

impl Progress {
    /// Writes `_drain.json` into `output` with `next_id`, the message after
    /// the last committed one.
    pub(crate) fn save(&self, output: &Path, next_id: u64) -> Result<()> {
        let path = output.join(PROGRESS_FILE);
        let progress = Progress {
            next_id,
            ..self.clone()
        };
        write_json_atomically(&path, &progress)
            .map_err(|e| ExportError::io("cannot write", &path, e))
    }
}
