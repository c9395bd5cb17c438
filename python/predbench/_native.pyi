"""Type hints of the Rust extension module (``python/src/lib.rs``)."""

from os import PathLike
from typing import Literal, Optional, TypedDict, Union

import pyarrow

__version__: str

Distribution = Literal["uniform", "dirichlet"]
ClassType = Literal["float64", "float32"]
Compression = Literal["snappy", "zstd", "lz4", "none"]
Grouping = Literal["modulo", "contiguous", "packed"]
NonFinite = Literal["string", "null", "error"]
Path = Union[str, PathLike[str]]

class GenerateSummary(TypedDict):
    path: str
    rows: int
    files: int
    bytes: int
    size: str
    seconds: float

class ExportSummary(TypedDict):
    rows: int
    messages: int
    predictions: int
    message_bytes: int
    output_bytes: int
    path: Optional[str]
    seconds: float

class VerifySummary(TypedDict):
    ok: bool
    messages: int
    predictions: int
    dataset_rows: int
    problems: int
    first_problems: list[str]

def generate(
    rows: int,
    *,
    classes: int = 30,
    seed: int = 42,
    distribution: Distribution = "uniform",
    alpha: Optional[float] = None,
    null_rate: float = 0.0,
    nan_rate: float = 0.0,
    class_type: ClassType = "float64",
) -> pyarrow.Table:
    """A prediction table made in memory on every core: ``id_client`` (UUID
    text) and ``class_0 .. class_{classes-1}``, the rows ``predbench generate``
    writes with the same arguments, value for value.

    Raises ``ValueError`` naming the argument that is out of range."""

def batches(
    rows: int,
    *,
    batch_rows: int = 65536,
    classes: int = 30,
    seed: int = 42,
    distribution: Distribution = "uniform",
    alpha: Optional[float] = None,
    null_rate: float = 0.0,
    nan_rate: float = 0.0,
    class_type: ClassType = "float64",
) -> pyarrow.RecordBatchReader:
    """The table ``generate`` makes, one batch of ``batch_rows`` at a time as
    the reader is read: for tables larger than memory."""

def generate_to(
    path: Path,
    rows: int,
    *,
    classes: int = 30,
    seed: int = 42,
    distribution: Distribution = "uniform",
    alpha: Optional[float] = None,
    null_rate: float = 0.0,
    nan_rate: float = 0.0,
    class_type: ClassType = "float64",
    compression: Compression = "snappy",
    file_rows: int = 2_000_000,
    threads: Optional[int] = None,
    force: bool = False,
) -> GenerateSummary:
    """Writes the dataset directory as ``predbench generate`` does (Parquet
    parts and ``_manifest.json``, appearing only when complete).

    Raises ``FileExistsError`` when ``path`` exists and ``force`` is false."""

def export(
    input: Path,
    sink: str,
    *,
    strategy: Literal["rayon", "single-thread", "window-sort"] = "rayon",
    grouping: Grouping = "modulo",
    group_size: int = 10,
    max_message_bytes: Optional[int] = None,
    nulls: Literal["omit", "explicit"] = "omit",
    non_finite: NonFinite = "string",
    number_format: Literal["shortest", "java"] = "shortest",
    compression: Compression = "lz4",
    confirm_window: int = 1024,
    threads: Optional[int] = None,
    force: bool = False,
) -> ExportSummary:
    """Turns the prediction table at ``input`` (a Parquet file or directory)
    into JSON messages of ``group_size`` predictions sent to ``sink``:
    ``"null"``, ``"parquet:PATH"``, ``"ndjson:PATH"`` or a RabbitMQ queue
    ``"amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME"``.

    Raises ``FileNotFoundError`` for a missing input, ``OSError`` for a file
    that is not Parquet, ``FileExistsError`` for an output in the way without
    ``force``, ``ConnectionError`` for a broker that does not answer."""

def verify(
    input: Path,
    messages: Path,
    *,
    grouping: Grouping = "modulo",
    group_size: int = 10,
    any_grouping: bool = False,
    any_message_order: bool = False,
    id_column: str = "id_client",
    non_finite: NonFinite = "string",
    max_message_bytes: Optional[int] = None,
    max_problems: int = 10,
    threads: Optional[int] = None,
) -> VerifySummary:
    """Proves the export at ``messages`` complete and correct against the
    table at ``input``: ``ok`` says whether it is, ``first_problems`` what
    is wrong."""

def run(argv: list[str]) -> int:
    """The ``predbench`` command: runs ``argv`` (program first) as the binary does and answers its exit code."""
