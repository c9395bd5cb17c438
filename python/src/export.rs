//! `export` and `verify` for Python: keyword arguments into the exporter's
//! options (named and spelled as the command's flags are, with `_` for `-`),
//! the work done with the GIL released, the summary back as a dict.

use std::path::{Path, PathBuf};

use predbench_exporter::message::check_schema;
use predbench_exporter::queue::{AmqpOptions, AmqpSink, AmqpTarget};
use predbench_exporter::sink::{NdjsonSink, NullSink, ParquetSink};
use predbench_exporter::verify::VerifyOptions;
use predbench_exporter::{
    Dataset, ExportOptions, Grouping, MessageOptions, NonFiniteMode, NullMode, NumberFormat,
    Strategy,
};
use predbench_generator::Compression;
use predbench_generator::parquet_output::parquet_codec;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{export_error, invalid};

/// `threads`, or every core.
pub fn threads(threads: Option<usize>) -> PyResult<usize> {
    match threads {
        Some(0) => Err(invalid("threads", "must be at least 1")),
        Some(threads) => Ok(threads),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// A Parquet page compression as the generator takes it.
pub fn file_compression(argument: &str, name: &str) -> PyResult<Compression> {
    match name {
        "snappy" => Ok(Compression::Snappy),
        "zstd" => Ok(Compression::Zstd),
        "lz4" => Ok(Compression::Lz4),
        "none" => Ok(Compression::None),
        other => Err(invalid(
            argument,
            format!("unknown {other:?}: \"snappy\", \"zstd\", \"lz4\" or \"none\""),
        )),
    }
}

/// A Parquet page compression as the message sink takes it.
fn message_compression(name: &str) -> PyResult<parquet::basic::Compression> {
    file_compression("compression", name).map(parquet_codec)
}

/// One of `choices` (name, value), or a `ValueError` listing them.
fn choose<T: Copy>(argument: &str, given: &str, choices: &[(&str, T)]) -> PyResult<T> {
    choices
        .iter()
        .find(|(name, _)| *name == given)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<String> = choices
                .iter()
                .map(|(name, _)| format!("{name:?}"))
                .collect();
            invalid(
                argument,
                format!("unknown {given:?}: one of {}", names.join(", ")),
            )
        })
}

fn grouping(given: &str) -> PyResult<Grouping> {
    choose(
        "grouping",
        given,
        &[
            ("modulo", Grouping::Modulo),
            ("contiguous", Grouping::Contiguous),
            ("packed", Grouping::Packed),
        ],
    )
}

fn non_finite(given: &str) -> PyResult<NonFiniteMode> {
    choose(
        "non_finite",
        given,
        &[
            ("string", NonFiniteMode::String),
            ("null", NonFiniteMode::Null),
            ("error", NonFiniteMode::Error),
        ],
    )
}

fn open_dataset(input: &Path) -> PyResult<Dataset> {
    Dataset::open(input).map_err(export_error)
}

/// Where `export` sends messages: `sink` as the command's `--sink` takes it.
enum Sink {
    Null,
    Parquet(PathBuf),
    Ndjson(PathBuf),
    Amqp(AmqpTarget),
}

fn parse_sink(sink: &str) -> PyResult<Sink> {
    if sink == "null" {
        Ok(Sink::Null)
    } else if let Some(path) = sink.strip_prefix("parquet:") {
        Ok(Sink::Parquet(PathBuf::from(path)))
    } else if let Some(path) = sink.strip_prefix("ndjson:") {
        Ok(Sink::Ndjson(PathBuf::from(path)))
    } else if sink.starts_with("amqp://") || sink.starts_with("amqps://") {
        AmqpTarget::parse(sink)
            .map(Sink::Amqp)
            .map_err(export_error)
    } else {
        Err(invalid(
            "sink",
            format!("{sink:?} is not null, parquet:PATH, ndjson:PATH or amqp://...?queue=NAME"),
        ))
    }
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
    let strategy = choose(
        "strategy",
        strategy,
        &[
            ("rayon", Strategy::Rayon),
            ("single-thread", Strategy::SingleThread),
            ("window-sort", Strategy::WindowSort),
        ],
    )?;
    let options = ExportOptions {
        grouping: self::grouping(grouping)?,
        group_size,
        max_message_bytes,
        threads: self::threads(threads)?,
        message: MessageOptions {
            nulls: choose(
                "nulls",
                nulls,
                &[("omit", NullMode::Omit), ("explicit", NullMode::Explicit)],
            )?,
            non_finite: self::non_finite(non_finite)?,
            number_format: choose(
                "number_format",
                number_format,
                &[
                    ("shortest", NumberFormat::Shortest),
                    ("java", NumberFormat::Java),
                ],
            )?,
            ..MessageOptions::default()
        },
        ..ExportOptions::new(strategy)
    };
    options.validate().map_err(export_error)?;
    let sink = parse_sink(sink)?;
    let compression = message_compression(compression)?;
    let dataset = open_dataset(&input)?;
    check_schema(&dataset.schema).map_err(export_error)?;
    let run = || {
        let mut progress = |_| {};
        match sink {
            Sink::Null => {
                predbench_exporter::export(&dataset, &options, NullSink::default(), &mut progress)
            }
            Sink::Parquet(path) => {
                let sink = ParquetSink::create(&path, compression, force)?;
                predbench_exporter::export(&dataset, &options, sink, &mut progress)
            }
            Sink::Ndjson(path) => {
                let sink = NdjsonSink::create(&path, force)?;
                predbench_exporter::export(&dataset, &options, sink, &mut progress)
            }
            Sink::Amqp(target) => {
                let sink = AmqpSink::connect(
                    target,
                    AmqpOptions {
                        confirm_window,
                        ..AmqpOptions::default()
                    },
                )?;
                predbench_exporter::export(&dataset, &options, sink, &mut progress)
            }
        }
    };
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
/// any_grouping=False, id_column="id_client", non_finite="string",
/// max_message_bytes=None, max_problems=10, threads=None) -> dict
///
/// Proves the export at `messages` (a Parquet or NDJSON file of messages, or
/// a directory of parts) complete and correct against the table at `input`;
/// the dict's "ok" says whether it is, "first_problems" what is wrong.
#[pyfunction]
#[pyo3(signature = (input, messages, *, grouping="modulo", group_size=10, any_grouping=false,
    id_column="id_client", non_finite="string", max_message_bytes=None, max_problems=10,
    threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn verify<'py>(
    py: Python<'py>,
    input: PathBuf,
    messages: PathBuf,
    grouping: &str,
    group_size: u64,
    any_grouping: bool,
    id_column: &str,
    non_finite: &str,
    max_message_bytes: Option<u64>,
    max_problems: usize,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let options = VerifyOptions {
        layout_grouping: self::grouping(grouping)?,
        group_size,
        any_grouping,
        id_column: id_column.to_string(),
        non_finite: self::non_finite(non_finite)?,
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
