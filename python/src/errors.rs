//! The libraries' errors as Python exceptions: a bad argument is a
//! `ValueError`, an output in the way a `FileExistsError`, a missing input a
//! `FileNotFoundError`, a file that is not what it should be or a broker
//! that does not answer an `OSError` (`ConnectionError`); the message is the
//! library's own, which names the argument (as Python spells it: the
//! libraries name options, `` `max_message_bytes` ``, as Python does) or the file.

use predbench_common::Choice;
use predbench_exporter::ExportError;
use predbench_generator::GeneratorError;
use pyo3::PyErr;
use pyo3::exceptions::{
    PyConnectionError, PyFileExistsError, PyFileNotFoundError, PyOSError, PyRuntimeError,
    PyValueError,
};

/// A `ValueError` for argument `argument`, as the libraries word it.
pub fn invalid(argument: &str, reason: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("invalid {argument}: {reason}"))
}

/// The value of `argument` called `given`, by its library's names, or a
/// `ValueError` listing them.
pub fn choice<T: Choice>(argument: &str, given: &str) -> Result<T, PyErr> {
    T::from_name(given).map_err(|unknown| invalid(argument, unknown))
}

/// The exception for a generator error.
pub fn generator_error(error: GeneratorError) -> PyErr {
    let message = error.to_string();
    match error {
        GeneratorError::InvalidArgument { .. } => PyValueError::new_err(message),
        GeneratorError::OutputExists(_) | GeneratorError::ShardOutputExists { .. } => {
            PyFileExistsError::new_err(message)
        }
        GeneratorError::Io { .. } | GeneratorError::Parquet { .. } => PyOSError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}

/// The exception for an exporter error.
pub fn export_error(error: ExportError) -> PyErr {
    let message = error.to_string();
    match error {
        ExportError::InvalidArgument { .. } | ExportError::UnsupportedColumn { .. } => {
            PyValueError::new_err(message)
        }
        ExportError::MissingInput(_) => PyFileNotFoundError::new_err(message),
        ExportError::OutputExists(_) | ExportError::CheckpointExists { .. } => {
            PyFileExistsError::new_err(message)
        }
        ExportError::Amqp { .. } => PyConnectionError::new_err(message),
        ExportError::NoParquetFiles(_)
        | ExportError::NotParquet { .. }
        | ExportError::SchemaMismatch { .. }
        | ExportError::Io { .. }
        | ExportError::Parquet { .. } => PyOSError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}
