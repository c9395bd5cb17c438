"""predbench for Python: mock ML prediction tables, and their export to JSON
messages with proof that nothing was lost.

    >>> import predbench
    >>> table = predbench.generate(10_000)          # a pyarrow.Table
    >>> table.num_rows, table.column_names[:2]
    (10000, ['id_client', 'class_0'])

The table is made in Rust by the generator behind the ``predbench generate``
command (the same seed gives the same values) and handed to pyarrow through
the Arrow C data interface, without a copy. The wheel also installs the
``predbench`` command itself.
"""

from ._native import __version__, batches, export, generate, generate_to, verify

__all__ = ["__version__", "batches", "export", "generate", "generate_to", "verify"]
