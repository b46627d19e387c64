//! Parse: a template directory → template variables (admin/user parameters), workspace tags
//! and README, as upstream's Parse request answers them (coder-provisioner.md §2).
//!
//! The root module's `*.tf` / `*.tf.json` files are read ([`files`]), parsed ([`syntax`],
//! [`json_syntax`]) and checked ([`module`]); any error there fails the whole parse as
//! `load module: <diagnostics>`. Then come the coder provider's feature switch ([`features`]),
//! the workspace tags ([`workspace_tags`]) and the variables ([`variables`]), each failing
//! with upstream's prefix. Errors are returned, never panicked: the session reports them in
//! `ParseComplete.error`.
//!
//! Admin vs user (reference/README.md, decision 5): a sensitive variable is an admin
//! (template-wide) parameter, any other a user (workspace) parameter; with
//! `provider "coder" { feature_use_managed_variables = true }` every variable is admin.

mod diagnostics;
mod features;
mod files;
mod json_syntax;
mod masked_parameters;
mod module;
mod syntax;
mod value;
mod variables;
mod workspace_tags;

use std::collections::BTreeMap;
use std::path::Path;

use coder_proto::provisioner as proto;

pub use diagnostics::{format_diagnostics, Diagnostic, Diagnostics, Severity, SourcePos};
pub use files::README_FILE;
pub use masked_parameters::masked_parameter_names;
pub use workspace_tags::WorkspaceTagsError;

/// Who sets a variable's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterScope {
    /// Set by a template admin when the template is pushed; never shown to workspace users.
    Admin,
    /// Set by the user when a workspace is created.
    User,
}

/// One Terraform `variable` of the template, as reported to coderd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateVariable {
    pub name: String,
    pub description: String,
    /// The type expression as written (`string`, `list(string)`); empty when absent.
    pub type_expr: String,
    /// The default as text: a string as-is, anything else as JSON; empty when absent.
    pub default_value: String,
    /// No default (an explicit `null` counts as none; `""` is a default).
    pub required: bool,
    pub sensitive: bool,
    pub scope: ParameterScope,
}

/// Everything Parse reports about a template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedTemplate {
    /// Ordered by file name, then line.
    pub variables: Vec<TemplateVariable>,
    /// Tag name → source text of its value expression.
    pub workspace_tags: BTreeMap<String, String>,
    /// The bytes of `README.md` in the template root, empty if there is none.
    pub readme: Vec<u8>,
    /// Whether the template opted into managed variables (all variables admin).
    pub managed_variables: bool,
}

/// Why a template could not be parsed. `Display` gives the text upstream puts into
/// `ParseComplete.error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Syntax errors, unreadable files, invalid variable attributes, duplicate variables.
    #[error("load module: {0}")]
    LoadModule(Diagnostics),
    /// `feature_use_managed_variables` is set to something that is not a bool.
    #[error("load coder provider features: {0}")]
    ProviderFeatures(Diagnostics),
    #[error("can't load workspace tags: {0}")]
    WorkspaceTags(#[from] WorkspaceTagsError),
}

/// Parses the template in `dir` (its root module only; subdirectories are modules of their own).
pub fn parse_template_dir(dir: &Path) -> Result<ParsedTemplate, ParseError> {
    let (sources, readme, diagnostics) = files::read_dir(dir);
    parse_sources(&sources, readme, diagnostics)
}

/// Parses a template given as `(relative path, contents)` pairs, e.g. the entries of a
/// template archive; entries in subdirectories are ignored as [`parse_template_dir`] does.
pub fn parse_template_files(files: &[(String, Vec<u8>)]) -> Result<ParsedTemplate, ParseError> {
    let (sources, readme) = files::from_memory(files);
    parse_sources(&sources, readme, Vec::new())
}

fn parse_sources(
    sources: &[files::SourceFile],
    readme: Vec<u8>,
    mut diagnostics: Vec<Diagnostic>,
) -> Result<ParsedTemplate, ParseError> {
    let loaded = module::load(sources, &mut diagnostics);
    let declared = variables::collect(&loaded, &mut diagnostics);
    let diagnostics = Diagnostics(diagnostics);
    if diagnostics.has_errors() {
        return Err(ParseError::LoadModule(diagnostics));
    }

    let managed_variables = features::use_managed_variables(&loaded)
        .map_err(|found| ParseError::ProviderFeatures(Diagnostics(found)))?;
    let workspace_tags = workspace_tags::collect(&loaded)?;

    let variables = declared
        .into_iter()
        .map(|v| {
            let scope = if managed_variables || v.sensitive {
                ParameterScope::Admin
            } else {
                ParameterScope::User
            };
            TemplateVariable {
                required: v.default.is_none(),
                default_value: v.default.unwrap_or_default(),
                name: v.name,
                description: v.description,
                type_expr: v.type_expr,
                sensitive: v.sensitive,
                scope,
            }
        })
        .collect();

    Ok(ParsedTemplate {
        variables,
        workspace_tags,
        readme,
        managed_variables,
    })
}

impl ParsedTemplate {
    /// The successful `ParseComplete` message.
    pub fn to_parse_complete(&self) -> proto::ParseComplete {
        proto::ParseComplete {
            error: String::new(),
            template_variables: self.variables.iter().map(Into::into).collect(),
            readme: self.readme.clone(),
            workspace_tags: self
                .workspace_tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

impl ParseError {
    /// The failed `ParseComplete` message: only `error` is set, as upstream does.
    pub fn to_parse_complete(&self) -> proto::ParseComplete {
        proto::ParseComplete {
            error: self.to_string(),
            ..Default::default()
        }
    }
}

impl From<ParameterScope> for proto::ParameterScope {
    fn from(scope: ParameterScope) -> Self {
        match scope {
            ParameterScope::Admin => proto::ParameterScope::Admin,
            ParameterScope::User => proto::ParameterScope::User,
        }
    }
}

impl From<&TemplateVariable> for proto::TemplateVariable {
    fn from(v: &TemplateVariable) -> Self {
        proto::TemplateVariable {
            name: v.name.clone(),
            description: v.description.clone(),
            r#type: v.type_expr.clone(),
            default_value: v.default_value.clone(),
            required: v.required,
            sensitive: v.sensitive,
            scope: proto::ParameterScope::from(v.scope).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The upstream parse test cases (coder-provisioner.md §2.3) plus the admin/user split.

    use super::*;

    fn parse(files: &[(&str, &str)]) -> Result<ParsedTemplate, ParseError> {
        let entries: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(name, src)| (name.to_string(), src.as_bytes().to_vec()))
            .collect();
        parse_template_files(&entries)
    }

    fn parsed(files: &[(&str, &str)]) -> ParsedTemplate {
        parse(files).unwrap_or_else(|err| panic!("parse failed: {err}"))
    }

    fn error(files: &[(&str, &str)]) -> String {
        match parse(files) {
            Ok(template) => panic!("expected an error, parsed {template:?}"),
            Err(err) => err.to_string(),
        }
    }

    fn var(name: &str) -> TemplateVariable {
        TemplateVariable {
            name: name.to_string(),
            description: String::new(),
            type_expr: String::new(),
            default_value: String::new(),
            required: true,
            sensitive: false,
            scope: ParameterScope::User,
        }
    }

    #[test]
    fn single_variable() {
        let t = parsed(&[(
            "main.tf",
            "variable \"A\" {\n\tdescription = \"Testing!\"\n}",
        )]);
        assert_eq!(
            t.variables,
            vec![TemplateVariable {
                description: "Testing!".into(),
                ..var("A")
            }]
        );
    }

    #[test]
    fn default_variable_value() {
        let t = parsed(&[("main.tf", "variable \"A\" {\n\tdefault = \"wow\"\n}")]);
        assert_eq!(
            t.variables,
            vec![TemplateVariable {
                default_value: "wow".into(),
                required: false,
                ..var("A")
            }]
        );
    }

    #[test]
    fn variable_validation_is_ignored() {
        let src = "variable \"A\" {\n\tvalidation {\n\t\tcondition = var.A == \"value\"\n\t}\n}";
        assert_eq!(parsed(&[("main.tf", src)]).variables, vec![var("A")]);
    }

    #[test]
    fn bad_syntax_reports_hcl_text_with_file_and_line() {
        let err = error(&[("main.tf", "a;sd;ajsd;lajsd;lasjdf;a")]);
        assert!(err.contains("The \";\" character is not valid."), "{err}");
        assert!(
            err.starts_with("load module: \n\nERROR: Invalid character (main.tf:1)\n> The \";\""),
            "{err}"
        );
    }

    #[test]
    fn single_diagnostic_error_reads_like_upstream() {
        let err = error(&[("main.tf", "variable \"a\" {\n  type = string\n")]);
        assert_eq!(
            err,
            "load module:  ERROR: Unclosed configuration block (main.tf:2)\n\
             > There is no closing brace for this block before the end of the file. This may\n\
             > be caused by incorrect brace nesting elsewhere in this file."
        );
    }

    #[test]
    fn multiple_variables_ordered_by_file_then_line() {
        let t = parsed(&[
            (
                "main2.tf",
                "variable \"baz\" { }\n\t\t\t\tvariable \"quux\" { }",
            ),
            (
                "main1.tf",
                "variable \"foo\" { }\n\t\t\t\tvariable \"bar\" { }",
            ),
        ]);
        assert_eq!(
            t.variables,
            vec![var("foo"), var("bar"), var("baz"), var("quux")]
        );
    }

    fn sensitive_var(default: Option<&str>, type_expr: &str) -> TemplateVariable {
        TemplateVariable {
            description: "Testing!".into(),
            type_expr: type_expr.into(),
            default_value: default.unwrap_or_default().into(),
            required: default.is_none(),
            sensitive: true,
            scope: ParameterScope::Admin,
            ..var("A")
        }
    }

    #[test]
    fn template_variables_with_default_bool() {
        let src = "variable \"A\" {\n\tdescription = \"Testing!\"\n\ttype = \tbool\n\tdefault = true\n\tsensitive = true\n}";
        assert_eq!(
            parsed(&[("main.tf", src)]).variables,
            vec![sensitive_var(Some("true"), "bool")]
        );
    }

    #[test]
    fn template_variables_with_default_string() {
        let src = "variable \"A\" {\n\tdescription = \"Testing!\"\n\ttype = \tstring\n\tdefault = \"abc\"\n\tsensitive = true\n}";
        assert_eq!(
            parsed(&[("main.tf", src)]).variables,
            vec![sensitive_var(Some("abc"), "string")]
        );
    }

    #[test]
    fn template_variables_with_default_empty_string_are_not_required() {
        let src = "variable \"A\" {\n\tdescription = \"Testing!\"\n\ttype = \tstring\n\tdefault = \"\"\n\tsensitive = true\n}";
        assert_eq!(
            parsed(&[("main.tf", src)]).variables,
            vec![sensitive_var(Some(""), "string")]
        );
    }

    #[test]
    fn template_variables_without_default_are_required() {
        let src = "variable \"A\" {\n\tdescription = \"Testing!\"\n\ttype = string\n\tsensitive = true\n}";
        assert_eq!(
            parsed(&[("main2.tf", src)]).variables,
            vec![sensitive_var(None, "string")]
        );
    }

    #[test]
    fn defaults_of_every_type() {
        let src = r#"
variable "s" { default = "x" }
variable "n" { default = 4 }
variable "f" { default = 1.5 }
variable "b" { default = false }
variable "l" { default = ["a", 1, true] }
variable "m" {
  type    = map(object({a=string}))
  default = { z = { a = "1" }, y = { a = "2" } }
}
variable "nul" { default = null }
"#;
        let t = parsed(&[("main.tf", src)]);
        let defaults: Vec<_> = t
            .variables
            .iter()
            .map(|v| (v.name.as_str(), v.default_value.as_str(), v.required))
            .collect();
        assert_eq!(
            defaults,
            vec![
                ("s", "x", false),
                ("n", "4", false),
                ("f", "1.5", false),
                ("b", "false", false),
                ("l", "[\"a\",1,true]", false),
                ("m", "{\"y\":{\"a\":\"2\"},\"z\":{\"a\":\"1\"}}", false),
                ("nul", "", true),
            ]
        );
        assert_eq!(t.variables[5].type_expr, "map(object({a=string}))");
    }

    const WORKSPACE_TAGS: &str = r#"data "coder_workspace_tags" "custom_workspace_tags" {
					tags = {
					  "cluster" = "developers"
					  "os"      = data.coder_parameter.os_selector.value
					  "debug"   = "${data.coder_parameter.feature_debug_enabled.value}+12345"
					  "cache"   = data.coder_parameter.feature_cache_enabled.value == "true" ? "nix-with-cache" : "no-cache"
					}
				  }"#;

    const PARAMETERS: &str = r#"data "coder_parameter" "os_selector" {
					name         = "os_selector"
					display_name = "Operating System"
					mutable      = false
					default = "osx"
					option {
					  icon  = "/icons/linux.png"
					  name  = "Linux"
					  value = "linux"
					}
				  }
				  data "coder_parameter" "feature_debug_enabled" {
					name         = "feature_debug_enabled"
					type         = "bool"
					default = true
				  }"#;

    fn expected_tags() -> BTreeMap<String, String> {
        [
            ("cluster", "\"developers\""),
            ("os", "data.coder_parameter.os_selector.value"),
            (
                "debug",
                "\"${data.coder_parameter.feature_debug_enabled.value}+12345\"",
            ),
            (
                "cache",
                "data.coder_parameter.feature_cache_enabled.value == \"true\" ? \"nix-with-cache\" : \"no-cache\"",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn workspace_tags() {
        let t = parsed(&[("parameters.tf", PARAMETERS), ("tags.tf", WORKSPACE_TAGS)]);
        assert_eq!(t.workspace_tags, expected_tags());
        assert!(t.variables.is_empty());
    }

    #[test]
    fn workspace_tags_in_a_single_file() {
        let src = format!("\n\n{PARAMETERS}\n\n{WORKSPACE_TAGS}\n");
        assert_eq!(parsed(&[("main.tf", &src)]).workspace_tags, expected_tags());
    }

    #[test]
    fn workspace_tags_duplicate_tag() {
        let src = "data \"coder_workspace_tags\" \"custom_workspace_tags\" {\n\ttags = {\n\t  \"cluster\" = \"developers\"\n\t  \"debug\"   = \"yes\"\n\t  \"debug\"   = \"no\"\n\t}\n}\n";
        let err = error(&[("main.tf", src)]);
        assert!(
            err.starts_with(
                "can't load workspace tags: workspace tag \"debug\" is defined multiple times"
            ),
            "{err}"
        );
    }

    #[test]
    fn workspace_tags_wrong_tag_format() {
        let src = "data \"coder_workspace_tags\" \"custom_workspace_tags\" {\n\ttags {\n\t  cluster = \"developers\"\n\t}\n}\n";
        let err = error(&[("main.tf", src)]);
        assert!(
            err.contains("\"tags\" attribute is required by coder_workspace_tags"),
            "{err}"
        );
    }

    #[test]
    fn empty_main_and_non_tf_files_give_an_empty_result() {
        assert_eq!(parsed(&[("main.tf", "")]), ParsedTemplate::default());
        assert_eq!(
            parsed(&[("any-file.txt", "Foobar")]),
            ParsedTemplate::default()
        );
        assert_eq!(
            parsed(&[("main.tf", "")]).to_parse_complete(),
            proto::ParseComplete::default()
        );
    }

    #[test]
    fn sensitive_variables_are_admin_and_others_user() {
        let src = "variable \"token\" {\n  sensitive = true\n}\nvariable \"region\" {}\n";
        let scopes: Vec<_> = parsed(&[("main.tf", src)])
            .variables
            .iter()
            .map(|v| (v.name.clone(), v.scope))
            .collect();
        assert_eq!(
            scopes,
            vec![
                ("token".to_string(), ParameterScope::Admin),
                ("region".to_string(), ParameterScope::User)
            ]
        );
    }

    #[test]
    fn managed_variables_make_every_variable_admin() {
        let provider = "provider \"coder\" {\n  feature_use_managed_variables = true\n}\n";
        let t = parsed(&[
            ("main.tf", provider),
            ("vars.tf", "variable \"region\" {}\n"),
        ]);
        assert!(t.managed_variables);
        assert_eq!(t.variables[0].scope, ParameterScope::Admin);
        assert!(!t.variables[0].sensitive);
    }

    #[test]
    fn managed_variables_switch_with_a_bad_value_fails() {
        let provider = "provider \"coder\" {\n  feature_use_managed_variables = [true]\n}\n";
        let err = error(&[("main.tf", provider)]);
        assert!(
            err.starts_with(
                "load coder provider features:  ERROR: Unsuitable value type (main.tf:2)"
            ),
            "{err}"
        );
    }

    #[test]
    fn json_and_native_files_order_together_by_name() {
        let json = r#"{"variable": {"b": {"default": "x"}}}"#;
        let t = parsed(&[("b.tf", "variable \"c\" {}\n"), ("a.tf.json", json)]);
        let names: Vec<_> = t.variables.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, vec!["b", "c"]);
    }

    #[test]
    fn every_broken_file_is_reported() {
        let err = error(&[("a.tf", "x = 'y'\n"), ("b.tf.json", "{")]);
        assert!(err.contains("(a.tf:1)"), "{err}");
        assert!(
            err.contains("ERROR: Invalid JSON syntax (b.tf.json:1)"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_variable_fails_the_load() {
        let err = error(&[
            ("a.tf", "variable \"x\" {}\n"),
            ("b.tf", "variable \"x\" {}\n"),
        ]);
        assert!(
            err.starts_with("load module:  ERROR: Duplicate variable declaration (b.tf:1)"),
            "{err}"
        );
    }

    #[test]
    fn proto_message_carries_scope_and_fields() {
        let src = "variable \"A\" {\n  type = number\n  default = 3\n  sensitive = true\n}\n";
        let mut t = parsed(&[("main.tf", src)]);
        t.readme = b"# Hello".to_vec();
        let complete = t.to_parse_complete();
        assert_eq!(complete.readme, b"# Hello".to_vec());
        assert_eq!(
            complete.template_variables,
            vec![proto::TemplateVariable {
                name: "A".into(),
                description: String::new(),
                r#type: "number".into(),
                default_value: "3".into(),
                required: false,
                sensitive: true,
                scope: proto::ParameterScope::Admin.into(),
            }]
        );
    }

    #[test]
    fn parse_error_becomes_the_complete_messages_error() {
        let Err(err) = parse(&[("main.tf", ";")]) else {
            panic!("expected an error")
        };
        let complete = err.to_parse_complete();
        assert!(complete.error.starts_with("load module:"));
        assert!(complete.template_variables.is_empty());
    }

    #[test]
    fn hostile_input_gives_results_or_errors_never_panics() {
        let deep_json = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let deep_hcl = format!("x = {}1{}\n", "[".repeat(100), "]".repeat(100));
        let inputs = [
            (
                "main.tf",
                "variable \"a\" { default = 18446744073709551615 * 18446744073709551615 }",
            ),
            ("main.tf", "variable \"a\" { default = 5 % 0 }"),
            ("main.tf", "variable \"a\" { default = 1e308 * 10 }"),
            (
                "main.tf",
                "variable \"a\" { default = [for x in [9223372036854775807]: x * 4] }",
            ),
            (
                "main.tf",
                "variable \"a\" { default = \"${18446744073709551615 * 2}\" }",
            ),
            ("main.tf", "x = {\n\u{e9}"),
            ("main.tf", "x = \"\\"),
            (
                "main.tf",
                "x = {\"\u{e9}\" = 1, \"\u{e9}\" = 2, \"\" = 3, \"\" = 4}\n",
            ),
            ("main.tf", "x = <<-\n"),
            ("main.tf", "/*"),
            ("main.tf", deep_hcl.as_str()),
            ("main.tf.json", deep_json.as_str()),
            (
                "main.tf.json",
                "{\"variable\": {\"a\": {\"default\": 1e999}}}",
            ),
            (
                "main.tf.json",
                "{\"variable\": {\"a\": {\"default\": \"${\"}}}",
            ),
            ("main.tf.json", ""),
        ];
        for (name, src) in inputs {
            // Either outcome is fine; reaching the end of the loop is the test.
            let _ = parse(&[(name, src)]);
        }
    }

    mod directory {
        use super::super::*;
        use std::fs;

        #[test]
        fn reads_root_files_and_readme_but_not_subdirectories() {
            let dir = tempfile::tempdir().expect("tempdir");
            fs::write(dir.path().join("main.tf"), "variable \"a\" {}\n").expect("write");
            fs::write(dir.path().join("README.md"), "# Template").expect("write");
            fs::create_dir(dir.path().join("modules")).expect("mkdir");
            fs::write(dir.path().join("modules/x.tf"), "variable \"b\" {}\n").expect("write");
            let t = parse_template_dir(dir.path()).expect("parses");
            let names: Vec<_> = t.variables.iter().map(|v| v.name.as_str()).collect();
            assert_eq!(names, vec!["a"]);
            assert_eq!(t.readme, b"# Template".to_vec());
        }

        #[test]
        fn missing_readme_is_empty() {
            let dir = tempfile::tempdir().expect("tempdir");
            fs::write(dir.path().join("main.tf"), "").expect("write");
            assert!(parse_template_dir(dir.path())
                .expect("parses")
                .readme
                .is_empty());
        }

        #[test]
        fn missing_directory_fails_to_load() {
            let dir = tempfile::tempdir().expect("tempdir");
            let err = parse_template_dir(&dir.path().join("nope")).expect_err("fails");
            let text = err.to_string();
            assert!(
                text.starts_with(
                    "load module:  ERROR: Failed to read module directory (unknown location)"
                ),
                "{text}"
            );
        }

        #[test]
        fn bad_syntax_on_disk_names_the_file() {
            let dir = tempfile::tempdir().expect("tempdir");
            fs::write(dir.path().join("ok.tf"), "variable \"a\" {}\n").expect("write");
            fs::write(dir.path().join("main.tf"), "\n\nx = `y`\n").expect("write");
            let err = parse_template_dir(dir.path())
                .expect_err("fails")
                .to_string();
            assert!(
                err.contains("ERROR: Invalid character (main.tf:3)"),
                "{err}"
            );
        }
    }
}
