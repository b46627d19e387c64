//! Prebuild schedule cron specs: upstream's own pre-checks, then the standard five-field parser
//! of `robfig/cron` v3 (minute hour day-of-month month day-of-week, no descriptors), whose error
//! texts template authors see, e.g. `end of range (26) above maximum (23): 25-26`.

use crate::go::strconv::atoi;

/// The allowed values of one cron field, and the names it accepts (case-insensitive).
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DAYS_OF_MONTH: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
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
    ],
};
const DAYS_OF_WEEK: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// The full check upstream runs on `schedule.cron`, as the message it reports.
pub fn check_prebuild_cron(spec: &str) -> Result<(), String> {
    let fields: Vec<&str> = spec.split_whitespace().collect();
    // A prebuild schedule covers whole hours, so the minute field must be `*`.
    if fields.len() != 5 {
        return Err(
            "cron spec failed validation: cron specification should consist of 5 fields"
                .to_string(),
        );
    }
    if fields[0] != "*" {
        return Err("cron spec failed validation: minute field should be *".to_string());
    }
    parse_standard(spec).map_err(|e| format!("failed to parse cron spec: {e}"))
}

/// robfig's parser configured for five fields. The pre-checks above already exclude its
/// `TZ=` prefix and `@descriptor` forms, so only the fields remain to check.
fn parse_standard(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".to_string());
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    // robfig fills the absent seconds field with 0 and checks the fields in order.
    check_field("0", &SECONDS)?;
    check_field(fields[0], &MINUTES)?;
    check_field(fields[1], &HOURS)?;
    check_field(fields[2], &DAYS_OF_MONTH)?;
    check_field(fields[3], &MONTHS)?;
    check_field(fields[4], &DAYS_OF_WEEK)
}

/// A comma-separated list of ranges; empty items are skipped, as robfig does.
fn check_field(field: &str, bounds: &Bounds) -> Result<(), String> {
    field
        .split(',')
        .filter(|expr| !expr.is_empty())
        .try_for_each(|expr| check_range(expr, bounds))
}

/// `*`, `?`, `N`, `A-B`, each optionally `/step`; `N/step` means `N-max/step`.
fn check_range(expr: &str, bounds: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let (start, mut end) = if low_and_high[0] == "*" || low_and_high[0] == "?" {
        // robfig ignores anything after a wildcard's hyphen.
        (bounds.min, bounds.max)
    } else {
        let start = int_or_name(low_and_high[0], bounds)?;
        match low_and_high.len() {
            1 => (start, start),
            2 => (start, int_or_name(low_and_high[1], bounds)?),
            _ => return Err(format!("too many hyphens: {expr}")),
        }
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = non_negative_int(range_and_step[1])?;
            if low_and_high.len() == 1 {
                end = bounds.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < bounds.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            bounds.min
        ));
    }
    if end > bounds.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            bounds.max
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
    Ok(())
}

fn int_or_name(expr: &str, bounds: &Bounds) -> Result<u64, String> {
    let lower = expr.to_lowercase();
    match bounds.names.iter().find(|(name, _)| *name == lower) {
        Some(&(_, n)) => Ok(n),
        None => non_negative_int(expr),
    }
}

fn non_negative_int(expr: &str) -> Result<u64, String> {
    let n = atoi(expr).map_err(|e| format!("failed to parse int from {expr}: {e}"))?;
    u64::try_from(n).map_err(|_| format!("negative number ({n}) not allowed: {expr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_hour_ranges_and_names() {
        for ok in [
            "* 8-18 * * 1-5",
            "* * * * *",
            "* 0,12 1-15 JAN-jun sun,SAT",
            "* */2 ? * *",
            "* 9/3 * * *",
        ] {
            assert_eq!(check_prebuild_cron(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn needs_five_fields() {
        for bad in ["* * * *", "* * * * * *", ""] {
            assert_eq!(
                check_prebuild_cron(bad).unwrap_err(),
                "cron spec failed validation: cron specification should consist of 5 fields"
            );
        }
    }

    #[test]
    fn minute_must_be_a_wildcard() {
        assert_eq!(
            check_prebuild_cron("0 8 * * *").unwrap_err(),
            "cron spec failed validation: minute field should be *"
        );
    }

    #[test]
    fn robfig_range_errors() {
        let cases = [
            (
                "* 25-26 * * *",
                "end of range (26) above maximum (23): 25-26",
            ),
            ("* 8 0 * *", "beginning of range (0) below minimum (1): 0"),
            (
                "* 18-8 * * *",
                "beginning of range (18) beyond end of range (8): 18-8",
            ),
            ("* 1-2-3 * * *", "too many hyphens: 1-2-3"),
            ("* 1/2/3 * * *", "too many slashes: 1/2/3"),
            (
                "* */0 * * *",
                "step of range should be a positive number: */0",
            ),
            (
                "* x * * *",
                r#"failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax"#,
            ),
            ("* * * 13 *", "end of range (13) above maximum (12): 13"),
            ("* * * * 7", "end of range (7) above maximum (6): 7"),
            (
                "* -1 * * *",
                r#"failed to parse int from : strconv.Atoi: parsing "": invalid syntax"#,
            ),
        ];
        for (spec, message) in cases {
            assert_eq!(
                check_prebuild_cron(spec).unwrap_err(),
                format!("failed to parse cron spec: {message}"),
                "{spec}"
            );
        }
    }
}
