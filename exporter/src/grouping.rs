//! Which message each row goes to: the seed's `modulo` grouping, the
//! shuffle-free `contiguous` one and `packed`, as defined in MISSION.md.
//!
//! `packed` puts as many consecutive rows in a message as fit under a byte
//! budget, so its message boundaries depend on the encoded rows and no layout
//! can say them in advance. Its layout is that of one-row groups read in
//! order (`contiguous` with K = 1); the sink's packing stage
//! ([`crate::payload_budget::PayloadBudget`]) joins them into messages.

use std::ops::Range;

use crate::error::{ExportError, Result};

/// How sequential ids are assigned to groups (messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// The seed's: `G = N / K + 1` groups, row `s` in group `s mod G`; members sit `G` rows apart.
    Modulo,
    /// Row `s` in group `s / K`; members are neighbours.
    Contiguous,
    /// Consecutive rows, as many per message as fit under `--max-message-bytes`.
    /// The layout holds one-row groups (see the module comment).
    Packed,
}

predbench_common::choice! { Grouping:
    Modulo = "modulo", "G = N / K + 1 groups, row s in group s mod G (the seed's).";
    Contiguous = "contiguous", "Row s in group s / K.";
    Packed = "packed", "Consecutive rows, as many per message as fit under the payload limit.";
}

/// The groups of a dataset of `rows` rows with `group_size` predictions per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupLayout {
    /// The grouping rule.
    pub grouping: Grouping,
    /// Number of rows, N.
    pub rows: u64,
    /// Predictions per message, K.
    pub group_size: u64,
    /// Number of groups, G (some may be empty with `modulo` when K = 1 or N < G).
    pub groups: u64,
}

impl GroupLayout {
    /// The layout for `rows` rows; `group_size` must be at least 1 (and is
    /// taken as 1 for `packed`, whose layout groups are single rows).
    pub fn new(grouping: Grouping, rows: u64, group_size: u64) -> Result<Self> {
        if group_size == 0 {
            return Err(ExportError::invalid("group_size", "must be at least 1"));
        }
        let group_size = match grouping {
            Grouping::Packed => 1,
            Grouping::Modulo | Grouping::Contiguous => group_size,
        };
        let groups = match grouping {
            Grouping::Modulo => rows / group_size + 1,
            Grouping::Contiguous | Grouping::Packed => rows.div_ceil(group_size),
        };
        Ok(GroupLayout {
            grouping,
            rows,
            group_size,
            groups,
        })
    }

    /// The group of sequential id `sequential_id`.
    pub fn group_of(&self, sequential_id: u64) -> u64 {
        match self.grouping {
            Grouping::Modulo => sequential_id % self.groups,
            Grouping::Contiguous | Grouping::Packed => sequential_id / self.group_size,
        }
    }

    /// The groups that have members, in message order. Every other group is empty.
    pub fn non_empty_groups(&self) -> Range<u64> {
        match self.grouping {
            // Group g holds g, g + G, ...: it is empty exactly when g >= N.
            Grouping::Modulo => 0..self.groups.min(self.rows),
            Grouping::Contiguous | Grouping::Packed => 0..self.groups,
        }
    }

    /// Number of messages an export produces (for `packed`: of one-row groups,
    /// before packing).
    pub fn message_count(&self) -> u64 {
        let groups = self.non_empty_groups();
        groups.end - groups.start
    }

    /// Sequential ids of the members of `group`, ascending.
    pub fn members(&self, group: u64) -> impl Iterator<Item = u64> + '_ {
        // Modulo: G * K > N, so the stride G never yields more than K members.
        let (first, step) = match self.grouping {
            Grouping::Modulo => (group, self.groups),
            Grouping::Contiguous | Grouping::Packed => (group * self.group_size, 1),
        };
        (0..self.group_size)
            .map(move |index| first + index * step)
            .take_while(move |id| *id < self.rows)
    }

    /// For `modulo`: the rows that member `member` of the groups `groups` occupy,
    /// a contiguous slice of the dataset. Rows past the end are cut off.
    pub fn member_slice(&self, member: u64, groups: &Range<u64>) -> Range<u64> {
        let start = (groups.start + member * self.groups).min(self.rows);
        let end = (groups.end + member * self.groups).min(self.rows);
        start..end
    }

    /// For `modulo`: how many member slices a group can have, `ceil(N / G)`,
    /// at most K because `G * K > N`.
    pub fn member_slices(&self) -> u64 {
        self.rows.div_ceil(self.groups.max(1))
    }

    /// Rows that belong to the groups `groups` (a range of message order).
    pub fn rows_in(&self, groups: &Range<u64>) -> u64 {
        match self.grouping {
            Grouping::Modulo => (0..self.member_slices())
                .map(|member| {
                    let slice = self.member_slice(member, groups);
                    slice.end - slice.start
                })
                .sum(),
            Grouping::Contiguous | Grouping::Packed => {
                let rows = self.contiguous_rows(groups);
                rows.end - rows.start
            }
        }
    }

    /// For `contiguous` and `packed`: the rows of the groups `groups`.
    pub fn contiguous_rows(&self, groups: &Range<u64>) -> Range<u64> {
        (groups.start * self.group_size).min(self.rows)
            ..(groups.end * self.group_size).min(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_partition(layout: &GroupLayout) {
        let mut seen = vec![0u32; layout.rows as usize];
        for group in layout.non_empty_groups() {
            let members: Vec<u64> = layout.members(group).collect();
            assert!(!members.is_empty(), "{layout:?} group {group} empty");
            assert!(members.len() as u64 <= layout.group_size);
            assert!(members.windows(2).all(|pair| pair[0] < pair[1]));
            for id in members {
                assert_eq!(layout.group_of(id), group);
                seen[id as usize] += 1;
            }
        }
        assert!(seen.iter().all(|count| *count == 1), "{layout:?}");
    }

    #[test]
    fn every_row_lands_in_exactly_one_non_empty_group() {
        for rows in [0, 1, 5, 9, 10, 11, 99, 100, 101, 1234] {
            for group_size in [1, 2, 3, 10, 1000] {
                for grouping in [Grouping::Modulo, Grouping::Contiguous, Grouping::Packed] {
                    check_partition(&GroupLayout::new(grouping, rows, group_size).unwrap());
                }
            }
        }
    }

    #[test]
    fn modulo_follows_the_seed() {
        let layout = GroupLayout::new(Grouping::Modulo, 100, 10).unwrap();
        assert_eq!(layout.groups, 11);
        assert_eq!(
            layout.members(3).collect::<Vec<_>>(),
            vec![3, 14, 25, 36, 47, 58, 69, 80, 91]
        );
        assert_eq!(layout.message_count(), 11);
        // With K = 1 the seed's formula makes one group too many: it stays empty.
        let single = GroupLayout::new(Grouping::Modulo, 5, 1).unwrap();
        assert_eq!(single.groups, 6);
        assert_eq!(single.message_count(), 5);
    }

    #[test]
    fn modulo_members_are_never_more_than_k() {
        for rows in [10, 11, 99, 100, 101, 1234, 100_003] {
            let layout = GroupLayout::new(Grouping::Modulo, rows, 10).unwrap();
            for group in layout.non_empty_groups().step_by(97) {
                assert!(layout.members(group).count() <= 10, "{rows} rows");
            }
        }
    }

    #[test]
    fn rows_in_counts_the_members_of_a_range_of_groups() {
        for grouping in [Grouping::Modulo, Grouping::Contiguous, Grouping::Packed] {
            for rows in [0u64, 7, 100, 1234] {
                let layout = GroupLayout::new(grouping, rows, 10).unwrap();
                let all = layout.non_empty_groups();
                assert_eq!(layout.rows_in(&all), rows);
                let middle =
                    all.start + (all.end - all.start) / 3..all.end - (all.end - all.start) / 4;
                let counted: u64 = middle
                    .clone()
                    .map(|g| layout.members(g).count() as u64)
                    .sum();
                assert_eq!(layout.rows_in(&middle), counted, "{grouping:?} {rows}");
            }
        }
    }

    #[test]
    fn zero_group_size_is_refused() {
        let error = GroupLayout::new(Grouping::Modulo, 10, 0).unwrap_err();
        assert!(error.to_string().contains("group_size"));
    }
}
