//! `data "coder_parameter"` blocks: their defaults checked against their own options, type and
//! `validation` block, with the coder provider's rules and messages (coder-provider.md §6.6),
//! so a template whose default the provider would reject at plan time (every workspace build
//! would fail) is caught before it is pushed. Also: duplicate names (upstream's converter
//! rejects them) and the ephemeral/mutable/default combinations the provider rejects.
//!
//! Only literal values are checked; a default computed from other values is the dry run's.
//! A parameter without a default is required: the user supplies the value, nothing to check.

use regex::Regex;
use serde::Serialize;

use super::hcl_model::{Block, BodyModel, Literal, TemplateModel};
use super::{Check, Finding};
use crate::parse::SourcePos;

/// A rich parameter as the template declares it; always a user (workspace) parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParameterRow {
    /// The `name` attribute (the label when it is computed).
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// `None`: no default (the user must choose), or a computed one.
    pub default: Option<String>,
    pub mutable: bool,
    pub options: usize,
    #[serde(flatten, serialize_with = "super::report::serialize_pos")]
    pub pos: Option<SourcePos>,
}

pub struct ParametersCheck {
    pub rows: Vec<ParameterRow>,
    pub findings: Vec<Finding>,
}

pub fn check(model: &TemplateModel) -> ParametersCheck {
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    let mut names: Vec<(String, String)> = Vec::new();
    for block in model.data_of_type("coder_parameter") {
        let name = block
            .literal_text("name")
            .unwrap_or_else(|| block.name.clone());
        if let Some((_, first)) = names.iter().find(|(n, _)| *n == name) {
            // Upstream's converter message, plus where the first one is.
            findings.push(
                Finding::error(
                    Check::ParameterName,
                    format!(
                        "coder_parameter names must be unique but {name:?} appears multiple \
                         times (first in {first})"
                    ),
                )
                .at(&block.pos),
            );
        } else {
            names.push((name.clone(), block.address()));
        }
        let parameter = Parameter::read(block);
        findings.extend(parameter.check());
        rows.push(ParameterRow {
            name,
            ty: parameter.ty.clone(),
            default: parameter.default.clone(),
            mutable: parameter.mutable,
            options: parameter.options.len(),
            pos: Some(block.pos.clone()),
        });
    }
    ParametersCheck { rows, findings }
}

/// The literal parts of one `coder_parameter` block.
struct Parameter<'a> {
    block: &'a Block,
    ty: String,
    default: Option<String>,
    /// The default is set but not a literal.
    default_computed: bool,
    mutable: bool,
    ephemeral: bool,
    form_type: Option<String>,
    options: Vec<(Option<String>, Option<String>, usize)>,
    validation: Option<Validation>,
}

struct Validation {
    min: Option<i64>,
    max: Option<i64>,
    regex: Option<String>,
    error: String,
    monotonic: String,
}

fn literal_bool(body: &BodyModel, name: &str) -> Option<bool> {
    match body.attr(name)?.literal {
        Some(Literal::Bool(b)) => Some(b),
        _ => None,
    }
}

fn literal_text(body: &BodyModel, name: &str) -> Option<String> {
    body.attr(name)?.literal.as_ref()?.as_text()
}

impl<'a> Parameter<'a> {
    fn read(block: &'a Block) -> Self {
        let body = &block.body;
        let default_attr = body.attr("default");
        let default = default_attr
            .and_then(|a| a.literal.as_ref())
            .and_then(Literal::as_text);
        let default_computed = default_attr.is_some_and(|a| a.literal.is_none());
        let options = body
            .nested("option")
            .map(|o| {
                (
                    literal_text(&o.body, "name"),
                    literal_text(&o.body, "value"),
                    o.body.attr("value").map_or(o.line, |a| a.line),
                )
            })
            .collect();
        let validation = body.nested("validation").next().map(|v| Validation {
            min: literal_text(&v.body, "min").and_then(|n| n.parse().ok()),
            max: literal_text(&v.body, "max").and_then(|n| n.parse().ok()),
            regex: literal_text(&v.body, "regex"),
            error: literal_text(&v.body, "error").unwrap_or_default(),
            monotonic: literal_text(&v.body, "monotonic").unwrap_or_default(),
        });
        Parameter {
            block,
            ty: literal_text(body, "type").unwrap_or_else(|| "string".to_string()),
            default,
            default_computed,
            mutable: literal_bool(body, "mutable").unwrap_or(false),
            ephemeral: literal_bool(body, "ephemeral").unwrap_or(false),
            form_type: literal_text(body, "form_type"),
            options,
            validation,
        }
    }

    /// Where the default is written (the block when there is none).
    fn default_pos(&self) -> SourcePos {
        SourcePos {
            filename: self.block.pos.filename.clone(),
            line: self
                .block
                .attr("default")
                .map_or(self.block.pos.line, |a| a.line),
        }
    }

    fn check(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        let address = self.block.address();
        let fail = |message: String| Finding::error(Check::ParameterDefault, message);

        if !["string", "number", "bool", "list(string)"].contains(&self.ty.as_str()) {
            findings.push(
                fail(format!(
                    "{address}: expected type to be one of [\"string\" \"number\" \"bool\" \
                     \"list(string)\"], got {}",
                    self.ty
                ))
                .at(&self.block.pos),
            );
            return findings;
        }
        if self.ephemeral && !self.mutable {
            findings.push(
                fail(format!(
                    "{address}: parameter can't be immutable and ephemeral"
                ))
                .at(&self.block.pos),
            );
        }
        let has_default = self.default.is_some() || self.default_computed;
        if self.ephemeral && !has_default {
            findings.push(
                fail(format!(
                    "{address}: ephemeral parameter requires the default property"
                ))
                .at(&self.block.pos),
            );
        }

        // Options: unique names and values, each of the option type.
        let option_type =
            if self.ty == "list(string)" && self.form_type.as_deref() == Some("multi-select") {
                "string"
            } else {
                self.ty.as_str()
            };
        let mut seen_names: Vec<&str> = Vec::new();
        let mut values: Vec<&str> = Vec::new();
        for (name, value, line) in &self.options {
            let at = |f: Finding| f.at_line(&self.block.pos.filename, *line);
            if let Some(name) = name.as_deref() {
                if seen_names.contains(&name) {
                    findings.push(at(fail(format!(
                        "{address}: Option names must be unique: multiple options found with the same name {name:?}"
                    ))));
                }
                seen_names.push(name);
            }
            let Some(value) = value.as_deref() else {
                continue;
            };
            if let Err(detail) = type_check(option_type, value) {
                findings.push(at(fail(format!(
                    "{address}: Option {:?} with value={value:?} is not of type {option_type:?}: {detail}",
                    name.as_deref().unwrap_or_default()
                ))));
                continue;
            }
            if values.contains(&value) {
                findings.push(at(fail(format!(
                    "{address}: Option values must be unique: multiple options found with the same value {value:?}"
                ))));
            }
            values.push(value);
        }

        let Some(default) = &self.default else {
            return findings;
        };
        let at_default = |f: Finding| f.at(&self.default_pos());
        let all_option_values_known = self.options.iter().all(|(_, v, _)| v.is_some());
        if !self.options.is_empty() && all_option_values_known {
            if option_type == "string" && self.ty == "list(string)" {
                match serde_json::from_str::<Vec<String>>(default) {
                    Err(_) => findings.push(at_default(fail(format!(
                        "{address}: When using list(string) type, value must be a json encoded list of strings"
                    )))),
                    Ok(items) => {
                        let missing: Vec<&str> = items
                            .iter()
                            .map(String::as_str)
                            .filter(|i| !values.contains(i))
                            .collect();
                        if !missing.is_empty() {
                            findings.push(at_default(fail(format!(
                                "{address}: Default values must be a valid option: Value {default:?} is not a valid option, values {:?} are missing from the options",
                                missing.join(", ")
                            ))));
                        }
                    }
                }
            } else if !values.contains(&default.as_str()) {
                let hint = if default.is_empty() {
                    ". The value is empty, did you forget to set it with a default or from user input?"
                } else {
                    ""
                };
                findings.push(at_default(fail(format!(
                    "{address}: Default value must be a valid option{hint}: the value {default:?} must be defined as one of options"
                ))));
            }
        }
        if let Some(validation) = &self.validation {
            if let Err(detail) = validation.check(&self.ty, default) {
                findings.push(at_default(fail(format!(
                    "{address}: Invalid parameter default value according to 'validation' block: {detail}"
                ))));
            }
        }
        if let Err(detail) = type_check(&self.ty, default) {
            findings.push(at_default(fail(format!(
                "{address}: Parameter value is not of type {:?}: {detail}",
                self.ty
            ))));
        }
        findings
    }
}

impl Validation {
    /// The provider's validation rules, in its order, with its messages.
    fn check(&self, ty: &str, value: &str) -> Result<(), String> {
        if ty != "number" {
            if self.min.is_some() {
                return Err(format!("a min cannot be specified for a {ty} type"));
            }
            if self.max.is_some() {
                return Err(format!("a max cannot be specified for a {ty} type"));
            }
            if !self.monotonic.is_empty() {
                return Err(format!(
                    "monotonic validation can only be specified for number types, not {ty} types"
                ));
            }
        }
        let regex = self.regex.as_deref().unwrap_or_default();
        if ty != "string" && !regex.is_empty() {
            return Err(format!("a regex cannot be specified for a {ty} type"));
        }
        match ty {
            "bool" if value != "true" && value != "false" => {
                Err("boolean value can be either \"true\" or \"false\"".to_string())
            }
            "string" if !regex.is_empty() => {
                let re = Regex::new(regex).map_err(|e| format!("compile regex {regex:?}: {e}"))?;
                if self.error.is_empty() {
                    return Err("an error must be specified with a regex validation".to_string());
                }
                if re.is_match(value) {
                    Ok(())
                } else {
                    Err(format!(
                        "{} (value {value:?} does not match {regex:?})",
                        self.error
                    ))
                }
            }
            "number" => {
                let rendered = || self.render_error(value);
                // Go's Atoi: an integer, so "1.5" fails here although the type allows it.
                let n: i64 = value.parse().map_err(|_| {
                    rendered().unwrap_or_else(|| format!("value {value:?} is not a number"))
                })?;
                if let Some(min) = self.min.filter(|&min| n < min) {
                    return Err(rendered()
                        .unwrap_or_else(|| format!("value {n} is less than the minimum {min}")));
                }
                if let Some(max) = self.max.filter(|&max| n > max) {
                    return Err(rendered()
                        .unwrap_or_else(|| format!("value {n} is more than the maximum {max}")));
                }
                if !["", "increasing", "decreasing"].contains(&self.monotonic.as_str()) {
                    return Err(
                        "number monotonicity can be either \"increasing\" or \"decreasing\""
                            .to_string(),
                    );
                }
                Ok(())
            }
            "list(string)" if serde_json::from_str::<Vec<String>>(value).is_err() => {
                Err(format!("value {value:?} is not valid list of strings"))
            }
            _ => Ok(()),
        }
    }

    /// The custom `error` with `{min}`, `{max}` and `{value}` filled in (0 for an unset bound).
    fn render_error(&self, value: &str) -> Option<String> {
        (!self.error.is_empty()).then(|| {
            self.error
                .replace("{min}", &self.min.unwrap_or(0).to_string())
                .replace("{max}", &self.max.unwrap_or(0).to_string())
                .replace("{value}", value)
        })
    }
}

/// The provider's type check of a value.
fn type_check(ty: &str, value: &str) -> Result<(), String> {
    let ok = match ty {
        "number" => value.trim().parse::<f64>().is_ok() && !value.trim().is_empty(),
        // Go's strconv.ParseBool.
        "bool" => matches!(
            value,
            "1" | "t"
                | "T"
                | "TRUE"
                | "true"
                | "True"
                | "0"
                | "f"
                | "F"
                | "FALSE"
                | "false"
                | "False"
        ),
        "list(string)" => serde_json::from_str::<Vec<String>>(value).is_ok(),
        _ => true,
    };
    if ok {
        Ok(())
    } else if ty == "list(string)" {
        Err(format!("value {value:?} is not a valid list of strings"))
    } else {
        Err(format!("{value:?} is not a {ty}"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{check_files, findings, GOOD};
    use super::super::Check;

    fn parameter_findings(block: &str) -> Vec<(String, String)> {
        findings(&check_files(&[("main.tf", GOOD), ("params.tf", block)]))
            .into_iter()
            .filter(|f| matches!(f.1, Check::ParameterDefault | Check::ParameterName))
            .map(|f| (f.2, f.3))
            .collect()
    }

    fn one(block: &str) -> (String, String) {
        let found = parameter_findings(block);
        assert_eq!(found.len(), 1, "{found:#?}");
        found[0].clone()
    }

    #[test]
    fn good_parameters_pass_and_are_listed() {
        let block = r#"data "coder_parameter" "region" {
  name    = "region"
  default = "eu"
  option {
    name  = "Europe"
    value = "eu"
  }
}
data "coder_parameter" "cpu" {
  name    = "cpu"
  type    = "number"
  default = 4
  validation {
    min = 1
    max = 8
  }
}
data "coder_parameter" "free" {
  name = "free"
}
"#;
        let report = check_files(&[("main.tf", GOOD), ("params.tf", block)]);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
        let rows: Vec<_> = report
            .parameters
            .iter()
            .map(|p| (p.name.as_str(), p.ty.as_str(), p.default.clone(), p.options))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("region", "string", Some("eu".to_string()), 1),
                ("cpu", "number", Some("4".to_string()), 0),
                ("free", "string", None, 0),
            ]
        );
    }

    #[test]
    fn default_outside_the_options() {
        let (at, message) = one("data \"coder_parameter\" \"r\" {\n  name    = \"r\"\n  default = \"mars\"\n  option {\n    name  = \"Earth\"\n    value = \"earth\"\n  }\n}\n");
        assert_eq!(at, "params.tf:3");
        assert_eq!(
            message,
            "data.coder_parameter.r: Default value must be a valid option: the value \"mars\" must be defined as one of options"
        );
    }

    #[test]
    fn default_below_the_minimum() {
        let (at, message) = one("data \"coder_parameter\" \"n\" {\n  name    = \"n\"\n  type    = \"number\"\n  default = \"2\"\n  validation {\n    min = 3\n    max = 6\n  }\n}\n");
        assert_eq!(at, "params.tf:4");
        assert_eq!(
            message,
            "data.coder_parameter.n: Invalid parameter default value according to 'validation' block: value 2 is less than the minimum 3"
        );
    }

    #[test]
    fn custom_error_is_rendered() {
        let (_, message) = one("data \"coder_parameter\" \"n\" {\n  name    = \"n\"\n  type    = \"number\"\n  default = 50\n  validation {\n    min   = 1\n    max   = 32\n    error = \"{value} is not in {min}..{max}\"\n  }\n}\n");
        assert!(message.ends_with("block: 50 is not in 1..32"), "{message}");
    }

    #[test]
    fn default_not_matching_the_regex() {
        let (_, message) = one("data \"coder_parameter\" \"s\" {\n  name    = \"s\"\n  default = \"Hello\"\n  validation {\n    regex = \"^[a-z]+$\"\n    error = \"lower case only\"\n  }\n}\n");
        assert!(
            message.ends_with("lower case only (value \"Hello\" does not match \"^[a-z]+$\")"),
            "{message}"
        );
    }

    #[test]
    fn default_of_the_wrong_type() {
        let (_, message) = one("data \"coder_parameter\" \"b\" {\n  name    = \"b\"\n  type    = \"bool\"\n  default = \"yes\"\n}\n");
        assert_eq!(
            message,
            "data.coder_parameter.b: Parameter value is not of type \"bool\": \"yes\" is not a bool"
        );
    }

    #[test]
    fn min_on_a_string_parameter() {
        let (_, message) = one("data \"coder_parameter\" \"s\" {\n  name    = \"s\"\n  default = \"x\"\n  validation {\n    min = 1\n  }\n}\n");
        assert!(
            message.ends_with("a min cannot be specified for a string type"),
            "{message}"
        );
    }

    #[test]
    fn duplicate_option_values_and_parameter_names() {
        let found = parameter_findings("data \"coder_parameter\" \"a\" {\n  name = \"x\"\n  option {\n    name  = \"One\"\n    value = \"1\"\n  }\n  option {\n    name  = \"Uno\"\n    value = \"1\"\n  }\n}\ndata \"coder_parameter\" \"b\" {\n  name = \"x\"\n}\n");
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].0, "params.tf:9");
        assert!(found[0]
            .1
            .contains("multiple options found with the same value \"1\""));
        assert_eq!(found[1].0, "params.tf:12");
        assert!(found[1]
            .1
            .starts_with("coder_parameter names must be unique but \"x\" appears multiple times"));
    }

    #[test]
    fn ephemeral_rules() {
        let found = parameter_findings(
            "data \"coder_parameter\" \"e\" {\n  name      = \"e\"\n  ephemeral = true\n}\n",
        );
        let messages: Vec<_> = found.iter().map(|f| f.1.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "data.coder_parameter.e: parameter can't be immutable and ephemeral",
                "data.coder_parameter.e: ephemeral parameter requires the default property",
            ]
        );
    }

    #[test]
    fn computed_defaults_are_not_checked() {
        let found = parameter_findings("data \"coder_parameter\" \"c\" {\n  name    = \"c\"\n  type    = \"number\"\n  default = length(\"abc\")\n  validation {\n    min = 10\n  }\n}\n");
        assert!(found.is_empty(), "{found:?}");
    }
}
