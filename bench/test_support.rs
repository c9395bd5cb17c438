//! What the integration tests of both crates (`cli/tests`, `harness/tests`)
//! share, included by path: output and paths, the repository and the peers'
//! venv, the test broker held by one test at a time, a drain's message ids.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Standard error as text.
pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Names of the entries of `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A path as a command-line argument.
pub fn path_arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The repository's top.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The peers' venv (`scripts/setup-peers.sh` makes it once per machine, in
/// ~/.local/share/predbench); panics with the fix when it is missing.
pub fn peers_venv() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let venv = std::env::var_os("PREDBENCH_PEERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".local/share/predbench/venv-peers"));
    assert!(
        venv.join("bin/python").is_file(),
        "no peers venv at {}: run `bash scripts/setup-peers.sh` first (the README's test command does)",
        venv.display()
    );
    venv
}

/// The tests' broker: PREDBENCH_AMQP_URL, or RabbitMQ on loopback as
/// `scripts/rabbitmq.sh start` runs it.
pub fn broker() -> String {
    std::env::var("PREDBENCH_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

/// The broker, held by one test at a time across test threads and
/// processes (some restart it, which drops the others' connections);
/// released when dropped.
pub struct BrokerHeld(#[allow(dead_code)] File);

/// Waits until no other test holds the RabbitMQ broker, and holds it.
pub fn hold_broker() -> BrokerHeld {
    hold_lock("broker")
}

/// Waits until no other test holds the lock `name` (a broker, across test
/// threads and processes), and holds it.
pub fn hold_lock(name: &str) -> BrokerHeld {
    let path = std::env::temp_dir().join(format!("predbench-tests-{name}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()));
    // SAFETY: flock on a descriptor this function owns; the lock goes with it.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(locked, 0, "cannot lock {}", path.display());
    BrokerHeld(file)
}

/// The ids of the predictions in a drain's parts, in the order written
/// (each message of the tests' hand-made queues holds one `{"id": N}`).
pub fn read_drained_ids(drained: &Path) -> Vec<u64> {
    use arrow_array::{Array, StringArray};
    let mut parts: Vec<_> = std::fs::read_dir(drained)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "parquet"))
        .collect();
    parts.sort();
    let mut ids = Vec::new();
    for part in parts {
        let file = File::open(&part).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024).unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let column = batch
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            for row in 0..column.len() {
                let message: serde_json::Value = serde_json::from_str(column.value(row)).unwrap();
                ids.push(message[0]["id"].as_u64().unwrap());
            }
        }
    }
    ids
}
