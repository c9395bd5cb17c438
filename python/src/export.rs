//! `export` and `verify` for Python: keyword arguments into the exporter's
//! options (named and spelled as the command's flags are, with `_` for `-`),
//! the work done with the GIL released, the summary back as a dict.

use std::path::{Path, PathBuf};

use predbench_exporter::message::check_schema;
use predbench_exporter::queue::AmqpOptions;
use predbench_exporter::verify::VerifyOptions;
use predbench_exporter::{Dataset, ExportOptions, MessageOptions, SinkSettings, SinkSpec};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{choice, export_error, invalid};

/// `threads`, or every core.
pub fn threads(threads: Option<usize>) -> PyResult<usize> {
    match threads {
        Some(0) => Err(invalid("threads", "must be at least 1")),
        Some(threads) => Ok(threads),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

fn open_dataset(input: &Path) -> PyResult<Dataset> {
    Dataset::open(input).map_err(export_error)
}

/// export(input, sink, *, strategy="rayon", grouping="modulo", group_size=10,
/// max_message_bytes=None, nulls="omit", non_finite="string",
/// number_format="shortest", compression="lz4", confirm_window=1024,
/// threads=None, force=False) -> dict
///
/// Turns the prediction table at `input` into JSON messages of `group_size`
/// predictions sent to `sink`: "null", "parquet:PATH", "ndjson:PATH" or a
/// RabbitMQ queue "amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME".
#[pyfunction]
#[pyo3(signature = (input, sink, *, strategy="rayon", grouping="modulo", group_size=10,
    max_message_bytes=None, nulls="omit", non_finite="string", number_format="shortest",
    compression="lz4", confirm_window=1024, threads=None, force=false))]
#[allow(clippy::too_many_arguments)]
pub fn export<'py>(
    py: Python<'py>,
    input: PathBuf,
    sink: &str,
    strategy: &str,
    grouping: &str,
    group_size: u64,
    max_message_bytes: Option<u64>,
    nulls: &str,
    non_finite: &str,
    number_format: &str,
    compression: &str,
    confirm_window: usize,
    threads: Option<usize>,
    force: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let options = ExportOptions {
        grouping: choice("grouping", grouping)?,
        group_size,
        max_message_bytes,
        threads: self::threads(threads)?,
        message: MessageOptions {
            nulls: choice("nulls", nulls)?,
            non_finite: choice("non_finite", non_finite)?,
            number_format: choice("number_format", number_format)?,
            ..MessageOptions::default()
        },
        ..ExportOptions::new(choice("strategy", strategy)?)
    };
    options.validate().map_err(export_error)?;
    let sink = SinkSpec::parse(sink).map_err(export_error)?;
    let settings = SinkSettings {
        compression: choice("compression", compression)?,
        force,
        amqp: AmqpOptions {
            confirm_window,
            ..AmqpOptions::default()
        },
        ..SinkSettings::default()
    };
    let dataset = open_dataset(&input)?;
    check_schema(&dataset.schema).map_err(export_error)?;
    let run = || sink.export(&dataset, &options, &settings, &mut |_| {});
    let summary = py.detach(run).map_err(export_error)?;
    let result = PyDict::new(py);
    result.set_item("rows", summary.input_rows)?;
    result.set_item("messages", summary.sink.messages)?;
    result.set_item("predictions", summary.sink.rows)?;
    result.set_item("message_bytes", summary.sink.message_bytes)?;
    result.set_item("output_bytes", summary.sink.output_bytes)?;
    result.set_item("path", summary.sink.path)?;
    result.set_item("seconds", summary.elapsed.as_secs_f64())?;
    Ok(result)
}

/// verify(input, messages, *, grouping="modulo", group_size=10,
/// any_grouping=False, any_message_order=False, id_column="id_client", non_finite="string",
/// max_message_bytes=None, max_problems=10, threads=None) -> dict
///
/// Proves the export at `messages` (a Parquet or NDJSON file of messages, or
/// a directory of parts) complete and correct against the table at `input`;
/// the dict's "ok" says whether it is, "first_problems" what is wrong.
#[pyfunction]
#[pyo3(signature = (input, messages, *, grouping="modulo", group_size=10, any_grouping=false,
    any_message_order=false, id_column="id_client", non_finite="string", max_message_bytes=None, max_problems=10,
    threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn verify<'py>(
    py: Python<'py>,
    input: PathBuf,
    messages: PathBuf,
    grouping: &str,
    group_size: u64,
    any_grouping: bool,
    any_message_order: bool,
    id_column: &str,
    non_finite: &str,
    max_message_bytes: Option<u64>,
    max_problems: usize,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let options = VerifyOptions {
        layout_grouping: choice("grouping", grouping)?,
        group_size,
        any_grouping,
        any_message_order,
        id_column: id_column.to_string(),
        non_finite: choice("non_finite", non_finite)?,
        max_message_bytes,
        time_zone: MessageOptions::default().time_zone,
        max_reported: max_problems,
        threads: self::threads(threads)?,
    };
    if !messages.exists() {
        return Err(pyo3::exceptions::PyFileNotFoundError::new_err(format!(
            "messages file {} does not exist",
            messages.display()
        )));
    }
    let dataset = open_dataset(&input)?;
    let report = py
        .detach(|| predbench_exporter::verify::verify(&dataset, &messages, &options))
        .map_err(export_error)?;
    let result = PyDict::new(py);
    result.set_item("ok", report.is_ok())?;
    result.set_item("messages", report.messages)?;
    result.set_item("predictions", report.predictions)?;
    result.set_item("dataset_rows", report.dataset_rows)?;
    result.set_item("problems", report.problems)?;
    result.set_item("first_problems", report.first_problems)?;
    Ok(result)
}
