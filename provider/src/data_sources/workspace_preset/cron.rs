//! Prebuild schedule cron specs: upstream's own pre-checks, then `robfig/cron` v3 configured for
//! five fields (minute hour day-of-month month day-of-week, no descriptors), whose error texts
//! template authors see, e.g. `end of range (26) above maximum (23): 25-26`.

use crate::go::cron::Parser;

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
    // The pre-checks above already exclude robfig's `TZ=` prefix and `@descriptor` forms.
    Parser::five_fields()
        .parse(spec)
        .map(drop)
        .map_err(|e| format!("failed to parse cron spec: {e}"))
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
