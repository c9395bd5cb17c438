//! The AMQP client's plumbing, shared by the publisher, the drain and the
//! administrative calls: the runtime it runs on, a bound on every broker
//! operation, errors in one line.

use std::time::Duration;

use crate::error::{ExportError, Result};

/// How long one broker operation (connecting, publishing, a confirm) may take
/// before the connection is taken for lost: a broker that restarts can leave
/// an operation waiting forever on a connection that is gone.
pub(super) const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// Awaits `operation` for at most [`OPERATION_TIMEOUT`]; an error or a
/// timeout becomes one line.
pub(super) async fn within<T>(
    what: &str,
    operation: impl std::future::Future<Output = lapin::Result<T>>,
) -> std::result::Result<T, String> {
    match tokio::time::timeout(OPERATION_TIMEOUT, operation).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(cause)) => Err(describe_lapin_error(&cause)),
        Err(_) => Err(format!("{what}: no answer within {OPERATION_TIMEOUT:?}")),
    }
}

/// The runtime the AMQP client runs on: one thread, owned by the caller.
pub(super) fn client_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ExportError::io("cannot start", "the AMQP client's runtime", e))
}

/// A lapin error in one line, with what to do for the common ones.
pub(super) fn describe_lapin_error(error: &lapin::Error) -> String {
    let text = error.to_string();
    if text.contains("ACCESS_REFUSED") || text.contains("access refused") {
        format!("{text} (wrong user or password for this vhost?)")
    } else if text.contains("PRECONDITION_FAILED") {
        format!("{text} (the queue exists with other arguments: delete it or use another name)")
    } else if text.contains("onnection refused") {
        format!("{text} (is the broker running and listening there?)")
    } else {
        text
    }
}
