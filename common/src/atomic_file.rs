//! Files that appear whole or not at all: written under a temporary name in
//! the same directory (`.NAME.predbench-tmp-PID`, the one spelling every
//! crate uses), synced, then renamed. A run that is killed leaves its
//! temporary behind; [`remove_stale_temporaries`] sweeps those whose process
//! is gone, and every writer calls it before it starts.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::direct_file::DirectFile;

/// What marks a temporary name: `.NAME` + this + the writer's process id.
const MARK: &str = ".predbench-tmp-";

/// The temporary sibling of `target` for this process: `.NAME.predbench-tmp-PID`.
pub fn temporary_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}{MARK}{}", std::process::id()))
}

/// Whether `file_name` is a temporary (of any target).
pub fn is_temporary(file_name: &str) -> bool {
    file_name.starts_with('.') && file_name.contains(MARK)
}

/// Removes, in `directory`, the temporaries whose name starts with
/// `.{prefix}` and whose process no longer exists on this machine (or is
/// this one), files or directories: what killed runs left.
pub fn remove_stale_temporaries(directory: &Path, prefix: &str) {
    let directory = if directory.as_os_str().is_empty() {
        Path::new(".")
    } else {
        directory
    };
    let Ok(entries) = fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&format!(".{prefix}")) {
            continue;
        }
        let Some((_, pid)) = name.rsplit_once(MARK) else {
            continue;
        };
        let pid = pid.trim_end_matches(".old");
        if !pid.bytes().all(|byte| byte.is_ascii_digit()) {
            continue;
        }
        let gone = !Path::new("/proc").join(pid).exists();
        if gone || pid == std::process::id().to_string() {
            let path = entry.path();
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}

/// The directory `target` is in (`.` for a bare name).
fn parent_of(target: &Path) -> &Path {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The file name of `target`, or an error saying it has none.
fn name_of(target: &Path) -> io::Result<String> {
    target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a file name", target.display()),
            )
        })
}

/// Writes `bytes` to `target` through its temporary sibling: synced, then
/// renamed, so that readers see the old file or the new one, never a part.
pub fn write_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let temporary = TemporaryPath::beside(target);
    let mut file = fs::File::create(temporary.path())?;
    file.write_all(bytes)?;
    file.sync_all()?;
    temporary.rename_to(target)
}

/// Writes `value` as pretty JSON (and a newline) to `target` atomically.
pub fn write_json_atomically(target: &Path, value: &impl Serialize) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)? + "\n";
    write_atomically(target, text.as_bytes())
}

/// A path being written: the temporary sibling of its final path, removed on
/// drop unless renamed into place; or (inside a staging directory published
/// whole) the final path itself.
pub struct TemporaryPath {
    path: PathBuf,
    temporary: bool,
}

impl TemporaryPath {
    /// The temporary sibling of `final_path`.
    pub fn beside(final_path: &Path) -> TemporaryPath {
        TemporaryPath {
            path: temporary_path(final_path),
            temporary: true,
        }
    }

    /// `path` itself, renamed nowhere.
    pub fn kept(path: PathBuf) -> TemporaryPath {
        TemporaryPath {
            path,
            temporary: false,
        }
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the temporary to `final_path` (nothing for a kept path).
    pub fn rename_to(mut self, final_path: &Path) -> io::Result<()> {
        if self.temporary {
            fs::rename(&self.path, final_path)?;
            self.temporary = false;
        }
        Ok(())
    }
}

impl Drop for TemporaryPath {
    fn drop(&mut self) {
        if self.temporary {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Why an [`AtomicFile`] could not be made.
#[derive(Debug)]
pub enum CreateError {
    /// A directory stands at the target.
    DirectoryInTheWay,
    /// The target exists and may not be replaced.
    Exists,
    /// The target has no file name, or the temporary cannot be made.
    Io(io::Error),
}

/// A file written past the page cache where the file system allows (see
/// [`DirectFile`]) under its temporary name; it appears at its target when
/// committed, and is removed on drop otherwise.
pub struct AtomicFile {
    target: PathBuf,
    temporary: PathBuf,
    writer: Option<DirectFile>,
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file beside `target` (after sweeping what killed
    /// runs left); refuses a directory in the way, and an existing file
    /// unless `overwrite`.
    pub fn create(target: &Path, overwrite: bool) -> Result<Self, CreateError> {
        if target.is_dir() {
            return Err(CreateError::DirectoryInTheWay);
        }
        if target.exists() && !overwrite {
            return Err(CreateError::Exists);
        }
        let name = name_of(target).map_err(CreateError::Io)?;
        remove_stale_temporaries(parent_of(target), &name);
        let temporary = temporary_path(target);
        let writer = DirectFile::create(&temporary).map_err(CreateError::Io)?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temporary,
            writer: Some(writer),
            committed: false,
        })
    }

    /// The path the file will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary the file is written under.
    pub fn temporary(&self) -> &Path {
        &self.temporary
    }

    /// Flushes, syncs and renames to the target; returns the size in bytes.
    pub fn commit(mut self) -> io::Result<u64> {
        let writer = self.writer.take().expect("committed once");
        let file = writer.finish()?;
        file.sync_all()?;
        let bytes = file.metadata()?.len();
        fs::rename(&self.temporary, &self.target)?;
        self.committed = true;
        Ok(bytes)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.as_mut().expect("not committed").write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.as_mut().expect("not committed").write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.as_mut().expect("not committed").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            self.writer = None;
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_appear_whole_and_killed_runs_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        write_json_atomically(&target, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "{\n  \"a\": 1\n}\n");
        // A dead process's temporary goes, a live one's (pid 1) stays.
        let dead = dir.path().join(".out.json.predbench-tmp-999999999");
        let live = dir.path().join(".out.json.predbench-tmp-1");
        fs::write(&dead, "x").unwrap();
        fs::write(&live, "x").unwrap();
        remove_stale_temporaries(dir.path(), "out.json");
        assert!(!dead.exists() && live.exists());
        assert!(is_temporary(".out.json.predbench-tmp-1"));
        assert!(!is_temporary("out.json"));

        let file = dir.path().join("data.bin");
        let mut atomic = AtomicFile::create(&file, false).unwrap();
        atomic.write_all(b"hello").unwrap();
        assert!(!file.exists());
        assert_eq!(atomic.commit().unwrap(), 5);
        assert_eq!(fs::read(&file).unwrap(), b"hello");
        assert!(matches!(
            AtomicFile::create(&file, false),
            Err(CreateError::Exists)
        ));
        assert!(matches!(
            AtomicFile::create(dir.path(), true),
            Err(CreateError::DirectoryInTheWay)
        ));
        drop(AtomicFile::create(&file, true).unwrap());
        assert_eq!(
            fs::read(&file).unwrap(),
            b"hello",
            "an uncommitted file changes nothing"
        );
    }
}
