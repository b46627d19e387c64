//! A check of the Terraform state a Plan or Apply request carries, before it is written to the
//! work directory and Terraform runs on it.
//!
//! Terraform refuses a broken state itself, but only after `init`, in the middle of its plan,
//! and in words about a state *lock* ("Error acquiring the state lock … Unsupported state file
//! format"). A state that arrives cut short or mangled is a fault of whoever stored or sent it,
//! so the request answers at once with what is wrong with the bytes it carried.
//!
//! The check rejects only what Terraform would reject too: a state it accepts (an old format
//! version it upgrades, a version-4 state with fields missing) passes. It reads the fields the
//! way Terraform's version-4 reader does (`internal/states/statefile/version4.go`): unknown
//! fields are ignored, `null` reads as the field's zero value, a field of the wrong JSON type
//! is an error.

use serde_json::Value;

/// The state file format written by every Terraform since 0.12.
pub const STATE_FORMAT_VERSION: u64 = 4;

/// What is wrong with a state. `Display` says it in a sentence that names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error(
        "it ends early, at line {line} column {column} ({len} bytes): the state looks truncated"
    )]
    Truncated {
        line: usize,
        column: usize,
        len: usize,
    },
    #[error("it is not valid JSON: {0}")]
    NotJson(String),
    #[error("its top level is {0}, not an object")]
    NotObject(&'static str),
    #[error("it has no \"version\" field, which says which state format it is in")]
    NoVersion,
    #[error("its \"version\" is {0}; the state format version must be a positive whole number")]
    BadVersion(String),
    #[error(
        "its format version {0} is newer than any this Terraform reads (up to {STATE_FORMAT_VERSION}); \
         was it written by a newer Terraform?"
    )]
    NewerVersion(u64),
    #[error("\"{path}\" is {found}; Terraform expects {expected}")]
    Field {
        path: String,
        found: String,
        expected: &'static str,
    },
}

/// Checks that `state` is a Terraform state Terraform can read. Empty bytes mean "no state"
/// and are not passed here.
pub fn check_state(state: &[u8]) -> Result<(), StateError> {
    let json: Value = serde_json::from_slice(state).map_err(|e| {
        if e.is_eof() {
            StateError::Truncated {
                line: e.line(),
                column: e.column(),
                len: state.len(),
            }
        } else {
            StateError::NotJson(e.to_string())
        }
    })?;
    let Value::Object(top) = &json else {
        return Err(StateError::NotObject(kind(&json)));
    };
    let version = match top.get("version") {
        None | Some(Value::Null) => return Err(StateError::NoVersion),
        Some(Value::Number(n)) => n
            .as_u64()
            .filter(|v| *v > 0)
            .ok_or_else(|| StateError::BadVersion(n.to_string()))?,
        Some(other) => return Err(StateError::BadVersion(kind(other).to_string())),
    };
    if version > STATE_FORMAT_VERSION {
        return Err(StateError::NewerVersion(version));
    }
    if version < STATE_FORMAT_VERSION {
        // Formats 1–3 (Terraform 0.11 and older) are upgraded by Terraform itself.
        return Ok(());
    }
    check_v4(&json)
}

/// What a JSON value is, with its article: "an array", "a string".
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The fields of a version-4 state, checked with their JSON types.
fn check_v4(state: &Value) -> Result<(), StateError> {
    let mut check = Checker::default();
    check.string(state, "terraform_version");
    check.whole(state, "serial");
    check.string(state, "lineage");
    check.object(state, "outputs");
    check.array(state, "check_results");
    if let Some(resources) = check.array(state, "resources") {
        for (i, resource) in resources.iter().enumerate() {
            let at = format!("resources[{i}]");
            if !check.expect_object(resource, &at) {
                continue;
            }
            for field in ["module", "type", "name", "each", "provider"] {
                check.string_at(resource, field, &at);
            }
            if let Some(mode) = check.string_at(resource, "mode", &at) {
                if mode != "managed" && mode != "data" {
                    check.fail(
                        format!("{at}.mode"),
                        format!("{mode:?}"),
                        "\"managed\" or \"data\"",
                    );
                }
            }
            if let Some(instances) = check.array_at(resource, "instances", &at) {
                for (j, instance) in instances.iter().enumerate() {
                    let at = format!("{at}.instances[{j}]");
                    if !check.expect_object(instance, &at) {
                        continue;
                    }
                    check.whole_at(instance, "schema_version", &at);
                    check.object_at(instance, "attributes", &at);
                    check.object_at(instance, "attributes_flat", &at);
                    check.array_at(instance, "dependencies", &at);
                    check.string_at(instance, "private", &at);
                }
            }
        }
    }
    match check.first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Records the first field whose type is wrong (the one a reader fixes first).
#[derive(Default)]
struct Checker {
    first_error: Option<StateError>,
}

impl Checker {
    fn fail(&mut self, path: String, found: String, expected: &'static str) {
        if self.first_error.is_none() {
            self.first_error = Some(StateError::Field {
                path,
                found,
                expected,
            });
        }
    }

    fn wrong(&mut self, path: String, value: &Value, expected: &'static str) {
        self.fail(path, kind(value).to_string(), expected);
    }

    /// The field's value, or `None` when it is absent or null (both read as empty).
    fn field<'a>(parent: &'a Value, name: &str) -> Option<&'a Value> {
        parent.get(name).filter(|v| !v.is_null())
    }

    fn join(at: &str, name: &str) -> String {
        if at.is_empty() {
            name.to_string()
        } else {
            format!("{at}.{name}")
        }
    }

    fn expect_object(&mut self, value: &Value, at: &str) -> bool {
        if value.is_object() {
            return true;
        }
        self.wrong(at.to_string(), value, "an object");
        false
    }

    fn string(&mut self, parent: &Value, name: &str) -> Option<String> {
        self.string_at(parent, name, "")
    }

    fn string_at(&mut self, parent: &Value, name: &str, at: &str) -> Option<String> {
        match Self::field(parent, name)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.wrong(Self::join(at, name), other, "a string");
                None
            }
        }
    }

    fn whole(&mut self, parent: &Value, name: &str) {
        self.whole_at(parent, name, "")
    }

    fn whole_at(&mut self, parent: &Value, name: &str, at: &str) {
        match Self::field(parent, name) {
            None => {}
            Some(Value::Number(n)) if n.as_u64().is_some() => {}
            Some(Value::Number(n)) => self.fail(
                Self::join(at, name),
                n.to_string(),
                "a whole number of 0 or more",
            ),
            Some(other) => self.wrong(Self::join(at, name), other, "a whole number"),
        }
    }

    fn object(&mut self, parent: &Value, name: &str) {
        self.object_at(parent, name, "")
    }

    fn object_at(&mut self, parent: &Value, name: &str, at: &str) {
        match Self::field(parent, name) {
            None | Some(Value::Object(_)) => {}
            Some(other) => self.wrong(Self::join(at, name), other, "an object"),
        }
    }

    fn array<'a>(&mut self, parent: &'a Value, name: &str) -> Option<&'a Vec<Value>> {
        self.array_at(parent, name, "")
    }

    fn array_at<'a>(&mut self, parent: &'a Value, name: &str, at: &str) -> Option<&'a Vec<Value>> {
        match Self::field(parent, name)? {
            Value::Array(items) => Some(items),
            other => {
                self.wrong(Self::join(at, name), other, "an array");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
  "version": 4,
  "terraform_version": "1.11.4",
  "serial": 3,
  "lineage": "6310c072-3fcd-4ffa-4f03-77e14f39c504",
  "outputs": {},
  "resources": [
    {
      "mode": "managed",
      "type": "terraform_data",
      "name": "first",
      "provider": "provider[\"terraform.io/builtin/terraform\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {"id": "394a51c3", "input": null},
          "sensitive_attributes": [],
          "dependencies": ["terraform_data.zero"]
        }
      ]
    }
  ],
  "check_results": null
}"#;

    fn error(state: &str) -> String {
        check_state(state.as_bytes())
            .expect_err("rejected")
            .to_string()
    }

    #[test]
    fn a_state_terraform_wrote_passes() {
        assert_eq!(check_state(GOOD.as_bytes()), Ok(()));
    }

    #[test]
    fn what_terraform_accepts_passes() {
        // Terraform plans against these (checked with 1.11.4): a bare version-4 state, and a
        // 0.11-era version-3 state it upgrades.
        assert_eq!(check_state(br#"{"version":4}"#), Ok(()));
        assert_eq!(
            check_state(
                br#"{"version":3,"terraform_version":"0.11.14","serial":1,"modules":[{"path":["root"]}]}"#
            ),
            Ok(())
        );
        assert_eq!(
            check_state(br#"{"version":4,"lineage":null,"resources":null,"extra":[1]}"#),
            Ok(())
        );
    }

    #[test]
    fn a_truncated_state_is_called_truncated() {
        let cut = &GOOD[..GOOD.len() / 2];
        let text = error(cut);
        assert!(text.starts_with("it ends early, at line "), "{text}");
        assert!(
            text.ends_with(&format!("({} bytes): the state looks truncated", cut.len())),
            "{text}"
        );
    }

    #[test]
    fn garbage_is_not_json() {
        assert_eq!(
            error("version = 4"),
            "it is not valid JSON: expected value at line 1 column 1"
        );
        assert_eq!(error("[]"), "its top level is an array, not an object");
        assert_eq!(
            error("\"state\""),
            "its top level is a string, not an object"
        );
    }

    #[test]
    fn the_format_version_must_be_one_terraform_reads() {
        assert_eq!(
            error(r#"{"serial":1}"#),
            "it has no \"version\" field, which says which state format it is in"
        );
        assert_eq!(
            error(r#"{"version":"4"}"#),
            "its \"version\" is a string; the state format version must be a positive whole number"
        );
        assert_eq!(
            error(r#"{"version":0}"#),
            "its \"version\" is 0; the state format version must be a positive whole number"
        );
        assert_eq!(
            error(r#"{"version":4.5}"#),
            "its \"version\" is 4.5; the state format version must be a positive whole number"
        );
        assert_eq!(
            error(r#"{"version":5,"terraform_version":"9.0.0"}"#),
            "its format version 5 is newer than any this Terraform reads (up to 4); was it \
             written by a newer Terraform?"
        );
    }

    #[test]
    fn fields_of_the_wrong_type_are_named() {
        assert_eq!(
            error(r#"{"version":4,"serial":"1"}"#),
            "\"serial\" is a string; Terraform expects a whole number"
        );
        assert_eq!(
            error(r#"{"version":4,"serial":-1}"#),
            "\"serial\" is -1; Terraform expects a whole number of 0 or more"
        );
        assert_eq!(
            error(r#"{"version":4,"resources":{}}"#),
            "\"resources\" is an object; Terraform expects an array"
        );
        assert_eq!(
            error(
                r#"{"version":4,"resources":[{"mode":"managed","instances":[{"attributes":"x"}]}]}"#
            ),
            "\"resources[0].instances[0].attributes\" is a string; Terraform expects an object"
        );
        assert_eq!(
            error(r#"{"version":4,"resources":[{"mode":"resource"}]}"#),
            "\"resources[0].mode\" is \"resource\"; Terraform expects \"managed\" or \"data\""
        );
        assert_eq!(
            error(r#"{"version":4,"resources":[7]}"#),
            "\"resources[0]\" is a number; Terraform expects an object"
        );
    }
}
