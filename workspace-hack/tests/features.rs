//! The wheel's build resolves the same dependency features as the workspace's
//! test build: read from `cargo tree` for both selections.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each package's features in the build that `selection` makes (`--workspace`
/// with dev-dependencies, or one package without them), from `cargo tree`.
fn features(selection: &[&str], edges: &str) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--offline", "--prefix", "none", "-e", edges])
        .args(selection)
        .output()
        .expect("cargo tree runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo tree {selection:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut features: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in stdout.lines() {
        if let Some((package, rest)) = line.split_once(" feature \"") {
            let feature = rest.split('"').next().unwrap_or_default();
            features
                .entry(package.to_string())
                .or_default()
                .insert(feature.to_string());
        }
    }
    features
}

#[test]
fn the_wheel_resolves_the_features_the_workspace_tests_resolve() {
    let workspace = features(&["--workspace"], "features,normal,build,dev");
    let wheel = features(&["-p", "predbench-python"], "features,normal,build");
    assert!(
        wheel.len() > 50,
        "the wheel's dependencies were read: {wheel:?}"
    );
    let missing: Vec<String> = wheel
        .iter()
        .filter_map(|(package, enabled)| {
            let resolved = workspace.get(package).cloned().unwrap_or_default();
            let more: Vec<&String> = resolved.difference(enabled).collect();
            (!more.is_empty()).then(|| format!("{package}: {more:?}"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "the wheel's build lacks features the workspace's tests turn on, so it \
         would recompile everything above them; add them to \
         workspace-hack/Cargo.toml:\n{}",
        missing.join("\n")
    );
}
