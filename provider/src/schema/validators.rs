//! Reusable attribute validators whose messages follow the SDKv2 templates, because template
//! authors and tooling match on those texts. Each runs only on configured, known, non-null values.

use regex::Regex;

use crate::cty::{AttributePath, Value};

use super::diag::Diagnostic;
use super::model::Validator;

fn error_at(path: &AttributePath, message: String) -> Vec<Diagnostic> {
    vec![Diagnostic::error(message).at(path.clone())]
}

/// Renders a value the way Go's `%v` shows the SDK's decoded value.
fn go_display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
pub fn go_quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// Go's `%q` of a string (`strconv.Quote`).
pub fn go_quote(s: &str) -> String {
    go_quote_bytes(s.as_bytes())
}

/// Go's `strconv.Quote` of arbitrary bytes: printable runes as they are; `\a \b \f \n \r \t \v`;
/// other ASCII controls and each byte of invalid UTF-8 as `\xNN`; other unprintable runes as
/// `\uNNNN` / `\UNNNNNNNN`.
pub fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    let mut rest = bytes;
    while !rest.is_empty() {
        let valid = match std::str::from_utf8(rest) {
            Ok(all) => all,
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
        };
        for c in valid.chars() {
            push_go_escaped(&mut out, c);
        }
        rest = &rest[valid.len()..];
        // Go decodes an invalid sequence one byte at a time, each shown as `\xNN`.
        if let Some((&bad, tail)) = rest.split_first() {
            out.push_str(&format!("\\x{bad:02x}"));
            rest = tail;
        }
    }
    out.push('"');
    out
}

fn push_go_escaped(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\u{07}' => out.push_str("\\a"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0b}' => out.push_str("\\v"),
        c if go_is_print(c) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// An approximation of Go's `unicode.IsPrint` without the Unicode tables: the space is
/// printable, other spaces, controls, format characters and private-use runes are not.
fn go_is_print(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(
            u,
            0xad | 0x600..=0x605
                | 0x61c
                | 0x6dd
                | 0x70f
                | 0x180e
                | 0x200b..=0x200f
                | 0x202a..=0x202e
                | 0x2060..=0x206f
                | 0xfeff
                | 0xfff9..=0xfffb
                | 0xe000..=0xf8ff
                | 0xf0000..
        )
        || (u & 0xfffe) == 0xfffe)
}

/// StringInSlice (case-sensitive).
pub fn one_of(allowed: &'static [&'static str]) -> Validator {
    Validator::new(move |value, path| match value.as_str() {
        Some(s) if allowed.contains(&s) => Vec::new(),
        _ => error_at(
            path,
            format!(
                "expected {} to be one of {}, got {}",
                path.flat_key(),
                go_quoted_list(allowed),
                go_display(value)
            ),
        ),
    })
}

/// IntBetween (inclusive).
pub fn int_between(min: i64, max: i64) -> Validator {
    Validator::new(move |value, path| match value.as_i64() {
        Some(n) if (min..=max).contains(&n) => Vec::new(),
        _ => error_at(
            path,
            format!(
                "expected {} to be in the range ({min} - {max}), got {}",
                path.flat_key(),
                go_display(value)
            ),
        ),
    })
}

/// IntAtLeast.
pub fn int_at_least(min: i64) -> Validator {
    Validator::new(move |value, path| match value.as_i64() {
        Some(n) if n >= min => Vec::new(),
        _ => error_at(
            path,
            format!(
                "expected {} to be at least ({min}), got {}",
                path.flat_key(),
                go_display(value)
            ),
        ),
    })
}

/// StringLenBetween, counted in bytes as Go's `len` does.
pub fn string_len_between(min: usize, max: usize) -> Validator {
    Validator::new(move |value, path| match value.as_str() {
        Some(s) if (min..=max).contains(&s.len()) => Vec::new(),
        _ => error_at(
            path,
            format!(
                "expected length of {} to be in the range ({min} - {max}), got {}",
                path.flat_key(),
                go_display(value)
            ),
        ),
    })
}

/// StringIsNotEmpty.
pub fn string_not_empty() -> Validator {
    Validator::new(|value, path| match value.as_str() {
        Some(s) if !s.is_empty() => Vec::new(),
        _ => error_at(
            path,
            format!(
                "expected {} to not be an empty string, got {}",
                go_quote(&path.flat_key()),
                go_display(value)
            ),
        ),
    })
}

/// IsUUID: any RFC 4122 textual form Go's uuid parser accepts for the hyphenated layout.
pub fn is_uuid() -> Validator {
    Validator::new(|value, path| match value.as_str() {
        Some(s) if uuid::Uuid::try_parse(s).is_ok() && s.len() == 36 => Vec::new(),
        _ => error_at(
            path,
            format!(
                "expected {} to be a valid UUID, got {}",
                go_quote(&path.flat_key()),
                go_display(value)
            ),
        ),
    })
}

/// StringMatch(re, message).
pub fn string_match(pattern: &'static str, message: &'static str) -> Validator {
    let re = Regex::new(pattern);
    Validator::new(move |value, path| {
        let matched = match (&re, value.as_str()) {
            (Ok(re), Some(s)) => re.is_match(s),
            _ => false,
        };
        if matched {
            Vec::new()
        } else {
            error_at(
                path,
                format!("invalid value for {} ({message})", path.flat_key()),
            )
        }
    })
}

/// A validator from a function returning an error message for a string value.
pub fn string_check(
    check: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
) -> Validator {
    Validator::new(move |value, path| match value.as_str() {
        Some(s) => match check(s) {
            Ok(()) => Vec::new(),
            Err(message) => error_at(path, message),
        },
        None => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(key: &str) -> AttributePath {
        AttributePath::root().attr(key)
    }

    fn first_message(v: &Validator, value: Value, key: &str) -> Option<String> {
        v.check(&value, &path(key))
            .first()
            .map(|d| d.summary.clone())
    }

    #[test]
    fn one_of_uses_go_quoted_slice() {
        let v = one_of(&["amd64", "armv7", "arm64"]);
        assert_eq!(first_message(&v, Value::string("amd64"), "arch"), None);
        assert_eq!(
            first_message(&v, Value::string("x86"), "arch").as_deref(),
            Some(r#"expected arch to be one of ["amd64" "armv7" "arm64"], got x86"#)
        );
    }

    #[test]
    fn int_between_reports_range() {
        let v = int_between(0, 100);
        assert_eq!(first_message(&v, Value::number_i64(100), "threshold"), None);
        assert_eq!(
            first_message(&v, Value::number_i64(101), "threshold").as_deref(),
            Some("expected threshold to be in the range (0 - 100), got 101")
        );
    }

    #[test]
    fn int_at_least_reports_minimum() {
        let v = int_at_least(1);
        assert_eq!(
            first_message(&v, Value::number_i64(0), "timeout").as_deref(),
            Some("expected timeout to be at least (1), got 0")
        );
    }

    #[test]
    fn string_not_empty_quotes_key() {
        let v = string_not_empty();
        assert_eq!(
            first_message(&v, Value::string(""), "name").as_deref(),
            Some(r#"expected "name" to not be an empty string, got "#)
        );
    }

    #[test]
    fn uuid_accepts_hyphenated_only() {
        let v = is_uuid();
        assert_eq!(
            first_message(
                &v,
                Value::string("6f6f6f6f-0000-4000-8000-000000000000"),
                "app_id"
            ),
            None
        );
        assert_eq!(
            first_message(&v, Value::string("nope"), "app_id").as_deref(),
            Some(r#"expected "app_id" to be a valid UUID, got nope"#)
        );
    }

    #[test]
    fn string_match_wraps_message() {
        let v = string_match("^[a-z]+$", "must be lowercase");
        assert_eq!(
            first_message(&v, Value::string("ABC"), "name").as_deref(),
            Some("invalid value for name (must be lowercase)")
        );
    }

    #[test]
    fn go_quote_escapes() {
        assert_eq!(go_quote("a\"b\n"), r#""a\"b\n""#);
        assert_eq!(
            go_quote("\u{7}\u{1}\u{7f}é\u{85}"),
            r#""\a\x01\x7fé\u0085""#
        );
        assert_eq!(go_quote_bytes(b"%\xc3x"), r#""%\xc3x""#);
    }
}
