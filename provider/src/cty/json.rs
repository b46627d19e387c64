//! The JSON form of values: what Terraform sends as `RawState.json` (state written by some
//! provider version, possibly under an older schema) and what `DynamicValue.json` may carry.
//!
//! Rules, as go-cty's `cty/json` has them: null is `null` for every type; numbers are JSON
//! numbers of any precision (kept as text thanks to serde_json's `arbitrary_precision`);
//! `dynamic` is `{"value": .., "type": ..}`; unknown values cannot be written at all. Decoding
//! is as forgiving as go-cty's: an object may leave attributes out (they come back null),
//! strings are accepted where numbers or bools are expected and the other way round.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::error::CtyError;
use super::number::Number;
use super::path::{AttributePath, PathStep};
use super::ty::Type;
use super::value::{dedup_set, unique_positions, Value};
use super::MAX_DEPTH;

/// Encodes `v` as JSON for type `ty`. Leniency as in [`msgpack::encode`](super::msgpack::encode);
/// an unknown anywhere is a [`CtyError::UnknownValue`], an infinite number a
/// [`CtyError::InvalidNumber`].
pub fn encode(v: &Value, ty: &Type) -> Result<Json, CtyError> {
    encode_value(v, ty, &mut AttributePath::root(), 0)
}

pub fn decode(v: &Json, ty: &Type) -> Result<Value, CtyError> {
    decode_value(v, ty, &mut AttributePath::root(), 0)
}

pub fn decode_bytes(b: &[u8], ty: &Type) -> Result<Value, CtyError> {
    let v: Json = serde_json::from_slice(b)
        .map_err(|e| CtyError::malformed(&AttributePath::root(), format!("invalid JSON: {e}")))?;
    decode(&v, ty)
}

fn index_step(i: usize) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

fn json_number(n: &Number, path: &AttributePath) -> Result<Json, CtyError> {
    if n.is_infinite() {
        return Err(CtyError::invalid_number(
            path,
            "an infinite number cannot be written as JSON",
        ));
    }
    serde_json::from_str::<serde_json::Number>(&n.to_string())
        .map(Json::Number)
        .map_err(|e| CtyError::invalid_number(path, format!("cannot write {n} as JSON: {e}")))
}

fn required(ty: &Type) -> String {
    match ty {
        Type::String => "string is required".into(),
        Type::Number => "number is required".into(),
        Type::Bool => "bool is required".into(),
        Type::List(_) => "need JSON array for list".into(),
        Type::Set(_) => "need JSON array for set".into(),
        Type::Tuple(_) => "need JSON array for tuple".into(),
        Type::Map(_) => "need JSON object for map".into(),
        Type::Object(_) => "need JSON object for object".into(),
        Type::Dynamic => "need JSON object for dynamically-typed value".into(),
    }
}

// As in the msgpack codec, one small function per kind keeps each nesting level's stack
// frames small even in debug builds.

fn encode_value(
    v: &Value,
    ty: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Json, CtyError> {
    if depth > MAX_DEPTH {
        return Err(CtyError::too_deep(path));
    }
    match (ty, v) {
        (Type::Dynamic, _) => encode_dynamic(v, path, depth),
        (_, Value::Unknown) => Err(CtyError::unknown_value(path, "value is not known")),
        (_, Value::Null) => Ok(Json::Null),
        (_, Value::Dynamic(_, inner)) => encode_value(inner, ty, path, depth + 1),
        (Type::String, Value::String(s)) => Ok(Json::String(s.clone())),
        (Type::Number, Value::Number(n)) => json_number(n, path),
        (Type::Bool, Value::Bool(b)) => Ok(Json::Bool(*b)),
        (Type::List(ety) | Type::Set(ety), _) => encode_sequence(v, ty, ety, path, depth),
        (Type::Tuple(etys), _) => encode_tuple(v, ty, etys, path, depth),
        (Type::Map(ety), _) => encode_map(v, ty, ety, path, depth),
        (Type::Object(atys), _) => encode_object(v, ty, atys, path, depth),
        _ => Err(kind_mismatch(ty, v, path)),
    }
}

#[cold]
#[inline(never)]
fn kind_mismatch(ty: &Type, v: &Value, path: &AttributePath) -> CtyError {
    CtyError::mismatch(path, format!("{}, got {}", required(ty), v.kind_name()))
}

fn encode_sequence(
    v: &Value,
    ty: &Type,
    ety: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Json, CtyError> {
    let (Value::List(items) | Value::Set(items) | Value::Tuple(items)) = v else {
        return Err(kind_mismatch(ty, v, path));
    };
    let positions: Vec<usize> = if matches!(ty, Type::Set(_)) {
        unique_positions(items)
    } else {
        (0..items.len()).collect()
    };
    let mut out = Vec::with_capacity(positions.len());
    for (i, item) in positions.iter().filter_map(|&p| items.get(p)).enumerate() {
        path.push(PathStep::Index(index_step(i)));
        out.push(encode_value(item, ety, path, depth + 1)?);
        path.pop();
    }
    Ok(Json::Array(out))
}

fn encode_tuple(
    v: &Value,
    ty: &Type,
    etys: &[Type],
    path: &mut AttributePath,
    depth: usize,
) -> Result<Json, CtyError> {
    let (Value::List(items) | Value::Set(items) | Value::Tuple(items)) = v else {
        return Err(kind_mismatch(ty, v, path));
    };
    if items.len() != etys.len() {
        return Err(CtyError::mismatch(
            path,
            format!(
                "a tuple of length {} is required ({} given)",
                etys.len(),
                items.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, (item, ety)) in items.iter().zip(etys).enumerate() {
        path.push(PathStep::Index(index_step(i)));
        out.push(encode_value(item, ety, path, depth + 1)?);
        path.pop();
    }
    Ok(Json::Array(out))
}

fn encode_map(
    v: &Value,
    ty: &Type,
    ety: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Json, CtyError> {
    let (Value::Map(entries) | Value::Object(entries)) = v else {
        return Err(kind_mismatch(ty, v, path));
    };
    let mut out = serde_json::Map::new();
    for (key, item) in entries {
        path.push(PathStep::Key(key.clone()));
        out.insert(key.clone(), encode_value(item, ety, path, depth + 1)?);
        path.pop();
    }
    Ok(Json::Object(out))
}

fn encode_object(
    v: &Value,
    ty: &Type,
    atys: &BTreeMap<String, Type>,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Json, CtyError> {
    let (Value::Object(attrs) | Value::Map(attrs)) = v else {
        return Err(kind_mismatch(ty, v, path));
    };
    if let Some(extra) = attrs.keys().find(|k| !atys.contains_key(*k)) {
        return Err(CtyError::mismatch(
            &path.child(PathStep::Attr(extra.clone())),
            "unsupported attribute",
        ));
    }
    let mut out = serde_json::Map::new();
    for (name, aty) in atys {
        path.push(PathStep::Attr(name.clone()));
        let item = attrs.get(name).unwrap_or(&Value::Null);
        out.insert(name.clone(), encode_value(item, aty, path, depth + 1)?);
        path.pop();
    }
    Ok(Json::Object(out))
}

fn encode_dynamic(v: &Value, path: &mut AttributePath, depth: usize) -> Result<Json, CtyError> {
    let (concrete, inner) = match v {
        Value::Null => return Ok(Json::Null),
        Value::Unknown => return Err(CtyError::unknown_value(path, "value is not known")),
        Value::Dynamic(Type::Dynamic, inner) => {
            return encode_value(inner, &Type::Dynamic, path, depth + 1)
        }
        Value::Dynamic(t, inner) => (t.clone(), inner.as_ref()),
        other => {
            let t = other.implied_type().ok_or_else(|| {
                CtyError::mismatch(
                    path,
                    "cannot infer the type of this dynamic value; wrap it in Value::Dynamic",
                )
            })?;
            (t, other)
        }
    };
    // go-cty writes "value" before "type"; preserve_order keeps that order.
    let mut out = serde_json::Map::new();
    out.insert(
        "value".to_string(),
        encode_value(inner, &concrete, path, depth + 1)?,
    );
    out.insert("type".to_string(), concrete.to_json());
    Ok(Json::Object(out))
}

fn decode_value(
    v: &Json,
    ty: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    if depth > MAX_DEPTH {
        return Err(CtyError::too_deep(path));
    }
    if v.is_null() {
        return Ok(Value::Null);
    }
    match (ty, v) {
        (Type::Dynamic, Json::Object(fields)) => decode_dynamic(fields, path, depth),
        (Type::String | Type::Number | Type::Bool, _) => decode_primitive(v, ty, path),
        (Type::List(ety) | Type::Set(ety), Json::Array(items)) => {
            decode_sequence(items, ty, ety, path, depth)
        }
        (Type::Tuple(etys), Json::Array(items)) => decode_tuple(items, etys, path, depth),
        (Type::Map(ety), Json::Object(entries)) => decode_map(entries, ety, path, depth),
        (Type::Object(atys), Json::Object(fields)) => decode_object(fields, atys, path, depth),
        (ty, _) => Err(CtyError::mismatch(path, required(ty))),
    }
}

fn decode_primitive(v: &Json, ty: &Type, path: &AttributePath) -> Result<Value, CtyError> {
    match (ty, v) {
        (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
        // go-cty converts strings to bools and numbers the way its `convert` package does.
        (Type::Bool, Json::String(s)) => match s.as_str() {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(CtyError::mismatch(
                path,
                format!("a bool is required (cannot use {s:?})"),
            )),
        },
        (Type::Number, Json::Number(n)) => decode_number(n.as_str(), path),
        (Type::Number, Json::String(s)) => decode_number(s, path),
        (Type::String, Json::String(s)) => Ok(Value::String(s.clone())),
        (Type::String, Json::Number(n)) => Ok(Value::String(n.as_str().to_string())),
        (Type::String, Json::Bool(b)) => Ok(Value::String(b.to_string())),
        (ty, _) => Err(CtyError::mismatch(path, required(ty))),
    }
}

fn decode_sequence(
    items: &[Json],
    ty: &Type,
    ety: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        path.push(PathStep::Index(index_step(i)));
        out.push(decode_value(item, ety, path, depth + 1)?);
        path.pop();
    }
    Ok(if matches!(ty, Type::Set(_)) {
        Value::Set(dedup_set(out))
    } else {
        Value::List(out)
    })
}

fn decode_tuple(
    items: &[Json],
    etys: &[Type],
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    if items.len() < etys.len() {
        return Err(CtyError::mismatch(
            path,
            format!("not enough tuple elements (need {})", etys.len()),
        ));
    }
    if items.len() > etys.len() {
        return Err(CtyError::mismatch(
            path,
            format!("too many tuple elements (need {})", etys.len()),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, (item, ety)) in items.iter().zip(etys).enumerate() {
        path.push(PathStep::Index(index_step(i)));
        out.push(decode_value(item, ety, path, depth + 1)?);
        path.pop();
    }
    Ok(Value::Tuple(out))
}

fn decode_map(
    entries: &serde_json::Map<String, Json>,
    ety: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    let mut out = BTreeMap::new();
    for (key, item) in entries {
        path.push(PathStep::Key(key.clone()));
        out.insert(key.clone(), decode_value(item, ety, path, depth + 1)?);
        path.pop();
    }
    Ok(Value::Map(out))
}

fn decode_object(
    fields: &serde_json::Map<String, Json>,
    atys: &BTreeMap<String, Type>,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    if let Some(extra) = fields.keys().find(|k| !atys.contains_key(*k)) {
        return Err(CtyError::mismatch(
            path,
            format!("unsupported attribute {extra:?}"),
        ));
    }
    let mut out = BTreeMap::new();
    for (name, aty) in atys {
        let item = match fields.get(name) {
            Some(item) => {
                path.push(PathStep::Attr(name.clone()));
                let item = decode_value(item, aty, path, depth + 1)?;
                path.pop();
                item
            }
            None => Value::Null,
        };
        out.insert(name.clone(), item);
    }
    Ok(Value::Object(out))
}

fn decode_number(text: &str, path: &AttributePath) -> Result<Value, CtyError> {
    Number::parse(text)
        .map(Value::Number)
        .map_err(|e| e.at(path))
}

fn decode_dynamic(
    fields: &serde_json::Map<String, Json>,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    if let Some(other) = fields.keys().find(|k| *k != "type" && *k != "value") {
        return Err(CtyError::mismatch(
            path,
            format!("invalid key {other:?} in dynamically-typed value"),
        ));
    }
    let ty = fields
        .get("type")
        .ok_or_else(|| CtyError::mismatch(path, "missing type in dynamically-typed value"))?;
    let value = fields
        .get("value")
        .ok_or_else(|| CtyError::mismatch(path, "missing value in dynamically-typed value"))?;
    let ty = Type::from_json(ty).map_err(|e| e.at(path))?;
    let inner = decode_value(value, &ty, path, depth + 1)?;
    Ok(match ty {
        Type::Dynamic => inner,
        ty => Value::Dynamic(ty, Box::new(inner)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn num(s: &str) -> Value {
        Value::Number(Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    fn dec(v: &Json, ty: &Type) -> Value {
        decode(v, ty).unwrap_or_else(|e| panic!("decode {v} as {ty}: {e}"))
    }

    fn enc(v: &Value, ty: &Type) -> Json {
        encode(v, ty).unwrap_or_else(|e| panic!("encode {v:?} as {ty}: {e}"))
    }

    fn agent_type() -> Type {
        Type::object([
            ("id", Type::String),
            ("arch", Type::String),
            ("env", Type::map(Type::String)),
            ("connection_timeout", Type::Number),
            ("order", Type::Number),
            ("startup_script_behavior", Type::String),
            (
                "display_apps",
                Type::list(Type::object([
                    ("vscode", Type::Bool),
                    ("web_terminal", Type::Bool),
                ])),
            ),
            (
                "metadata",
                Type::set(Type::object([
                    ("key", Type::String),
                    ("interval", Type::Number),
                ])),
            ),
        ])
    }

    #[test]
    fn decodes_a_state_like_blob() {
        // Shaped like a `coder_agent` instance in a state file written by an older provider:
        // `order` and `startup_script_behavior` did not exist yet, numbers are large or
        // fractional, a set holds a repeated element.
        let raw = br#"{
            "id": "a6bd1a70-8e7a-4f9f-8b4b-1234567890ab",
            "arch": "amd64",
            "env": {"GIT_AUTHOR_NAME": "coder", "EMPTY": null},
            "connection_timeout": 120,
            "display_apps": [{"vscode": true, "web_terminal": false}],
            "metadata": [
                {"key": "cpu", "interval": 10},
                {"key": "big", "interval": 123456789012345678901234567890.5},
                {"key": "cpu", "interval": 10.0}
            ]
        }"#;
        let v = decode_bytes(raw, &agent_type()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            v.get_attr("id").and_then(Value::as_str),
            Some("a6bd1a70-8e7a-4f9f-8b4b-1234567890ab")
        );
        assert_eq!(
            v.get_attr("connection_timeout").and_then(Value::as_i64),
            Some(120)
        );
        assert_eq!(v.get_attr("order"), Some(&Value::Null));
        assert_eq!(v.get_attr("startup_script_behavior"), Some(&Value::Null));
        assert_eq!(
            v.at_path(&AttributePath::root().attr("env").key("EMPTY")),
            Some(&Value::Null)
        );
        assert_eq!(
            v.at_path(
                &AttributePath::root()
                    .attr("display_apps")
                    .index(0)
                    .attr("vscode")
            ),
            Some(&Value::bool(true))
        );
        let metadata = v.get_attr("metadata").and_then(Value::elements);
        assert_eq!(metadata.map(<[Value]>::len), Some(2));
        assert_eq!(
            v.at_path(
                &AttributePath::root()
                    .attr("metadata")
                    .index(1)
                    .attr("interval")
            ),
            Some(&num("123456789012345678901234567890.5"))
        );
    }

    #[test]
    fn unsupported_attributes_are_errors_with_the_object_path() {
        let raw = br#"{"id": "x", "display_apps": [{"vscode": true, "ssh": true}]}"#;
        let e = decode_bytes(raw, &agent_type()).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some(r#"display_apps[0]: unsupported attribute "ssh""#.to_string())
        );
    }

    #[test]
    fn encodes_every_attribute_sorted_with_nulls() {
        let ty = Type::object([("b", Type::String), ("a", Type::list(Type::Number))]);
        let v = Value::object([("b", Value::string("x"))]);
        let j = enc(&v, &ty);
        assert_eq!(
            serde_json::to_string(&j).ok(),
            Some(r#"{"a":null,"b":"x"}"#.into())
        );
    }

    #[test]
    fn numbers_keep_their_precision() {
        let big = "123456789012345678901234567890.123456789";
        let v = dec(
            &serde_json::from_str(big).unwrap_or(Json::Null),
            &Type::Number,
        );
        assert_eq!(v, num(big));
        assert_eq!(
            serde_json::to_string(&enc(&v, &Type::Number)).ok(),
            Some(big.into())
        );
        let huge = enc(&num("1e400"), &Type::Number);
        assert_eq!(
            serde_json::to_string(&huge).map(|s| s.len()).ok(),
            Some(401)
        );
        assert_eq!(
            serde_json::to_string(&enc(&num("-0.0"), &Type::Number)).ok(),
            Some("0".into())
        );
        assert_eq!(dec(&json!("12.5"), &Type::Number), num("12.5"));
        assert!(matches!(
            encode(&Value::Number(Number::positive_infinity()), &Type::Number),
            Err(CtyError::InvalidNumber { .. })
        ));
    }

    #[test]
    fn dynamic_is_value_and_type() {
        let v = Value::dynamic(
            Type::list(Type::String),
            Value::list(vec![Value::string("a")]),
        );
        let j = enc(&v, &Type::Dynamic);
        assert_eq!(
            serde_json::to_string(&j).ok(),
            Some(r#"{"value":["a"],"type":["list","string"]}"#.into())
        );
        assert_eq!(dec(&j, &Type::Dynamic), v);
        assert_eq!(
            dec(&json!({"type": "number", "value": 5}), &Type::Dynamic),
            Value::dynamic(Type::Number, Value::number_i64(5))
        );
        assert_eq!(dec(&json!(null), &Type::Dynamic), Value::Null);
        for (bad, message) in [
            (
                json!({"value": 1}),
                "missing type in dynamically-typed value",
            ),
            (
                json!({"type": "number"}),
                "missing value in dynamically-typed value",
            ),
            (
                json!({"type": "number", "value": 1, "x": 0}),
                r#"invalid key "x" in dynamically-typed value"#,
            ),
            (json!("str"), "need JSON object for dynamically-typed value"),
        ] {
            let e = decode(&bad, &Type::Dynamic).err();
            assert_eq!(e.as_ref().map(CtyError::message), Some(message), "{bad}");
        }
    }

    #[test]
    fn unknown_cannot_be_json() {
        let ty = Type::object([("token", Type::String)]);
        let e = encode(&Value::object([("token", Value::Unknown)]), &ty).err();
        assert!(matches!(e, Some(CtyError::UnknownValue { .. })));
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("token: value is not known".into())
        );
    }

    #[test]
    fn lenient_primitive_conversions() {
        assert_eq!(dec(&json!("true"), &Type::Bool), Value::bool(true));
        assert_eq!(dec(&json!("0"), &Type::Bool), Value::bool(false));
        assert_eq!(dec(&json!(1.50), &Type::String), Value::string("1.5"));
        assert_eq!(dec(&json!(true), &Type::String), Value::string("true"));
        assert!(decode(&json!("yes"), &Type::Bool).is_err());
        assert!(matches!(
            decode(&json!("many"), &Type::Number),
            Err(CtyError::InvalidNumber { .. })
        ));
        assert!(decode(&json!([1]), &Type::String).is_err());
    }

    #[test]
    fn tuples_need_their_length() {
        let ty = Type::tuple(vec![Type::String, Type::Number]);
        assert_eq!(
            decode(&json!(["a"]), &ty).err().map(|e| e.to_string()),
            Some("not enough tuple elements (need 2)".into())
        );
        assert_eq!(
            decode(&json!(["a", 1, 2]), &ty)
                .err()
                .map(|e| e.to_string()),
            Some("too many tuple elements (need 2)".into())
        );
        let v = dec(&json!(["a", 1]), &ty);
        assert_eq!(enc(&v, &ty), json!(["a", 1]));
    }

    #[test]
    fn wrong_kinds_name_the_path() {
        let ty = Type::object([("l", Type::list(Type::map(Type::Number)))]);
        let e = decode(&json!({"l": [{"k": {}}]}), &ty).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some(r#"l[0]["k"]: number is required"#.into())
        );
        assert!(matches!(
            decode_bytes(b"{\"l\": [", &ty),
            Err(CtyError::Malformed { .. })
        ));
    }

    #[test]
    fn round_trips_known_values() {
        let ty = Type::object([
            ("s", Type::set(Type::String)),
            ("m", Type::map(Type::Dynamic)),
            ("t", Type::tuple(vec![Type::Bool])),
        ]);
        let v = Value::object([
            (
                "s",
                Value::set(vec![Value::string("b"), Value::string("a")]),
            ),
            (
                "m",
                Value::map([("x", Value::dynamic(Type::Bool, Value::bool(true)))]),
            ),
            ("t", Value::tuple(vec![Value::Null])),
        ]);
        assert_eq!(dec(&enc(&v, &ty), &ty), v);
    }

    #[test]
    fn nesting_is_capped() {
        let mut v = json!(1);
        let mut ty = Type::Number;
        for _ in 0..(MAX_DEPTH + 5) {
            v = json!([v]);
            ty = Type::list(ty);
        }
        assert!(matches!(decode(&v, &ty), Err(CtyError::TooDeep { .. })));
    }
}
