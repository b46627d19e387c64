//! Decoding `terraform show -json` for conversion without building the attribute values
//! the converter never reads.
//!
//! Most of a real state's bytes are the attributes of its infrastructure (containers,
//! volumes, VMs); the converter reads the attributes of `coder_*` resources and of the few
//! VM types whose instance type or id it shows, and only the address, mode, type and name
//! of everything else. [`decode_state`] and [`decode_plan`] give the same modules as the
//! full decode with those other resources' `values` left empty, so the same conversion,
//! at a fraction of the allocations.
//!
//! They accept and reject exactly the documents the full decode does, with its errors:
//! skipped values are still parsed, by the same `serde_json` deserializer, through a
//! visitor that checks what building `Option<Map<String, Value>>` would check (the JSON
//! type, string escapes, numbers, nesting depth) and keeps nothing. Where this decoder
//! might be stricter (a resource written as an array, keys that `serde_json` treats
//! specially), it fails, and the caller falls back to the full decode, whose result or
//! error is then the answer.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::json::{null_as_default, ResourceMode, TfModule, TfPlan, TfResource, TfState, TfValues};
use super::resources;

/// Whether the converter reads the attribute values of resources of this type. Every
/// reader of `TfResource::values` in this module tree must be covered here.
pub(crate) fn values_are_read(resource_type: &str) -> bool {
    resource_type.starts_with("coder_") || resources::shows_attributes(resource_type)
}

/// `terraform show -json` of a state → [`TfState::into_modules_for_conversion`], values
/// the converter never reads left empty.
pub(crate) fn decode_state(json: &[u8]) -> Result<Vec<TfModule>, serde_json::Error> {
    match serde_json::from_slice::<PartialState>(json) {
        Ok(partial) => Ok(partial.into_state().into_modules_for_conversion()),
        Err(_) => serde_json::from_slice::<TfState>(json).map(TfState::into_modules_for_conversion),
    }
}

/// `terraform show -json <planfile>` → [`TfPlan::into_modules_for_conversion`], values the
/// converter never reads left empty.
pub(crate) fn decode_plan(json: &[u8]) -> Result<Vec<TfModule>, serde_json::Error> {
    match serde_json::from_slice::<PartialPlan>(json) {
        Ok(partial) => Ok(TfPlan {
            planned_values: partial.planned_values.map(PartialValues::into_values),
            prior_state: partial.prior_state.map(PartialState::into_state),
        }
        .into_modules_for_conversion()),
        Err(_) => serde_json::from_slice::<TfPlan>(json).map(TfPlan::into_modules_for_conversion),
    }
}

// The containers mirror `TfPlan`, `TfState`, `TfValues` and `TfModule` field for field, so
// `serde` treats them alike (unknown fields ignored, duplicates rejected, `null` handling).

#[derive(Deserialize)]
struct PartialPlan {
    #[serde(default)]
    planned_values: Option<PartialValues>,
    #[serde(default)]
    prior_state: Option<PartialState>,
}

#[derive(Deserialize)]
struct PartialState {
    #[serde(default)]
    values: Option<PartialValues>,
}

impl PartialState {
    fn into_state(self) -> TfState {
        TfState {
            values: self.values.map(PartialValues::into_values),
        }
    }
}

#[derive(Deserialize)]
struct PartialValues {
    #[serde(default)]
    root_module: Option<PartialModule>,
}

impl PartialValues {
    fn into_values(self) -> TfValues {
        TfValues {
            root_module: self.root_module.map(PartialModule::into_module),
        }
    }
}

#[derive(Deserialize)]
struct PartialModule {
    #[serde(default, deserialize_with = "null_as_default")]
    address: String,
    #[serde(default, deserialize_with = "null_as_default")]
    resources: Vec<PartialResource>,
    #[serde(default, deserialize_with = "null_as_default")]
    child_modules: Vec<PartialModule>,
}

impl PartialModule {
    fn into_module(self) -> TfModule {
        TfModule {
            address: self.address,
            resources: self.resources.into_iter().map(|r| r.0).collect(),
            child_modules: self
                .child_modules
                .into_iter()
                .map(PartialModule::into_module)
                .collect(),
        }
    }
}

/// A `TfResource` whose values are kept only when [`values_are_read`].
#[derive(Default)]
struct PartialResource(TfResource);

impl<'de> Deserialize<'de> for PartialResource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The same call the derived `TfResource` makes.
        deserializer.deserialize_struct(
            "TfResource",
            &["address", "mode", "type", "name", "values"],
            ResourceVisitor,
        )
    }
}

struct ResourceVisitor;

impl<'de> Visitor<'de> for ResourceVisitor {
    type Value = PartialResource;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct TfResource")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PartialResource, A::Error> {
        let mut address: Option<String> = None;
        let mut mode: Option<ResourceMode> = None;
        let mut ty: Option<String> = None;
        let mut name: Option<String> = None;
        let mut values: Option<Map<String, Value>> = None;
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Address => set(
                    &mut address,
                    "address",
                    map.next_value::<Nullable<String>>()?.0,
                )?,
                Field::Mode => set(&mut mode, "mode", map.next_value()?)?,
                Field::Type => set(&mut ty, "type", map.next_value::<Nullable<String>>()?.0)?,
                Field::Name => set(&mut name, "name", map.next_value::<Nullable<String>>()?.0)?,
                Field::Values => {
                    let skip = ty.as_deref().is_some_and(|t| !values_are_read(t));
                    let read = if skip {
                        map.next_value::<CheckedValues>()?;
                        Map::new()
                    } else {
                        map.next_value::<Nullable<Map<String, Value>>>()?.0
                    };
                    set(&mut values, "values", read)?;
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let r#type = ty.unwrap_or_default();
        let values = if values_are_read(&r#type) {
            values.unwrap_or_default()
        } else {
            Map::new()
        };
        Ok(PartialResource(TfResource {
            address: address.unwrap_or_default(),
            mode: mode.unwrap_or_default(),
            r#type,
            name: name.unwrap_or_default(),
            values,
        }))
    }

    // A resource written as a JSON array (which serde also accepts for structs) is left to
    // the full decode.
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<PartialResource, A::Error> {
        Err(de::Error::custom("resource as an array"))
    }
}

fn set<T, E: de::Error>(slot: &mut Option<T>, field: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

enum Field {
    Address,
    Mode,
    Type,
    Name,
    Values,
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "address" => Field::Address,
                    "mode" => Field::Mode,
                    "type" => Field::Type,
                    "name" => Field::Name,
                    "values" => Field::Values,
                    _ => Field::Other,
                })
            }
            // Derived identifiers also accept field indices and bytes; those never occur in
            // JSON objects, so anything else is an error here and the full decode decides.
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

/// `null` or `T` (as the full decode's `null_as_default` reads them).
struct Nullable<T>(T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        null_as_default(deserializer).map(Nullable)
    }
}

/// Reads what `Option<Map<String, Value>>` reads, keeping nothing.
struct CheckedValues;

impl<'de> Deserialize<'de> for CheckedValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OptionVisitor;
        impl<'de> Visitor<'de> for OptionVisitor {
            type Value = CheckedValues;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("option")
            }
            fn visit_none<E: de::Error>(self) -> Result<CheckedValues, E> {
                Ok(CheckedValues)
            }
            fn visit_unit<E: de::Error>(self) -> Result<CheckedValues, E> {
                Ok(CheckedValues)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<CheckedValues, D::Error> {
                d.deserialize_map(ObjectVisitor { nested: false })
            }
        }
        deserializer.deserialize_option(OptionVisitor)
    }
}

/// `serde_json`'s reserved keys: with `arbitrary_precision` a number reaches a visitor as a
/// one-entry map under the first; the second marks a raw value.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// An object: the top-level `Map<String, Value>` (`nested: false`), or a `Value::Object`
/// inside it, whose first key `Value` classifies (see `NUMBER_TOKEN`).
struct ObjectVisitor {
    nested: bool,
}

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = CheckedValues;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Map<String, Value>`'s wording, which type errors quote.
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CheckedValues, A::Error> {
        let mut first = self.nested;
        while let Some(key) = map.next_key::<CheckedKey>()? {
            if std::mem::take(&mut first) {
                if key.0 == KeyKind::Number {
                    // As `Value` does: the entry is the number, given as a string.
                    map.next_value::<CheckedNumber>()?;
                    return Ok(CheckedValues);
                }
                if key.0 == KeyKind::RawValue {
                    return Err(de::Error::custom("raw value token"));
                }
            }
            map.next_value::<CheckedValue>()?;
        }
        Ok(CheckedValues)
    }
}

#[derive(PartialEq)]
enum KeyKind {
    Number,
    RawValue,
    Plain,
}

struct CheckedKey(KeyKind);

impl<'de> Deserialize<'de> for CheckedKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = CheckedKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CheckedKey, E> {
                Ok(CheckedKey(match v {
                    NUMBER_TOKEN => KeyKind::Number,
                    RAW_VALUE_TOKEN => KeyKind::RawValue,
                    _ => KeyKind::Plain,
                }))
            }
        }
        // `String`'s call.
        deserializer.deserialize_string(KeyVisitor)
    }
}

/// A number given as a string, checked as `Value` checks it.
struct CheckedNumber;

impl<'de> Deserialize<'de> for CheckedNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = CheckedNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("string containing a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CheckedNumber, E> {
                v.parse::<serde_json::Number>()
                    .map(|_| CheckedNumber)
                    .map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_str(NumberVisitor)
    }
}

/// Any JSON value, read as `Value` reads it.
struct CheckedValue;

impl<'de> Deserialize<'de> for CheckedValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = CheckedValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<CheckedValue, E> {
        Ok(CheckedValue)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<CheckedValue, E> {
        Ok(CheckedValue)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<CheckedValue, E> {
        Ok(CheckedValue)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<CheckedValue, E> {
        Ok(CheckedValue)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<CheckedValue, E> {
        Ok(CheckedValue)
    }
    fn visit_none<E: de::Error>(self) -> Result<CheckedValue, E> {
        Ok(CheckedValue)
    }
    fn visit_unit<E: de::Error>(self) -> Result<CheckedValue, E> {
        Ok(CheckedValue)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<CheckedValue, D::Error> {
        <CheckedValue as Deserialize>::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CheckedValue, A::Error> {
        while seq.next_element::<CheckedValue>()?.is_some() {}
        Ok(CheckedValue)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CheckedValue, A::Error> {
        ObjectVisitor { nested: true }.visit_map(map)?;
        Ok(CheckedValue)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::dot;
    use super::super::{convert_state, TfModule, TfPlan, TfState};
    use super::{decode_plan, decode_state};

    fn full_state(json: &str) -> Result<Vec<TfModule>, String> {
        serde_json::from_str::<TfState>(json)
            .map(TfState::into_modules_for_conversion)
            .map_err(|e| e.to_string())
    }

    fn partial_state(json: &str) -> Result<Vec<TfModule>, String> {
        decode_state(json.as_bytes()).map_err(|e| e.to_string())
    }

    /// Modules as comparable text: every resource's identity, and its values when the
    /// converter reads them.
    fn summary(modules: &[TfModule]) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack: Vec<&TfModule> = modules.iter().collect();
        while let Some(m) = stack.pop() {
            out.push(format!("module {:?}", m.address));
            for r in &m.resources {
                let values = if super::values_are_read(&r.r#type) {
                    serde_json::Value::Object(r.values.clone()).to_string()
                } else {
                    String::new()
                };
                out.push(format!(
                    "{:?} {:?} {:?} {:?} {values}",
                    r.address, r.mode, r.r#type, r.name
                ));
            }
            stack.extend(&m.child_modules);
        }
        out
    }

    /// Same error text, or the same modules and the same conversion.
    fn assert_same(json: &str) {
        let (full, partial) = (full_state(json), partial_state(json));
        match (&full, &partial) {
            (Ok(f), Ok(l)) => {
                assert_eq!(summary(f), summary(l), "{json}");
                let graph = dot(
                    &["coder_agent.dev", "null_resource.dev"],
                    &[("null_resource.dev", "coder_agent.dev")],
                );
                // Apps without an id get a random one; those are blanked.
                let convert = |m: &[TfModule]| {
                    convert_state(m, &graph)
                        .map(|mut c| {
                            for r in &mut c.resources {
                                for a in &mut r.agents {
                                    for app in &mut a.apps {
                                        app.id.clear();
                                    }
                                }
                            }
                            c
                        })
                        .map_err(|e| e.to_string())
                };
                assert_eq!(convert(f), convert(l), "{json}");
            }
            _ => assert_eq!(
                full.map(|m| summary(&m)),
                partial.map(|m| summary(&m)),
                "{json}"
            ),
        }
    }

    fn state(resources: serde_json::Value) -> String {
        json!({"format_version": "1.0", "values": {"root_module": {"resources": resources}}})
            .to_string()
    }

    fn sample() -> String {
        state(json!([
            {"address": "coder_agent.dev", "mode": "managed", "type": "coder_agent", "name": "dev",
             "values": {"auth": "token", "id": "A", "os": "linux", "token": "t",
                        "metadata": [{"key": "k", "interval": 10, "timeout": 1.5e0}]}},
            {"address": "null_resource.dev", "mode": "managed", "type": "null_resource", "name": "dev",
             "values": {"id": "1", "triggers": {"a": "x\ny\u{e9}", "n": -12.5e-3, "big": 123456789012345678901234567890u128},
                        "list": [null, true, false, [], {}, {"deep": [[["v"]]]}]},
             "depends_on": ["coder_agent.dev"]},
            {"address": "aws_instance.vm", "mode": "managed", "type": "aws_instance", "name": "vm",
             "values": {"id": "i-1", "instance_type": "t3.micro"}},
            {"address": "coder_app.app", "mode": "managed", "type": "coder_app", "name": "app",
             "values": {"agent_id": "A", "slug": "app", "id": "app-id"}}
        ]))
    }

    #[test]
    fn skips_only_values_the_converter_never_reads() {
        let modules = partial_state(&sample()).unwrap();
        let values: Vec<(&str, usize)> = modules[0]
            .resources
            .iter()
            .map(|r| (r.r#type.as_str(), r.values.len()))
            .collect();
        assert_eq!(
            values,
            [
                ("coder_agent", 5),
                ("null_resource", 0),
                ("aws_instance", 2),
                ("coder_app", 3)
            ]
        );
        assert_same(&sample());
    }

    #[test]
    fn same_errors_and_results_for_odd_documents() {
        let skipped = |values: &str| {
            format!(
                r#"{{"values":{{"root_module":{{"resources":[{{"type":"null_resource","name":"a","address":"null_resource.a","values":{values}}}]}}}}}}"#
            )
        };
        let cases = [
            skipped("null"),
            skipped("{}"),
            skipped("5"),
            skipped("\"text\""),
            skipped("[1, 2]"),
            skipped(r#"{"a": "\ud800"}"#),
            skipped(r#"{"a": "\ud800\udc00"}"#),
            skipped(r#"{"a": "\q"}"#),
            skipped(r#"{"a": 01}"#),
            skipped(r#"{"a": 1e999999}"#),
            skipped(r#"{"a": -}"#),
            skipped(r#"{"a": {"$serde_json::private::Number": "12"}}"#),
            skipped(r#"{"a": {"$serde_json::private::Number": "x"}}"#),
            skipped(r#"{"a": {"$serde_json::private::Number": "1", "b": 2}}"#),
            skipped(r#"{"$serde_json::private::Number": "x"}"#),
            skipped(r#"{"a": {"$serde_json::private::RawValue": "[1]"}}"#),
            skipped(&format!("{{\"a\": {}1{}}}", "[".repeat(150), "]".repeat(150))),
            skipped(&format!("{{\"a\": {}1{}}}", "[".repeat(100), "]".repeat(100))),
            skipped(r#"{"a": 1, "a": 2}"#),
            skipped("{\"a\": \"\u{1}\"}"),
            // Values before the type; a duplicate field; a resource as an array.
            r#"{"values":{"root_module":{"resources":[{"values":{"x":1},"type":"null_resource"}]}}}"#.into(),
            r#"{"values":{"root_module":{"resources":[{"type":"null_resource","values":{},"values":{}}]}}}"#.into(),
            r#"{"values":{"root_module":{"resources":[{"type":"null_resource","type":"x"}]}}}"#.into(),
            r#"{"values":{"root_module":{"resources":[["null_resource.a","managed","null_resource","a",{"x":1}]]}}}"#.into(),
            r#"{"values":{"root_module":{"resources":[{"type":"null_resource","mode":null}]}}}"#.into(),
            r#"{"values":{"root_module":{"resources":[{"type":"null_resource","mode":"other"}]}}}"#.into(),
            r#"{"values":{"root_module":{"resources":null,"child_modules":[{"address":"module.m","resources":[{"type":"null_resource","address":"module.m.null_resource.a","values":{"a":[]}}]}]}}}"#.into(),
            r#"{"values":null}"#.into(),
            r#"{"values":{"root_module":{"resources":[{"type":"null_resource","values":{}}]}}} x"#.into(),
            "".into(),
        ];
        for case in cases {
            assert_same(&case);
        }
    }

    #[test]
    fn same_as_the_full_decode_under_mutation() {
        const ALPHABET: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\\",
            "\\u",
            "d800",
            "0",
            "-",
            "e",
            ".",
            "null",
            "true",
            " ",
            "\"values\"",
            "\"type\"",
            "\"null_resource\"",
            "\"coder_agent\"",
            "\u{e9}",
        ];
        let base = sample();
        let bounds: Vec<usize> = (0..=base.len())
            .filter(|i| base.is_char_boundary(*i))
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..4_000 {
            let mut text = base.clone();
            for _ in 0..(1 + next() % 3) {
                let at = bounds[(next() as usize) % bounds.len()].min(text.len());
                if !text.is_char_boundary(at) {
                    continue;
                }
                if next() % 3 == 0 {
                    let end = (at + (next() as usize) % 8).min(text.len());
                    if text.is_char_boundary(end) {
                        text.replace_range(at..end, "");
                    }
                } else {
                    text.insert_str(at, ALPHABET[(next() as usize) % ALPHABET.len()]);
                }
            }
            assert_same(&text);
        }
    }

    /// Every conformance fixture (fixtures README): both decodes give the same modules and
    /// the same conversion, for the plan and for the state.
    #[test]
    fn fixtures_convert_the_same_either_way() {
        let root = match std::env::var_os("CODER_FIXTURES_DIR") {
            Some(dir) => std::path::PathBuf::from(dir),
            None => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/conformance/coder-fixtures"),
        };
        let entries = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("fixtures at {}: {e}", root.display()));
        let mut checked = 0;
        for entry in entries.flatten() {
            let dir = entry.path();
            let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            for step in ["tfplan", "tfstate"] {
                let (Ok(json), Ok(graph)) = (
                    std::fs::read_to_string(dir.join(format!("{name}.{step}.json"))),
                    std::fs::read_to_string(dir.join(format!("{name}.{step}.dot"))),
                ) else {
                    continue;
                };
                let (full, partial) = if step == "tfplan" {
                    (
                        serde_json::from_str::<TfPlan>(&json)
                            .map(TfPlan::into_modules_for_conversion)
                            .unwrap(),
                        decode_plan(json.as_bytes()).unwrap(),
                    )
                } else {
                    (full_state(&json).unwrap(), partial_state(&json).unwrap())
                };
                assert_eq!(summary(&full), summary(&partial), "{name} {step}");
                let convert = |m: &[TfModule]| {
                    convert_state(m, &graph)
                        .map(|mut c| {
                            for app in c
                                .resources
                                .iter_mut()
                                .flat_map(|r| r.agents.iter_mut())
                                .flat_map(|a| a.apps.iter_mut())
                            {
                                app.id.clear();
                            }
                            c
                        })
                        .map_err(|e| e.to_string())
                };
                assert_eq!(convert(&full), convert(&partial), "{name} {step}");
                checked += 1;
            }
        }
        // 21 fixtures; 26 of their steps have both a JSON document and a graph.
        assert!(checked >= 26, "only {checked} fixture steps found");
    }

    #[test]
    fn plans_keep_prior_data_sources() {
        let plan = json!({
            "planned_values": {"root_module": {"resources": [
                {"address": "null_resource.dev", "mode": "managed", "type": "null_resource", "name": "dev", "values": {"id": null}},
                {"address": "coder_agent.dev", "mode": "managed", "type": "coder_agent", "name": "dev", "values": {"auth": "token"}}
            ]}},
            "prior_state": {"values": {"root_module": {"resources": [
                {"address": "data.coder_parameter.p", "mode": "data", "type": "coder_parameter", "name": "p",
                 "values": {"name": "p", "type": "string"}},
                {"address": "data.http.x", "mode": "data", "type": "http", "name": "x", "values": {"body": "{}"}}
            ]}}}
        })
        .to_string();
        let full = serde_json::from_str::<TfPlan>(&plan)
            .unwrap()
            .into_modules_for_conversion();
        let partial = decode_plan(plan.as_bytes()).unwrap();
        assert_eq!(summary(&full), summary(&partial));
        assert_eq!(partial.len(), 2);
        assert!(partial[1].resources[1].values.is_empty());
    }
}
