//! Loading the root module: every configuration file parsed, and the root blocks checked for
//! the labels Terraform's root schema gives them.

use hcl::edit::structure::Block;
use hcl::edit::Span;

use super::diagnostics::Diagnostic;
use super::files::{SourceFile, SourceKind};
use super::json_syntax::{parse_json, JsonFile};
use super::syntax::{column_of, line_of, parse_native, NativeFile};

pub enum Content {
    Native(NativeFile),
    Json(JsonFile),
}

/// A configuration file that parsed.
pub struct LoadedFile {
    pub name: String,
    pub content: Content,
}

/// Root block types and the names of their labels, as the module loader knows them.
const ROOT_BLOCKS: &[(&str, &[&str])] = &[
    ("terraform", &[]),
    ("variable", &["name"]),
    ("output", &["name"]),
    ("provider", &["name"]),
    ("resource", &["type", "name"]),
    ("data", &["type", "name"]),
    ("module", &["name"]),
];

/// Parses every file (all of them, so that one run reports every broken file) and checks root
/// block labels. Files that fail to parse are left out of the result.
pub fn load(files: &[SourceFile], diagnostics: &mut Vec<Diagnostic>) -> Vec<LoadedFile> {
    let mut loaded = Vec::with_capacity(files.len());
    for file in files {
        let content = match file.kind {
            SourceKind::Native => parse_native(&file.name, &file.bytes).map(|parsed| {
                check_root_labels(&file.name, &parsed, diagnostics);
                Content::Native(parsed)
            }),
            SourceKind::Json => parse_json(&file.name, &file.bytes).map(Content::Json),
        };
        match content {
            Ok(content) => loaded.push(LoadedFile {
                name: file.name.clone(),
                content,
            }),
            Err(found) => diagnostics.extend(found),
        }
    }
    loaded
}

fn check_root_labels(filename: &str, file: &NativeFile, diagnostics: &mut Vec<Diagnostic>) {
    for block in file.body.blocks() {
        let ty = block.ident.as_str();
        let Some((_, names)) = ROOT_BLOCKS.iter().find(|(t, _)| *t == ty) else {
            continue;
        };
        let have = block.labels.len();
        let line = block_line(&file.src, block);
        if have > names.len() {
            let detail = if names.is_empty() {
                format!("No labels are expected for {ty} blocks.")
            } else {
                format!(
                    "Only {} labels ({}) are expected for {ty} blocks.",
                    names.len(),
                    names.join(", ")
                )
            };
            diagnostics.push(
                Diagnostic::error(format!("Extraneous label for {ty}"), detail).at(filename, line),
            );
        } else if have < names.len() {
            diagnostics.push(
                Diagnostic::error(
                    format!("Missing {} for {ty}", names[have]),
                    format!(
                        "All {ty} blocks must have {} labels ({}).",
                        names.len(),
                        names.join(", ")
                    ),
                )
                .at(filename, line),
            );
        }
    }
}

/// The line a block is declared on (its type keyword).
pub fn block_line(src: &str, block: &Block) -> usize {
    block
        .ident
        .span()
        .map_or(1, |span| line_of(src.as_bytes(), span.start))
}

/// A block's header range in HCL's `file:line,col-col` form (type keyword through the last
/// label), as Terraform cites an earlier declaration.
pub fn block_header_range(filename: &str, src: &str, block: &Block) -> String {
    let start = block.ident.span().map_or(0, |s| s.start);
    let end = block
        .labels
        .last()
        .and_then(|label| match label {
            hcl::edit::structure::BlockLabel::Ident(ident) => ident.span(),
            hcl::edit::structure::BlockLabel::String(string) => string.span(),
        })
        .or_else(|| block.ident.span())
        .map_or(start, |s| s.end);
    range_text(filename, src, start, end)
}

/// `file:line,col-col` for a range on one line, `file:line,col-line,col` otherwise.
pub fn range_text(filename: &str, src: &str, start: usize, end: usize) -> String {
    let (start_line, end_line) = (line_of(src.as_bytes(), start), line_of(src.as_bytes(), end));
    let (start_col, end_col) = (column_of(src, start), column_of(src, end));
    if start_line == end_line {
        format!("{filename}:{start_line},{start_col}-{end_col}")
    } else {
        format!("{filename}:{start_line},{start_col}-{end_line},{end_col}")
    }
}

/// Loads in-memory `(name, source)` files the way a template directory is loaded.
#[cfg(test)]
pub fn load_sources(files: &[(&str, &str)]) -> (Vec<LoadedFile>, Vec<Diagnostic>) {
    let entries: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(name, src)| (name.to_string(), src.as_bytes().to_vec()))
        .collect();
    let mut diagnostics = Vec::new();
    let loaded = load(&super::files::from_memory(&entries).0, &mut diagnostics);
    (loaded, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_one(name: &str, src: &str) -> (usize, Vec<Diagnostic>) {
        let (loaded, diags) = load_sources(&[(name, src)]);
        (loaded.len(), diags)
    }

    #[test]
    fn variable_without_a_name_is_missing_its_label() {
        let (_, diags) = load_one("main.tf", "\nvariable {}\n");
        assert_eq!(diags[0].summary, "Missing name for variable");
        assert_eq!(
            diags[0].detail,
            "All variable blocks must have 1 labels (name)."
        );
        assert_eq!(diags[0].pos.as_ref().map(|p| p.line), Some(2));
    }

    #[test]
    fn data_block_with_three_labels_has_an_extraneous_one() {
        let (_, diags) = load_one("main.tf", "data \"a\" \"b\" \"c\" {}\n");
        assert_eq!(diags[0].summary, "Extraneous label for data");
        assert_eq!(
            diags[0].detail,
            "Only 2 labels (type, name) are expected for data blocks."
        );
    }

    #[test]
    fn terraform_block_takes_no_labels() {
        let (_, diags) = load_one("main.tf", "terraform \"x\" {}\n");
        assert_eq!(
            diags[0].detail,
            "No labels are expected for terraform blocks."
        );
    }

    #[test]
    fn other_block_types_are_not_checked() {
        let (loaded, diags) = load_one("main.tf", "locals {}\nmoved {}\n");
        assert_eq!((loaded, diags.len()), (1, 0));
    }

    #[test]
    fn broken_file_is_left_out_with_its_diagnostics() {
        let (loaded, diags) = load_one("main.tf", "a;b");
        assert_eq!(loaded, 0);
        assert!(!diags.is_empty());
    }

    #[test]
    fn header_range_spans_keyword_through_last_label() {
        let src = "variable \"A\" {\n}\n";
        let body = hcl::edit::parser::parse_body(src).expect("parses");
        let block = body.blocks().next().expect("one block");
        assert_eq!(block_header_range("main.tf", src, block), "main.tf:1,1-13");
    }
}
