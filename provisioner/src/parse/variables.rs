//! Root-module `variable` blocks → declared variables, following what upstream reads from
//! them (coder-provisioner.md §2.1):
//!
//! - `type`: the expression's source text as written (`list(string)`), or, for the legacy
//!   quoted form (`type = "string"`), the string's value;
//! - `description`: a string (numbers and bools convert, as cty converts them);
//! - `default`: evaluated without variables or functions, rendered by `value::render_default`;
//!   absent or `null` means no default, and no default means required;
//! - `sensitive`: a bool;
//! - everything else (`validation`, `nullable`, `ephemeral`, …) is ignored.
//!
//! Variables are ordered by file name, then line. Upstream's loader silently keeps the last
//! of two same-named variables; Terraform itself rejects the pair, so we report it up front
//! with Terraform's diagnostic.

use hcl::edit::expr::Expression;
use hcl::edit::structure::Block;
use hcl::edit::Span;
use serde_json::value::RawValue;

use super::diagnostics::Diagnostic;
use super::json_syntax::{JsonFile, JsonKind};
use super::module::{block_header_range, block_line, range_text, Content, LoadedFile};
use super::syntax::{line_of, NativeFile};
use super::value::{self, render_default, EvalProblem, Value};

/// A `variable` block as declared in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredVariable {
    pub name: String,
    pub description: String,
    /// The type expression text, empty when absent.
    pub type_expr: String,
    /// The rendered default; `None` when absent (the variable is then required).
    pub default: Option<String>,
    pub sensitive: bool,
    pub filename: String,
    pub line: usize,
    /// Header range (`main.tf:1,1-13`) for citing this declaration.
    header_range: String,
}

/// Collects the variables of all files, ordered by (file name, line); reports bad attribute
/// values and duplicate names as diagnostics.
pub fn collect(files: &[LoadedFile], diagnostics: &mut Vec<Diagnostic>) -> Vec<DeclaredVariable> {
    let mut declared = Vec::new();
    for file in files {
        match &file.content {
            Content::Native(native) => from_native(&file.name, native, diagnostics, &mut declared),
            Content::Json(json) => from_json(&file.name, json, diagnostics, &mut declared),
        }
    }

    let mut unique: Vec<DeclaredVariable> = Vec::with_capacity(declared.len());
    for variable in declared {
        if let Some(first) = unique.iter().find(|v| v.name == variable.name) {
            diagnostics.push(
                Diagnostic::error(
                    "Duplicate variable declaration",
                    format!(
                        "A variable named \"{}\" was already declared at {}. Variable names must \
                         be unique within a module.",
                        variable.name, first.header_range
                    ),
                )
                .at(&variable.filename, variable.line),
            );
        } else {
            unique.push(variable);
        }
    }
    // Stable, so two declarations on one line keep their source order.
    unique.sort_by(|a, b| (a.filename.as_bytes(), a.line).cmp(&(b.filename.as_bytes(), b.line)));
    unique
}

/// What one attribute of a variable block evaluated to, independent of syntax.
#[derive(Default)]
struct Attributes {
    description: String,
    type_expr: String,
    default: Option<String>,
    sensitive: bool,
}

impl Attributes {
    /// Applies one attribute; `value` is its evaluation, `source` its source text (for
    /// `type`), `line` where it is written.
    fn apply(
        &mut self,
        key: &str,
        value: Result<Value, EvalProblem>,
        source: &str,
        at: (&str, usize),
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let (filename, line) = at;
        let unsuitable = |detail: String| {
            Diagnostic::error(
                "Unsuitable value type",
                format!("Unsuitable value: {detail}"),
            )
            .at(filename, line)
        };
        match key {
            // Upstream first tries the legacy string form, then falls back to the source text.
            "type" => {
                self.type_expr = match value.ok().map(|v| v.to_cty_string()) {
                    Some(Ok(text)) => text,
                    _ => source.to_string(),
                };
            }
            "description" => match value.map(|v| v.to_cty_string()) {
                Ok(Ok(text)) => self.description = text,
                Ok(Err(detail)) => diagnostics.push(unsuitable(detail)),
                Err(problem) => diagnostics.push(problem_at(problem, filename, line)),
            },
            "sensitive" => match value.map(|v| v.to_cty_bool()) {
                Ok(Ok(flag)) => self.sensitive = flag,
                Ok(Err(detail)) => diagnostics.push(unsuitable(detail)),
                Err(problem) => diagnostics.push(problem_at(problem, filename, line)),
            },
            "default" => match value.map(|v| render_default(&v)) {
                Ok(Ok(rendered)) => self.default = rendered,
                Ok(Err(detail)) => diagnostics.push(unsuitable(detail)),
                Err(problem) => diagnostics.push(problem_at(problem, filename, line)),
            },
            _ => {}
        }
    }
}

fn problem_at(problem: EvalProblem, filename: &str, line: usize) -> Diagnostic {
    Diagnostic::error(problem.summary, problem.detail).at(filename, line)
}

fn from_native(
    filename: &str,
    file: &NativeFile,
    diagnostics: &mut Vec<Diagnostic>,
    out: &mut Vec<DeclaredVariable>,
) {
    let variables = file
        .body
        .blocks()
        .filter(|b| b.ident.as_str() == "variable");
    // Blocks with the wrong number of labels were reported while loading.
    for block in variables.filter(|b| b.labels.len() == 1) {
        out.push(native_variable(filename, file, block, diagnostics));
    }
}

fn native_variable(
    filename: &str,
    file: &NativeFile,
    block: &Block,
    diagnostics: &mut Vec<Diagnostic>,
) -> DeclaredVariable {
    let mut attributes = Attributes::default();
    for attribute in block.body.attributes() {
        let expr: &Expression = &attribute.value;
        let span = expr.span();
        let source = span
            .clone()
            .and_then(|span| file.src.get(span))
            .unwrap_or_default();
        let line = span.map_or_else(
            || block_line(&file.src, block),
            |span| line_of(file.src.as_bytes(), span.start),
        );
        let value = value::evaluate(&hcl::Expression::from(expr.clone())).map(|mut value| {
            value.restore_renamed_keys(&file.renamed_keys);
            value
        });
        attributes.apply(
            attribute.key.as_str(),
            value,
            source,
            (filename, line),
            diagnostics,
        );
    }
    DeclaredVariable {
        name: block
            .labels
            .first()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
        description: attributes.description,
        type_expr: attributes.type_expr,
        default: attributes.default,
        sensitive: attributes.sensitive,
        filename: filename.to_string(),
        line: block_line(&file.src, block),
        header_range: block_header_range(filename, &file.src, block),
    }
}

/// HCL's JSON syntax: `"variable": {"<name>": {<attributes>}}`, where the map and each body
/// may also be an array of such objects; `"//"` keys are comments.
fn from_json(
    filename: &str,
    file: &JsonFile,
    diagnostics: &mut Vec<Diagnostic>,
    out: &mut Vec<DeclaredVariable>,
) {
    let object_required = |raw: &RawValue, what: &str| {
        Diagnostic::error(
            "Incorrect JSON value type",
            format!("A JSON object is required here, {what}."),
        )
        .at(filename, file.line(raw))
    };
    let Some(root) = object_entries(file, file.root().ok()) else {
        return;
    };
    for (key, by_name) in root {
        if key != "variable" {
            continue;
        }
        for map in objects_of(file, by_name) {
            let Some(entries) = map else {
                diagnostics.push(object_required(by_name, "to define variable blocks"));
                continue;
            };
            for (name, body) in entries.into_iter().filter(|(name, _)| name != "//") {
                for block in objects_of(file, body) {
                    match block {
                        Some(attributes) => out.push(json_variable(
                            filename,
                            file,
                            &name,
                            body,
                            attributes,
                            diagnostics,
                        )),
                        None => diagnostics.push(object_required(
                            body,
                            "setting the arguments for this block",
                        )),
                    }
                }
            }
        }
    }
}

fn json_variable(
    filename: &str,
    file: &JsonFile,
    name: &str,
    body: &RawValue,
    entries: Vec<(String, &RawValue)>,
    diagnostics: &mut Vec<Diagnostic>,
) -> DeclaredVariable {
    let mut attributes = Attributes::default();
    for (key, raw) in entries {
        let line = file.line(raw);
        let value = serde_json::from_str::<serde_json::Value>(raw.get())
            .map_err(|err| EvalProblem {
                summary: "Invalid JSON syntax".to_string(),
                detail: err.to_string(),
            })
            .and_then(Value::from_json);
        attributes.apply(&key, value, raw.get(), (filename, line), diagnostics);
    }
    let line = file.line(body);
    let offset = file.offset(body);
    DeclaredVariable {
        name: name.to_string(),
        description: attributes.description,
        type_expr: attributes.type_expr,
        default: attributes.default,
        sensitive: attributes.sensitive,
        filename: filename.to_string(),
        line,
        header_range: range_text(filename, &file.src, offset, offset + 1),
    }
}

type Entries<'a> = Vec<(String, &'a RawValue)>;

fn object_entries<'a>(file: &JsonFile, raw: Option<&'a RawValue>) -> Option<Entries<'a>> {
    match file.node(raw?).ok()?.kind {
        JsonKind::Object(entries) => Some(entries),
        _ => None,
    }
}

/// A JSON object, or each item of an array of them; `None` for anything that is not an object.
fn objects_of<'a>(file: &JsonFile, raw: &'a RawValue) -> Vec<Option<Entries<'a>>> {
    match file.node(raw).map(|node| node.kind) {
        Ok(JsonKind::Object(entries)) => vec![Some(entries)],
        Ok(JsonKind::Array(items)) => items
            .into_iter()
            .map(|item| object_entries(file, Some(item)))
            .collect(),
        _ => vec![None],
    }
}

#[cfg(test)]
mod tests {
    use super::super::module::load_sources;
    use super::*;

    fn collect_from(files: &[(&str, &str)]) -> (Vec<DeclaredVariable>, Vec<Diagnostic>) {
        let (loaded, mut diags) = load_sources(files);
        let variables = collect(&loaded, &mut diags);
        (variables, diags)
    }

    fn one(src: &str) -> DeclaredVariable {
        let (vars, diags) = collect_from(&[("main.tf", src)]);
        assert!(diags.is_empty(), "{diags:?}");
        vars.into_iter().next().expect("one variable")
    }

    #[test]
    fn type_is_the_expression_source_text() {
        assert_eq!(
            one("variable \"a\" {\n  type = \tstring # c\n}").type_expr,
            "string"
        );
        assert_eq!(
            one("variable \"a\" {\n  type = list(string)\n}").type_expr,
            "list(string)"
        );
        assert_eq!(
            one("variable \"a\" {\n  type = map(object({a=string, b = optional(number, 1)}))\n}")
                .type_expr,
            "map(object({a=string, b = optional(number, 1)}))"
        );
    }

    #[test]
    fn legacy_quoted_type_is_the_string_value() {
        assert_eq!(
            one("variable \"a\" {\n  type = \"string\"\n}").type_expr,
            "string"
        );
    }

    #[test]
    fn absent_type_is_empty() {
        assert_eq!(one("variable \"a\" {}").type_expr, "");
    }

    #[test]
    fn default_null_means_required() {
        assert_eq!(one("variable \"a\" {\n  default = null\n}").default, None);
    }

    #[test]
    fn repeated_keys_in_a_default_keep_the_last_item_like_hcl() {
        let src = "variable \"a\" {\n  default = { x = 1, \"x\" = 2, y = [{ k = 1, k = 3 }] }\n}";
        assert_eq!(
            one(src).default.as_deref(),
            Some("{\"x\":2,\"y\":[{\"k\":3}]}")
        );
    }

    #[test]
    fn description_number_converts_to_string() {
        assert_eq!(
            one("variable \"a\" {\n  description = 5\n}").description,
            "5"
        );
    }

    #[test]
    fn sensitive_accepts_the_string_true() {
        assert!(one("variable \"a\" {\n  sensitive = \"true\"\n}").sensitive);
    }

    #[test]
    fn validation_and_other_attributes_are_ignored() {
        let v = one(
            "variable \"a\" {\n  nullable = false\n  validation {\n    condition = var.a != \"\"\n    error_message = \"x\"\n  }\n}",
        );
        assert_eq!(v.default, None);
    }

    #[test]
    fn default_referencing_a_variable_is_an_error_on_its_line() {
        let (_, diags) = collect_from(&[("main.tf", "variable \"a\" {\n  default = var.b\n}")]);
        assert_eq!(diags[0].summary, "Variables not allowed");
        assert_eq!(diags[0].detail, "Variables may not be used here.");
        assert_eq!(diags[0].pos.as_ref().map(|p| p.line), Some(2));
    }

    #[test]
    fn description_that_is_a_list_is_unsuitable() {
        let (_, diags) = collect_from(&[("main.tf", "variable \"a\" {\n  description = [1]\n}")]);
        assert_eq!(diags[0].summary, "Unsuitable value type");
        assert!(diags[0]
            .detail
            .starts_with("Unsuitable value: string required"));
    }

    #[test]
    fn duplicate_names_are_reported_citing_the_first() {
        let (vars, diags) = collect_from(&[
            ("a.tf", "variable \"x\" {}\n"),
            ("b.tf", "\nvariable \"x\" {}\n"),
        ]);
        assert_eq!(vars.len(), 1);
        assert_eq!(diags[0].summary, "Duplicate variable declaration");
        assert_eq!(
            diags[0].detail,
            "A variable named \"x\" was already declared at a.tf:1,1-13. Variable names must be \
             unique within a module."
        );
        assert_eq!(
            diags[0].pos.as_ref().map(|p| (p.filename.as_str(), p.line)),
            Some(("b.tf", 2))
        );
    }

    #[test]
    fn ordered_by_file_then_line() {
        let (vars, _) = collect_from(&[
            ("main1.tf", "variable \"foo\" { }\nvariable \"bar\" { }"),
            ("main2.tf", "variable \"baz\" { }\nvariable \"quux\" { }"),
        ]);
        let names: Vec<_> = vars.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, vec!["foo", "bar", "baz", "quux"]);
    }

    #[test]
    fn json_variables_read_like_native_ones() {
        let src = r#"{
  "variable": {
    "region": {"type": "string", "default": "eu", "description": "Where"},
    "count": {"type": "number", "default": 3, "sensitive": true},
    "tags": {"type": "map(string)", "default": {"b": "2", "a": "<1>"}},
    "//": "a comment"
  }
}"#;
        let (vars, diags) = collect_from(&[("main.tf.json", src)]);
        assert!(diags.is_empty(), "{diags:?}");
        let summary: Vec<_> = vars
            .iter()
            .map(|v| {
                (
                    v.name.as_str(),
                    v.type_expr.as_str(),
                    v.default.as_deref(),
                    v.sensitive,
                    v.line,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("region", "string", Some("eu"), false, 3),
                ("count", "number", Some("3"), true, 4),
                (
                    "tags",
                    "map(string)",
                    Some("{\"a\":\"\\u003c1\\u003e\",\"b\":\"2\"}"),
                    false,
                    5
                ),
            ]
        );
        assert_eq!(vars[0].description, "Where");
    }

    #[test]
    fn json_variable_blocks_may_be_arrays() {
        let src = r#"{"variable": [{"a": {}}, {"b": [{"default": null}]}]}"#;
        let (vars, diags) = collect_from(&[("main.tf.json", src)]);
        assert!(diags.is_empty());
        let names: Vec<_> = vars.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b"]);
    }

    #[test]
    fn json_variable_body_must_be_an_object() {
        let (_, diags) = collect_from(&[("main.tf.json", "{\"variable\": {\"a\": 1}}")]);
        assert_eq!(diags[0].summary, "Incorrect JSON value type");
    }
}
