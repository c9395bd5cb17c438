//! `single-thread`: read a chunk of whole groups, encode it, write it, repeat.
//! Memory: one chunk of rows plus its messages.

use std::ops::Range;

use crate::chunk::ChunkReader;
use crate::dataset::Dataset;
use crate::error::Result;
use crate::grouping::GroupLayout;
use crate::message::encode_chunk;
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
    let mut rows_done = 0;
    for chunk in ChunkReader::for_groups(
        dataset,
        *layout,
        options.chunk_rows,
        groups,
        options.decodes_ahead(),
    ) {
        let messages = encode_chunk(&chunk?, &options.message)?;
        rows_done += messages.rows;
        let prepared = sink.prepare(messages)?;
        sink.write(prepared)?;
        progress(rows_done);
    }
    sink.finish()
}
