//! Replays the provisioner-side fuzz inputs on stable Rust: every minimized reproducer kept in
//! `fuzz/regressions/<target>/` and every seed in `fuzz/seeds/<target>/`, through the same
//! checks the libFuzzer targets run (`fuzz/checks/provisioner.rs`). A reproducer that panics
//! again fails here, so CI covers fixed crashes without nightly or cargo-fuzz.

#[path = "../../fuzz/checks/provisioner.rs"]
mod checks;

use std::fs;
use std::path::{Path, PathBuf};

/// Runs `check` on every file of `fuzz/regressions/<target>` and `fuzz/seeds/<target>`;
/// returns how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let fuzz_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for kind in ["regressions", "seeds"] {
        let Ok(entries) = fs::read_dir(fuzz_dir.join(kind).join(target)) else {
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
fn hcl_variables_inputs_hold() {
    assert!(
        replay("hcl_variables", checks::hcl_variables) > 0,
        "no inputs found"
    );
}

#[test]
fn dot_inputs_hold() {
    assert!(replay("dot", checks::dot) > 0, "no inputs found");
}

#[test]
fn plan_state_json_inputs_hold() {
    // Seeds come from the conformance fixtures at fuzz time; reproducers may not exist yet.
    replay("plan_state_json", checks::plan_state_json);
    checks::plan_state_json(b"p{\"planned_values\":{\"root_module\":{}}}\0digraph {}");
}

#[test]
fn tar_extract_inputs_hold() {
    assert!(
        replay("tar_extract", checks::tar_extract) > 0,
        "no inputs found"
    );
}

/// The fuzz targets run on libFuzzer's 8 MiB main thread; the provisioner parses on tokio
/// worker threads with 2 MiB. Deeply nested input must not overflow that smaller stack.
#[test]
fn deep_nesting_fits_a_worker_thread_stack() {
    let depth = 50_000;
    let hcl_inputs = [
        format!(
            "variable \"x\" {{\n  default = {}1{}\n}}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
        format!(
            "variable \"x\" {{\n  default = {}1{}\n}}\n",
            "(".repeat(depth),
            ")".repeat(depth)
        ),
        format!(
            "variable \"x\" {{\n  default = {}1\n}}\n",
            "-".repeat(depth)
        ),
        format!(
            "variable \"x\" {{\n  default = \"{}\"\n}}\n",
            "${\"".repeat(depth)
        ),
        format!(
            "{{\"variable\": {{\"x\": {{\"default\": {}1{}}}}}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    ];
    let graph = format!(
        "digraph {{ {} a {} }}",
        "subgraph { ".repeat(depth),
        "}".repeat(depth)
    );
    let plan = format!("p{}\0digraph {{}}", "[".repeat(depth));
    let worker = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            for (index, text) in hcl_inputs.iter().enumerate() {
                let name = if index == 4 {
                    "main.tf.json"
                } else {
                    "main.tf"
                };
                let files = vec![(name.to_string(), text.as_bytes().to_vec())];
                let _ = coder_provisioner::parse::parse_template_files(&files);
            }
            checks::dot(graph.as_bytes());
            checks::plan_state_json(plan.as_bytes());
        })
        .expect("spawn a 2 MiB thread");
    assert!(worker.join().is_ok());
}
