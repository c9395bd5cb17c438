//! No code: this crate exists for its `Cargo.toml`, which turns on the
//! dependency features that `cargo test --workspace` resolves, so that the
//! Python wheel's build (which selects `python/` alone) resolves the same ones
//! and reuses the tests' compiled artifacts instead of rebuilding them.
