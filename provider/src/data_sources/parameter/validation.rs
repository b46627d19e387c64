//! The `validation` block of `coder_parameter`: min/max, monotonicity against the previous
//! build's value, regex with a custom error, and which rules fit which parameter type. Each
//! rule returns the text that becomes the diagnostic's detail.

use crate::go::json::{decode_string_list, Framing};
use crate::go::regexp;
use crate::go::strconv::atoi;
use crate::schema::validators::go_quote;

/// The rules as configured. A `None` bound was left out of the configuration (upstream's
/// `min_disabled`/`max_disabled`); `min = 0` counts as set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rules {
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub monotonic: String,
    pub regex: String,
    pub error: String,
}

const INCREASING: &str = "increasing";
const DECREASING: &str = "decreasing";

impl Rules {
    /// Checks `value` (the raw string) of a parameter of type `typ`. `previous` is the value of
    /// the previous build, when Coder passed one.
    pub fn check(&self, typ: &str, value: &str, previous: Option<&str>) -> Result<(), String> {
        if typ != "number" {
            if self.min.is_some() {
                return Err(format!("a min cannot be specified for a {typ} type"));
            }
            if self.max.is_some() {
                return Err(format!("a max cannot be specified for a {typ} type"));
            }
            if !self.monotonic.is_empty() {
                return Err(format!(
                    "monotonic validation can only be specified for number types, not {typ} types"
                ));
            }
        }
        if typ != "string" && !self.regex.is_empty() {
            return Err(format!("a regex cannot be specified for a {typ} type"));
        }
        match typ {
            // Stricter than the type check, which also takes `1`, `t`, `TRUE`, ...
            "bool" if value != "true" && value != "false" => {
                Err(r#"boolean value can be either "true" or "false""#.to_string())
            }
            "string" => self.check_regex(value),
            "number" => self.check_number(value, previous),
            "list(string)" => match decode_string_list(value, Framing::WholeInput) {
                Ok(_) => Ok(()),
                Err(_) => Err(format!(
                    "value {} is not valid list of strings",
                    go_quote(value)
                )),
            },
            _ => Ok(()),
        }
    }

    fn check_regex(&self, value: &str) -> Result<(), String> {
        if self.regex.is_empty() {
            return Ok(());
        }
        // Upstream formats the regexp it failed to build, which Go prints as `<nil>`.
        let re = regexp::compile(&self.regex).map_err(|e| format!("compile regex <nil>: {e}"))?;
        if self.error.is_empty() {
            return Err("an error must be specified with a regex validation".to_string());
        }
        if re.is_match(value) {
            Ok(())
        } else {
            Err(format!(
                "{} (value {} does not match {})",
                self.error,
                go_quote(value),
                go_quote(&self.regex)
            ))
        }
    }

    fn check_number(&self, value: &str, previous: Option<&str>) -> Result<(), String> {
        // An integer is required here, although the type check accepts any float.
        let Ok(n) = atoi(value) else {
            return Err(self.custom_or(value, format!("value {} is not a number", go_quote(value))));
        };
        if let Some(min) = self.min.filter(|&min| n < min) {
            return Err(self.custom_or(value, format!("value {n} is less than the minimum {min}")));
        }
        if let Some(max) = self.max.filter(|&max| n > max) {
            return Err(self.custom_or(value, format!("value {n} is more than the maximum {max}")));
        }
        let monotonic = self.monotonic.as_str();
        if !monotonic.is_empty() && monotonic != INCREASING && monotonic != DECREASING {
            return Err(format!(
                "number monotonicity can be either {} or {}",
                go_quote(INCREASING),
                go_quote(DECREASING)
            ));
        }
        // A previous value that is not an integer is ignored: failing on it would leave the
        // workspace with no way forward. The custom error does not apply to monotonicity.
        let Some(prev) = previous.and_then(|p| atoi(p).ok()) else {
            return Ok(());
        };
        match monotonic {
            INCREASING if n < prev => Err(format!(
                "parameter value '{n}' must be equal or greater than previous value: {prev}"
            )),
            DECREASING if n > prev => Err(format!(
                "parameter value '{n}' must be equal or lower than previous value: {prev}"
            )),
            _ => Ok(()),
        }
    }

    /// The custom `error` with `{min}`, `{max}` and `{value}` filled in (bounds that are not
    /// set read as 0), or the built-in message when there is no custom one.
    fn custom_or(&self, value: &str, builtin: String) -> String {
        if self.error.is_empty() {
            return builtin;
        }
        render(
            &self.error,
            &[
                ("{min}", &self.min.unwrap_or(0).to_string()),
                ("{max}", &self.max.unwrap_or(0).to_string()),
                ("{value}", value),
            ],
        )
    }
}

/// Go's `strings.NewReplacer` with these placeholders: one left-to-right pass, replaced text is
/// never scanned again.
fn render(template: &str, replacements: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    'scan: while !rest.is_empty() {
        for (from, to) in replacements {
            if let Some(after) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = after;
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(min: Option<i64>, max: Option<i64>) -> Rules {
        Rules {
            min,
            max,
            ..Rules::default()
        }
    }

    #[test]
    fn bounds_only_fit_numbers() {
        assert_eq!(
            number(Some(0), None)
                .check("string", "x", None)
                .unwrap_err(),
            "a min cannot be specified for a string type"
        );
        assert_eq!(
            number(None, Some(3))
                .check("bool", "true", None)
                .unwrap_err(),
            "a max cannot be specified for a bool type"
        );
        let monotonic = Rules {
            monotonic: INCREASING.to_string(),
            ..Rules::default()
        };
        assert_eq!(
            monotonic.check("list(string)", "[]", None).unwrap_err(),
            "monotonic validation can only be specified for number types, not list(string) types"
        );
    }

    #[test]
    fn regex_only_fits_strings() {
        let rules = Rules {
            regex: "^a$".to_string(),
            error: "e".to_string(),
            ..Rules::default()
        };
        assert_eq!(
            rules.check("number", "1", None).unwrap_err(),
            "a regex cannot be specified for a number type"
        );
    }

    #[test]
    fn bool_value_must_be_spelled_out() {
        assert_eq!(Rules::default().check("bool", "true", None), Ok(()));
        assert_eq!(
            Rules::default().check("bool", "1", None).unwrap_err(),
            r#"boolean value can be either "true" or "false""#
        );
    }

    #[test]
    fn regex_rules() {
        let mut rules = Rules {
            regex: "^[a-z]+$".to_string(),
            ..Rules::default()
        };
        assert_eq!(
            rules.check("string", "abc", None).unwrap_err(),
            "an error must be specified with a regex validation"
        );
        rules.error = "lowercase only".to_string();
        assert_eq!(rules.check("string", "abc", None), Ok(()));
        assert_eq!(
            rules.check("string", "ABC", None).unwrap_err(),
            r#"lowercase only (value "ABC" does not match "^[a-z]+$")"#
        );
        rules.regex = "(".to_string();
        assert_eq!(
            rules.check("string", "x", None).unwrap_err(),
            "compile regex <nil>: error parsing regexp: missing closing ): `(`"
        );
    }

    #[test]
    fn number_bounds() {
        let rules = number(Some(1), Some(10));
        assert_eq!(rules.check("number", "5", None), Ok(()));
        assert_eq!(
            rules.check("number", "0", None).unwrap_err(),
            "value 0 is less than the minimum 1"
        );
        assert_eq!(
            rules.check("number", "11", None).unwrap_err(),
            "value 11 is more than the maximum 10"
        );
        assert_eq!(
            rules.check("number", "1.5", None).unwrap_err(),
            r#"value "1.5" is not a number"#
        );
        // min = 0 is a real bound.
        assert_eq!(
            number(Some(0), None)
                .check("number", "-1", None)
                .unwrap_err(),
            "value -1 is less than the minimum 0"
        );
    }

    #[test]
    fn custom_error_with_placeholders() {
        let rules = Rules {
            min: Some(1),
            max: Some(10),
            error: "{min} < {value} < {max}".to_string(),
            ..Rules::default()
        };
        assert_eq!(rules.check("number", "", None).unwrap_err(), "1 <  < 10");
        let rules = Rules {
            min: Some(10),
            error: "{min} < {value} < {max}".to_string(),
            ..Rules::default()
        };
        assert_eq!(rules.check("number", "5", None).unwrap_err(), "10 < 5 < 0");
    }

    #[test]
    fn monotonicity() {
        let rules = |m: &str| Rules {
            monotonic: m.to_string(),
            error: "ignored for monotonic checks".to_string(),
            ..Rules::default()
        };
        assert_eq!(
            rules("sideways").check("number", "1", None).unwrap_err(),
            r#"number monotonicity can be either "increasing" or "decreasing""#
        );
        assert_eq!(rules(INCREASING).check("number", "10", Some("10")), Ok(()));
        assert_eq!(
            rules(INCREASING)
                .check("number", "5", Some("10"))
                .unwrap_err(),
            "parameter value '5' must be equal or greater than previous value: 10"
        );
        assert_eq!(
            rules(DECREASING)
                .check("number", "11", Some("10"))
                .unwrap_err(),
            "parameter value '11' must be equal or lower than previous value: 10"
        );
        assert_eq!(rules(DECREASING).check("number", "9", Some("10")), Ok(()));
        // No previous value, or one that is not an integer: nothing to compare with.
        assert_eq!(rules(INCREASING).check("number", "5", None), Ok(()));
        assert_eq!(rules(INCREASING).check("number", "5", Some("ten")), Ok(()));
    }

    #[test]
    fn list_of_strings() {
        assert_eq!(
            Rules::default().check("list(string)", r#"["a"]"#, None),
            Ok(())
        );
        assert_eq!(
            Rules::default()
                .check("list(string)", "a", None)
                .unwrap_err(),
            r#"value "a" is not valid list of strings"#
        );
    }

    #[test]
    fn placeholders_are_replaced_once() {
        assert_eq!(
            render("{value}{min}", &[("{min}", "1"), ("{value}", "{min}")]),
            "{min}1"
        );
    }
}
