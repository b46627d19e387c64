//! Cron expressions as `robfig/cron/v3` reads them. Upstream checks `coder_script.cron` with it
//! (the Coder agent later schedules with the same parser) and prebuild schedules with a
//! five-field configuration of it. Only parsing is needed here (the provider never runs a
//! schedule), but the parse result is kept so tests can pin the semantics.
//!
//! The error texts are robfig's (and Go's `strconv`/`time` ones it wraps), because upstream
//! passes them through verbatim, e.g. `end of range (26) above maximum (23): 25-26`.
//!
//! A [`Parser`] is configured the way robfig's `NewParser` options configure one: which fields
//! an expression spells out, whether the day of week may be left off, whether `@descriptors`
//! are accepted.

use super::{strconv, time};

/// The six schedule fields, in the order robfig lays them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Second,
    Minute,
    Hour,
    Dom,
    Month,
    Dow,
}

const FIELDS: [Field; 6] = [
    Field::Second,
    Field::Minute,
    Field::Hour,
    Field::Dom,
    Field::Month,
    Field::Dow,
];

/// What an omitted field means (robfig's defaults: second 0, any day, any month).
const FIELD_DEFAULTS: [&str; 6] = ["0", "0", "0", "*", "*", "*"];

const MONTH_NAMES: &[(&str, u64)] = &[
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

const DOW_NAMES: &[(&str, u64)] = &[
    ("sun", 0),
    ("mon", 1),
    ("tue", 2),
    ("wed", 3),
    ("thu", 4),
    ("fri", 5),
    ("sat", 6),
];

impl Field {
    fn bounds(self) -> (u64, u64, &'static [(&'static str, u64)]) {
        match self {
            Field::Second | Field::Minute => (0, 59, &[]),
            Field::Hour => (0, 23, &[]),
            Field::Dom => (1, 31, &[]),
            Field::Month => (1, 12, MONTH_NAMES),
            Field::Dow => (0, 6, DOW_NAMES),
        }
    }
}

/// robfig marks a field written as `*` (or `?`) with this bit, so day matching can tell
/// "any day of month" from "every day of month listed".
pub const STAR_BIT: u64 = 1 << 63;

/// A parsed schedule: one bit per allowed value in each field (plus [`STAR_BIT`]), or a fixed
/// interval from `@every`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    Fields {
        second: u64,
        minute: u64,
        hour: u64,
        dom: u64,
        month: u64,
        dow: u64,
    },
    /// `@every <duration>`, in nanoseconds as Go's `time.Duration` (may be negative).
    Every(i64),
}

/// A cron dialect, as robfig's `NewParser` options choose one.
#[derive(Clone, Copy, Debug)]
pub struct Parser {
    /// `Second`: expressions spell out the seconds; without it the second is always 0.
    with_seconds: bool,
    /// `DowOptional`: the day of week may be left off (any day).
    dow_optional: bool,
    /// `Descriptor`: `@daily`, `@every 1h` and the like are accepted.
    descriptors: bool,
}

impl Parser {
    /// `Second | Minute | Hour | Dom | Month | DowOptional | Descriptor`: what `coder_script`
    /// accepts (6 fields, or 5 without the day of week).
    pub const fn with_seconds() -> Self {
        Parser {
            with_seconds: true,
            dow_optional: true,
            descriptors: true,
        }
    }

    /// `Minute | Hour | Dom | Month | DowOptional | Descriptor`: classic Unix cron, which
    /// upstream tries only to warn about expressions written in it.
    pub const fn unix() -> Self {
        Parser {
            with_seconds: false,
            dow_optional: true,
            descriptors: true,
        }
    }

    /// `Minute | Hour | Dom | Month | Dow`: exactly five fields, no descriptors, as upstream
    /// parses prebuild schedules.
    pub const fn five_fields() -> Self {
        Parser {
            with_seconds: false,
            dow_optional: false,
            descriptors: false,
        }
    }

    fn spells(&self, field: Field) -> bool {
        self.with_seconds || field != Field::Second
    }

    pub fn parse(&self, spec: &str) -> Result<Schedule, String> {
        if spec.is_empty() {
            return Err("empty spec string".to_string());
        }
        let mut spec = spec;
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            // robfig takes the zone up to the first space. Without a space it slices out of
            // bounds and the Go provider crashes; we report the expression as incomplete.
            let eq = spec.find('=').unwrap_or(0);
            let Some(space) = spec.find(' ') else {
                let name = spec.get(eq + 1..).unwrap_or("");
                return Err(format!(
                    "provided bad location {name}: no schedule follows the time zone"
                ));
            };
            let name = spec.get(eq + 1..space).unwrap_or("");
            if let Err(e) = time::load_location(name) {
                return Err(format!("provided bad location {name}: {e}"));
            }
            spec = spec.get(space..).unwrap_or("").trim();
        }
        if spec.starts_with('@') {
            if !self.descriptors {
                return Err(format!("parser does not accept descriptors: {spec}"));
            }
            return parse_descriptor(spec);
        }
        let fields = self.normalize(spec.split_whitespace().collect())?;
        let mut bits = [0u64; 6];
        for ((field, text), slot) in FIELDS.iter().zip(&fields).zip(bits.iter_mut()) {
            *slot = parse_field(text, *field)?;
        }
        let [second, minute, hour, dom, month, dow] = bits;
        Ok(Schedule::Fields {
            second,
            minute,
            hour,
            dom,
            month,
            dow,
        })
    }

    /// Checks the field count and fills in what the dialect leaves out, giving all six.
    fn normalize<'a>(&self, mut fields: Vec<&'a str>) -> Result<Vec<&'a str>, String> {
        let max = FIELDS.iter().filter(|f| self.spells(**f)).count();
        let min = if self.dow_optional { max - 1 } else { max };
        let count = fields.len();
        if count < min || count > max {
            if min == max {
                return Err(format!(
                    "expected exactly {min} fields, found {count}: [{}]",
                    fields.join(" ")
                ));
            }
            return Err(format!(
                "expected {min} to {max} fields, found {count}: [{}]",
                fields.join(" ")
            ));
        }
        if count < max {
            fields.push(FIELD_DEFAULTS[5]);
        }
        let mut given = fields.into_iter();
        Ok(FIELDS
            .iter()
            .zip(FIELD_DEFAULTS)
            .map(|(field, default)| {
                if self.spells(*field) {
                    given.next().unwrap_or(default)
                } else {
                    default
                }
            })
            .collect())
    }
}

/// The `@` forms: fixed schedules and `@every <Go duration>`.
fn parse_descriptor(spec: &str) -> Result<Schedule, String> {
    let all = |field: Field| {
        let (min, max, _) = field.bounds();
        bits_between(min, max, 1) | STAR_BIT
    };
    let fixed = |second, minute, hour, dom, month, dow| Schedule::Fields {
        second,
        minute,
        hour,
        dom,
        month,
        dow,
    };
    match spec {
        "@yearly" | "@annually" => return Ok(fixed(1, 1, 1, 1 << 1, 1 << 1, all(Field::Dow))),
        "@monthly" => return Ok(fixed(1, 1, 1, 1 << 1, all(Field::Month), all(Field::Dow))),
        "@weekly" => return Ok(fixed(1, 1, 1, all(Field::Dom), all(Field::Month), 1)),
        "@daily" | "@midnight" => {
            return Ok(fixed(
                1,
                1,
                1,
                all(Field::Dom),
                all(Field::Month),
                all(Field::Dow),
            ))
        }
        "@hourly" => {
            return Ok(fixed(
                1,
                1,
                all(Field::Hour),
                all(Field::Dom),
                all(Field::Month),
                all(Field::Dow),
            ))
        }
        _ => {}
    }
    if let Some(duration) = spec.strip_prefix("@every ") {
        return time::parse_duration(duration)
            .map(Schedule::Every)
            .map_err(|e| format!("failed to parse duration {spec}: {e}"));
    }
    Err(format!("unrecognized descriptor: {spec}"))
}

/// One field: comma-separated ranges, OR-ed together. Empty pieces between commas are skipped.
fn parse_field(text: &str, field: Field) -> Result<u64, String> {
    let mut bits = 0;
    for expr in text.split(',').filter(|e| !e.is_empty()) {
        bits |= parse_range(expr, field)?;
    }
    Ok(bits)
}

/// `*`, `?`, `N`, `A-B`, each optionally followed by `/step`; `N/step` means `N-max/step`.
/// The checks run in robfig's order so the first error reported is the same.
fn parse_range(expr: &str, field: Field) -> Result<u64, String> {
    let (min, max, names) = field.bounds();
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let range = range_and_step.first().copied().unwrap_or("");
    let low_and_high: Vec<&str> = range.split('-').collect();
    let low = low_and_high.first().copied().unwrap_or("");
    let single = low_and_high.len() == 1;

    let (start, mut end, mut extra) = if low == "*" || low == "?" {
        (min, max, STAR_BIT)
    } else {
        let start = parse_int_or_name(low, names)?;
        let end = match low_and_high.as_slice() {
            [_] => start,
            [_, high] => parse_int_or_name(high, names)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end, 0)
    };

    let step = match range_and_step.as_slice() {
        [_] => 1,
        [_, step] => {
            let step = parse_non_negative(step)?;
            if single {
                end = max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };

    if start < min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({min}): {expr}"
        ));
    }
    if end > max {
        return Err(format!(
            "end of range ({end}) above maximum ({max}): {expr}"
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(bits_between(start, end, step) | extra)
}

fn bits_between(start: u64, end: u64, step: u64) -> u64 {
    let mut bits = 0;
    let mut i = start;
    while i <= end && i < 64 {
        bits |= 1 << i;
        i += step;
    }
    bits
}

fn parse_int_or_name(expr: &str, names: &[(&str, u64)]) -> Result<u64, String> {
    let lower = expr.to_lowercase();
    if let Some((_, n)) = names.iter().find(|(name, _)| *name == lower) {
        return Ok(*n);
    }
    parse_non_negative(expr)
}

/// Go's `strconv.Atoi` followed by robfig's refusal of negative numbers, with both messages.
fn parse_non_negative(expr: &str) -> Result<u64, String> {
    let n = strconv::atoi(expr).map_err(|e| format!("failed to parse int from {expr}: {e}"))?;
    u64::try_from(n).map_err(|_| format!("negative number ({n}) not allowed: {expr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn six(spec: &str) -> Result<Schedule, String> {
        Parser::with_seconds().parse(spec)
    }

    fn unix(spec: &str) -> Result<Schedule, String> {
        Parser::unix().parse(spec)
    }

    #[test]
    fn six_fields_with_seconds_first() {
        let Ok(Schedule::Fields {
            second,
            minute,
            hour,
            ..
        }) = six("30 0 9 * * 1-5")
        else {
            panic!("expected fields");
        };
        assert_eq!(second, 1 << 30);
        assert_eq!(minute, 1);
        assert_eq!(hour, 1 << 9);
    }

    #[test]
    fn five_fields_leave_the_day_of_week_any() {
        let Ok(Schedule::Fields {
            second,
            minute,
            dow,
            ..
        }) = six("*/5 * * * *")
        else {
            panic!("expected fields");
        };
        // In the seconds dialect the first of five fields is the second, not the minute.
        assert_eq!(second & (1 << 5), 1 << 5);
        assert_eq!(minute & STAR_BIT, STAR_BIT);
        assert_eq!(dow, bits_between(0, 6, 1) | STAR_BIT);
    }

    #[test]
    fn field_count_errors_list_the_fields() {
        assert_eq!(
            six("0 0 0 0 0 0 0"),
            Err("expected 5 to 6 fields, found 7: [0 0 0 0 0 0 0]".to_string())
        );
        assert_eq!(
            six("invalid"),
            Err("expected 5 to 6 fields, found 1: [invalid]".to_string())
        );
        assert_eq!(
            unix("* * *"),
            Err("expected 4 to 5 fields, found 3: [* * *]".to_string())
        );
        assert_eq!(six(""), Err("empty spec string".to_string()));
        assert_eq!(
            six("   "),
            Err("expected 5 to 6 fields, found 0: []".to_string())
        );
    }

    #[test]
    fn range_errors_use_robfig_texts() {
        assert_eq!(
            six("0 0 25-26 * * *"),
            Err("end of range (26) above maximum (23): 25-26".to_string())
        );
        assert_eq!(
            six("0 0 0 0 * *"),
            Err("beginning of range (0) below minimum (1): 0".to_string())
        );
        assert_eq!(
            six("0 0 5-3 * * *"),
            Err("beginning of range (5) beyond end of range (3): 5-3".to_string())
        );
        assert_eq!(
            six("0 */0 * * * *"),
            Err("step of range should be a positive number: */0".to_string())
        );
        assert_eq!(
            six("0 1-2-3 * * * *"),
            Err("too many hyphens: 1-2-3".to_string())
        );
        assert_eq!(
            six("0 1/2/3 * * * *"),
            Err("too many slashes: 1/2/3".to_string())
        );
        assert_eq!(
            six("0 0 0 * * 7"),
            Err("end of range (7) above maximum (6): 7".to_string())
        );
    }

    #[test]
    fn integer_errors_wrap_strconv() {
        assert_eq!(
            six("x * * * * *"),
            Err(
                r#"failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax"#
                    .to_string()
            )
        );
        assert_eq!(
            six("-1 * * * * *"),
            Err(
                r#"failed to parse int from : strconv.Atoi: parsing "": invalid syntax"#
                    .to_string()
            )
        );
        assert_eq!(
            six("99999999999999999999 * * * * *"),
            Err(
                "failed to parse int from 99999999999999999999: strconv.Atoi: parsing \
                 \"99999999999999999999\": value out of range"
                    .to_string()
            )
        );
        assert_eq!(
            six("0 0 0 * * 1/-2"),
            Err("negative number (-2) not allowed: -2".to_string())
        );
    }

    #[test]
    fn names_are_case_insensitive_for_month_and_weekday() {
        assert!(six("0 0 0 * JAN-Mar mon-fri").is_ok());
        assert!(six("0 0 0 * * SUN").is_ok());
        assert_eq!(
            six("0 jan * * * *"),
            Err(
                r#"failed to parse int from jan: strconv.Atoi: parsing "jan": invalid syntax"#
                    .to_string()
            )
        );
    }

    #[test]
    fn question_mark_and_plus_sign_are_accepted() {
        assert!(six("0 0 0 ? * ?").is_ok());
        assert!(six("+5 * * * * *").is_ok());
        // Empty pieces between commas are skipped, as Go's FieldsFunc does.
        assert!(six("0 1,,2 * * * *").is_ok());
    }

    #[test]
    fn descriptors() {
        assert!(six("@daily").is_ok());
        assert!(six("@midnight").is_ok());
        assert!(six("@hourly").is_ok());
        assert!(six("@weekly").is_ok());
        assert!(six("@monthly").is_ok());
        assert!(six("@yearly").is_ok());
        assert!(six("@annually").is_ok());
        assert_eq!(six("@every 1h30m"), Ok(Schedule::Every(5_400_000_000_000)));
        assert_eq!(
            six("@Daily"),
            Err("unrecognized descriptor: @Daily".to_string())
        );
        assert_eq!(
            six("@every 1x"),
            Err(
                r#"failed to parse duration @every 1x: time: unknown unit "x" in duration "1x""#
                    .to_string()
            )
        );
        assert_eq!(
            six("@every 10"),
            Err(
                r#"failed to parse duration @every 10: time: missing unit in duration "10""#
                    .to_string()
            )
        );
        assert_eq!(
            six("@every "),
            Err(r#"failed to parse duration @every : time: invalid duration """#.to_string())
        );
    }

    #[test]
    fn time_zone_prefix() {
        assert!(six("TZ=UTC 0 0 0 * * *").is_ok());
        assert!(six("CRON_TZ=Local @daily").is_ok());
        assert_eq!(
            six("TZ=../etc 0 0 0 * * *"),
            Err("provided bad location ../etc: time: invalid location name".to_string())
        );
        assert!(six("TZ=UTC").is_err());
    }

    #[test]
    fn zones_come_from_the_embedded_database() {
        assert!(six("TZ=Europe/Berlin 0 0 0 * * *").is_ok());
        assert!(six("CRON_TZ=America/Argentina/Buenos_Aires @hourly").is_ok());
        assert_eq!(
            six("TZ=Mars/Olympus 0 0 0 * * *"),
            Err("provided bad location Mars/Olympus: unknown time zone Mars/Olympus".to_string())
        );
    }

    #[test]
    fn five_field_dialect_needs_all_five_and_no_descriptors() {
        let five = |spec| Parser::five_fields().parse(spec);
        assert_eq!(
            five("* * * *"),
            Err("expected exactly 5 fields, found 4: [* * * *]".to_string())
        );
        assert_eq!(
            five("@daily"),
            Err("parser does not accept descriptors: @daily".to_string())
        );
        let Ok(Schedule::Fields { second, minute, .. }) = five("0 22 * * *") else {
            panic!("expected fields");
        };
        assert_eq!(second, 1);
        assert_eq!(minute, 1);
    }

    #[test]
    fn unix_dialect_has_no_seconds() {
        let Ok(Schedule::Fields { second, minute, .. }) = unix("0 22 * * *") else {
            panic!("expected fields");
        };
        assert_eq!(second, 1);
        assert_eq!(minute, 1);
        assert!(unix("0 0 22 * * *").is_err());
    }
}
