//! The parts of `terraform show -json` output the converter reads, plus a lenient reader
//! for resource attribute values.
//!
//! Documents are decoded into typed structs; unknown fields are ignored so newer Terraform
//! versions keep working. Attribute values stay a JSON object per resource because their
//! shape depends on the resource type; [`Attrs`] decodes them into the typed attribute
//! structs of each `coder_*` type with the rules upstream's decoder (mapstructure) applies:
//! an absent or `null` attribute reads as the zero value, a JSON number is accepted where a
//! string is expected (upstream keeps numbers as `json.Number`, a string type), and any
//! other type mismatch is an error.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// `terraform show -json <planfile>`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TfPlan {
    #[serde(default)]
    pub planned_values: Option<TfValues>,
    #[serde(default)]
    pub prior_state: Option<TfState>,
}

/// `terraform show -json` of a state (also the `prior_state` of a plan).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TfState {
    #[serde(default)]
    pub values: Option<TfValues>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TfValues {
    #[serde(default)]
    pub root_module: Option<TfModule>,
}

/// One module of a plan or state: its resources and, recursively, its child modules.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TfModule {
    /// Empty for the root module, e.g. `module.a.module.b` for a nested one.
    #[serde(default, deserialize_with = "null_as_default")]
    pub address: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub resources: Vec<TfResource>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub child_modules: Vec<TfModule>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TfResource {
    /// Full address including module path and instance key, e.g. `module.m.null_resource.a[0]`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub address: String,
    #[serde(default)]
    pub mode: ResourceMode,
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub r#type: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Attribute values; unknown (plan-time) attributes are absent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub values: Map<String, Value>,
}

/// `managed` or `data`. A missing or unrecognised mode is [`ResourceMode::Other`]: such a
/// resource is neither skipped as a data source nor eligible to host an agent, matching
/// upstream, which compares the raw string against both values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceMode {
    Managed,
    Data,
    #[default]
    #[serde(other)]
    Other,
}

pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl TfPlan {
    /// The modules upstream's provisioner converts at plan time: the planned values, plus
    /// the data sources of the prior state. Data sources (`coder_parameter`,
    /// `coder_external_auth`, ...) are read during planning and only appear in the prior
    /// state; managed resources of the prior state are left out so a stop or destroy plan
    /// does not report resources that are about to go away.
    pub fn modules_for_conversion(&self) -> Vec<TfModule> {
        let mut modules = Vec::new();
        if let Some(root) = self
            .planned_values
            .as_ref()
            .and_then(|v| v.root_module.clone())
        {
            modules.push(root);
        }
        modules.extend(self.prior_data_sources());
        modules
    }

    /// `terraform show -json <planfile>` output → [`TfPlan::into_modules_for_conversion`],
    /// except that the attribute values of resources whose attributes the conversion never
    /// reads (any type but `coder_*` and the VM types whose instance type or id it shows)
    /// are left empty, which saves most of the decoding work on a large plan. Accepts and
    /// rejects the same documents as decoding a `TfPlan`, with the same errors.
    pub fn modules_from_json(json: &[u8]) -> Result<Vec<TfModule>, serde_json::Error> {
        super::partial_decode::decode_plan(json)
    }

    /// Like [`TfPlan::modules_for_conversion`], moving the planned values out instead of
    /// copying them (a large plan's values are worth not copying).
    pub fn into_modules_for_conversion(self) -> Vec<TfModule> {
        let prior = self.prior_data_sources();
        let mut modules: Vec<TfModule> = self
            .planned_values
            .and_then(|v| v.root_module)
            .into_iter()
            .collect();
        modules.extend(prior);
        modules
    }

    fn prior_data_sources(&self) -> Option<TfModule> {
        self.prior_state
            .as_ref()
            .and_then(|s| s.values.as_ref())
            .and_then(|v| v.root_module.as_ref())
            .map(TfModule::data_only)
    }
}

impl TfState {
    /// The modules converted after apply; none when the state has no values.
    pub fn modules_for_conversion(&self) -> Vec<TfModule> {
        self.values
            .as_ref()
            .and_then(|v| v.root_module.clone())
            .into_iter()
            .collect()
    }

    /// `terraform show -json` output → [`TfState::into_modules_for_conversion`], except
    /// that the attribute values of resources whose attributes the conversion never reads
    /// are left empty (see [`TfPlan::modules_from_json`]). Accepts and rejects the same
    /// documents as decoding a `TfState`, with the same errors.
    pub fn modules_from_json(json: &[u8]) -> Result<Vec<TfModule>, serde_json::Error> {
        super::partial_decode::decode_state(json)
    }

    /// Like [`TfState::modules_for_conversion`], moving the modules out instead of copying
    /// them.
    pub fn into_modules_for_conversion(self) -> Vec<TfModule> {
        self.values
            .and_then(|v| v.root_module)
            .into_iter()
            .collect()
    }
}

impl TfModule {
    /// A copy keeping only data sources, with the child-module structure intact.
    pub fn data_only(&self) -> TfModule {
        TfModule {
            address: self.address.clone(),
            resources: self
                .resources
                .iter()
                .filter(|r| r.mode == ResourceMode::Data)
                .cloned()
                .collect(),
            child_modules: self.child_modules.iter().map(TfModule::data_only).collect(),
        }
    }
}

/// An attribute whose JSON type does not fit the attribute it is decoded into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrError {
    pub path: String,
    pub expected: &'static str,
    pub found: &'static str,
}

impl std::fmt::Display for AttrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?}: expected {}, found {}",
            self.path, self.expected, self.found
        )
    }
}

impl std::error::Error for AttrError {}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Maps up to this size are searched key by key rather than through their hash index.
const SCAN_LIMIT: usize = 32;

/// Read access to one resource's (or nested block's) attribute values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attrs<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Attrs<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>) -> Self {
        Attrs { map }
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The value of `key`. Attribute maps are small, and comparing a few keys costs less
    /// than hashing one, so small maps are searched in order (keys are unique either way).
    fn get(&self, key: &str) -> Option<&'a Value> {
        if self.map.len() <= SCAN_LIMIT {
            self.map
                .iter()
                .find(|(k, _)| k.as_str() == key)
                .map(|(_, v)| v)
        } else {
            self.map.get(key)
        }
    }

    fn present(&self, key: &str) -> Option<&'a Value> {
        self.get(key).filter(|v| !v.is_null())
    }

    fn mismatch(key: &str, expected: &'static str, value: &Value) -> AttrError {
        AttrError {
            path: key.to_string(),
            expected,
            found: kind(value),
        }
    }

    pub(crate) fn string(&self, key: &str) -> Result<String, AttrError> {
        match self.present(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(other) => Err(Self::mismatch(key, "a string", other)),
        }
    }

    /// Like [`Attrs::string`] but keeps "absent or null" apart from "empty".
    pub(crate) fn opt_string(&self, key: &str) -> Result<Option<String>, AttrError> {
        match self.present(key) {
            None => Ok(None),
            Some(_) => self.string(key).map(Some),
        }
    }

    pub(crate) fn bool(&self, key: &str) -> Result<bool, AttrError> {
        match self.present(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(Self::mismatch(key, "a bool", other)),
        }
    }

    pub(crate) fn i64(&self, key: &str) -> Result<i64, AttrError> {
        match self.present(key) {
            None => Ok(0),
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| Self::mismatch(key, "a whole number", &Value::Number(n.clone()))),
            Some(other) => Err(Self::mismatch(key, "a number", other)),
        }
    }

    /// A 32-bit field. Out-of-range values saturate instead of wrapping the way Go's
    /// integer conversion would; no valid template gets near the limits.
    pub(crate) fn i32(&self, key: &str) -> Result<i32, AttrError> {
        self.i64(key).map(saturate_i32)
    }

    /// A block list (`[{...}, ...]`); absent or null reads as empty, null elements are
    /// skipped.
    pub(crate) fn blocks(&self, key: &str) -> Result<Vec<Attrs<'a>>, AttrError> {
        match self.present(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::Null => {}
                        Value::Object(map) => out.push(Attrs::new(map)),
                        other => {
                            return Err(Self::mismatch(&format!("{key}[{i}]"), "an object", other))
                        }
                    }
                }
                Ok(out)
            }
            Some(other) => Err(Self::mismatch(key, "a list of objects", other)),
        }
    }

    /// A `map(string)` attribute, in the order the JSON lists the keys.
    pub(crate) fn string_pairs(&self, key: &str) -> Result<Vec<(String, String)>, AttrError> {
        match self.present(key) {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => {
                let inner = Attrs::new(map);
                map.keys()
                    .map(|k| {
                        inner
                            .string(k)
                            .map(|v| (k.clone(), v))
                            .map_err(|e| AttrError {
                                path: format!("{key}.{k}"),
                                ..e
                            })
                    })
                    .collect()
            }
            Some(other) => Err(Self::mismatch(key, "a map of strings", other)),
        }
    }

    pub(crate) fn string_map(&self, key: &str) -> Result<HashMap<String, String>, AttrError> {
        Ok(self.string_pairs(key)?.into_iter().collect())
    }

    /// Decodes each block of a block list with `decode`; errors get the block's path
    /// (`metadata[1].key`).
    pub(crate) fn decode_blocks<T>(
        &self,
        key: &str,
        decode: impl Fn(Attrs<'a>) -> Result<T, AttrError>,
    ) -> Result<Vec<T>, AttrError> {
        self.blocks(key)?
            .into_iter()
            .enumerate()
            .map(|(i, block)| {
                decode(block).map_err(|e| AttrError {
                    path: format!("{key}[{i}].{}", e.path),
                    ..e
                })
            })
            .collect()
    }
}

pub(crate) fn saturate_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: &Value) -> Attrs<'_> {
        match v {
            Value::Object(m) => Attrs::new(m),
            _ => panic!("test input must be an object"),
        }
    }

    #[test]
    fn null_and_absent_read_as_zero_values() {
        let v = json!({"s": null, "b": null, "n": null, "l": null, "m": null});
        let a = attrs(&v);
        assert_eq!(a.string("s").unwrap(), "");
        assert_eq!(a.string("missing").unwrap(), "");
        assert!(!a.bool("b").unwrap());
        assert_eq!(a.i64("n").unwrap(), 0);
        assert!(a.blocks("l").unwrap().is_empty());
        assert!(a.string_map("m").unwrap().is_empty());
        assert_eq!(a.opt_string("s").unwrap(), None);
    }

    #[test]
    fn numbers_are_accepted_as_strings() {
        let v = json!({"s": 42});
        assert_eq!(attrs(&v).string("s").unwrap(), "42");
    }

    #[test]
    fn type_mismatches_are_errors() {
        let v = json!({"s": true, "n": "5", "f": 1.5, "l": {"a": 1}});
        let a = attrs(&v);
        assert_eq!(
            a.string("s").unwrap_err().to_string(),
            r#""s": expected a string, found a bool"#
        );
        assert!(a.i64("n").is_err());
        assert!(a.i64("f").is_err());
        assert!(a.blocks("l").is_err());
    }

    #[test]
    fn i32_saturates() {
        let v = json!({"big": 9_999_999_999i64, "small": -9_999_999_999i64});
        let a = attrs(&v);
        assert_eq!(a.i32("big").unwrap(), i32::MAX);
        assert_eq!(a.i32("small").unwrap(), i32::MIN);
    }

    #[test]
    fn documents_ignore_unknown_fields_and_nulls() {
        let plan: TfPlan = serde_json::from_value(json!({
            "format_version": "1.2",
            "planned_values": {"root_module": {"resources": null, "child_modules": [
                {"address": "module.m", "resources": [
                    {"address": "module.m.data.x.y", "mode": "data", "type": "x", "name": "y",
                     "values": null, "sensitive_values": {}}
                ]}
            ]}},
            "prior_state": {"values": {"root_module": {"resources": [
                {"address": "a.b", "mode": "managed", "type": "a", "name": "b", "values": {}},
                {"address": "data.c.d", "mode": "data", "type": "c", "name": "d", "values": {}}
            ]}}}
        }))
        .unwrap();
        let modules = plan.modules_for_conversion();
        assert_eq!(modules.len(), 2);
        assert_eq!(
            modules[0].child_modules[0].resources[0].mode,
            ResourceMode::Data
        );
        // Only the prior state's data source survives.
        assert_eq!(modules[1].resources.len(), 1);
        assert_eq!(modules[1].resources[0].address, "data.c.d");
    }

    #[test]
    fn unknown_mode_is_other() {
        let r: TfResource = serde_json::from_value(json!({"mode": "ephemeral"})).unwrap();
        assert_eq!(r.mode, ResourceMode::Other);
        let r: TfResource = serde_json::from_value(json!({})).unwrap();
        assert_eq!(r.mode, ResourceMode::Other);
    }
}
