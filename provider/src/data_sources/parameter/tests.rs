//! `coder_parameter` through the framework: configuration in, state or diagnostics out.

use super::*;
use crate::provider::testing::{read, read_diags, read_error, validate, validate_errors};

fn options(pairs: &[(&str, &str)]) -> Value {
    Value::List(
        pairs
            .iter()
            .map(|(name, value)| {
                Value::object([
                    ("name", Value::string(*name)),
                    ("value", Value::string(*value)),
                ])
            })
            .collect(),
    )
}

fn validation(rules: &[(&str, Value)]) -> Value {
    Value::List(vec![Value::object(
        rules.iter().map(|(k, v)| (k.to_string(), v.clone())),
    )])
}

fn param(name: &str, extra: &[(&'static str, Value)]) -> Vec<(&'static str, Value)> {
    let mut attrs = vec![("name", Value::string(name))];
    attrs.extend(extra.iter().cloned());
    attrs
}

fn input(name: &str, value: &str) -> (String, String) {
    (value_variable(name), value.to_string())
}

fn read_with(attrs: &[(&str, Value)], env: &[(String, String)]) -> Value {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    read(NAME, attrs, &env)
}

fn error_with(attrs: &[(&str, Value)], env: &[(String, String)]) -> Diagnostic {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    read_error(NAME, attrs, &env)
}

fn attr<'a>(state: &'a Value, name: &str) -> &'a Value {
    state.get_attr(name).unwrap_or(&Value::Null)
}

#[test]
fn environment_variable_names_hash_the_name() {
    assert_eq!(
        value_variable("parameter"),
        "CODER_PARAMETER_6390361dfdff141a9223d632accf61242133a92d83f2a71be7233bb1cdbacca2"
    );
    assert_eq!(
        value_variable("Region"),
        "CODER_PARAMETER_d3a008ef1335692d9d045175ba9ea1dcd39ae48da9e2043a9baabad6c3818c28"
    );
    assert_eq!(
        previous_value_variable("AI Prompt"),
        "CODER_PARAMETER_PREVIOUS_0881b748bb90b4c4eb0d79a67fa62678aec1d0cdb90d9ae75026b11dcac8555a"
    );
}

#[test]
fn bare_parameter_reads_empty_and_required() {
    let state = read_with(&param("region", &[]), &[]);
    assert_eq!(attr(&state, "value"), &Value::string(""));
    assert_eq!(attr(&state, "optional"), &Value::bool(false));
    assert_eq!(attr(&state, "type"), &Value::string("string"));
    assert_eq!(attr(&state, "form_type"), &Value::string("input"));
    assert_eq!(attr(&state, "styling"), &Value::string("{}"));
    assert_eq!(attr(&state, "mutable"), &Value::bool(false));
    assert_eq!(attr(&state, "default"), &Value::Null);
    let id = attr(&state, "id").as_str().unwrap_or("");
    assert!(uuid::Uuid::parse_str(id).is_ok());
}

#[test]
fn empty_default_makes_it_optional() {
    let state = read_with(&param("region", &[("default", Value::string(""))]), &[]);
    assert_eq!(attr(&state, "optional"), &Value::bool(true));
    assert_eq!(attr(&state, "value"), &Value::string(""));
    assert_eq!(attr(&state, "default"), &Value::string(""));
}

#[test]
fn input_wins_over_default_even_when_empty() {
    let attrs = param("region", &[("default", Value::string("us"))]);
    let state = read_with(&attrs, &[]);
    assert_eq!(attr(&state, "value"), &Value::string("us"));
    let state = read_with(&attrs, &[input("region", "eu")]);
    assert_eq!(attr(&state, "value"), &Value::string("eu"));
    let state = read_with(&attrs, &[input("region", "")]);
    assert_eq!(attr(&state, "value"), &Value::string(""));
}

#[test]
fn immutable_ephemeral_is_rejected() {
    let d = error_with(
        &param(
            "p",
            &[
                ("ephemeral", Value::bool(true)),
                ("default", Value::string("x")),
            ],
        ),
        &[],
    );
    assert_eq!(d.summary, "parameter can't be immutable and ephemeral");
}

#[test]
fn ephemeral_needs_a_default() {
    let d = error_with(
        &param(
            "p",
            &[
                ("ephemeral", Value::bool(true)),
                ("mutable", Value::bool(true)),
            ],
        ),
        &[],
    );
    assert_eq!(
        d.summary,
        "ephemeral parameter requires the default property"
    );
}

#[test]
fn form_type_is_resolved_and_written_back() {
    let state = read_with(
        &param(
            "p",
            &[
                ("type", Value::string("bool")),
                ("default", Value::string("true")),
            ],
        ),
        &[],
    );
    assert_eq!(attr(&state, "form_type"), &Value::string("checkbox"));
    let state = read_with(
        &param(
            "p",
            &[
                ("default", Value::string("a")),
                ("option", options(&[("A", "a"), ("B", "b")])),
            ],
        ),
        &[],
    );
    assert_eq!(attr(&state, "form_type"), &Value::string("radio"));
}

#[test]
fn form_type_not_allowed_for_the_type() {
    let d = error_with(
        &param(
            "p",
            &[
                ("type", Value::string("number")),
                ("form_type", Value::string("slider")),
                ("option", options(&[("One", "1")])),
            ],
        ),
        &[],
    );
    assert_eq!(d.summary, "Invalid form_type for parameter");
    assert_eq!(
        d.detail,
        r#""form_type" attribute="slider" is not supported for "type"="number" when options exist, choose one of [radio dropdown]"#
    );
    assert_eq!(d.path, Some(AttributePath::root().attr("form_type")));
}

#[test]
fn duplicate_option_names() {
    let d = error_with(
        &param("p", &[("option", options(&[("A", "1"), ("A", "2")]))]),
        &[],
    );
    assert_eq!(d.summary, "Option names must be unique.");
    assert_eq!(d.detail, r#"multiple options found with the same name "A""#);
}

#[test]
fn duplicate_option_values() {
    let d = error_with(
        &param("p", &[("option", options(&[("A", "1"), ("B", "1")]))]),
        &[],
    );
    assert_eq!(d.summary, "Option values must be unique.");
    assert_eq!(
        d.detail,
        r#"multiple options found with the same value "1""#
    );
}

#[test]
fn option_type_errors_are_all_reported() {
    let (_, diags) = read_diags(
        NAME,
        &param(
            "p",
            &[
                ("type", Value::string("number")),
                ("option", options(&[("A", "x"), ("B", "2"), ("C", "y")])),
            ],
        ),
        &[],
    );
    let summaries: Vec<&str> = diags.iter().map(|d| d.summary.as_str()).collect();
    assert_eq!(
        summaries,
        vec![
            r#"Option "A" with value="x" is not of type "number""#,
            r#"Option "C" with value="y" is not of type "number""#,
        ]
    );
    assert_eq!(diags.0[0].detail, r#""x" is not a number"#);
}

#[test]
fn value_must_be_an_option() {
    let attrs = param("p", &[("option", options(&[("A", "a"), ("B", "b")]))]);
    // No input and no default, no validation: nothing is checked.
    assert_eq!(attr(&read_with(&attrs, &[]), "value"), &Value::string(""));

    let d = error_with(&attrs, &[input("p", "c")]);
    assert_eq!(d.summary, "Value must be a valid option");
    assert_eq!(
        d.detail,
        r#"the value "c" must be defined as one of options"#
    );
    assert_eq!(d.path, None);

    let d = error_with(&attrs, &[input("p", "")]);
    assert_eq!(
        d.summary,
        "Value must be a valid option. The value is empty, did you forget to set it with a \
         default or from user input?"
    );
}

#[test]
fn default_must_be_an_option() {
    let d = error_with(
        &param(
            "p",
            &[
                ("default", Value::string("c")),
                ("option", options(&[("A", "a")])),
            ],
        ),
        &[],
    );
    assert_eq!(d.summary, "Default value must be a valid option");
    assert_eq!(d.path, Some(AttributePath::root().attr("default")));
}

#[test]
fn multi_select_values_are_json_lists_of_options() {
    let attrs = param(
        "p",
        &[
            ("type", Value::string("list(string)")),
            ("form_type", Value::string("multi-select")),
            ("option", options(&[("Red", "red"), ("Blue", "blue")])),
        ],
    );
    let state = read_with(&attrs, &[input("p", r#"["red","blue"]"#)]);
    assert_eq!(attr(&state, "value"), &Value::string(r#"["red","blue"]"#));
    assert_eq!(attr(&state, "form_type"), &Value::string("multi-select"));

    let d = error_with(&attrs, &[input("p", "red")]);
    assert_eq!(
        d.summary,
        "When using list(string) type, value must be a json encoded list of strings"
    );
    assert_eq!(d.detail, r#"value "red" is not a valid list of strings"#);

    let d = error_with(&attrs, &[input("p", r#"["red","green","pink"]"#)]);
    assert_eq!(d.summary, "Values must be a valid option");
    assert_eq!(
        d.detail,
        r#"Value "[\"red\",\"green\",\"pink\"]" is not a valid option, values "green, pink" are missing from the options"#
    );
}

#[test]
fn multi_select_default_errors_name_the_default() {
    let d = error_with(
        &param(
            "p",
            &[
                ("type", Value::string("list(string)")),
                ("form_type", Value::string("multi-select")),
                ("default", Value::string(r#"["green"]"#)),
                ("option", options(&[("Red", "red")])),
            ],
        ),
        &[],
    );
    assert_eq!(d.summary, "Default values must be a valid option");
    assert!(d.detail.starts_with("Default value "));
    assert_eq!(d.path, Some(AttributePath::root().attr("default")));
}

#[test]
fn validation_failures_on_input_and_default() {
    let rules = validation(&[("min", Value::number_i64(1)), ("max", Value::number_i64(5))]);
    let attrs = param(
        "p",
        &[
            ("type", Value::string("number")),
            ("validation", rules.clone()),
        ],
    );
    let d = error_with(&attrs, &[input("p", "9")]);
    assert_eq!(
        d.summary,
        "Invalid parameter value according to 'validation' block"
    );
    assert_eq!(d.detail, "value 9 is more than the maximum 5");

    let d = error_with(
        &param(
            "p",
            &[
                ("type", Value::string("number")),
                ("default", Value::string("0")),
                ("validation", rules),
            ],
        ),
        &[],
    );
    assert_eq!(
        d.summary,
        "Invalid parameter default value according to 'validation' block"
    );
    assert_eq!(d.detail, "value 0 is less than the minimum 1");
    assert_eq!(d.path, Some(AttributePath::root().attr("default")));
}

#[test]
fn validation_applies_even_without_a_value() {
    let d = error_with(
        &param(
            "p",
            &[
                ("type", Value::string("number")),
                (
                    "validation",
                    validation(&[
                        ("min", Value::number_i64(1)),
                        ("max", Value::number_i64(10)),
                        ("error", Value::string("{min} < {value} < {max}")),
                    ]),
                ),
            ],
        ),
        &[],
    );
    assert_eq!(d.detail, "1 <  < 10");
}

#[test]
fn disabled_bounds_are_written_back() {
    let state = read_with(
        &param(
            "p",
            &[
                ("type", Value::string("number")),
                ("default", Value::string("3")),
                ("validation", validation(&[("min", Value::number_i64(0))])),
            ],
        ),
        &[],
    );
    let rule = &attr(&state, "validation").elements().unwrap_or_default()[0];
    assert_eq!(rule.get_attr("min_disabled"), Some(&Value::bool(false)));
    assert_eq!(rule.get_attr("max_disabled"), Some(&Value::bool(true)));
}

#[test]
fn monotonic_against_the_previous_build() {
    let attrs = param(
        "p",
        &[
            ("type", Value::string("number")),
            ("mutable", Value::bool(true)),
            (
                "validation",
                validation(&[("monotonic", Value::string("increasing"))]),
            ),
        ],
    );
    let previous = (previous_value_variable("p"), "10".to_string());
    let d = error_with(&attrs, &[input("p", "5"), previous.clone()]);
    assert_eq!(
        d.detail,
        "parameter value '5' must be equal or greater than previous value: 10"
    );
    let state = read_with(&attrs, &[input("p", "11"), previous]);
    assert_eq!(attr(&state, "value"), &Value::string("11"));
    // Without a previous value there is nothing to compare.
    let state = read_with(&attrs, &[input("p", "1")]);
    assert_eq!(attr(&state, "value"), &Value::string("1"));
}

#[test]
fn value_must_be_of_the_type() {
    let d = error_with(
        &param("p", &[("type", Value::string("number"))]),
        &[input("p", "abc")],
    );
    assert_eq!(d.summary, r#"Parameter value is not of type "number""#);
    assert_eq!(d.detail, r#""abc" is not a number"#);

    let d = error_with(
        &param("p", &[("type", Value::string("bool"))]),
        &[input("p", "yes")],
    );
    assert_eq!(d.summary, r#"Parameter value is not of type "bool""#);
    assert_eq!(d.detail, r#""yes" is not a bool"#);

    let d = error_with(
        &param("p", &[("type", Value::string("list(string)"))]),
        &[input("p", "[1]")],
    );
    assert_eq!(d.detail, r#"value "[1]" is not a valid list of strings"#);
}

#[test]
fn number_values_are_kept_verbatim() {
    let state = read_with(
        &param("p", &[("type", Value::string("number"))]),
        &[input("p", "1e3")],
    );
    assert_eq!(attr(&state, "value"), &Value::string("1e3"));
}

#[test]
fn thousand_options_with_icons() {
    let many: Vec<Value> = (0..1024)
        .map(|i| {
            Value::object([
                ("name", Value::string(format!("Option {i}"))),
                ("value", Value::string(format!("v{i}"))),
                ("icon", Value::string(format!("/icon/{i}.svg"))),
            ])
        })
        .collect();
    let attrs = param(
        "p",
        &[
            ("option", Value::List(many)),
            ("default", Value::string("v1023")),
        ],
    );
    let state = read_with(&attrs, &[]);
    assert_eq!(attr(&state, "value"), &Value::string("v1023"));
}

#[test]
fn schema_level_checks() {
    let errors = validate_errors(NAME, &param("p", &[("type", Value::string("text"))]));
    assert_eq!(
        errors[0].summary,
        r#"expected type to be one of ["string" "number" "bool" "list(string)"], got text"#
    );
    let errors = validate_errors(NAME, &param("p", &[("form_type", Value::string("knob"))]));
    assert_eq!(
        errors[0].summary,
        r#"expected form_type to be one of ["radio" "slider" "input" "dropdown" "checkbox" "switch" "multi-select" "tag-select" "textarea" "error"], got knob"#
    );
    let errors = validate_errors(
        NAME,
        &param(
            "p",
            &[(
                "validation",
                validation(&[
                    ("regex", Value::string("^a$")),
                    ("min", Value::number_i64(0)),
                ]),
            )],
        ),
    );
    assert_eq!(errors[0].summary, "Conflicting configuration arguments");
    assert_eq!(
        errors[0].detail,
        r#""validation.0.regex": conflicts with validation.0.min"#
    );
    let errors = validate_errors(
        NAME,
        &param(
            "p",
            &[(
                "option",
                Value::List(vec![Value::object([
                    ("name", Value::string("A")),
                    ("value", Value::string("a")),
                    ("icon", Value::string("/icon%.svg")),
                ])]),
            )],
        ),
    );
    assert!(errors[0].summary.contains("invalid URL escape"));
    assert!(!validate(NAME, &param("p", &[])).has_errors());
}
