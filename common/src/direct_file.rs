//! Sequential file writing that bypasses the page cache (`O_DIRECT`).
//!
//! Measured on the 2-core VM this project runs on: `dd` writing 4 GiB with
//! `oflag=direct` took 2.0 s and 0.3 s of system time, the same through the
//! page cache 10.7 s and 10.0 s of system time; at 60M rows the generator spent
//! half its CPU in the kernel copying into the page cache. Datasets and exports
//! are written once and read later, so caching them buys nothing while they
//! are written.
//!
//! Writes are gathered in an aligned buffer and handed to the kernel in whole
//! blocks; the unaligned tail is written without `O_DIRECT` when the file is
//! finished. Where the file system refuses `O_DIRECT` (tmpfs, some network
//! file systems) the writer falls back to ordinary buffered writes.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// Alignment of buffer addresses, lengths and file offsets for `O_DIRECT`.
const ALIGNMENT: usize = 4096;
/// Bytes gathered before a write: large enough for the device, small in memory.
const BUFFER_BYTES: usize = 8 << 20;

/// A file written front to back through an aligned buffer, with `O_DIRECT`
/// where the file system allows it. Call [`DirectFile::finish`] to write the
/// last partial block; dropping the writer without it loses the buffered tail.
pub struct DirectFile {
    file: File,
    storage: Vec<u8>,
    start: usize,
    filled: usize,
    direct: bool,
}

impl DirectFile {
    /// Creates (truncates) `path`, trying `O_DIRECT` first.
    pub fn create(path: &Path) -> io::Result<DirectFile> {
        Self::create_with(path, true)
    }

    /// Creates (truncates) `path`; `try_direct: false` forces buffered writes.
    pub fn create_with(path: &Path, try_direct: bool) -> io::Result<DirectFile> {
        let open = |flags: i32| {
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(flags)
                .open(path)
        };
        let (file, direct) = if try_direct {
            match open(libc::O_DIRECT) {
                Ok(file) => (file, true),
                Err(error) if error.raw_os_error() == Some(libc::EINVAL) => (open(0)?, false),
                Err(error) => return Err(error),
            }
        } else {
            (open(0)?, false)
        };
        let storage = vec![0u8; BUFFER_BYTES + ALIGNMENT];
        let start = storage.as_ptr().align_offset(ALIGNMENT);
        Ok(DirectFile {
            file,
            storage,
            start,
            filled: 0,
            direct,
        })
    }

    /// Whether writes bypass the page cache.
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// Writes what is buffered and returns the file (not yet synced).
    pub fn finish(mut self) -> io::Result<File> {
        let whole_blocks = self.filled / ALIGNMENT * ALIGNMENT;
        self.write_out(whole_blocks)?;
        if self.filled > 0 {
            self.stop_direct()?;
            self.write_out(self.filled)?;
        }
        Ok(self.file)
    }

    /// Writes the first `length` buffered bytes (a multiple of the alignment
    /// while direct) and moves the rest to the front.
    fn write_out(&mut self, length: usize) -> io::Result<()> {
        if length == 0 {
            return Ok(());
        }
        let range = self.start..self.start + length;
        match self.file.write_all(&self.storage[range.clone()]) {
            Err(error) if self.direct && error.raw_os_error() == Some(libc::EINVAL) => {
                // Accepted at open, refused at write: go on without O_DIRECT.
                self.stop_direct()?;
                self.file.write_all(&self.storage[range])?;
            }
            result => result?,
        }
        self.storage
            .copy_within(self.start + length..self.start + self.filled, self.start);
        self.filled -= length;
        Ok(())
    }

    fn stop_direct(&mut self) -> io::Result<()> {
        if !self.direct {
            return Ok(());
        }
        let descriptor = self.file.as_raw_fd();
        // SAFETY: fcntl on a descriptor this struct owns; no memory is passed.
        let flags = unsafe { libc::fcntl(descriptor, libc::F_GETFL) };
        // SAFETY: as above.
        if flags == -1
            || unsafe { libc::fcntl(descriptor, libc::F_SETFL, flags & !libc::O_DIRECT) } == -1
        {
            return Err(io::Error::last_os_error());
        }
        self.direct = false;
        Ok(())
    }
}

impl Write for DirectFile {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = BUFFER_BYTES - self.filled;
        let taken = data.len().min(room);
        let at = self.start + self.filled;
        self.storage[at..at + taken].copy_from_slice(&data[..taken]);
        self.filled += taken;
        if self.filled == BUFFER_BYTES {
            self.write_out(BUFFER_BYTES)?;
        }
        Ok(taken)
    }

    /// Writes the whole blocks gathered so far; a partial block waits for
    /// more data or [`DirectFile::finish`] (`O_DIRECT` writes whole blocks).
    fn flush(&mut self) -> io::Result<()> {
        let whole_blocks = self.filled / ALIGNMENT * ALIGNMENT;
        self.write_out(whole_blocks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `pieces` of the pattern, finishes, and checks the file's bytes.
    fn round_trip(directory: &Path, try_direct: bool, pieces: &[usize]) {
        let path = directory.join(format!("out-{try_direct}-{}", pieces.len()));
        let total: usize = pieces.iter().sum();
        let expected: Vec<u8> = (0..total).map(|index| (index * 31 % 251) as u8).collect();
        let mut writer = DirectFile::create_with(&path, try_direct).unwrap();
        if !try_direct {
            assert!(!writer.is_direct());
        }
        let mut offset = 0;
        for &piece in pieces {
            writer.write_all(&expected[offset..offset + piece]).unwrap();
            offset += piece;
            if piece % 3 == 0 {
                writer.flush().unwrap();
            }
        }
        let file = writer.finish().unwrap();
        file.sync_all().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), expected, "{pieces:?}");
    }

    #[test]
    fn every_byte_arrives_whatever_the_piece_sizes() {
        // Beside the sources, a disk file system (O_DIRECT is honoured there,
        // unlike tmpfs), and in the system temporary directory.
        let local = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let system = tempfile::tempdir().unwrap();
        for directory in [local.path(), system.path()] {
            for try_direct in [true, false] {
                round_trip(directory, try_direct, &[]);
                round_trip(directory, try_direct, &[1]);
                round_trip(directory, try_direct, &[4095, 1, 4096, 3]);
                round_trip(directory, try_direct, &[BUFFER_BYTES - 1, 2, 5000]);
                round_trip(directory, try_direct, &[3 * BUFFER_BYTES + 17]);
                round_trip(directory, try_direct, &[12, 4096 * 3, 7, BUFFER_BYTES, 1]);
            }
        }
    }

    #[test]
    fn direct_writes_are_used_on_disk_file_systems() {
        let local = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let path = local.path().join("probe");
        let writer = DirectFile::create(&path).unwrap();
        // SAFETY: statfs fills the struct; the path is a valid C string.
        let mut stats: libc::statfs = unsafe { std::mem::zeroed() };
        let name = std::ffi::CString::new(local.path().as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::statfs(name.as_ptr(), &mut stats) }, 0);
        const EXT4: i64 = 0xEF53;
        const XFS: i64 = 0x5846_5342;
        const BTRFS: i64 = 0x9123_683E;
        if [EXT4, XFS, BTRFS].contains(&(stats.f_type as i64)) {
            assert!(
                writer.is_direct(),
                "O_DIRECT refused on file system {:#x}",
                stats.f_type
            );
        }
        writer.finish().unwrap();
    }
}
