//! The generation logic itself, free of Arrow and Parquet: fills plain column
//! buffers with the rows of any range, block by block, from seeded RNG streams.

use std::ops::Range;

use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution as _, Gamma};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::config::{Distribution, GeneratorConfig, RNG_BLOCK_ROWS};

/// Length of a hyphenated UUID in bytes.
pub const UUID_TEXT_LEN: usize = 36;

/// Column-major buffers for a range of rows, reused from batch to batch.
#[derive(Debug, Default)]
pub struct RowBuffers {
    /// `id_client` values: 36 ASCII bytes per row, back to back.
    pub ids: Vec<u8>,
    /// One vector of values per class column.
    pub classes: Vec<Vec<f64>>,
    /// Per class column, `true` where the value is present. Empty when the
    /// configuration has no nulls.
    pub valid: Vec<Vec<bool>>,
}

impl RowBuffers {
    /// Number of rows held.
    pub fn len(&self) -> usize {
        self.ids.len() / UUID_TEXT_LEN
    }

    /// True when no row is held.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The RNG of one block, seeded from `(seed, block index)` alone.
fn block_rng(seed: u64, block: u64) -> Xoshiro256PlusPlus {
    // Mix both words so that neighbouring seeds and blocks give unrelated streams;
    // seed_from_u64 then expands the word with SplitMix64.
    let mixed = splitmix64(seed ^ splitmix64(block.wrapping_add(0x5EED)));
    Xoshiro256PlusPlus::seed_from_u64(mixed)
}

fn splitmix64(mut state: u64) -> u64 {
    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Draws rows for one configuration; holds the distribution objects so the
/// hot loop allocates nothing.
pub struct RowGenerator {
    config: GeneratorConfig,
    gamma: Option<Gamma<f64>>,
    draw_missing: bool,
}

impl RowGenerator {
    /// Prepares a generator; the configuration must already be validated.
    pub fn new(config: &GeneratorConfig) -> Self {
        let gamma = match config.distribution {
            Distribution::Uniform => None,
            Distribution::Dirichlet { alpha } => {
                Some(Gamma::new(alpha, 1.0).expect("alpha validated as finite and positive"))
            }
        };
        RowGenerator {
            draw_missing: config.null_rate > 0.0 || config.nan_rate > 0.0,
            config: config.clone(),
            gamma,
        }
    }

    /// Replaces the contents of `buffers` with the rows of `range`.
    ///
    /// The rows are the same whatever range they are asked for in: each RNG
    /// block is replayed from its start, and rows before `range.start` are
    /// drawn and dropped (at most one block's worth per call).
    pub fn fill(&self, range: Range<u64>, buffers: &mut RowBuffers) {
        let rows = (range.end - range.start) as usize;
        let classes = self.config.classes;
        buffers.ids.clear();
        buffers.ids.reserve(rows * UUID_TEXT_LEN);
        buffers.classes.resize_with(classes, Vec::new);
        for column in &mut buffers.classes {
            column.clear();
            column.reserve(rows);
        }
        let with_nulls = self.config.null_rate > 0.0;
        buffers
            .valid
            .resize_with(if with_nulls { classes } else { 0 }, Vec::new);
        for column in &mut buffers.valid {
            column.clear();
            column.reserve(rows);
        }

        let mut row_values = vec![0.0f64; classes];
        let mut row_valid = vec![true; classes];
        let mut id_text = [0u8; UUID_TEXT_LEN];
        let first_block = range.start / RNG_BLOCK_ROWS;
        let last_block = (range.end - 1) / RNG_BLOCK_ROWS;
        for block in first_block..=last_block {
            let mut rng = block_rng(self.config.seed, block);
            let block_start = block * RNG_BLOCK_ROWS;
            let from = range.start.max(block_start);
            let to = range.end.min(block_start + RNG_BLOCK_ROWS);
            for row in block_start..to {
                self.draw_row(&mut rng, &mut id_text, &mut row_values, &mut row_valid);
                if row < from {
                    continue;
                }
                buffers.ids.extend_from_slice(&id_text);
                for (column, value) in buffers.classes.iter_mut().zip(&row_values) {
                    column.push(*value);
                }
                for (column, valid) in buffers.valid.iter_mut().zip(&row_valid) {
                    column.push(*valid);
                }
            }
        }
    }

    fn draw_row(
        &self,
        rng: &mut Xoshiro256PlusPlus,
        id_text: &mut [u8; UUID_TEXT_LEN],
        values: &mut [f64],
        valid: &mut [bool],
    ) {
        let random_bits = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        uuid::Builder::from_random_bytes(random_bits.to_be_bytes())
            .into_uuid()
            .hyphenated()
            .encode_lower(id_text);

        match &self.gamma {
            None => {
                for value in values.iter_mut() {
                    *value = rng.random::<f64>();
                }
            }
            Some(gamma) => {
                let mut sum = 0.0;
                for value in values.iter_mut() {
                    *value = gamma.sample(rng);
                    sum += *value;
                }
                if sum > 0.0 {
                    for value in values.iter_mut() {
                        *value /= sum;
                    }
                } else {
                    // Every gamma draw underflowed (possible only for a tiny
                    // alpha): the Dirichlet's limit puts all mass on one class.
                    values.fill(0.0);
                    values[rng.random_range(0..values.len())] = 1.0;
                }
            }
        }

        if self.draw_missing {
            let null_rate = self.config.null_rate;
            let missing_rate = null_rate + self.config.nan_rate;
            for (value, is_valid) in values.iter_mut().zip(valid.iter_mut()) {
                let draw = rng.random::<f64>();
                *is_valid = draw >= null_rate;
                if !*is_valid {
                    *value = 0.0;
                } else if draw < missing_rate {
                    *value = f64::NAN;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(config: &GeneratorConfig, range: Range<u64>) -> RowBuffers {
        let mut buffers = RowBuffers::default();
        RowGenerator::new(config).fill(range, &mut buffers);
        buffers
    }

    #[test]
    fn any_range_gives_the_same_rows() {
        let config = GeneratorConfig::new(20_000);
        let whole = rows_of(&config, 0..20_000);
        let middle = rows_of(&config, 4000..9000);
        assert_eq!(&whole.ids[4000 * 36..9000 * 36], &middle.ids[..]);
        assert_eq!(&whole.classes[7][4000..9000], &middle.classes[7][..]);
    }

    #[test]
    fn ids_are_lowercase_uuid_v4() {
        let config = GeneratorConfig::new(1000);
        let buffers = rows_of(&config, 0..1000);
        for id in buffers.ids.chunks(36) {
            let text = std::str::from_utf8(id).unwrap();
            let parsed = uuid::Uuid::try_parse(text).unwrap();
            assert_eq!(parsed.get_version_num(), 4);
            assert_eq!(text, text.to_lowercase());
        }
    }

    #[test]
    fn different_seeds_and_blocks_differ() {
        let config = GeneratorConfig::new(10_000);
        let other_seed = GeneratorConfig {
            seed: 7,
            ..config.clone()
        };
        let a = rows_of(&config, 0..10_000);
        let b = rows_of(&other_seed, 0..10_000);
        assert_ne!(a.classes[0], b.classes[0]);
        // The seed's bug: blocks repeating each other's numbers.
        let block = RNG_BLOCK_ROWS as usize;
        assert_ne!(a.classes[0][..block], a.classes[0][block..2 * block]);
    }
}
