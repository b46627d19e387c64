//! The Go `strconv` parsers upstream applies to user input (parameter values, cron fields), with
//! their acceptance rules and error texts: what Go accepts, we accept, and the messages a
//! template author sees read the same.

use crate::schema::validators::go_quote;

/// `strconv.Atoi` on a 64-bit platform: an optional sign and decimal digits, nothing else.
/// Errors read `strconv.Atoi: parsing "<s>": invalid syntax` (or `value out of range`). Digits
/// are read left to right and the first problem wins, as in Go's `ParseUint`
/// (`99999999999999999999x` is out of range, not a syntax error).
pub fn atoi(s: &str) -> Result<i64, String> {
    let error = |reason: &str| format!("strconv.Atoi: parsing {}: {reason}", go_quote(s));
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() {
        return Err(error("invalid syntax"));
    }
    let mut magnitude: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return Err(error("invalid syntax"));
        }
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(b - b'0')))
            .ok_or_else(|| error("value out of range"))?;
    }
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    value.ok_or_else(|| error("value out of range"))
}

/// `strconv.ParseBool`: the spellings Go accepts.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Whether `strconv.ParseFloat(s, 64)` succeeds: Go's float literal syntax (decimal, or
/// hexadecimal with a mandatory `p` exponent, `_` between digits), `inf`/`infinity`/`nan` in any
/// case, and no overflow (a finite literal that rounds to infinity is an error in Go).
pub fn is_go_float(s: &str) -> bool {
    let (signed, body) = match s.strip_prefix(['+', '-']) {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return true;
    }
    if lower == "nan" {
        // Go reads a sign only in front of infinities.
        return !signed;
    }
    let Some(hex) = float_syntax(s) else {
        return false;
    };
    let digits: String = s.chars().filter(|&c| c != '_').collect();
    if hex {
        hex_float_is_finite(&digits)
    } else {
        digits.parse::<f64>().is_ok_and(f64::is_finite)
    }
}

/// Go's `readFloat` over the whole string: `Some(is_hex)` when it is a well-formed literal.
fn float_syntax(s: &str) -> Option<bool> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let hex = i + 2 < b.len() && b[i] == b'0' && (b[i + 1] | 0x20) == b'x';
    if hex {
        i += 2;
    }
    let (mut saw_dot, mut saw_digits, mut underscores) = (false, false, false);
    while i < b.len() {
        match b[i] {
            b'_' => underscores = true,
            b'.' if !saw_dot => saw_dot = true,
            c if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) => saw_digits = true,
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    let exponent = if hex { b'p' } else { b'e' };
    if i < b.len() && (b[i] | 0x20) == exponent {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            underscores |= b[i] == b'_';
            i += 1;
        }
    } else if hex {
        return None;
    }
    if i != b.len() || (underscores && !underscore_ok(s)) {
        return None;
    }
    Some(hex)
}

/// Go's rule for `_` in number literals: only between digits, or after a base prefix.
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = (s[1] | 0x20) == b'x';
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Whether a well-formed hexadecimal literal (underscores removed) stays below `f64::MAX`.
fn hex_float_is_finite(literal: &str) -> bool {
    let body = literal.trim_start_matches(['+', '-']);
    let body = &body[2.min(body.len())..];
    let Some((mantissa, exponent)) = body.split_once(['p', 'P']) else {
        return false;
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut value = 0f64;
    for c in whole.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16).unwrap_or(0));
    }
    let mut scale = 1.0 / 16.0;
    for c in fraction.chars() {
        value += f64::from(c.to_digit(16).unwrap_or(0)) * scale;
        scale /= 16.0;
    }
    let exponent: f64 = exponent.parse().unwrap_or(f64::INFINITY);
    value == 0.0 || value.log2() + exponent < 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_matches_go() {
        assert_eq!(atoi("42"), Ok(42));
        assert_eq!(atoi("+7"), Ok(7));
        assert_eq!(atoi("-3"), Ok(-3));
        assert_eq!(
            atoi("1.5"),
            Err(r#"strconv.Atoi: parsing "1.5": invalid syntax"#.to_string())
        );
        assert_eq!(
            atoi(""),
            Err(r#"strconv.Atoi: parsing "": invalid syntax"#.to_string())
        );
        assert_eq!(
            atoi("99999999999999999999"),
            Err(r#"strconv.Atoi: parsing "99999999999999999999": value out of range"#.to_string())
        );
    }

    #[test]
    fn atoi_reports_the_first_problem_left_to_right() {
        // Go's ParseUint stops at the overflow before it sees the stray byte.
        assert_eq!(
            atoi("99999999999999999999x"),
            Err(r#"strconv.Atoi: parsing "99999999999999999999x": value out of range"#.to_string())
        );
        assert_eq!(
            atoi("12345678901234567890x"),
            Err(r#"strconv.Atoi: parsing "12345678901234567890x": invalid syntax"#.to_string())
        );
        assert_eq!(
            atoi("+-1"),
            Err(r#"strconv.Atoi: parsing "+-1": invalid syntax"#.to_string())
        );
    }

    #[test]
    fn atoi_range_is_int64() {
        assert_eq!(atoi("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(atoi("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(
            atoi("9223372036854775808"),
            Err(r#"strconv.Atoi: parsing "9223372036854775808": value out of range"#.to_string())
        );
        assert_eq!(
            atoi("-9223372036854775809"),
            Err(r#"strconv.Atoi: parsing "-9223372036854775809": value out of range"#.to_string())
        );
    }

    #[test]
    fn parse_bool_spellings() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_bool("tRUE"), None);
    }

    #[test]
    fn float_forms_go_accepts() {
        for ok in [
            "1",
            "-1.5",
            "+.5",
            "5.",
            "1e10",
            "1E-3",
            "Inf",
            "-infinity",
            "NaN",
            "0x1p-2",
            "0x1.8p3",
            "0x_1p0",
            "1e-400",
        ] {
            assert!(is_go_float(ok), "{ok} should parse");
        }
        for bad in [
            "", ".", "1e", "abc", "_1", "1_", "1__0", "1_.5", "0x1", "+nan", "1e400", "infin",
            " 1", "1 ", "0x", "0b1", "1.2.3", "0x1p2000",
        ] {
            assert!(!is_go_float(bad), "{bad} should not parse");
        }
    }
}
