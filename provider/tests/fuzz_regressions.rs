//! Replays the provider-side fuzz inputs on stable Rust: every minimized reproducer kept in
//! `fuzz/regressions/<target>/` and every seed in `fuzz/seeds/<target>/`, through the same
//! checks the libFuzzer targets run (`fuzz/checks/provider.rs`). A reproducer that panics
//! again fails here, so CI covers fixed crashes without nightly or cargo-fuzz.
//!
//! `cargo test -p terraform-provider-coder --test fuzz_regressions -- --ignored` rewrites the
//! generated seeds (after a schema change, say).

#[path = "../../fuzz/checks/provider.rs"]
mod checks;

use std::fs;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Runs `check` on every file of `fuzz/regressions/<target>` and `fuzz/seeds/<target>`;
/// returns how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let mut count = 0;
    for kind in ["regressions", "seeds"] {
        let dir = fuzz_dir().join(kind).join(target);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            assert!(outcome.is_ok(), "{} panics again", path.display());
            count += 1;
        }
    }
    count
}

#[test]
fn cty_msgpack_inputs_hold() {
    assert!(
        replay("cty_msgpack", checks::cty_msgpack) > 0,
        "no inputs found"
    );
}

#[test]
fn cty_json_inputs_hold() {
    assert!(replay("cty_json", checks::cty_json) > 0, "no inputs found");
}

#[test]
fn dynamic_value_inputs_hold() {
    assert!(
        replay("dynamic_value", checks::dynamic_value) > 0,
        "no inputs found"
    );
}

/// The generated seeds, checked directly (they are what `write_seeds` stores).
#[test]
fn generated_seeds_hold() {
    for (target, input) in checks::seed_inputs() {
        match target {
            "cty_msgpack" => checks::cty_msgpack(&input),
            "cty_json" => checks::cty_json(&input),
            _ => checks::dynamic_value(&input),
        }
    }
}

#[test]
#[ignore = "writes fuzz/seeds; run by hand after schema changes"]
fn write_seeds() {
    for target in ["cty_msgpack", "cty_json", "dynamic_value"] {
        let dir = fuzz_dir().join("seeds").join(target);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the seeds directory");
    }
    for (index, (target, input)) in checks::seed_inputs().into_iter().enumerate() {
        let path = fuzz_dir()
            .join("seeds")
            .join(target)
            .join(format!("generated-{index:03}"));
        fs::write(&path, input).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
