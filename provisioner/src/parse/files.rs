//! Which files of a template directory make up its root module, in which order, and its README.
//!
//! Upstream loads the module with `terraform-config-inspect`, whose rules we follow: only
//! regular files directly in the directory; names ending in `.tf` or `.tf.json`; names starting
//! with `.`, ending with `~`, or starting and ending with `#` (editor leftovers) skipped; files
//! in name order, except that override files (`override.tf`, `*_override.tf`, and the same
//! with `.tf.json`) come after all the others.

use std::fs;
use std::io;
use std::path::Path;

use super::diagnostics::Diagnostic;

/// Upstream reads the README from the template root under exactly this name.
pub const README_FILE: &str = "README.md";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// HCL native syntax (`.tf`).
    Native,
    /// HCL JSON syntax (`.tf.json`).
    Json,
}

/// A configuration file's name (relative to the template root) and its bytes.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub kind: SourceKind,
    pub bytes: Vec<u8>,
}

/// The kind of a configuration file by name, or `None` if the module loader ignores it.
pub fn source_kind(name: &str) -> Option<SourceKind> {
    let is_editor_leftover = name.starts_with('.')
        || name.ends_with('~')
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'));
    if is_editor_leftover {
        return None;
    }
    if name.ends_with(".tf.json") {
        Some(SourceKind::Json)
    } else if name.ends_with(".tf") {
        Some(SourceKind::Native)
    } else {
        None
    }
}

fn is_override(name: &str) -> bool {
    let stem = name
        .strip_suffix(".tf.json")
        .or_else(|| name.strip_suffix(".tf"))
        .unwrap_or(name);
    stem == "override" || stem.ends_with("_override")
}

/// Orders configuration file names: primary files by name, then override files by name.
fn order(files: &mut [SourceFile]) {
    files.sort_by(|a, b| {
        (is_override(&a.name), a.name.as_bytes()).cmp(&(is_override(&b.name), b.name.as_bytes()))
    });
}

/// The module's configuration files and the README of a directory on disk. Problems reading
/// the directory or a file are diagnostics, worded as the upstream loader words them.
pub fn read_dir(dir: &Path) -> (Vec<SourceFile>, Vec<u8>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(_) => {
            diagnostics.push(Diagnostic::error(
                "Failed to read module directory",
                format!(
                    "Module directory {} does not exist or cannot be read.",
                    dir.display()
                ),
            ));
            return (Vec::new(), Vec::new(), diagnostics);
        }
    };

    let mut files = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let Ok(name) = entry.file_name().into_string() else {
            // A name that is not UTF-8 cannot end in `.tf` as the loader compares it.
            continue;
        };
        let Some(kind) = source_kind(&name) else {
            continue;
        };
        // Directories are skipped; anything else the loader tries to read.
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        match fs::read(entry.path()) {
            Ok(bytes) => files.push(SourceFile { name, kind, bytes }),
            Err(err) if err.kind() == io::ErrorKind::IsADirectory => {}
            Err(_) => diagnostics.push(unreadable_file(&name)),
        }
    }
    order(&mut files);

    // Upstream treats a missing or unreadable README as no README.
    let readme = fs::read(dir.join(README_FILE)).unwrap_or_default();
    (files, readme, diagnostics)
}

fn unreadable_file(name: &str) -> Diagnostic {
    Diagnostic::error(
        "Failed to read file",
        format!("The configuration file \"{name}\" could not be read."),
    )
}

/// The module's configuration files and README from an in-memory list of `(name, bytes)`;
/// names with a `/` are in subdirectories and not part of the root module.
pub fn from_memory(entries: &[(String, Vec<u8>)]) -> (Vec<SourceFile>, Vec<u8>) {
    let mut files: Vec<SourceFile> = entries
        .iter()
        .filter(|(name, _)| !name.contains('/'))
        .filter_map(|(name, bytes)| {
            source_kind(name).map(|kind| SourceFile {
                name: name.clone(),
                kind,
                bytes: bytes.clone(),
            })
        })
        .collect();
    order(&mut files);
    let readme = entries
        .iter()
        .find(|(name, _)| name == README_FILE)
        .map(|(_, bytes)| bytes.clone())
        .unwrap_or_default();
    (files, readme)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(entries: &[&str]) -> Vec<String> {
        let entries: Vec<(String, Vec<u8>)> = entries
            .iter()
            .map(|n| (n.to_string(), Vec::new()))
            .collect();
        from_memory(&entries)
            .0
            .into_iter()
            .map(|f| f.name)
            .collect()
    }

    #[test]
    fn only_tf_and_tf_json_in_the_root_count() {
        assert_eq!(
            names(&[
                "main.tf",
                "vars.tf.json",
                "notes.txt",
                "modules/x.tf",
                "tf",
                "a.json"
            ]),
            vec!["main.tf", "vars.tf.json"]
        );
    }

    #[test]
    fn editor_leftovers_are_ignored() {
        assert_eq!(
            names(&[".hidden.tf", "main.tf~", "#main.tf#", "main.tf"]),
            vec!["main.tf"]
        );
    }

    #[test]
    fn override_files_come_after_the_others_each_group_by_name() {
        assert_eq!(
            names(&["z.tf", "override.tf", "a_override.tf", "b.tf.json", "a.tf"]),
            vec!["a.tf", "b.tf.json", "z.tf", "a_override.tf", "override.tf"]
        );
    }

    #[test]
    fn names_sort_bytewise_like_go() {
        assert_eq!(
            names(&["b.tf", "B.tf", "a.tf"]),
            vec!["B.tf", "a.tf", "b.tf"]
        );
    }

    #[test]
    fn readme_comes_from_the_root_only() {
        let entries = vec![
            ("docs/README.md".to_string(), b"nested".to_vec()),
            ("README.md".to_string(), b"# hi".to_vec()),
        ];
        assert_eq!(from_memory(&entries).1, b"# hi".to_vec());
    }

    #[test]
    fn unreadable_directory_is_a_diagnostic_without_location() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing");
        let (files, readme, diags) = read_dir(&missing);
        assert!(files.is_empty() && readme.is_empty());
        assert_eq!(diags[0].summary, "Failed to read module directory");
        assert!(diags[0].pos.is_none());
    }

    #[test]
    fn subdirectories_are_skipped_even_with_a_tf_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("nested.tf")).expect("mkdir");
        fs::write(dir.path().join("main.tf"), "").expect("write");
        let (files, _, diags) = read_dir(dir.path());
        assert!(diags.is_empty());
        assert_eq!(files.len(), 1);
    }
}
