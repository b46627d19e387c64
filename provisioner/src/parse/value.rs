//! Constant values of the template source (`default`, `description`, `sensitive`, …) and the
//! conversions upstream applies to them.
//!
//! Upstream evaluates such expressions with no variables and no functions, then (for a
//! variable's default) goes cty value → JSON → Go `interface{}` → Go `json.Marshal`. That round
//! trip decides the text a client sees: numbers become float64 and print like Go's encoder
//! (`1e+21`, `1e-7`), object keys come out sorted, and `<`, `>`, `&`, U+2028 and U+2029 are
//! escaped. `render_default` reproduces the observable result.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hcl::eval::{Context, Evaluate};

use super::syntax::RenamedKey;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number as decimal text; kept as text so integers convert to strings exactly.
    Number(String),
    String(String),
    List(Vec<Value>),
    Object(BTreeMap<String, Value>),
}

/// Why a constant expression could not be evaluated, worded as HCL words it for an
/// evaluation without variables or functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalProblem {
    pub summary: String,
    pub detail: String,
}

/// Evaluates an expression with an empty context, as upstream does (`Expr.Value(nil)`).
pub fn evaluate(expr: &hcl::Expression) -> Result<Value, EvalProblem> {
    let mut expr = expr.clone();
    fold_arithmetic(&mut expr)?;
    guarded(|| expr.evaluate(&Context::new())).map(Value::from_hcl)
}

/// hcl-rs computes integer arithmetic in `u64`/`i64`, which panics (debug) or wraps (release) on
/// overflow and always panics on `% 0`. cty computes with arbitrary precision, and upstream then
/// reads the default back as a float64, so computing in `f64` gives the same observable result.
/// Operations whose operands are number literals (after folding their own operands) are
/// therefore computed here and replaced by their result; anything else is left to hcl-rs.
fn fold_arithmetic(expr: &mut hcl::Expression) -> Result<(), EvalProblem> {
    use hcl::expr::{BinaryOperator as B, Operation, UnaryOperator};
    use hcl::Expression as E;

    let folded = match expr {
        E::Array(items) => return items.iter_mut().try_for_each(fold_arithmetic),
        E::Object(object) => return object.values_mut().try_for_each(fold_arithmetic),
        E::Parenthesis(inner) => return fold_arithmetic(inner),
        E::Conditional(c) => {
            fold_arithmetic(&mut c.cond_expr)?;
            fold_arithmetic(&mut c.true_expr)?;
            return fold_arithmetic(&mut c.false_expr);
        }
        E::ForExpr(f) => return fold_arithmetic(&mut f.collection_expr),
        E::Operation(op) => match &mut **op {
            Operation::Unary(unary) => {
                fold_arithmetic(&mut unary.expr)?;
                match (unary.operator, literal_number(&unary.expr)) {
                    (UnaryOperator::Neg, Some(n)) => -n,
                    _ => return Ok(()),
                }
            }
            Operation::Binary(binary) => {
                fold_arithmetic(&mut binary.lhs_expr)?;
                fold_arithmetic(&mut binary.rhs_expr)?;
                let (Some(a), Some(b)) = (
                    literal_number(&binary.lhs_expr),
                    literal_number(&binary.rhs_expr),
                ) else {
                    return Ok(());
                };
                let operation_failed = |why: &str| EvalProblem {
                    summary: "Operation failed".to_string(),
                    detail: format!("Error during operation: {why}."),
                };
                match binary.operator {
                    B::Plus => a + b,
                    B::Minus => a - b,
                    B::Mul => a * b,
                    B::Div if b == 0.0 => return Err(operation_failed("can't divide by zero")),
                    B::Div => a / b,
                    B::Mod if b == 0.0 => {
                        return Err(operation_failed("can't use zero as divisor"))
                    }
                    B::Mod => a % b,
                    _ => return Ok(()),
                }
            }
        },
        _ => return Ok(()),
    };
    *expr = E::Number(hcl::Number::from_f64(folded).ok_or_else(|| EvalProblem {
        summary: "Operation failed".to_string(),
        detail: "Error during operation: the result is out of range.".to_string(),
    })?);
    Ok(())
}

fn literal_number(expr: &hcl::Expression) -> Option<f64> {
    match expr {
        hcl::Expression::Number(n) => n.as_f64(),
        hcl::Expression::Parenthesis(inner) => literal_number(inner),
        _ => None,
    }
}

/// Runs an hcl-rs evaluation, turning a panic inside hcl-rs (integer arithmetic that
/// [`fold_arithmetic`] cannot see, e.g. inside a `for` body or a template string) into an
/// error instead of taking the caller down.
fn guarded<T>(evaluation: impl FnOnce() -> Result<T, hcl::eval::Error>) -> Result<T, EvalProblem> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(evaluation)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(eval_problem(&err)),
        Err(_) => Err(EvalProblem {
            summary: "Operation failed".to_string(),
            detail: "Error during operation: the result is out of range.".to_string(),
        }),
    }
}

/// Evaluates the text of a JSON string the way HCL's JSON syntax does: as a template, so that
/// `${ … }` sequences are interpolated (and fail the same way as in native syntax).
pub fn evaluate_json_template(text: &str) -> Result<Value, EvalProblem> {
    if !text.contains("${") && !text.contains("%{") {
        return Ok(Value::String(text.to_string()));
    }
    let template: hcl::Template = text.parse().map_err(|err: hcl::Error| {
        let message = match &err {
            hcl::Error::Parse(parse) => parse.message().to_string(),
            other => other.to_string(),
        };
        EvalProblem {
            summary: "Invalid template".to_string(),
            detail: format!("The template could not be parsed: {message}."),
        }
    })?;
    // A template that is exactly one interpolation yields that value unconverted (HCL's
    // "interpolation unwrapping").
    if let [hcl::template::Element::Interpolation(interp)] = template.elements() {
        return evaluate(&interp.expr);
    }
    guarded(|| template.evaluate(&Context::new())).map(Value::String)
}

fn eval_problem(err: &hcl::eval::Error) -> EvalProblem {
    use hcl::eval::ErrorKind;
    match err.kind() {
        ErrorKind::UndefinedVar(_) => EvalProblem {
            summary: "Variables not allowed".to_string(),
            detail: "Variables may not be used here.".to_string(),
        },
        ErrorKind::UndefinedFunc(_) => EvalProblem {
            summary: "Function calls not allowed".to_string(),
            detail: "Functions may not be called here.".to_string(),
        },
        _ => EvalProblem {
            summary: "Invalid expression".to_string(),
            detail: format!("{err}."),
        },
    }
}

impl Value {
    pub fn from_hcl(value: hcl::Value) -> Value {
        match value {
            hcl::Value::Null => Value::Null,
            hcl::Value::Bool(b) => Value::Bool(b),
            hcl::Value::Number(n) => Value::Number(n.to_string()),
            hcl::Value::String(s) => Value::String(s),
            hcl::Value::Array(items) => {
                Value::List(items.into_iter().map(Value::from_hcl).collect())
            }
            hcl::Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, Value::from_hcl(v)))
                    .collect(),
            ),
        }
    }

    /// A JSON value of a `.tf.json` file, with strings evaluated as HCL templates.
    pub fn from_json(value: serde_json::Value) -> Result<Value, EvalProblem> {
        Ok(match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n.to_string()),
            serde_json::Value::String(s) => evaluate_json_template(&s)?,
            serde_json::Value::Array(items) => Value::List(
                items
                    .into_iter()
                    .map(Value::from_json)
                    .collect::<Result<_, _>>()?,
            ),
            serde_json::Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| Ok((k, Value::from_json(v)?)))
                    .collect::<Result<_, EvalProblem>>()?,
            ),
        })
    }

    /// Puts back the names of object keys that were renamed so the file could be parsed (see
    /// `syntax::parse_allowing_repeated_keys`). A renamed key repeats an earlier key of its
    /// object, and as in HCL the later item wins.
    pub fn restore_renamed_keys(&mut self, renamed: &[RenamedKey]) {
        match self {
            Value::List(items) => {
                for item in items {
                    item.restore_renamed_keys(renamed);
                }
            }
            Value::Object(map) => {
                let mut repeated = Vec::new();
                for key in renamed {
                    if let Some(mut item) = map.remove(&key.placeholder) {
                        item.restore_renamed_keys(renamed);
                        repeated.push((key.name.clone(), item));
                    }
                }
                for item in map.values_mut() {
                    item.restore_renamed_keys(renamed);
                }
                // `renamed` is in source order, so the last repetition is inserted last.
                map.extend(repeated);
            }
            _ => {}
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "tuple",
            Value::Object(_) => "object",
        }
    }

    /// cty's conversion to string: strings as they are, numbers and bools as their text.
    pub fn to_cty_string(&self) -> Result<String, String> {
        match self {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(number_as_string(n)),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Null => Err("value must not be null".to_string()),
            other => Err(format!("string required, but have {}", other.type_name())),
        }
    }

    /// cty's conversion to bool: bools, and the strings `"true"` / `"false"`.
    pub fn to_cty_bool(&self) -> Result<bool, String> {
        match self {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" => Ok(true),
            Value::String(s) if s == "false" => Ok(false),
            Value::String(_) => Err("a bool is required".to_string()),
            Value::Null => Err("value must not be null".to_string()),
            other => Err(format!("bool required, but have {}", other.type_name())),
        }
    }
}

/// Numbers print without an exponent when converted to a string (cty's `Text('f', -1)`).
fn number_as_string(text: &str) -> String {
    if text.parse::<i128>().is_ok() {
        return text.to_string();
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => f.to_string(),
        _ => text.to_string(),
    }
}

/// The `default_value` text upstream reports: `None` when there is no default (an explicit
/// `null` counts as none), the string itself for a string, compact JSON otherwise.
pub fn render_default(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => {
            let mut out = String::new();
            write_go_json(other, &mut out)?;
            Ok(Some(out))
        }
    }
}

fn write_go_json(value: &Value, out: &mut String) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_float(n)?),
        Value::String(s) => write_go_string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(key, out);
                out.push(':');
                write_go_json(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A number as Go's `encoding/json` prints a float64: shortest round-trip digits, plain
/// notation unless the magnitude is below 1e-6 or at least 1e21, where Go uses an exponent
/// with an explicit sign (`1e+21`, `1.5e-7`).
fn go_float(text: &str) -> Result<String, String> {
    let f: f64 = text
        .parse()
        .map_err(|_| format!("number {text} is not representable"))?;
    if !f.is_finite() {
        return Err(format!("number {text} is out of range"));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let exp = format!("{f:e}");
        return Ok(match exp.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                format!("{mantissa}e+{exponent}")
            }
            _ => exp,
        });
    }
    // `-0` prints as `-0` in Go as well; Rust's Display agrees.
    Ok(f.to_string())
}

/// A JSON string as Go's `encoding/json` writes it (HTML-safe escaping on).
fn write_go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates `src` as the value of an attribute (heredocs need the line end after them).
    fn eval_src(src: &str) -> Result<Value, EvalProblem> {
        let body = hcl::edit::parser::parse_body(&format!("x = {src}\n"))
            .unwrap_or_else(|e| panic!("{src}: {e}"));
        let attribute = body.get_attribute("x").expect("attribute x");
        evaluate(&hcl::Expression::from(attribute.value.clone()))
    }

    fn default_of(src: &str) -> Option<String> {
        let value = eval_src(src).unwrap_or_else(|p| panic!("{src}: {p:?}"));
        render_default(&value).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    #[test]
    fn string_default_is_the_string_itself() {
        assert_eq!(default_of("\"abc\"").as_deref(), Some("abc"));
        assert_eq!(default_of("\"\"").as_deref(), Some(""));
    }

    #[test]
    fn null_default_counts_as_no_default() {
        assert_eq!(default_of("null"), None);
    }

    #[test]
    fn bool_and_number_defaults_are_json() {
        assert_eq!(default_of("true").as_deref(), Some("true"));
        assert_eq!(default_of("4").as_deref(), Some("4"));
        assert_eq!(default_of("1.5").as_deref(), Some("1.5"));
        assert_eq!(default_of("-3").as_deref(), Some("-3"));
    }

    #[test]
    fn numbers_print_like_go_float64() {
        assert_eq!(default_of("1e21").as_deref(), Some("1e+21"));
        assert_eq!(default_of("1e20").as_deref(), Some("100000000000000000000"));
        assert_eq!(default_of("0.0000001").as_deref(), Some("1e-7"));
        assert_eq!(default_of("0.000001").as_deref(), Some("0.000001"));
        assert_eq!(default_of("1/3").as_deref(), Some("0.3333333333333333"));
        assert_eq!(
            default_of("12345678901234567890").as_deref(),
            Some("12345678901234567000")
        );
    }

    #[test]
    fn list_and_object_defaults_are_compact_json_with_sorted_keys() {
        assert_eq!(
            default_of("[\"a\", \"b\"]").as_deref(),
            Some("[\"a\",\"b\"]")
        );
        assert_eq!(
            default_of("{ b = 1, a = [true, null] }").as_deref(),
            Some("{\"a\":[true,null],\"b\":1}")
        );
        assert_eq!(default_of("[]").as_deref(), Some("[]"));
        assert_eq!(default_of("{}").as_deref(), Some("{}"));
    }

    #[test]
    fn strings_inside_json_are_html_escaped_like_go() {
        assert_eq!(
            default_of("[\"<a> & \\\"b\\\"\\n\"]").as_deref(),
            Some("[\"\\u003ca\\u003e \\u0026 \\\"b\\\"\\n\"]")
        );
    }

    #[test]
    fn templates_and_operators_are_evaluated() {
        assert_eq!(default_of("\"a-${1 + 1}\"").as_deref(), Some("a-2"));
        assert_eq!(default_of("\"${1 + 1}\"").as_deref(), Some("2"));
        assert_eq!(default_of("true ? \"x\" : \"y\"").as_deref(), Some("x"));
        assert_eq!(
            default_of("<<EOT\nhello\nEOT\n").as_deref(),
            Some("hello\n")
        );
    }

    #[test]
    fn arithmetic_is_computed_in_float_without_overflow() {
        assert_eq!(
            default_of("18446744073709551615 * 2").as_deref(),
            Some("36893488147419103000")
        );
        assert_eq!(default_of("(1 + 2) * -3").as_deref(), Some("-9"));
        assert_eq!(default_of("7 % 4").as_deref(), Some("3"));
        assert_eq!(
            default_of("[1 + 1, { a = 2 * 2 }]").as_deref(),
            Some("[2,{\"a\":4}]")
        );
    }

    #[test]
    fn division_and_modulo_by_zero_fail() {
        let div = eval_src("1 / 0").err().map(|p| p.detail);
        assert_eq!(
            div.as_deref(),
            Some("Error during operation: can't divide by zero.")
        );
        let rem = eval_src("5 % 0").err().map(|p| p.summary);
        assert_eq!(rem.as_deref(), Some("Operation failed"));
    }

    #[test]
    fn variables_and_functions_are_not_allowed() {
        let var = eval_src("var.x").err().map(|p| p.summary);
        assert_eq!(var.as_deref(), Some("Variables not allowed"));
        let func = eval_src("upper(\"x\")").err().map(|p| p.summary);
        assert_eq!(func.as_deref(), Some("Function calls not allowed"));
    }

    #[test]
    fn conversions_to_string_and_bool_follow_cty() {
        assert_eq!(
            Value::Number("5".into()).to_cty_string().as_deref(),
            Ok("5")
        );
        assert_eq!(Value::Bool(true).to_cty_string().as_deref(), Ok("true"));
        assert!(Value::List(vec![]).to_cty_string().is_err());
        assert_eq!(Value::String("true".into()).to_cty_bool(), Ok(true));
        assert_eq!(
            Value::String("yes".into()).to_cty_bool(),
            Err("a bool is required".to_string())
        );
    }

    #[test]
    fn json_strings_are_templates() {
        assert_eq!(
            evaluate_json_template("a${1 + 2}"),
            Ok(Value::String("a3".into()))
        );
        assert_eq!(
            evaluate_json_template("${var.x}").err().map(|p| p.summary),
            Some("Variables not allowed".to_string())
        );
        assert_eq!(
            evaluate_json_template("plain"),
            Ok(Value::String("plain".into()))
        );
    }
}
