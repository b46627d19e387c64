//! `data "coder_parameter"`: a value the workspace owner chooses (a rich parameter). Coder
//! reads the parameters from the plan to build its form, then passes the chosen value back in
//! `CODER_PARAMETER_<sha256 hex of name>`; the data source checks it against the options and
//! the `validation` block and exposes it as `value`.

mod form_type;
mod validation;

use std::collections::{BTreeMap, HashSet};

use sha2::{Digest, Sha256};

use crate::cty::{AttributePath, Value};
use crate::provider::CoderMeta;
use crate::schema::validators::{go_quote, one_of};
use crate::schema::{Attribute, Block, DataSource, Diagnostic, Diagnostics, NestedBlock, Schema};

use crate::go::json::{decode_string_list, Framing};
use crate::go::strconv::{is_go_float, parse_bool};
use validation::Rules;

pub struct Parameter;

const NAME: &str = "coder_parameter";

fn sha256_hex(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The variable carrying the user's value for parameter `name`; names may hold any character,
/// hence the hash.
pub fn value_variable(name: &str) -> String {
    format!("CODER_PARAMETER_{}", sha256_hex(name))
}

/// The variable carrying the value of the previous build, for monotonic validation.
pub fn previous_value_variable(name: &str) -> String {
    format!("CODER_PARAMETER_PREVIOUS_{}", sha256_hex(name))
}

fn icon_attribute() -> Attribute {
    Attribute::string("icon")
        .optional()
        .force_new()
        .validate(crate::go::url::validator())
        .describe(
            "URL or path of an icon shown in the dashboard, e.g. \
             `\"${data.coder_workspace.me.access_url}/icon/<name>.svg\"`.",
        )
}

/// One `option` block as the checks need it.
struct ParameterOption {
    name: String,
    value: String,
}

/// The configuration, decoded once.
struct Definition {
    name: String,
    typ: String,
    form_type: String,
    mutable: bool,
    ephemeral: bool,
    /// `None` when the configuration leaves `default` out or null; `""` is a real default.
    default: Option<String>,
    options: Vec<ParameterOption>,
    validation: Option<Rules>,
}

fn text(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// An integer attribute; a fractional number is truncated, as SDKv2's weak decoding does.
fn integer(value: Option<&Value>) -> Option<i64> {
    let n = value?.as_number()?;
    n.as_i64().or_else(|| {
        let f = n.as_f64().trunc();
        // Saturating conversion; only absurd configurations get here.
        f.is_finite().then_some(f as i64)
    })
}

impl Definition {
    fn decode(config: &Value) -> Definition {
        let attr = |name: &str| config.get_attr(name);
        let options = attr("option")
            .and_then(Value::elements)
            .unwrap_or_default()
            .iter()
            .map(|o| ParameterOption {
                name: text(o.get_attr("name")),
                value: text(o.get_attr("value")),
            })
            .collect();
        let validation = attr("validation")
            .and_then(Value::elements)
            .and_then(<[Value]>::first)
            .map(|v| Rules {
                min: integer(v.get_attr("min")),
                max: integer(v.get_attr("max")),
                monotonic: text(v.get_attr("monotonic")),
                regex: text(v.get_attr("regex")),
                error: text(v.get_attr("error")),
            });
        Definition {
            name: text(attr("name")),
            typ: text(attr("type")),
            form_type: text(attr("form_type")),
            mutable: attr("mutable").and_then(Value::as_bool).unwrap_or(false),
            ephemeral: attr("ephemeral").and_then(Value::as_bool).unwrap_or(false),
            default: attr("default").and_then(Value::as_str).map(str::to_string),
            options,
            validation,
        }
    }

    /// The value the parameter takes and its resolved form type, or the diagnostics that
    /// stop the read. Checks run in upstream's order, and the first failing step wins.
    fn resolve(
        &self,
        input: Option<&str>,
        previous: Option<&str>,
    ) -> Result<(String, String), Diagnostics> {
        // Errors about a value that came from `default` point at it and say "Default value".
        let (value, from_default) = match input {
            Some(input) => (Some(input), false),
            None => (self.default.as_deref(), self.default.is_some()),
        };
        let (option_type, form_type) =
            form_type::resolve(&self.typ, self.options.len(), &self.form_type).map_err(
                |detail| {
                    Diagnostics::from(
                        Diagnostic::error("Invalid form_type for parameter")
                            .detail(detail)
                            .at(AttributePath::root().attr("form_type")),
                    )
                },
            )?;
        let option_values = self.check_options(option_type)?;

        // Without a validation block, an absent value is simply empty and nothing is checked.
        if self.validation.is_none() && value.is_none() {
            return Ok((String::new(), form_type));
        }
        let value = value.unwrap_or_default();
        self.check_value(value, previous, option_type, &option_values, from_default)
            .map_err(Diagnostics::from)?;
        if let Err(detail) = value_is_type(&self.typ, value) {
            return Err(Diagnostic::error(format!(
                "Parameter value is not of type {}",
                go_quote(&self.typ)
            ))
            .detail(detail)
            .into());
        }
        Ok((value.to_string(), form_type))
    }

    /// Option names and values must be unique and values of the option type. Type errors are
    /// all collected (a bad option then takes no part in the duplicate checks); a duplicate
    /// stops at once.
    fn check_options(&self, option_type: &str) -> Result<HashSet<String>, Diagnostics> {
        let mut names = HashSet::new();
        let mut values = HashSet::new();
        let mut diags = Diagnostics::new();
        for option in &self.options {
            if names.contains(&option.name) {
                return Err(Diagnostic::error("Option names must be unique.")
                    .detail(format!(
                        "multiple options found with the same name {}",
                        go_quote(&option.name)
                    ))
                    .into());
            }
            if values.contains(&option.value) {
                return Err(Diagnostic::error("Option values must be unique.")
                    .detail(format!(
                        "multiple options found with the same value {}",
                        go_quote(&option.value)
                    ))
                    .into());
            }
            if let Err(detail) = value_is_type(option_type, &option.value) {
                diags.push(
                    Diagnostic::error(format!(
                        "Option {} with value={} is not of type {}",
                        go_quote(&option.name),
                        go_quote(&option.value),
                        go_quote(option_type)
                    ))
                    .detail(detail),
                );
                continue;
            }
            names.insert(option.name.clone());
            values.insert(option.value.clone());
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(values)
    }

    /// The value against the options, then against the validation block.
    fn check_value(
        &self,
        value: &str,
        previous: Option<&str>,
        option_type: &str,
        option_values: &HashSet<String>,
        from_default: bool,
    ) -> Result<(), Diagnostic> {
        let (label, path) = if from_default {
            ("Default value", Some(AttributePath::root().attr("default")))
        } else {
            ("Value", None)
        };
        let located = |d: Diagnostic| match &path {
            Some(p) => d.at(p.clone()),
            None => d,
        };
        if !option_values.is_empty() {
            if self.typ == "list(string)" && option_type == "string" {
                // multi-select: every element of the JSON list must be an option.
                let items = value_is_list_string(value).map_err(|detail| {
                    located(
                        Diagnostic::error(
                            "When using list(string) type, value must be a json encoded list \
                             of strings",
                        )
                        .detail(detail),
                    )
                })?;
                let missing: Vec<&str> = items
                    .iter()
                    .filter(|item| !option_values.contains(*item))
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    return Err(located(
                        Diagnostic::error(format!("{label}s must be a valid option")).detail(
                            format!(
                                "{label} {} is not a valid option, values {} are missing from \
                                 the options",
                                go_quote(value),
                                go_quote(&missing.join(", "))
                            ),
                        ),
                    ));
                }
            } else if !option_values.contains(value) {
                let hint = if value.is_empty() {
                    ". The value is empty, did you forget to set it with a default or from \
                     user input?"
                } else {
                    ""
                };
                return Err(located(
                    Diagnostic::error(format!("{label} must be a valid option{hint}")).detail(
                        format!(
                            "the value {} must be defined as one of options",
                            go_quote(value)
                        ),
                    ),
                ));
            }
        }
        if let Some(rules) = &self.validation {
            rules.check(&self.typ, value, previous).map_err(|detail| {
                located(
                    Diagnostic::error(format!(
                        "Invalid parameter {} according to 'validation' block",
                        label.to_lowercase()
                    ))
                    .detail(detail),
                )
            })?;
        }
        Ok(())
    }
}

fn value_is_list_string(value: &str) -> Result<Vec<String>, String> {
    decode_string_list(value, Framing::WholeInput)
        .map_err(|_| format!("value {} is not a valid list of strings", go_quote(value)))
}

/// Whether a raw value is of a parameter type, with upstream's messages. Numbers follow Go's
/// `ParseFloat` (exponents, `Inf`), booleans Go's `ParseBool` (`1`, `t`, `TRUE`, ...).
fn value_is_type(typ: &str, value: &str) -> Result<(), String> {
    match typ {
        "number" if !is_go_float(value) => Err(format!("{} is not a number", go_quote(value))),
        "bool" if parse_bool(value).is_none() => Err(format!("{} is not a bool", go_quote(value))),
        "list(string)" => value_is_list_string(value).map(|_| ()),
        "number" | "bool" | "string" => Ok(()),
        other => Err(format!("invalid type {}", go_quote(other))),
    }
}

impl DataSource<CoderMeta> for Parameter {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> Schema {
        let option = Block::new()
            .describe("A value the user can pick.")
            .attr(
                Attribute::string("name")
                    .required()
                    .force_new()
                    .describe("The option's label in the UI."),
            )
            .attr(
                Attribute::string("description")
                    .optional()
                    .force_new()
                    .describe("What picking this option means."),
            )
            .attr(
                Attribute::string("value")
                    .required()
                    .force_new()
                    .describe("The parameter's value when this option is picked."),
            )
            .attr(icon_attribute());
        let validation = Block::new()
            .describe("Rules the value must follow.")
            .attr(
                Attribute::number("min")
                    .optional()
                    .describe("Smallest allowed value of a number parameter."),
            )
            .attr(
                Attribute::bool("min_disabled")
                    .computed()
                    .describe("True when `min` is not set."),
            )
            .attr(
                Attribute::number("max")
                    .optional()
                    .describe("Largest allowed value of a number parameter."),
            )
            .attr(
                Attribute::bool("max_disabled")
                    .computed()
                    .describe("True when `max` is not set."),
            )
            .attr(Attribute::string("monotonic").optional().describe(
                "For numbers: `increasing` or `decreasing` relative to the previous build's value.",
            ))
            .attr(
                Attribute::string("regex")
                    .optional()
                    .conflicts_with(&[
                        "validation.0.min",
                        "validation.0.max",
                        "validation.0.monotonic",
                    ])
                    .describe("For strings: a Go (RE2) regular expression the value must match."),
            )
            .attr(Attribute::string("error").optional().describe(
                "Message shown when the value breaks a rule; `{min}`, `{max}` and `{value}` are \
                 filled in.",
            ));

        Schema::new("A value the workspace owner chooses when creating or updating a workspace.")
            .version(1)
            .attr(
                Attribute::string("value")
                    .computed()
                    .describe("The chosen value (or the default), as a string."),
            )
            .attr(
                Attribute::string("name")
                    .required()
                    .describe("The parameter's name; renaming it asks users for a new value."),
            )
            .attr(
                Attribute::string("display_name")
                    .optional()
                    .describe("The name shown in the UI."),
            )
            .attr(
                Attribute::string("description")
                    .optional()
                    .describe("What the parameter is for."),
            )
            .attr(
                Attribute::string("type")
                    .default(Value::string("string"))
                    .validate(one_of(form_type::TYPES))
                    .describe("`string`, `number`, `bool` or `list(string)`."),
            )
            .attr(
                Attribute::string("form_type")
                    .default(Value::string(""))
                    .validate(one_of(form_type::FORM_TYPES))
                    .describe(
                        "The input widget; left empty, the provider picks the usual one for the \
                         type and writes it back.",
                    ),
            )
            .attr(
                // Cosmetic JSON for the UI; upstream never checks it.
                Attribute::string("styling")
                    .default(Value::string("{}"))
                    .describe("JSON with presentation hints for the UI."),
            )
            .attr(
                Attribute::bool("mutable")
                    .default(Value::bool(false))
                    .describe("Whether the value may change after the workspace is created."),
            )
            .attr(Attribute::string("default").optional().describe(
                "The value when the user gives none; setting it makes the parameter optional.",
            ))
            .attr(icon_attribute())
            .block(NestedBlock::list("option", option))
            .block(NestedBlock::list("validation", validation).max(1))
            .attr(
                Attribute::bool("optional")
                    .computed()
                    .describe("True when the parameter has a default."),
            )
            .attr(
                Attribute::number("order")
                    .optional()
                    .describe("Position in the form; lower comes first, ties sort by name."),
            )
            .attr(
                Attribute::bool("ephemeral")
                    .default(Value::bool(false))
                    .describe("Whether the value is forgotten after each build."),
            )
    }

    fn read(&self, meta: &CoderMeta, config: Value, diags: &mut Diagnostics) -> Value {
        let mut state = config.as_object().cloned().unwrap_or_default();
        // A fresh id on every read, whatever the configuration says.
        state.insert(
            "id".to_string(),
            Value::string(uuid::Uuid::new_v4().to_string()),
        );
        record_disabled_bounds(&mut state);

        let definition = Definition::decode(&config);
        // `default = ""` makes the parameter optional; leaving it out (or null) does not.
        let optional = definition.default.is_some();
        state.insert("optional".to_string(), Value::bool(optional));

        if !definition.mutable && definition.ephemeral {
            diags.push(Diagnostic::error(
                "parameter can't be immutable and ephemeral",
            ));
            return Value::Object(state);
        }
        if !optional && definition.ephemeral {
            diags.push(Diagnostic::error(
                "ephemeral parameter requires the default property",
            ));
            return Value::Object(state);
        }

        // Set-but-empty is a real input (the user cleared the field).
        let input = meta.env.lookup(&value_variable(&definition.name));
        let previous = meta.env.lookup(&previous_value_variable(&definition.name));
        match definition.resolve(input, previous) {
            Ok((value, form_type)) => {
                state.insert("value".to_string(), Value::string(value));
                state.insert("form_type".to_string(), Value::string(form_type));
            }
            Err(errors) => diags.extend(errors),
        }
        Value::Object(state)
    }
}

/// `validation[0].min_disabled`/`max_disabled` say whether the bound was left out of the
/// configuration, so `min = 0` stays a real bound.
fn record_disabled_bounds(state: &mut BTreeMap<String, Value>) {
    let Some(Value::List(blocks)) = state.get_mut("validation") else {
        return;
    };
    let Some(Value::Object(rule)) = blocks.first_mut() else {
        return;
    };
    for (bound, flag) in [("min", "min_disabled"), ("max", "max_disabled")] {
        let disabled = rule.get(bound).is_none_or(Value::is_null);
        rule.insert(flag.to_string(), Value::bool(disabled));
    }
}

#[cfg(test)]
mod tests;
