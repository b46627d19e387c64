//! Terraform numbers: arbitrary-precision decimals, kept exactly as written.
//!
//! go-cty stores numbers as 512-bit binary floats and compares two numbers by their shortest
//! decimal text. We store the decimal itself (sign, significant digits, power of ten), which
//! makes equality, hashing and ordering exact and means a number never silently passes
//! through `f64`.
//!
//! **Canonical form.** A number is normalised on construction: no leading or trailing zeros
//! in its digits, and no negative zero (`-0` is `0`). [`Display`](fmt::Display) writes plain
//! positional notation, never an exponent: `1`, `-2.5`, `0.001`, and `1e+100` as a `1` followed
//! by a hundred zeros. That is go-cty's `Text('f', -1)` form, the text Terraform itself writes
//! for numbers in JSON and in msgpack strings. The two infinities (which msgpack floats can
//! carry) render as `+Inf` and `-Inf`, as Go does.
//!
//! **Range.** Exponents are capped at ±[`MAX_DECIMAL_EXPONENT`] so that a few bytes of input
//! (`1e999999999`) cannot turn into gigabytes of digits when rendered.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::error::CtyError;
use super::path::AttributePath;

/// The largest power of ten (either way) a finite number may have: 1e10000 and 1e-10000 are
/// accepted, 1e10001 is not. Far beyond anything a configuration holds, small enough that
/// rendering stays cheap.
pub const MAX_DECIMAL_EXPONENT: i64 = 10_000;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// `(-1)^negative * digits * 10^exponent`. `digits` has no leading or trailing zeros;
    /// zero is the empty string with `negative == false` and `exponent == 0`.
    Finite {
        negative: bool,
        digits: String,
        exponent: i64,
    },
    Infinity {
        negative: bool,
    },
}

impl Number {
    pub fn zero() -> Number {
        Number(Repr::Finite {
            negative: false,
            digits: String::new(),
            exponent: 0,
        })
    }

    pub fn from_i64(n: i64) -> Number {
        Number::from_integer(n < 0, n.unsigned_abs())
    }

    pub fn from_u64(n: u64) -> Number {
        Number::from_integer(false, n)
    }

    fn from_integer(negative: bool, magnitude: u64) -> Number {
        // Cannot fail: plain digits, exponent 0.
        normalise(negative, magnitude.to_string(), 0).unwrap_or_else(|_| Number::zero())
    }

    /// The number a finite `f64` stands for, written as the shortest decimal that reads back
    /// as the same `f64` (so `0.1f64` becomes `0.1`, the way go-cty compares numbers).
    /// `None` for NaN and the infinities.
    pub fn from_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            return None;
        }
        Number::parse(&format!("{f:e}")).ok()
    }

    pub fn positive_infinity() -> Number {
        Number(Repr::Infinity { negative: false })
    }

    pub fn negative_infinity() -> Number {
        Number(Repr::Infinity { negative: true })
    }

    /// Parses decimal text: an optional sign, digits with an optional decimal point, and an
    /// optional `e`/`E` exponent (`12`, `-0.5`, `1.25e3`, `.5`, `5.`). `Inf`/`+Inf`/`-Inf`
    /// (any case) are the infinities. No whitespace, no NaN, no hex.
    pub fn parse(s: &str) -> Result<Number, CtyError> {
        let invalid =
            || CtyError::invalid_number(&AttributePath::root(), format!("{s:?} is not a number"));
        let (negative, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, s.get(1..).unwrap_or_default()),
            Some(b'+') => (false, s.get(1..).unwrap_or_default()),
            _ => (false, s),
        };
        if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
            return Ok(Number(Repr::Infinity { negative }));
        }
        let (mantissa, exp_text) = match rest.find(['e', 'E']) {
            Some(at) => (
                rest.get(..at).unwrap_or_default(),
                Some(rest.get(at + 1..).unwrap_or_default()),
            ),
            None => (rest, None),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(at) => (
                mantissa.get(..at).unwrap_or_default(),
                mantissa.get(at + 1..).unwrap_or_default(),
            ),
            None => (mantissa, ""),
        };
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if (int_part.is_empty() && frac_part.is_empty())
            || !all_digits(int_part)
            || !all_digits(frac_part)
        {
            return Err(invalid());
        }
        let exponent: i128 = match exp_text {
            None => 0,
            Some(text) => {
                let (exp_negative, exp_digits) = match text.as_bytes().first() {
                    Some(b'-') => (true, text.get(1..).unwrap_or_default()),
                    Some(b'+') => (false, text.get(1..).unwrap_or_default()),
                    _ => (false, text),
                };
                if exp_digits.is_empty() || !all_digits(exp_digits) {
                    return Err(invalid());
                }
                // Saturate: anything this large is out of range unless the mantissa is zero,
                // and normalise sorts that out.
                let mut e: i128 = 0;
                for b in exp_digits.bytes() {
                    e = (e * 10 + i128::from(b - b'0')).min(i128::from(i64::MAX));
                }
                if exp_negative {
                    -e
                } else {
                    e
                }
            }
        };
        let mut digits = String::with_capacity(int_part.len() + frac_part.len());
        digits.push_str(int_part);
        digits.push_str(frac_part);
        let frac_len = i128::try_from(frac_part.len()).unwrap_or(i128::MAX);
        normalise_wide(negative, digits, exponent - frac_len)
    }

    pub fn is_integer(&self) -> bool {
        matches!(&self.0, Repr::Finite { exponent, .. } if *exponent >= 0)
    }

    pub fn is_zero(&self) -> bool {
        matches!(&self.0, Repr::Finite { digits, .. } if digits.is_empty())
    }

    pub fn is_negative(&self) -> bool {
        match &self.0 {
            Repr::Finite { negative, .. } | Repr::Infinity { negative } => *negative,
        }
    }

    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::Infinity { .. })
    }

    /// The value as an `i64`, only if it is an integer in range (`2.0` yes, `2.5` no).
    pub fn as_i64(&self) -> Option<i64> {
        let Repr::Finite {
            negative,
            digits,
            exponent,
        } = &self.0
        else {
            return None;
        };
        let exponent = usize::try_from(*exponent).ok()?;
        if digits.len() + exponent > 19 {
            return None;
        }
        let mut magnitude: i128 = 0;
        for b in digits.bytes() {
            magnitude = magnitude * 10 + i128::from(b - b'0');
        }
        for _ in 0..exponent {
            magnitude *= 10;
        }
        let value = if *negative { -magnitude } else { magnitude };
        i64::try_from(value).ok()
    }

    /// The nearest `f64` (±infinity when out of range). Lossy by nature: use it for
    /// arithmetic, never for storing the number.
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            Repr::Infinity { negative: false } => f64::INFINITY,
            Repr::Infinity { negative: true } => f64::NEG_INFINITY,
            Repr::Finite { digits, .. } if digits.is_empty() => 0.0,
            Repr::Finite {
                negative,
                digits,
                exponent,
            } => {
                let sign = if *negative { "-" } else { "" };
                // Rust's float parser rounds correctly for any number of digits.
                format!("{sign}{digits}e{exponent}")
                    .parse()
                    .unwrap_or(f64::NAN)
            }
        }
    }

    /// The `f64` this number equals exactly, if there is one (`1.5`, `1e20`, but not `0.1`,
    /// which binary floats can only approximate). The infinities map to themselves.
    pub fn to_exact_f64(&self) -> Option<f64> {
        let f = self.as_f64();
        if f.is_nan() {
            return None;
        }
        if f.is_infinite() {
            return self.is_infinite().then_some(f);
        }
        (exact_decimal_of_f64(f) == *self).then_some(f)
    }

    /// The number a float from the wire stands for. Terraform only sends a float when its
    /// own value is exactly that float, so an integral float is taken at its exact value
    /// (`2^63` is `9223372036854775808`, not the shortest text `9223372036854776000`); a
    /// fraction is taken at its shortest text, as go-cty renders it (`0.1`).
    pub(crate) fn from_wire_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            None
        } else if f.fract() == 0.0 {
            Some(exact_decimal_of_f64(f))
        } else {
            Number::from_f64(f)
        }
    }

    /// The float to send for this number, when a float is the right encoding: an infinity, or
    /// a fraction a float holds exactly and that [`from_wire_f64`](Number::from_wire_f64)
    /// reads back as this very number. Integers beyond `i64` go as text instead, so they
    /// survive exactly.
    pub(crate) fn to_wire_f64(&self) -> Option<f64> {
        if self.is_infinite() {
            return Some(self.as_f64());
        }
        if self.is_integer() {
            return None;
        }
        let f = self.to_exact_f64()?;
        (Number::from_f64(f).as_ref() == Some(self)).then_some(f)
    }
}

/// Builds a normalised number, checking the exponent range.
fn normalise(negative: bool, digits: String, exponent: i64) -> Result<Number, CtyError> {
    normalise_wide(negative, digits, i128::from(exponent))
}

fn normalise_wide(negative: bool, digits: String, exponent: i128) -> Result<Number, CtyError> {
    let trimmed_front = digits.trim_start_matches('0');
    if trimmed_front.is_empty() {
        return Ok(Number::zero());
    }
    let significant = trimmed_front.trim_end_matches('0');
    let trailing = trimmed_front.len() - significant.len();
    let exponent = exponent.saturating_add(i128::try_from(trailing).unwrap_or(i128::MAX));
    let len = i128::try_from(significant.len()).unwrap_or(i128::MAX);
    // The power of ten of the leading digit, as in scientific notation.
    let leading = exponent.saturating_add(len - 1);
    let max = i128::from(MAX_DECIMAL_EXPONENT);
    if leading > max || leading < -max {
        return Err(CtyError::invalid_number(
            &AttributePath::root(),
            format!("number out of range (exponent beyond ±{MAX_DECIMAL_EXPONENT})"),
        ));
    }
    let exponent = i64::try_from(exponent)
        .map_err(|_| CtyError::invalid_number(&AttributePath::root(), "number out of range"))?;
    Ok(Number(Repr::Finite {
        negative,
        digits: significant.to_string(),
        exponent,
    }))
}

/// The exact decimal value of a finite `f64`. Every binary float is `m * 2^e`, which is a
/// terminating decimal: `m * 2^e` for `e >= 0`, `m * 5^-e * 10^e` otherwise.
fn exact_decimal_of_f64(f: f64) -> Number {
    let bits = f.to_bits();
    let negative = bits >> 63 == 1;
    let biased = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let fraction = bits & ((1u64 << 52) - 1);
    let (mut m, mut e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    if m == 0 {
        return Number::zero();
    }
    while m & 1 == 0 && e < 0 {
        m >>= 1;
        e += 1;
    }
    let mut big = BigDecimalDigits::from_u64(m);
    let exponent = if e >= 0 {
        big.mul_pow(2, 31, e.unsigned_abs());
        0
    } else {
        big.mul_pow(5, 13, e.unsigned_abs());
        e
    };
    normalise(negative, big.to_decimal_string(), exponent).unwrap_or_else(|_| Number::zero())
}

/// Just enough of a big unsigned integer (base 10^9 limbs, least significant first) to
/// expand a float exactly.
struct BigDecimalDigits(Vec<u64>);

const LIMB: u64 = 1_000_000_000;

impl BigDecimalDigits {
    fn from_u64(mut n: u64) -> Self {
        let mut limbs = Vec::new();
        while n > 0 {
            limbs.push(n % LIMB);
            n /= LIMB;
        }
        BigDecimalDigits(limbs)
    }

    fn mul_small(&mut self, factor: u64) {
        let mut carry = 0u64;
        for limb in self.0.iter_mut() {
            let v = *limb * factor + carry;
            *limb = v % LIMB;
            carry = v / LIMB;
        }
        while carry > 0 {
            self.0.push(carry % LIMB);
            carry /= LIMB;
        }
    }

    /// Multiplies by `base^power`, `chunk` powers at a time (`base^chunk` must stay below
    /// 2^32 so limb products fit in a u64).
    fn mul_pow(&mut self, base: u64, chunk: u32, mut power: u64) {
        let full = base.pow(chunk);
        while power >= u64::from(chunk) {
            self.mul_small(full);
            power -= u64::from(chunk);
        }
        if power > 0 {
            // power < chunk, so this fits in u32.
            self.mul_small(base.pow(u32::try_from(power).unwrap_or(0)));
        }
    }

    fn to_decimal_string(&self) -> String {
        let mut out = String::new();
        for (i, limb) in self.0.iter().rev().enumerate() {
            if i == 0 {
                out.push_str(&limb.to_string());
            } else {
                out.push_str(&format!("{limb:09}"));
            }
        }
        out
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Infinity { negative: false } => f.write_str("+Inf"),
            Repr::Infinity { negative: true } => f.write_str("-Inf"),
            Repr::Finite { digits, .. } if digits.is_empty() => f.write_str("0"),
            Repr::Finite {
                negative,
                digits,
                exponent,
            } => {
                if *negative {
                    f.write_str("-")?;
                }
                if *exponent >= 0 {
                    f.write_str(digits)?;
                    for _ in 0..*exponent {
                        f.write_str("0")?;
                    }
                    return Ok(());
                }
                let frac_len = usize::try_from(exponent.unsigned_abs()).unwrap_or(usize::MAX);
                if digits.len() > frac_len {
                    let (int_part, frac_part) = digits
                        .split_at_checked(digits.len() - frac_len)
                        .unwrap_or((digits, ""));
                    write!(f, "{int_part}.{frac_part}")
                } else {
                    f.write_str("0.")?;
                    for _ in 0..(frac_len - digits.len()) {
                        f.write_str("0")?;
                    }
                    f.write_str(digits)
                }
            }
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

/// Numeric order: `-Inf < -1 < 0 < 0.5 < 1 < +Inf`.
impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        fn rank(n: &Number) -> i8 {
            match &n.0 {
                Repr::Infinity { negative: true } => -2,
                Repr::Finite { negative: true, .. } => -1,
                Repr::Finite { digits, .. } if digits.is_empty() => 0,
                Repr::Finite { .. } => 1,
                Repr::Infinity { negative: false } => 2,
            }
        }
        let by_rank = rank(self).cmp(&rank(other));
        if by_rank != Ordering::Equal {
            return by_rank;
        }
        match (&self.0, &other.0) {
            (
                Repr::Finite {
                    negative,
                    digits: a,
                    exponent: ea,
                },
                Repr::Finite {
                    digits: b,
                    exponent: eb,
                    ..
                },
            ) => {
                let magnitude = compare_magnitude(a, *ea, b, *eb);
                if *negative {
                    magnitude.reverse()
                } else {
                    magnitude
                }
            }
            _ => Ordering::Equal,
        }
    }
}

fn compare_magnitude(a: &str, ea: i64, b: &str, eb: i64) -> Ordering {
    // Compare the position of the leading digit first, then the digits themselves; with no
    // trailing zeros, plain string order does the rest (a prefix is the smaller number).
    let lead = |d: &str, e: i64| i128::from(e) + i128::try_from(d.len()).unwrap_or(i128::MAX);
    lead(a, ea).cmp(&lead(b, eb)).then_with(|| a.cmp(b))
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for Number {
    type Err = CtyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number::from_i64(n)
    }
}

impl From<i32> for Number {
    fn from(n: i32) -> Self {
        Number::from_i64(i64::from(n))
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number::from_u64(n)
    }
}

impl From<u32> for Number {
    fn from(n: u32) -> Self {
        Number::from_u64(u64::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Number {
        match Number::parse(s) {
            Ok(n) => n,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn canonical_text_is_plain_positional() {
        for (input, canonical) in [
            ("1", "1"),
            ("1.0", "1"),
            ("01.500", "1.5"),
            ("-2.5", "-2.5"),
            ("-0", "0"),
            ("-0.000", "0"),
            ("0e999999999999999999999", "0"),
            ("+7", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e3", "1000"),
            ("1.25E+2", "125"),
            ("123e-5", "0.00123"),
            ("-1E-2", "-0.01"),
            ("inf", "+Inf"),
            ("-Inf", "-Inf"),
        ] {
            assert_eq!(num(input).to_string(), canonical, "{input}");
        }
        let big = num("1e+100").to_string();
        assert_eq!(big.len(), 101);
        assert!(big.starts_with('1') && big.bytes().skip(1).all(|b| b == b'0'));
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        for bad in [
            "", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "0x10", "NaN",
            "1_000", "--1", "1e5.5", "١",
        ] {
            assert!(
                matches!(Number::parse(bad), Err(CtyError::InvalidNumber { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn exponents_are_range_checked() {
        assert!(Number::parse("1e10000").is_ok());
        assert!(Number::parse("1e-10000").is_ok());
        assert!(Number::parse("1e10001").is_err());
        assert!(Number::parse("1e-10001").is_err());
        assert!(Number::parse("1e99999999999999999999999").is_err());
        assert_eq!(num("1e400").to_string().len(), 401);
    }

    #[test]
    fn equality_is_numeric() {
        assert_eq!(num("1"), num("1.0"));
        assert_eq!(num("1"), Number::from_i64(1));
        assert_eq!(num("100"), num("1e2"));
        assert_eq!(num("-0"), Number::zero());
        assert_ne!(num("1"), num("1.0000000000000000000000000001"));
        assert_eq!(Number::from_f64(1.0), Some(Number::from_i64(1)));
    }

    #[test]
    fn ordering_is_numeric() {
        let mut v = vec![
            num("10"),
            num("-Inf"),
            num("0.5"),
            num("-1"),
            num("9.99"),
            num("+Inf"),
            num("0"),
            num("-1.5"),
            num("1e-5"),
        ];
        v.sort();
        let rendered: Vec<String> = v.iter().map(Number::to_string).collect();
        assert_eq!(
            rendered,
            ["-Inf", "-1.5", "-1", "0", "0.00001", "0.5", "9.99", "10", "+Inf"]
        );
    }

    #[test]
    fn i64_only_when_exact_and_in_range() {
        assert_eq!(num("42").as_i64(), Some(42));
        assert_eq!(num("4.2e1").as_i64(), Some(42));
        assert_eq!(num("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(num("9223372036854775807").as_i64(), Some(i64::MAX));
        assert_eq!(num("9223372036854775808").as_i64(), None);
        assert_eq!(num("1.5").as_i64(), None);
        assert_eq!(num("1e30").as_i64(), None);
        assert_eq!(Number::positive_infinity().as_i64(), None);
        assert_eq!(
            Number::from_i64(i64::MIN).to_string(),
            "-9223372036854775808"
        );
        assert_eq!(
            Number::from_u64(u64::MAX).to_string(),
            "18446744073709551615"
        );
    }

    #[test]
    fn from_f64_uses_the_shortest_round_trip_text() {
        let n = |f: f64| Number::from_f64(f).map(|n| n.to_string());
        assert_eq!(n(0.1), Some("0.1".into()));
        assert_eq!(n(1.5), Some("1.5".into()));
        assert_eq!(n(-0.0), Some("0".into()));
        assert_eq!(n(1e300), Some(format!("1{}", "0".repeat(300))));
        assert_eq!(n(f64::NAN), None);
        assert_eq!(n(f64::INFINITY), None);
    }

    #[test]
    fn as_f64_is_nearest() {
        assert_eq!(num("0.1").as_f64(), 0.1);
        assert_eq!(num("-2.5").as_f64(), -2.5);
        assert_eq!(num("1e400").as_f64(), f64::INFINITY);
        assert_eq!(num("1e-400").as_f64(), 0.0);
        assert_eq!(Number::negative_infinity().as_f64(), f64::NEG_INFINITY);
    }

    #[test]
    fn exact_f64_only_for_binary_fractions() {
        assert_eq!(num("1.5").to_exact_f64(), Some(1.5));
        assert_eq!(num("-0.375").to_exact_f64(), Some(-0.375));
        assert_eq!(num("1e20").to_exact_f64(), Some(1e20));
        assert_eq!(
            num("18446744073709551616").to_exact_f64(),
            Some(18446744073709551616.0)
        );
        assert_eq!(num("18446744073709551617").to_exact_f64(), None);
        assert_eq!(num("0.1").to_exact_f64(), None);
        assert_eq!(num("1e400").to_exact_f64(), None);
        // The smallest subnormal, written out exactly, is exact.
        let tiny = exact_decimal_of_f64(f64::from_bits(1));
        assert_eq!(tiny.to_exact_f64(), Some(f64::from_bits(1)));
        assert_eq!(
            Number::positive_infinity().to_exact_f64(),
            Some(f64::INFINITY)
        );
    }

    #[test]
    fn wire_floats() {
        let two_63 = 9223372036854775808f64;
        assert_eq!(
            Number::from_wire_f64(two_63).map(|n| n.to_string()),
            Some("9223372036854775808".into())
        );
        assert_eq!(
            Number::from_wire_f64(0.1).map(|n| n.to_string()),
            Some("0.1".into())
        );
        assert_eq!(Number::from_wire_f64(f64::NAN), None);
        assert_eq!(num("1.5").to_wire_f64(), Some(1.5));
        assert_eq!(num("1e20").to_wire_f64(), None);
        assert_eq!(num("0.1").to_wire_f64(), None);
        // Exactly a float, but it would come back as "0.1": sent as text instead.
        assert_eq!(
            num("0.1000000000000000055511151231257827021181583404541015625").to_wire_f64(),
            None
        );
        assert_eq!(
            Number::negative_infinity().to_wire_f64(),
            Some(f64::NEG_INFINITY)
        );
    }

    #[test]
    fn exact_expansion_of_floats() {
        assert_eq!(exact_decimal_of_f64(0.5).to_string(), "0.5");
        assert_eq!(
            exact_decimal_of_f64(0.1).to_string(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(exact_decimal_of_f64(-3.0).to_string(), "-3");
        assert_eq!(
            exact_decimal_of_f64(2f64.powi(70)).to_string(),
            "1180591620717411303424"
        );
        assert_eq!(exact_decimal_of_f64(0.0), Number::zero());
    }
}
