//! `data "coder_task"`: whether this build runs for a Coder Task, and the task's prompt.

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::{Attribute, DataSource, Diagnostic, Diagnostics, Schema};

pub struct Task;

const NAME: &str = "coder_task";

const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

impl DataSource<CoderMeta> for Task {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> Schema {
        // Upstream never gave this type a schema version.
        Schema::new("Whether this build runs for a Coder Task, and the task's details.")
            .version(0)
            .attr(
                Attribute::string("id")
                    .computed()
                    .describe("The task's id when building for a task; otherwise a random UUID."),
            )
            .attr(
                Attribute::string("prompt")
                    .computed()
                    .describe("The task's prompt as Coder passes it (Coder v2.28 and later)."),
            )
            .attr(Attribute::bool("enabled").computed().describe(
                "True when building for a task, false for a plain workspace (Coder v2.28 and \
                 later).",
            ))
    }

    fn read(&self, meta: &CoderMeta, config: Value, diags: &mut Diagnostics) -> Value {
        let env = &meta.env;
        let mut state = config.as_object().cloned().unwrap_or_default();
        let raw_id = env.lookup("CODER_TASK_ID").unwrap_or_default();
        if raw_id.is_empty() || raw_id == NIL_UUID {
            state.insert(
                "id".to_string(),
                Value::string(uuid::Uuid::new_v4().to_string()),
            );
            state.insert("enabled".to_string(), Value::bool(false));
        } else {
            match go_uuid_parse(raw_id) {
                // The id is kept as given (braces, urn prefix, case and all), as upstream does.
                Ok(()) => {
                    state.insert("id".to_string(), Value::string(raw_id));
                    state.insert("enabled".to_string(), Value::bool(true));
                }
                Err(e) => diags.push(Diagnostic::error(e)),
            }
        }
        state.insert(
            "prompt".to_string(),
            Value::string(env.lookup("CODER_TASK_PROMPT").unwrap_or_default()),
        );
        Value::Object(state)
    }
}

/// Whether `s` parses with Go's `github.com/google/uuid` `Parse`, with its error texts. It
/// accepts `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, the same wrapped in any two characters (it
/// does not check that they are braces), with a case-insensitive `urn:uuid:` prefix, or 32 hex
/// digits; lengths are in bytes.
fn go_uuid_parse(s: &str) -> Result<(), String> {
    let bytes = s.as_bytes();
    let hex_pair = |b: &[u8], i: usize| -> bool {
        b.get(i).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
    };
    let hyphenated: &[u8] = match bytes.len() {
        36 => bytes,
        45 => {
            if !bytes[..9].eq_ignore_ascii_case(b"urn:uuid:") {
                let prefix = String::from_utf8_lossy(&bytes[..9]);
                return Err(format!(
                    "invalid urn prefix: {}",
                    crate::schema::validators::go_quote(&prefix)
                ));
            }
            &bytes[9..]
        }
        38 => &bytes[1..37],
        32 => {
            return if (0..16).all(|i| hex_pair(bytes, i * 2)) {
                Ok(())
            } else {
                Err("invalid UUID format".to_string())
            };
        }
        n => return Err(format!("invalid UUID length: {n}")),
    };
    let hyphens_ok = [8, 13, 18, 23]
        .iter()
        .all(|&i| hyphenated.get(i) == Some(&b'-'));
    let digits_ok = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]
        .iter()
        .all(|&i| hex_pair(hyphenated, i));
    if hyphens_ok && digits_ok {
        Ok(())
    } else {
        Err("invalid UUID format".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{read, read_error};

    #[test]
    fn outside_a_task_the_id_is_random_and_disabled() {
        for env in [vec![], vec![("CODER_TASK_ID", NIL_UUID)]] {
            let state = read(NAME, &[], &env);
            let id = state.get_attr("id").and_then(Value::as_str).unwrap_or("");
            assert!(uuid::Uuid::parse_str(id).is_ok() && id != NIL_UUID);
            assert_eq!(state.get_attr("enabled"), Some(&Value::bool(false)));
            assert_eq!(state.get_attr("prompt"), Some(&Value::string("")));
        }
    }

    #[test]
    fn inside_a_task_the_id_is_kept_verbatim() {
        let id = "{7C9E6679-7425-40DE-944B-E07FC1F90AE7}";
        let state = read(
            NAME,
            &[],
            &[("CODER_TASK_ID", id), ("CODER_TASK_PROMPT", "fix the bug")],
        );
        assert_eq!(state.get_attr("id"), Some(&Value::string(id)));
        assert_eq!(state.get_attr("enabled"), Some(&Value::bool(true)));
        assert_eq!(
            state.get_attr("prompt"),
            Some(&Value::string("fix the bug"))
        );
    }

    #[test]
    fn an_invalid_task_id_is_the_uuid_parse_error() {
        let d = read_error(NAME, &[], &[("CODER_TASK_ID", "not-a-valid-uuid")]);
        assert_eq!(d.summary, "invalid UUID length: 16");
        let d = read_error(
            NAME,
            &[],
            &[("CODER_TASK_ID", "7c9e6679x7425-40de-944b-e07fc1f90ae7")],
        );
        assert_eq!(d.summary, "invalid UUID format");
    }

    #[test]
    fn go_uuid_forms() {
        assert_eq!(go_uuid_parse("7c9e6679742540de944be07fc1f90ae7"), Ok(()));
        assert_eq!(
            go_uuid_parse("urn:uuid:7c9e6679-7425-40de-944b-e07fc1f90ae7"),
            Ok(())
        );
        assert_eq!(
            go_uuid_parse("urn:uuix:7c9e6679-7425-40de-944b-e07fc1f90ae7"),
            Err(r#"invalid urn prefix: "urn:uuix:""#.to_string())
        );
        assert_eq!(
            go_uuid_parse("(7c9e6679-7425-40de-944b-e07fc1f90ae7)"),
            Ok(())
        );
        assert_eq!(
            go_uuid_parse("7c9e6679742540de944be07fc1f90aeg"),
            Err("invalid UUID format".to_string())
        );
    }
}
