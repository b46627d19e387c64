//! Per-resource timings from Terraform's `-json` hook messages (`apply_start` →
//! `apply_complete`, `refresh_start` → `refresh_complete`, ...), plus one timing per stage
//! command, reported in the `timings` of each *Complete.

use std::collections::BTreeMap;
use std::time::SystemTime;

use coder_proto::provisioner::{Timing, TimingState};
use prost_types::Timestamp;

use super::logs::JsonLogLine;

/// Collects the timings of one Terraform command.
#[derive(Debug)]
pub struct TimingCollector {
    stage: String,
    /// Keyed by (hook family, resource address), so repeated starts of the same thing pair up.
    open: BTreeMap<(String, String), Timing>,
    done: Vec<Timing>,
}

impl TimingCollector {
    /// `stage` is what the command does: `init`, `plan`, `graph` or `apply`.
    pub fn new(stage: &str) -> TimingCollector {
        TimingCollector {
            stage: stage.to_string(),
            open: BTreeMap::new(),
            done: Vec::new(),
        }
    }

    /// Looks at one parsed output line.
    pub fn observe(&mut self, line: &JsonLogLine) {
        let Some((family, event)) = line.kind.rsplit_once('_') else {
            return;
        };
        if !matches!(family, "apply" | "refresh" | "provision" | "ephemeral_op") {
            return;
        }
        let Some(resource) = line.hook.as_ref().and_then(|h| h.resource.as_ref()) else {
            return;
        };
        let Some(at) = parse_timestamp(&line.timestamp) else {
            return;
        };
        let key = (family.to_string(), resource.addr.clone());
        match event {
            "start" => {
                let action = match family {
                    "refresh" => "state refresh".to_string(),
                    "provision" => "provision".to_string(),
                    _ => line
                        .hook
                        .as_ref()
                        .and_then(|h| h.action.clone())
                        .unwrap_or_default(),
                };
                self.open.insert(
                    key,
                    Timing {
                        start: Some(at),
                        end: None,
                        action,
                        source: resource.implied_provider.clone(),
                        resource: resource.addr.clone(),
                        stage: self.stage.clone(),
                        state: TimingState::Started.into(),
                    },
                );
            }
            "complete" | "errored" => {
                if let Some(mut timing) = self.open.remove(&key) {
                    timing.end = Some(at);
                    timing.state = if event == "complete" {
                        TimingState::Completed
                    } else {
                        TimingState::Failed
                    }
                    .into();
                    self.done.push(timing);
                }
            }
            _ => {}
        }
    }

    /// All timings: finished ones in the order they finished, then unfinished ones (state
    /// `STARTED`, no end: the command stopped before they did).
    pub fn finish(mut self) -> Vec<Timing> {
        self.done.extend(self.open.into_values());
        self.done
    }
}

/// A timing for a whole stage (`init`, `graph`, ...) that has no hook messages of its own.
pub fn stage_timing(stage: &str, start: SystemTime, end: SystemTime, ok: bool) -> Timing {
    Timing {
        start: Some(Timestamp::from(start)),
        end: Some(Timestamp::from(end)),
        action: stage.to_string(),
        source: "coder".to_string(),
        resource: format!("coder_stage_{stage}"),
        stage: stage.to_string(),
        state: if ok {
            TimingState::Completed
        } else {
            TimingState::Failed
        }
        .into(),
    }
}

/// Parses Terraform's `@timestamp` (RFC 3339 with fractional seconds, e.g.
/// `2024-03-01T10:20:30.123456Z` or `…+01:00`).
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes.get(4) != Some(&b'-') || bytes.get(10) != Some(&b'T') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> { text.get(range)?.parse().ok() };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut nanos: i64 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return None;
        }
        let mut padded = digits.clone();
        padded.truncate(9);
        while padded.len() < 9 {
            padded.push('0');
        }
        nanos = padded.parse().ok()?;
        rest = frac.get(digits.len()..)?;
    }
    let offset_seconds = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            if rest.len() != 6 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(Timestamp {
        seconds,
        nanos: i32::try_from(nanos).ok()?,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terraform_timestamps() {
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:00Z"),
            Some(Timestamp {
                seconds: 0,
                nanos: 0
            })
        );
        assert_eq!(
            parse_timestamp("2024-03-01T10:20:30.123456Z"),
            Some(Timestamp {
                seconds: 1_709_288_430,
                nanos: 123_456_000
            })
        );
        assert_eq!(
            parse_timestamp("2024-03-01T11:20:30.5+01:00"),
            Some(Timestamp {
                seconds: 1_709_288_430,
                nanos: 500_000_000
            })
        );
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2024-13-01T00:00:00Z"), None);
    }

    fn line(kind: &str, addr: &str, at: &str, action: &str) -> JsonLogLine {
        serde_json::from_value(serde_json::json!({
            "@level": "info",
            "@message": "",
            "@timestamp": at,
            "type": kind,
            "hook": {
                "resource": {"addr": addr, "implied_provider": "terraform"},
                "action": action
            }
        }))
        .expect("line")
    }

    #[test]
    fn pairs_hook_events() {
        let mut c = TimingCollector::new("apply");
        c.observe(&line(
            "apply_start",
            "terraform_data.a",
            "2024-01-01T00:00:00Z",
            "create",
        ));
        c.observe(&line(
            "apply_start",
            "terraform_data.b",
            "2024-01-01T00:00:01Z",
            "create",
        ));
        c.observe(&line(
            "apply_complete",
            "terraform_data.a",
            "2024-01-01T00:00:02Z",
            "create",
        ));
        c.observe(&line(
            "apply_errored",
            "terraform_data.x",
            "2024-01-01T00:00:03Z",
            "create",
        ));
        let timings = c.finish();
        assert_eq!(timings.len(), 2);
        assert_eq!(timings[0].resource, "terraform_data.a");
        assert_eq!(timings[0].action, "create");
        assert_eq!(timings[0].source, "terraform");
        assert_eq!(timings[0].stage, "apply");
        assert_eq!(timings[0].state(), TimingState::Completed);
        assert_eq!(timings[0].end.map(|t| t.seconds), Some(1_704_067_202));
        assert_eq!(timings[1].resource, "terraform_data.b");
        assert_eq!(timings[1].state(), TimingState::Started);
    }
}
