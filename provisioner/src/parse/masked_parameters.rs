//! Rich parameters whose values are secret: `data "coder_parameter"` blocks that ask the UI to
//! mask their input (`styling = jsonencode({ mask_input = true })`, upstream's password-style
//! parameter). The request carries no sensitivity for rich parameter values, and the
//! provider's `value` attribute is not sensitive, so Terraform prints these values freely; the
//! session hides them in logs by name.
//!
//! Read from the source, without evaluation: a block counts when its `name` is a literal and
//! the source text of its `styling` sets `mask_input` to `true` (an HCL object in
//! `jsonencode`, a JSON string, a heredoc). Text that merely looks like that setting (inside
//! another string) counts too: hiding a value that was not secret costs little. Every `.tf` / `.tf.json` file of the directory
//! and of its subdirectories (local and downloaded modules) is read, within bounds, so a
//! hostile archive stays cheap.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use hcl::edit::expr::Expression;
use hcl::edit::Span;
use regex::Regex;

use super::files::{read_dir, SourceFile, SourceKind};
use super::syntax::parse_native;

const PARAMETER: &str = "coder_parameter";
/// Bounds on the walk below the template directory.
const MAX_DEPTH: usize = 12;
const MAX_DIRS: usize = 2_000;

fn mask_input_on() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // `mask_input = true`, `"mask_input": true`, `\"mask_input\": true` (inside a string).
        Regex::new(r#"mask_input[\\"']{0,3}\s*[:=]\s*true\b"#).expect("a constant pattern")
    })
}

/// Names of the masked rich parameters declared in `dir` and below.
pub fn masked_parameter_names(dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut pending = vec![(dir.to_path_buf(), 0usize)];
    let mut visited = 0;
    while let Some((current, depth)) = pending.pop() {
        visited += 1;
        if visited > MAX_DIRS {
            tracing::warn!(
                dir = %dir.display(),
                "stopped looking for masked parameters after {MAX_DIRS} directories"
            );
            break;
        }
        let (files, _, _) = read_dir(&current);
        collect(&files, &mut names);
        if depth >= MAX_DEPTH {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            // DirEntry::file_type does not follow symbolic links.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let name = entry.file_name();
                // Provider packages hold no configuration.
                if name == "providers" || name == "plugins" {
                    continue;
                }
                pending.push((entry.path(), depth + 1));
            }
        }
    }
    names
}

fn collect(files: &[SourceFile], names: &mut BTreeSet<String>) {
    for file in files {
        match file.kind {
            SourceKind::Native => native(file, names),
            SourceKind::Json => json(file, names),
        }
    }
}

fn native(file: &SourceFile, names: &mut BTreeSet<String>) {
    // Files that do not parse are Terraform's to report.
    let Ok(parsed) = parse_native(&file.name, &file.bytes) else {
        return;
    };
    let blocks = parsed.body.blocks().filter(|b| {
        b.ident.as_str() == "data"
            && b.labels.len() == 2
            && b.labels.first().is_some_and(|l| l.as_str() == PARAMETER)
    });
    for block in blocks {
        let Some(styling) = block.body.get_attribute("styling") else {
            continue;
        };
        let source = styling
            .value
            .span()
            .and_then(|span| parsed.src.get(span))
            .unwrap_or_default();
        if !mask_input_on().is_match(source) {
            continue;
        }
        match block.body.get_attribute("name").map(|a| &a.value) {
            Some(Expression::String(name)) => {
                names.insert(name.value().to_string());
            }
            _ => tracing::warn!(
                file = %file.name,
                "a masked coder_parameter has no literal name; its value cannot be hidden in logs"
            ),
        }
    }
}

/// `{"data": {"coder_parameter": {"<label>": {"name": ..., "styling": ...}}}}`, where each
/// level may also be an array of such objects (HCL's JSON syntax).
fn json(file: &SourceFile, names: &mut BTreeSet<String>) {
    let Ok(root) = serde_json::from_slice::<serde_json::Value>(&file.bytes) else {
        return;
    };
    fn objects(value: &serde_json::Value) -> Vec<&serde_json::Map<String, serde_json::Value>> {
        match value {
            serde_json::Value::Object(o) => vec![o],
            serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_object()).collect(),
            _ => Vec::new(),
        }
    }
    for data in objects(&root).into_iter().filter_map(|o| o.get("data")) {
        for by_type in objects(data) {
            let Some(parameters) = by_type.get(PARAMETER) else {
                continue;
            };
            for by_label in objects(parameters) {
                for body in by_label.values().flat_map(objects) {
                    let styling = match body.get("styling") {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None => continue,
                    };
                    if !mask_input_on().is_match(&styling) {
                        continue;
                    }
                    if let Some(name) = body.get("name").and_then(|n| n.as_str()) {
                        // A JSON string is an HCL template; only a plain one is a literal.
                        if !name.contains("${") {
                            names.insert(name.to_string());
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(files: &[(&str, &str)]) -> Vec<String> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(path, text).expect("write");
        }
        masked_parameter_names(dir.path()).into_iter().collect()
    }

    #[test]
    fn masked_parameters_in_every_spelling() {
        let main = r#"
data "coder_parameter" "a" {
  name    = "password"
  styling = jsonencode({ mask_input = true })
}
data "coder_parameter" "b" {
  name    = "json-string"
  styling = "{\"mask_input\": true, \"placeholder\": \"x\"}"
}
data "coder_parameter" "c" {
  name    = "heredoc"
  styling = <<-EOT
    {"label": "Key", "mask_input": true}
  EOT
}
data "coder_parameter" "d" {
  name    = "quoted-key"
  styling = jsonencode({ "mask_input" = true })
}
data "coder_parameter" "plain" {
  name    = "region"
  styling = jsonencode({ mask_input = false, placeholder = "eu" })
}
data "coder_parameter" "unstyled" {
  name = "cpu"
}
resource "coder_parameter" "not_data" {
  name    = "not-a-data-source"
  styling = jsonencode({ mask_input = true })
}
"#;
        let json = r#"{"data": [{"coder_parameter": {"e": {"name": "from-json", "styling": "{\"mask_input\":true}"}}},
                      {"coder_parameter": {"f": [{"name": "json-object", "styling": {"mask_input": true}}]}}]}"#;
        let module = "data \"coder_parameter\" \"m\" {\n  name = \"in-module\"\n  styling = jsonencode({mask_input = true})\n}\n";
        assert_eq!(
            names_in(&[
                ("main.tf", main),
                ("params.tf.json", json),
                (".terraform/modules/db/main.tf", module),
                ("README.md", "mask_input = true"),
            ]),
            vec![
                "from-json",
                "heredoc",
                "in-module",
                "json-object",
                "json-string",
                "password",
                "quoted-key"
            ]
        );
    }

    #[test]
    fn broken_files_and_computed_names_are_skipped() {
        let src = r#"
data "coder_parameter" "a" {
  name    = "p-${var.x}"
  styling = jsonencode({ mask_input = true })
}
"#;
        assert!(names_in(&[("main.tf", src), ("broken.tf", "data \"x\" {")]).is_empty());
    }
}
