//! predbench for Python (`predbench._native`, wrapped by `predbench/__init__.py`):
//! mock prediction tables made by the generator's own row generator and
//! handed to pyarrow through the Arrow C data interface without a copy, the
//! dataset written as `predbench generate` writes it, and export and verify
//! returning their summaries as dicts, and `run`, the `predbench` command's
//! own entry (the wheel's console script calls it). Rust works with the GIL
//! released; every error becomes a Python exception carrying the library's
//! message. Settings with named values are parsed by the libraries' own
//! tables ([`errors::choice`]).

use std::path::PathBuf;

use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_pyarrow::{IntoPyArrow, Table};
use arrow_schema::{ArrowError, SchemaRef};
use predbench_common::units::format_bytes;
use predbench_generator::config::batch_rows_for_budget;
use predbench_generator::parquet_output::{prediction_schema, record_batch};
use predbench_generator::rows::{RowBuffers, RowGenerator};
use predbench_generator::{ClassType, DistributionKind, GeneratorConfig, RunOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rayon::prelude::*;

mod errors;
mod export;

use errors::{choice, generator_error, invalid};

/// mimalloc, as the `predbench` binary allocates: the command run through
/// this module ([`run`]) keeps its memory behaviour.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rows in each record batch of a table `generate` returns (a multiple of
/// the generator's RNG block, so batches are cut where blocks are).
const TABLE_BATCH_ROWS: u64 = 1 << 18;

/// The memory `generate_to` sizes its batches for, as the command's default.
const GENERATE_TO_MEMORY_BUDGET: u64 = 3 << 29;

/// The table to make, as `generate`, `batches` and `generate_to` take it.
#[allow(clippy::too_many_arguments)]
fn table_config(
    rows: i64,
    classes: i64,
    seed: u64,
    distribution: &str,
    alpha: Option<f64>,
    null_rate: f64,
    nan_rate: f64,
    class_type: &str,
) -> PyResult<GeneratorConfig> {
    if rows < 1 {
        return Err(invalid("rows", format!("must be at least 1, got {rows}")));
    }
    if classes < 1 {
        return Err(invalid(
            "classes",
            format!("must be at least 1, got {classes}"),
        ));
    }
    let kind: DistributionKind = choice("distribution", distribution)?;
    if kind == DistributionKind::Uniform && alpha.is_some() {
        return Err(invalid(
            "alpha",
            "applies to distribution=\"dirichlet\" only",
        ));
    }
    let distribution = kind.with_alpha(alpha.unwrap_or(1.0));
    let class_type: ClassType = choice("class_type", class_type)?;
    let config = GeneratorConfig {
        classes: classes as usize,
        seed,
        distribution,
        null_rate,
        nan_rate,
        class_type,
        ..GeneratorConfig::new(rows as u64)
    };
    config.validate().map_err(generator_error)?;
    Ok(config)
}

/// Record batch `index` of `rows_per_batch` rows of the table.
fn table_batch(
    generator: &RowGenerator,
    schema: &SchemaRef,
    config: &GeneratorConfig,
    rows_per_batch: u64,
    index: u64,
) -> RecordBatch {
    let start = index * rows_per_batch;
    let end = (start + rows_per_batch).min(config.rows);
    let mut buffers = RowBuffers::default();
    generator.fill(start..end, &mut buffers);
    record_batch(schema, buffers)
}

/// generate(rows, *, classes=30, seed=42, distribution="uniform", alpha=None,
/// null_rate=0.0, nan_rate=0.0, class_type="float64") -> pyarrow.Table
///
/// A prediction table made in memory on every core: the rows
/// `predbench generate` writes with the same arguments, value for value.
#[pyfunction]
#[pyo3(signature = (rows, *, classes=30, seed=42, distribution="uniform", alpha=None,
    null_rate=0.0, nan_rate=0.0, class_type="float64"))]
#[allow(clippy::too_many_arguments)]
fn generate<'py>(
    py: Python<'py>,
    rows: i64,
    classes: i64,
    seed: u64,
    distribution: &str,
    alpha: Option<f64>,
    null_rate: f64,
    nan_rate: f64,
    class_type: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let config = table_config(
        rows,
        classes,
        seed,
        distribution,
        alpha,
        null_rate,
        nan_rate,
        class_type,
    )?;
    let schema = prediction_schema(config.classes, config.class_type);
    let batches = py.detach(|| {
        let generator = RowGenerator::new(&config);
        (0..config.rows.div_ceil(TABLE_BATCH_ROWS))
            .into_par_iter()
            .map(|index| table_batch(&generator, &schema, &config, TABLE_BATCH_ROWS, index))
            .collect::<Vec<_>>()
    });
    let table = Table::try_new(batches, schema)
        .map_err(|e| PyErr::new::<pyo3::exceptions::PyRuntimeError, _>(e.to_string()))?;
    table.into_pyarrow(py)
}

/// batches(rows, *, batch_rows=65536, ...) -> pyarrow.RecordBatchReader
///
/// The same table as `generate`, made one batch at a time as the reader is
/// read: for tables larger than memory.
#[pyfunction]
#[pyo3(signature = (rows, *, batch_rows=65_536, classes=30, seed=42, distribution="uniform",
    alpha=None, null_rate=0.0, nan_rate=0.0, class_type="float64"))]
#[allow(clippy::too_many_arguments)]
fn batches<'py>(
    py: Python<'py>,
    rows: i64,
    batch_rows: i64,
    classes: i64,
    seed: u64,
    distribution: &str,
    alpha: Option<f64>,
    null_rate: f64,
    nan_rate: f64,
    class_type: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let config = table_config(
        rows,
        classes,
        seed,
        distribution,
        alpha,
        null_rate,
        nan_rate,
        class_type,
    )?;
    if batch_rows < 1 {
        return Err(invalid(
            "batch_rows",
            format!("must be at least 1, got {batch_rows}"),
        ));
    }
    let batch_rows = batch_rows as u64;
    let schema = prediction_schema(config.classes, config.class_type);
    let generator = RowGenerator::new(&config);
    let stream_schema = schema.clone();
    let made = (0..config.rows.div_ceil(batch_rows)).map(move |index| {
        Ok::<_, ArrowError>(table_batch(
            &generator,
            &stream_schema,
            &config,
            batch_rows,
            index,
        ))
    });
    let reader: Box<dyn RecordBatchReader + Send> =
        Box::new(RecordBatchIterator::new(made, schema));
    reader.into_pyarrow(py)
}

/// generate_to(path, rows, *, ..., compression="snappy", file_rows=2000000,
/// threads=None, force=False) -> dict
///
/// Writes the dataset directory as `predbench generate` does (part files and
/// `_manifest.json`, appearing only when complete).
#[pyfunction]
#[pyo3(signature = (path, rows, *, classes=30, seed=42, distribution="uniform", alpha=None,
    null_rate=0.0, nan_rate=0.0, class_type="float64", compression="snappy",
    file_rows=predbench_generator::config::DEFAULT_FILE_ROWS, threads=None, force=false))]
#[allow(clippy::too_many_arguments)]
fn generate_to<'py>(
    py: Python<'py>,
    path: PathBuf,
    rows: i64,
    classes: i64,
    seed: u64,
    distribution: &str,
    alpha: Option<f64>,
    null_rate: f64,
    nan_rate: f64,
    class_type: &str,
    compression: &str,
    file_rows: u64,
    threads: Option<usize>,
    force: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let mut config = table_config(
        rows,
        classes,
        seed,
        distribution,
        alpha,
        null_rate,
        nan_rate,
        class_type,
    )?;
    config.compression = choice("compression", compression)?;
    config.file_rows = file_rows;
    let threads = export::threads(threads)?;
    let sizing = batch_rows_for_budget(
        GENERATE_TO_MEMORY_BUDGET,
        threads,
        config.classes,
        config.rows,
    );
    config.batch_rows = sizing.batch_rows;
    config.row_group_rows = sizing.batch_rows;
    config.validate().map_err(generator_error)?;
    let options = RunOptions { threads, force };
    let summary = py
        .detach(|| predbench_generator::generate(&config, &path, &options, &mut |_| {}))
        .map_err(generator_error)?;
    let result = PyDict::new(py);
    result.set_item("path", path)?;
    result.set_item("rows", summary.manifest.rows)?;
    result.set_item("files", summary.manifest.parts.len())?;
    result.set_item("bytes", summary.manifest.total_bytes())?;
    result.set_item("size", format_bytes(summary.manifest.total_bytes()))?;
    result.set_item("seconds", summary.elapsed.as_secs_f64())?;
    Ok(result)
}

/// run(argv) -> int
///
/// The `predbench` command: runs the command line `argv` (program first) as
/// the binary does, printing to this process's standard output and error,
/// and answers its exit code.
#[pyfunction]
fn run(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| predbench::run(argv))
}

/// The `predbench._native` module.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_function(wrap_pyfunction!(generate, module)?)?;
    module.add_function(wrap_pyfunction!(batches, module)?)?;
    module.add_function(wrap_pyfunction!(generate_to, module)?)?;
    module.add_function(wrap_pyfunction!(export::export, module)?)?;
    module.add_function(wrap_pyfunction!(export::verify, module)?)?;
    module.add_function(wrap_pyfunction!(run, module)?)?;
    Ok(())
}
