//! Reads the dataset in message order, a chunk of whole groups at a time, in
//! bounded memory: one cursor for `contiguous`, and for `modulo` one cursor per
//! member position, all advancing in lockstep (a group's members sit G rows
//! apart, so the j-th members of consecutive groups are consecutive rows).

use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;

use crate::dataset::{Dataset, DecodeAheadCursor, RowCursor};
use crate::error::{ExportError, Result};
use crate::grouping::{GroupLayout, Grouping};
use crate::message::MessageChunk;

/// Yields [`MessageChunk`]s of at most `groups_per_chunk` groups, in group order.
pub struct ChunkReader<'a> {
    layout: GroupLayout,
    groups: Range<u64>,
    groups_per_chunk: u64,
    /// One cursor (contiguous) or one per member position (modulo).
    cursors: Vec<Cursor<'a>>,
}

/// Groups per chunk so that a chunk holds about `chunk_rows` rows.
pub fn groups_per_chunk(layout: &GroupLayout, chunk_rows: u64) -> u64 {
    (chunk_rows / layout.group_size.max(1)).max(1)
}

impl<'a> ChunkReader<'a> {
    /// A reader over every non-empty group of `layout`, decoding on the thread that reads.
    pub fn new(dataset: &'a Dataset, layout: GroupLayout, chunk_rows: u64) -> Self {
        Self::for_groups(
            dataset,
            layout,
            chunk_rows,
            layout.non_empty_groups(),
            false,
        )
    }

    /// A reader over the groups `groups` of `layout` only (a shard's share):
    /// the cursors start where the first of them sits and read nothing else.
    /// With `decode_ahead` every cursor decodes on a thread of its own (see
    /// [`DecodeAheadCursor`]); otherwise the thread that reads decodes.
    pub fn for_groups(
        dataset: &'a Dataset,
        layout: GroupLayout,
        chunk_rows: u64,
        groups: Range<u64>,
        decode_ahead: bool,
    ) -> Self {
        let groups_per_chunk = groups_per_chunk(&layout, chunk_rows);
        let decode_rows = groups_per_chunk.clamp(1024, 65_536) as usize;
        // Decoders run up to two chunks ahead of the reader.
        let rows_per_take = match layout.grouping {
            Grouping::Contiguous | Grouping::Packed => groups_per_chunk * layout.group_size,
            Grouping::Modulo => groups_per_chunk,
        };
        let depth = 2 * rows_per_take.div_ceil(decode_rows as u64) as usize + 1;
        let shared = decode_ahead.then(|| Arc::new(dataset.clone()));
        let start = |rows| match &shared {
            Some(shared) => {
                Cursor::Ahead(DecodeAheadCursor::start(shared, rows, decode_rows, depth))
            }
            None => Cursor::Inline(dataset.cursor(rows, decode_rows)),
        };
        let cursors = match layout.grouping {
            Grouping::Contiguous | Grouping::Packed => {
                vec![start(layout.contiguous_rows(&groups))]
            }
            Grouping::Modulo => (0..layout.member_slices())
                .map(|member| start(layout.member_slice(member, &groups)))
                .collect(),
        };
        ChunkReader {
            layout,
            groups,
            groups_per_chunk,
            cursors,
        }
    }

    fn read_chunk(&mut self, groups: Range<u64>) -> Result<MessageChunk> {
        let layout = self.layout;
        match layout.grouping {
            Grouping::Contiguous | Grouping::Packed => {
                let rows = layout.contiguous_rows(&groups);
                let batch = self.cursors[0].take((rows.end - rows.start) as usize)?;
                let count = batch.num_rows() as u32;
                let group_size = layout.group_size as u32;
                let ends = (1..=groups.end - groups.start)
                    .map(|index| (index as u32 * group_size).min(count))
                    .collect();
                Ok(MessageChunk {
                    batch,
                    sequential_ids: rows.collect(),
                    order: (0..count).collect(),
                    ends,
                })
            }
            Grouping::Modulo => {
                let mut slices = Vec::with_capacity(self.cursors.len());
                let mut sequential_ids = Vec::new();
                for (member, cursor) in self.cursors.iter_mut().enumerate() {
                    let rows = layout.member_slice(member as u64, &groups);
                    slices.push(cursor.take((rows.end - rows.start) as usize)?);
                    sequential_ids.extend(rows);
                }
                let batch = concat(&slices)?;
                // Member j of the i-th group of the chunk is row i of slice j.
                let mut slice_starts = Vec::with_capacity(slices.len());
                let mut offset = 0u32;
                for slice in &slices {
                    slice_starts.push((offset, slice.num_rows() as u32));
                    offset += slice.num_rows() as u32;
                }
                let mut order = Vec::with_capacity(batch.num_rows());
                let mut ends = Vec::with_capacity((groups.end - groups.start) as usize);
                for index in 0..(groups.end - groups.start) as u32 {
                    for &(start, length) in &slice_starts {
                        if index < length {
                            order.push(start + index);
                        }
                    }
                    ends.push(order.len() as u32);
                }
                Ok(MessageChunk {
                    batch,
                    sequential_ids,
                    order,
                    ends,
                })
            }
        }
    }
}

/// A cursor that decodes where it is read, or ahead on a thread of its own.
enum Cursor<'a> {
    Inline(RowCursor<'a>),
    Ahead(DecodeAheadCursor),
}

impl Cursor<'_> {
    fn take(&mut self, count: usize) -> Result<RecordBatch> {
        match self {
            Cursor::Inline(cursor) => cursor.take(count),
            Cursor::Ahead(cursor) => cursor.take(count),
        }
    }
}

fn concat(slices: &[RecordBatch]) -> Result<RecordBatch> {
    let schema = slices[0].schema();
    arrow_select::concat::concat_batches(&schema, slices).map_err(|cause| ExportError::Arrow {
        context: "cannot join the member slices of a chunk".to_string(),
        cause,
    })
}

impl Iterator for ChunkReader<'_> {
    type Item = Result<MessageChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.groups.start >= self.groups.end {
            return None;
        }
        let end = (self.groups.start + self.groups_per_chunk).min(self.groups.end);
        let groups = self.groups.start..end;
        self.groups.start = end;
        let chunk = self.read_chunk(groups);
        if chunk.is_err() {
            // Stop after an error: the cursors' positions are no longer trustworthy.
            self.groups.start = self.groups.end;
        }
        Some(chunk)
    }
}
