//! The Go `strconv` parsers upstream applies to user input (parameter values, cron fields), with
//! their acceptance rules and error texts: what Go accepts, we accept, and the messages a
//! template author sees read the same.

use crate::schema::validators::go_quote;

/// `strconv.Atoi` on a 64-bit platform: an optional sign and decimal digits, nothing else.
/// Errors read `strconv.Atoi: parsing "<s>": invalid syntax` (or `value out of range`).
pub fn atoi(s: &str) -> Result<i64, String> {
    let syntax = || format!("strconv.Atoi: parsing {}: invalid syntax", go_quote(s));
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    // Rust accepts the same sign-and-digits form, so only the range can still fail.
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", go_quote(s)))
}

/// `strconv.ParseBool`: the spellings Go accepts.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Whether `strconv.ParseFloat(s, 64)` succeeds: decimal and hexadecimal (`0x1.8p3`) forms,
/// `inf`/`infinity`/`nan` in any case, underscores only between digits of a prefixed number,
/// and no overflow (a finite literal that rounds to infinity is an error in Go).
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
    if let Some(hex) = lower.strip_prefix("0x") {
        return is_hex_float(hex);
    }
    if !is_decimal_float(body) {
        return false;
    }
    s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// `digits [. digits] [e [sign] digits]` with at least one mantissa digit.
fn is_decimal_float(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut mantissa_digits = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return false;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == bytes.len()
}

/// After `0x`: hex digits with an optional point, then a mandatory `p` exponent; `_` may
/// separate digits. Overflow is checked on the value.
fn is_hex_float(s: &str) -> bool {
    let Some((mantissa, exponent)) = s.split_once('p') else {
        return false;
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let ok_digits = |part: &str| {
        !part.starts_with('_')
            && !part.ends_with('_')
            && !part.contains("__")
            && part.chars().all(|c| c.is_ascii_hexdigit() || c == '_')
    };
    // The `0x` prefix counts as a digit, so `0x_1p0` is fine.
    let whole_digits = whole.strip_prefix('_').unwrap_or(whole);
    if !ok_digits(whole_digits) || !ok_digits(fraction) {
        return false;
    }
    let whole: String = whole.chars().filter(|&c| c != '_').collect();
    let fraction: String = fraction.chars().filter(|&c| c != '_').collect();
    if whole.is_empty() && fraction.is_empty() {
        return false;
    }
    let exp_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if exp_digits.is_empty() || !exp_digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    let exp_value: f64 = exponent
        .replace('_', "")
        .parse::<f64>()
        .unwrap_or(f64::INFINITY);
    // value = mantissa * 2^exp; estimate the magnitude from the leading digits.
    let mut value = 0f64;
    for c in whole.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16).unwrap_or(0));
    }
    let mut scale = 1.0 / 16.0;
    for c in fraction.chars() {
        value += f64::from(c.to_digit(16).unwrap_or(0)) * scale;
        scale /= 16.0;
    }
    value == 0.0 || (value.log2() + exp_value) < 1024.0
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
            "", ".", "1e", "abc", "1_000", "0x1", "+nan", "1e400", "infin", " 1", "1 ",
        ] {
            assert!(!is_go_float(bad), "{bad} should not parse");
        }
    }
}
