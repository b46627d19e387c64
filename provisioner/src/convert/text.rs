//! Text helpers that reproduce how upstream formats values inside error messages.

use std::fmt::Write as _;

/// A double-quoted string in the style of Go's `%q` verb, which upstream's messages use:
/// `"` and `\` are backslash-escaped, control characters become `\n`, `\t`, `\x01`, ...
/// Go also escapes non-printable Unicode (e.g. U+00A0); we approximate "non-printable"
/// with Rust's control and whitespace classes.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            ' ' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || c.is_whitespace() => {
                if (c as u32) < 0x10000 {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `a`, `a and b`, `a, b and c` (no serial comma), as upstream joins duplicate names.
pub(crate) fn join_with_conjunction(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}

/// The "<names> appear(s) multiple times" tail shared by the duplicate-name errors:
/// one name takes the singular verb.
pub(crate) fn appear_multiple_times(names: &[String]) -> String {
    let verb = if names.len() == 1 {
        "appears"
    } else {
        "appear"
    };
    format!("{} {verb} multiple times", join_with_conjunction(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("dev"), r#""dev""#);
        assert_eq!(go_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(go_quote("a\nb\u{1}"), r#""a\nb\x01""#);
        assert_eq!(go_quote("é ü"), "\"é ü\"");
        assert_eq!(go_quote("\u{a0}"), r#""\u00a0""#);
    }

    #[test]
    fn joins_with_and() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(join_with_conjunction(&s(&[])), "");
        assert_eq!(join_with_conjunction(&s(&["a"])), "a");
        assert_eq!(join_with_conjunction(&s(&["a", "b"])), "a and b");
        assert_eq!(join_with_conjunction(&s(&["a", "b", "c"])), "a, b and c");
        assert_eq!(
            appear_multiple_times(&s(&["a"])),
            "a appears multiple times"
        );
        assert_eq!(
            appear_multiple_times(&s(&["a", "b"])),
            "a and b appear multiple times"
        );
    }
}
