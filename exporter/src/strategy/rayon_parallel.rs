//! `rayon`: the zipWithIndex idea done right. Row-group offsets come from the
//! footers, so every chunk knows its sequential ids before a row is read;
//! chunks are read in order (the cursors need no coordination), encoded to
//! JSON and prepared for the sink on a rayon pool, and written in order.
//! Memory: about `threads + 2` chunks of rows and their messages.

use std::ops::Range;

use predbench_common::pipeline::ordered_parallel_map;

use crate::chunk::ChunkReader;
use crate::dataset::Dataset;
use crate::error::Result;
use crate::grouping::GroupLayout;
use crate::message::{MessageChunk, encode_chunk};
use crate::sink::{MessageSink, SinkSummary};

use super::ExportOptions;

pub(super) fn run<S: MessageSink>(
    dataset: &Dataset,
    layout: &GroupLayout,
    groups: Range<u64>,
    options: &ExportOptions,
    sink: S,
    progress: &mut dyn FnMut(u64),
) -> Result<SinkSummary> {
    let chunks = ChunkReader::for_groups(
        dataset,
        *layout,
        options.chunk_rows,
        groups,
        options.decodes_ahead(),
    );
    encode_in_parallel(chunks, options, &sink, progress)?;
    sink.finish()
}

/// Encodes and prepares `chunks` on `options.threads` workers and writes them
/// to `sink` in order. Shared with window-sort's last stage.
pub(super) fn encode_in_parallel<S: MessageSink>(
    chunks: impl Iterator<Item = Result<MessageChunk>> + Send,
    options: &ExportOptions,
    sink: &S,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let mut rows_done = 0;
    ordered_parallel_map(
        chunks,
        options.threads,
        options.threads + 1,
        |chunk| {
            let messages = encode_chunk(&chunk, &options.message)?;
            let rows = messages.rows;
            Ok((sink.prepare(messages)?, rows))
        },
        |_, (prepared, rows)| {
            sink.write(prepared)?;
            rows_done += rows;
            progress(rows_done);
            Ok(())
        },
    )
}
