//! `data "coder_workspace_tags"` → workspace tags (coder-provisioner.md §2.1).
//!
//! Tags are not evaluated here: coderd evaluates them later against parameter values, so each
//! tag keeps the source text of its value expression (`"developers"` with its quotes,
//! `data.coder_parameter.os.value`, a whole conditional). The key is its source text with
//! surrounding double quotes removed. Only `.tf` files are read, as upstream.

use std::collections::BTreeMap;

use hcl::edit::expr::Expression;
use hcl::edit::Span;

use super::diagnostics::SourcePos;
use super::module::{block_line, Content, LoadedFile};
use super::syntax::line_of;

pub const WORKSPACE_TAGS_DATA_SOURCE: &str = "coder_workspace_tags";

/// Why the workspace tags could not be read. The texts are upstream's; the position that
/// follows in parentheses is ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceTagsError {
    #[error("\"tags\" attribute is required by coder_workspace_tags ({0})")]
    MissingTags(SourcePos),
    #[error("\"tags\" attribute is expected to be a key-value map ({0})")]
    NotAMap(SourcePos),
    #[error("workspace tag \"{key}\" is defined multiple times ({pos})")]
    DuplicateTag { key: String, pos: SourcePos },
}

pub fn collect(files: &[LoadedFile]) -> Result<BTreeMap<String, String>, WorkspaceTagsError> {
    let mut tags = BTreeMap::new();
    for file in files {
        let Content::Native(native) = &file.content else {
            continue;
        };
        let pos = |offset: usize| SourcePos {
            filename: file.name.clone(),
            line: line_of(native.src.as_bytes(), offset),
        };
        let source = |expr_span: Option<std::ops::Range<usize>>| {
            expr_span
                .and_then(|span| native.src.get(span))
                .unwrap_or_default()
                .to_string()
        };
        let data_blocks = native.body.blocks().filter(|b| {
            b.ident.as_str() == "data"
                && b.labels.len() == 2
                && b.labels
                    .first()
                    .is_some_and(|l| l.as_str() == WORKSPACE_TAGS_DATA_SOURCE)
        });
        for block in data_blocks {
            let block_pos = SourcePos {
                filename: file.name.clone(),
                line: block_line(&native.src, block),
            };
            // A `tags { … }` block is not the attribute, exactly as upstream reads it.
            let Some(attribute) = block.body.get_attribute("tags") else {
                return Err(WorkspaceTagsError::MissingTags(block_pos));
            };
            let Expression::Object(object) = &attribute.value else {
                let at = attribute.value.span().map_or(block_pos, |s| pos(s.start));
                return Err(WorkspaceTagsError::NotAMap(at));
            };
            for (key, value) in object.iter() {
                let key_text = source(key.span());
                let key_text = key_text.trim_matches('"').to_string();
                let value_span = value.expr().span();
                let at = value_span
                    .as_ref()
                    .map_or(block_pos.clone(), |s| pos(s.start));
                if tags.contains_key(&key_text) {
                    return Err(WorkspaceTagsError::DuplicateTag {
                        key: key_text,
                        pos: at,
                    });
                }
                tags.insert(key_text, source(value_span));
            }
        }
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::super::module::load_sources;
    use super::*;

    fn tags_of(files: &[(&str, &str)]) -> Result<BTreeMap<String, String>, WorkspaceTagsError> {
        let (loaded, diags) = load_sources(files);
        assert!(diags.is_empty(), "{diags:?}");
        collect(&loaded)
    }

    #[test]
    fn values_keep_their_source_text_and_keys_lose_their_quotes() {
        let src = "data \"coder_workspace_tags\" \"t\" {\n  tags = {\n    \"cluster\" = \"developers\"\n    os = data.coder_parameter.os.value # note\n    (local.k) = 1\n  }\n}\n";
        let tags = tags_of(&[("tags.tf", src)]).expect("tags");
        let expected: BTreeMap<String, String> = [
            ("cluster", "\"developers\""),
            ("os", "data.coder_parameter.os.value"),
            ("(local.k)", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(tags, expected);
    }

    #[test]
    fn tags_written_as_a_block_are_missing() {
        let src = "data \"coder_workspace_tags\" \"t\" {\n  tags {\n    a = \"b\"\n  }\n}\n";
        let err = tags_of(&[("main.tf", src)]).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "\"tags\" attribute is required by coder_workspace_tags (main.tf:1)"
        );
    }

    #[test]
    fn tags_must_be_an_object_constructor() {
        let src = "data \"coder_workspace_tags\" \"t\" {\n  tags = local.tags\n}\n";
        let err = tags_of(&[("main.tf", src)]).expect_err("not a map");
        assert_eq!(
            err.to_string(),
            "\"tags\" attribute is expected to be a key-value map (main.tf:2)"
        );
    }

    #[test]
    fn a_key_defined_twice_across_blocks_is_an_error() {
        let a = "data \"coder_workspace_tags\" \"a\" {\n  tags = { debug = \"yes\" }\n}\n";
        let b =
            "data \"coder_workspace_tags\" \"b\" {\n  tags = {\n    \"debug\" = \"no\"\n  }\n}\n";
        let err = tags_of(&[("a.tf", a), ("b.tf", b)]).expect_err("duplicate");
        assert_eq!(
            err.to_string(),
            "workspace tag \"debug\" is defined multiple times (b.tf:3)"
        );
    }

    #[test]
    fn other_data_sources_and_json_files_are_ignored() {
        let native = "data \"coder_parameter\" \"p\" {\n  name = \"p\"\n}\n";
        let json = r#"{"data": {"coder_workspace_tags": {"t": {"tags": {"a": "b"}}}}}"#;
        let tags = tags_of(&[("main.tf", native), ("tags.tf.json", json)]).expect("tags");
        assert!(tags.is_empty());
    }
}
