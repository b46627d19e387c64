//! What the provisioner-side fuzz targets check, shared by the libFuzzer binaries in
//! `fuzz/fuzz_targets/` and by `provisioner/tests/fuzz_regressions.rs`, which replays the kept
//! reproducers and seeds on stable Rust. Every function takes raw fuzzer bytes and panics only
//! when the code under test misbehaves.
//!
//! Invariants:
//! - parsing a template, a DOT graph or plan/state JSON never panics and is deterministic
//!   (apart from the random ids apps without one get at plan time, as upstream does);
//! - extracting a template archive never panics, writes nothing outside the destination,
//!   and on success leaves only directories and the regular files it reports, none larger
//!   than the size limit.

use std::fs;
use std::path::{Path, PathBuf};

use coder_provisioner::convert::{self, dot, TfPlan, TfState};
use coder_provisioner::parse;
use coder_provisioner::terraform::{extract_archive, MAX_FILE_SIZE};

/// File names a template's files get, in the order the `\0`-separated parts of the input
/// use them: root-module HCL and JSON, a README, and a file in a subdirectory (ignored).
const TEMPLATE_FILE_NAMES: &[&str] = &[
    "main.tf",
    "variables.tf",
    "params.tf.json",
    "README.md",
    "modules/m/main.tf",
    "z.tf",
];

/// The input is split at `\0` bytes (which HCL never contains) into the template's files.
pub fn hcl_variables(data: &[u8]) {
    let files: Vec<(String, Vec<u8>)> = data
        .split(|&b| b == 0)
        .zip(TEMPLATE_FILE_NAMES)
        .map(|(bytes, name)| (name.to_string(), bytes.to_vec()))
        .collect();
    let first = parse::parse_template_files(&files);
    let second = parse::parse_template_files(&files);
    assert_eq!(first, second, "parsing the same template twice differed");
    if let Err(e) = &first {
        // Rendering the error is part of answering the request.
        let _ = e.to_string();
    }
}

pub fn dot(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let first = dot::parse(&text);
    let second = dot::parse(&text);
    assert_eq!(first, second, "parsing the same graph twice differed");
    if let Err(e) = first {
        assert!(e.line >= 1, "error positions are 1-based: {e}");
    }
}

/// `<'p' or 's'><plan or state JSON>\0<DOT>`: the first byte says which document the JSON is.
pub fn plan_state_json(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let (json, graph) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let graph = String::from_utf8_lossy(graph);
    let modules = if kind.is_multiple_of(2) {
        match serde_json::from_slice::<TfPlan>(json) {
            Ok(plan) => plan.modules_for_conversion(),
            Err(_) => return,
        }
    } else {
        match serde_json::from_slice::<TfState>(json) {
            Ok(state) => state.modules_for_conversion(),
            Err(_) => return,
        }
    };
    let first = convert::convert_state(&modules, &graph).map(without_app_ids);
    let second = convert::convert_state(&modules, &graph).map(without_app_ids);
    assert_eq!(first, second, "converting the same input twice differed");
    if let Err(e) = first {
        let _ = e.to_string();
    }
}

/// App ids blanked: an app without an id (plan time) gets a random one, as upstream does, so
/// they are the one part of a conversion that may differ between runs.
fn without_app_ids(mut state: convert::ConvertedState) -> convert::ConvertedState {
    for resource in &mut state.resources {
        for agent in &mut resource.agents {
            for app in &mut agent.apps {
                app.id.clear();
            }
        }
    }
    state
}

/// Extracts the input as a tar archive into `<tmp>/dest` and checks what landed.
pub fn tar_extract(data: &[u8]) {
    let root = match tempfile::tempdir() {
        Ok(root) => root,
        Err(e) => panic!("cannot create a temp dir: {e}"),
    };
    let dest = root.path().join("dest");
    if let Err(e) = fs::create_dir(&dest) {
        panic!("cannot create {}: {e}", dest.display());
    }
    let result = extract_archive(data, &dest);

    let outside: Vec<PathBuf> = list(root.path())
        .into_iter()
        .filter(|p| p != &dest)
        .collect();
    assert!(
        outside.is_empty(),
        "written outside the destination: {outside:?}"
    );

    let Ok(written) = result else {
        return;
    };
    for relative in &written {
        assert!(
            relative.is_relative()
                && relative
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))),
            "reported path {relative:?} is not a plain relative path"
        );
    }
    for path in walk(&dest) {
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) => panic!("cannot stat {}: {e}", path.display()),
        };
        let file_type = meta.file_type();
        assert!(
            file_type.is_dir() || file_type.is_file(),
            "{} is neither a file nor a directory",
            path.display()
        );
        if file_type.is_file() {
            assert!(
                meta.len() <= MAX_FILE_SIZE,
                "{} is too large",
                path.display()
            );
            let relative = path.strip_prefix(&dest).unwrap_or(&path);
            assert!(
                written.iter().any(|w| w == relative),
                "{} was written but not reported",
                relative.display()
            );
        }
    }
}

fn list(dir: &Path) -> Vec<PathBuf> {
    match fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => panic!("cannot list {}: {e}", dir.display()),
    }
}

/// Everything below `dir`, without following links.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for path in list(&current) {
            if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                pending.push(path.clone());
            }
            out.push(path);
        }
    }
    out
}
