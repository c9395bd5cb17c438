//! A file that appears at its final path only when complete: written under a
//! temporary name in the same directory (past the page cache where the file
//! system allows, see [`DirectFile`]), synced, then renamed.

use std::io::Write;
use std::path::{Path, PathBuf};

use predbench_generator::direct_file::DirectFile;

use crate::error::{ExportError, Result};

/// A buffered file written under a temporary sibling name; removed on drop unless committed.
pub struct AtomicFile {
    target: PathBuf,
    temporary: PathBuf,
    writer: Option<DirectFile>,
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file beside `target`. Fails if `target` exists
    /// and `overwrite` is false.
    pub fn create(target: &Path, overwrite: bool) -> Result<Self> {
        if target.is_dir() {
            return Err(ExportError::io(
                "cannot write",
                target,
                std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "a directory is in the way of the output file",
                ),
            ));
        }
        if target.exists() && !overwrite {
            return Err(ExportError::io(
                "refusing to overwrite",
                target,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the file exists (pass --force to replace it)",
                ),
            ));
        }
        let name = target
            .file_name()
            .ok_or_else(|| {
                ExportError::invalid("--sink", format!("{} is not a file name", target.display()))
            })?
            .to_string_lossy()
            .into_owned();
        remove_stale_temporaries(target, &name);
        let temporary =
            target.with_file_name(format!(".{name}.predbench-tmp-{}", std::process::id()));
        let file = DirectFile::create(&temporary)
            .map_err(|e| ExportError::io("cannot create", &temporary, e))?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temporary,
            writer: Some(file),
            committed: false,
        })
    }

    /// The path the file will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, syncs and renames to the final path; returns the size in bytes.
    pub fn commit(mut self) -> Result<u64> {
        let writer = self.writer.take().expect("committed once");
        let file = writer
            .finish()
            .map_err(|e| ExportError::io("cannot write", &self.temporary, e))?;
        file.sync_all()
            .map_err(|e| ExportError::io("cannot sync", &self.temporary, e))?;
        let bytes = file
            .metadata()
            .map_err(|e| ExportError::io("cannot stat", &self.temporary, e))?
            .len();
        std::fs::rename(&self.temporary, &self.target)
            .map_err(|e| ExportError::io("cannot rename into place", &self.target, e))?;
        self.committed = true;
        Ok(bytes)
    }
}

/// Removes the temporary files of `target` left by runs that were killed
/// (their process no longer exists on this machine), e.g. a shard's first
/// attempt that a scheduler retries.
fn remove_stale_temporaries(target: &Path, name: &str) {
    let prefix = format!(".{name}.predbench-tmp-");
    let directory = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = file_name.strip_prefix(&prefix)
            && pid.bytes().all(|byte| byte.is_ascii_digit())
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.as_mut().expect("not committed").write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.writer.as_mut().expect("not committed").write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.as_mut().expect("not committed").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            self.writer = None;
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}
