//! The file sinks' outputs appear whole: `predbench-common`'s [`AtomicFile`]
//! (written under a temporary name past the page cache, synced, renamed),
//! its failures told in the exporter's terms, naming the file.

use std::path::Path;

pub use predbench_common::atomic_file::AtomicFile;
use predbench_common::atomic_file::CreateError;

use crate::error::{ExportError, Result};

/// Creates the output `target`; an existing file is refused unless `overwrite`.
pub fn create(target: &Path, overwrite: bool) -> Result<AtomicFile> {
    AtomicFile::create(target, overwrite).map_err(|error| match error {
        CreateError::DirectoryInTheWay => ExportError::io(
            "cannot write",
            target,
            std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "a directory is in the way of the output file",
            ),
        ),
        CreateError::Exists => ExportError::OutputExists(target.to_path_buf()),
        CreateError::Io(cause) => ExportError::io("cannot create", target, cause),
    })
}

/// Commits `file` to its target; returns its size in bytes.
pub fn commit(file: AtomicFile) -> Result<u64> {
    let target = file.target().to_path_buf();
    file.commit()
        .map_err(|e| ExportError::io("cannot commit", target, e))
}
