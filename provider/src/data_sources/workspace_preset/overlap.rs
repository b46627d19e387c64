//! Upstream's check that no two prebuild schedules of a preset are active in the same hour. It
//! is deliberately simpler than cron itself: fields are `*`, `N`, `A-B` and comma lists, the
//! minute is ignored, and the day check follows cron's "day-of-month OR day-of-week" rule.

use crate::go::strconv::atoi;

/// The first pair (in order) that overlaps, or the first spec the checker cannot read.
pub fn check_schedules(specs: &[String]) -> Result<(), String> {
    for (i, first) in specs.iter().enumerate() {
        for second in &specs[i + 1..] {
            if schedules_overlap(first, second).map_err(|e| format!("invalid schedule: {e}"))? {
                return Err(format!("schedules overlap: {first} and {second}"));
            }
        }
    }
    Ok(())
}

fn schedules_overlap(first: &str, second: &str) -> Result<bool, String> {
    let a = five_fields(first)?;
    let b = five_fields(second)?;
    if !overlap(a[3], b[3], 12).map_err(|e| format!("invalid month range: {e}"))? {
        return Ok(false);
    }
    if !days_overlap(a[2], a[4], b[2], b[4]).map_err(|e| format!("invalid day range: {e}"))? {
        return Ok(false);
    }
    overlap(a[1], b[1], 23).map_err(|e| format!("invalid hour range: {e}"))
}

fn five_fields(spec: &str) -> Result<Vec<&str>, String> {
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "schedule {} has {} fields, expected 5 fields (minute hour day-of-month month \
             day-of-week)",
            crate::schema::validators::go_quote(spec),
            fields.len()
        ));
    }
    Ok(fields)
}

/// A wildcard day-of-month leaves only the days of the week to compare, and the other way
/// round; when both are restricted, cron runs on either, so either overlapping is enough.
fn days_overlap(dom1: &str, dow1: &str, dom2: &str, dow2: &str) -> Result<bool, String> {
    if dom1 == "*" || dom2 == "*" {
        return overlap(dow1, dow2, 6);
    }
    if dow1 == "*" || dow2 == "*" {
        return overlap(dom1, dom2, 31);
    }
    let dom = overlap(dom1, dom2, 31)?;
    let dow = overlap(dow1, dow2, 6)?;
    Ok(dom || dow)
}

fn overlap(first: &str, second: &str, max: i64) -> Result<bool, String> {
    let a = parse_range(first, max)?;
    let b = parse_range(second, max)?;
    Ok(a.iter().zip(&b).any(|(x, y)| *x && *y))
}

/// The values a field selects, as flags over `0..=max`. Upstream's wildcard spans from 0 even
/// for months and days of the month, which start at 1; harmless for an intersection test.
fn parse_range(input: &str, max: i64) -> Result<Vec<bool>, String> {
    let mut selected = vec![false; usize::try_from(max + 1).unwrap_or(0)];
    if input == "*" {
        selected.iter_mut().for_each(|s| *s = true);
        return Ok(selected);
    }
    for part in input.split(',') {
        let (start, end) = if part.contains('-') {
            let mut bounds = part.split('-');
            let start = atoi(bounds.next().unwrap_or_default())
                .map_err(|e| format!("invalid start value in range: {e}"))?;
            let end = atoi(bounds.next().unwrap_or_default())
                .map_err(|e| format!("invalid end value in range: {e}"))?;
            if start < 0 || end > max || start > end {
                return Err(format!(
                    "invalid range {start}-{end}: values must be between 0 and {max}"
                ));
            }
            (start, end)
        } else {
            let value = atoi(part).map_err(|e| format!("invalid value: {e}"))?;
            if value < 0 || value > max {
                return Err(format!(
                    "invalid value {value}: must be between 0 and {max}"
                ));
            }
            (value, value)
        };
        for v in start..=end {
            if let Some(flag) = usize::try_from(v).ok().and_then(|i| selected.get_mut(i)) {
                *flag = true;
            }
        }
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(specs: &[&str]) -> Result<(), String> {
        check_schedules(&specs.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn disjoint_hours_do_not_overlap() {
        assert_eq!(check(&["* 8-11 * * 1-5", "* 12-18 * * 1-5"]), Ok(()));
    }

    #[test]
    fn disjoint_days_do_not_overlap() {
        assert_eq!(check(&["* 8-18 * * 1-5", "* 8-18 * * 0,6"]), Ok(()));
        assert_eq!(check(&["* 8-18 1-10 * *", "* 8-18 11-20 * *"]), Ok(()));
        assert_eq!(check(&["* * * 1-6 *", "* * * 7-12 *"]), Ok(()));
    }

    #[test]
    fn shared_hours_on_shared_days_overlap() {
        assert_eq!(
            check(&["* 8-18 * * 1-5", "* 18-20 * * 5"]).unwrap_err(),
            "schedules overlap: * 8-18 * * 1-5 and * 18-20 * * 5"
        );
    }

    #[test]
    fn restricted_dom_and_dow_overlap_on_either() {
        // Different days of the month, but both also run on Mondays.
        assert!(check(&["* 9 1 * 1", "* 9 2 * 1"]).is_err());
        assert_eq!(check(&["* 9 1 * 1", "* 9 2 * 2"]), Ok(()));
    }

    #[test]
    fn unreadable_fields_are_reported_with_their_field() {
        assert_eq!(
            check(&["* */2 * * *", "* 1 * * *"]).unwrap_err(),
            r#"invalid schedule: invalid hour range: invalid value: strconv.Atoi: parsing "*/2": invalid syntax"#
        );
        assert_eq!(
            check(&["* 1 * JAN *", "* 1 * * *"]).unwrap_err(),
            r#"invalid schedule: invalid month range: invalid value: strconv.Atoi: parsing "JAN": invalid syntax"#
        );
        assert_eq!(
            check(&["* 1 ? * 1", "* 1 2 * 1"]).unwrap_err(),
            r#"invalid schedule: invalid day range: invalid value: strconv.Atoi: parsing "?": invalid syntax"#
        );
        assert_eq!(
            check(&["* 1-x * * *", "* 1 * * *"]).unwrap_err(),
            r#"invalid schedule: invalid hour range: invalid end value in range: strconv.Atoi: parsing "x": invalid syntax"#
        );
        assert_eq!(
            check(&["* 1 * * *", "* 1 * *"]).unwrap_err(),
            r#"invalid schedule: schedule "* 1 * *" has 4 fields, expected 5 fields (minute hour day-of-month month day-of-week)"#
        );
    }

    #[test]
    fn out_of_range_values() {
        assert_eq!(
            parse_range("7", 6).unwrap_err(),
            "invalid value 7: must be between 0 and 6"
        );
        assert_eq!(
            parse_range("5-3", 23).unwrap_err(),
            "invalid range 5-3: values must be between 0 and 23"
        );
    }
}
