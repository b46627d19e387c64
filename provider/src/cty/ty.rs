//! Terraform types and their JSON description (the bytes in `Schema.Attribute.type` and in the
//! first half of a dynamic value).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use super::error::CtyError;
use super::path::AttributePath;
use super::MAX_DEPTH;

/// A Terraform type. `Dynamic` is the "any type" placeholder: values of it travel together
/// with their concrete type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    String,
    Number,
    Bool,
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    pub fn tuple(elements: Vec<Type>) -> Type {
        Type::Tuple(elements)
    }

    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    pub fn attribute_types(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(attrs) => Some(attrs),
            _ => None,
        }
    }

    pub fn attribute_type(&self, name: &str) -> Option<&Type> {
        self.attribute_types().and_then(|attrs| attrs.get(name))
    }

    /// Whether `dynamic` appears anywhere in this type; such types carry type information on
    /// the wire.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::String | Type::Number | Type::Bool => false,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Object(attrs) => attrs.values().any(Type::has_dynamic),
            Type::Tuple(elems) => elems.iter().any(Type::has_dynamic),
        }
    }

    /// go-cty's type JSON: `"string"`, `["list","string"]`, `["object",{"a":"bool"}]`,
    /// `["tuple",["string"]]`, `"dynamic"`. Object attributes come out sorted by name.
    pub fn to_json(&self) -> Json {
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(t) => Json::Array(vec![Json::from("list"), t.to_json()]),
            Type::Set(t) => Json::Array(vec![Json::from("set"), t.to_json()]),
            Type::Map(t) => Json::Array(vec![Json::from("map"), t.to_json()]),
            Type::Object(attrs) => {
                let attrs: serde_json::Map<String, Json> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                Json::Array(vec![Json::from("object"), Json::Object(attrs)])
            }
            Type::Tuple(elems) => Json::Array(vec![
                Json::from("tuple"),
                Json::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// The compact JSON bytes Terraform expects in `Schema.Attribute.type`, e.g. `"string"`
    /// with the quotes, `["map","string"]` with no spaces.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Type::String => out.extend_from_slice(b"\"string\""),
            Type::Number => out.extend_from_slice(b"\"number\""),
            Type::Bool => out.extend_from_slice(b"\"bool\""),
            Type::Dynamic => out.extend_from_slice(b"\"dynamic\""),
            Type::List(t) | Type::Set(t) | Type::Map(t) => {
                let kind: &[u8] = match self {
                    Type::List(_) => b"[\"list\",",
                    Type::Set(_) => b"[\"set\",",
                    _ => b"[\"map\",",
                };
                out.extend_from_slice(kind);
                t.write_json(out);
                out.push(b']');
            }
            Type::Object(attrs) => {
                out.extend_from_slice(b"[\"object\",{");
                for (i, (name, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_string(name, out);
                    out.push(b':');
                    t.write_json(out);
                }
                out.extend_from_slice(b"}]");
            }
            Type::Tuple(elems) => {
                out.extend_from_slice(b"[\"tuple\",[");
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    t.write_json(out);
                }
                out.extend_from_slice(b"]]");
            }
        }
    }

    /// Parses go-cty type JSON. Also accepts the type-constraint form
    /// `["object",{..},["opt",..]]` whose third element lists optional attributes; the
    /// optional markers are dropped (Terraform strips them from schema types anyway).
    pub fn from_json(v: &Json) -> Result<Type, CtyError> {
        parse_type(v, &AttributePath::root(), 0)
    }

    pub fn from_json_bytes(b: &[u8]) -> Result<Type, CtyError> {
        let v: Json = serde_json::from_slice(b).map_err(|e| {
            CtyError::invalid_type(
                &AttributePath::root(),
                format!("invalid type description: {e}"),
            )
        })?;
        Type::from_json(&v)
    }

    /// go-cty's `FriendlyName`: "string", "list of string", "map of object", "object", "tuple".
    pub fn friendly_name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(t) => write!(f, "list of {t}"),
            Type::Set(t) => write!(f, "set of {t}"),
            Type::Map(t) => write!(f, "map of {t}"),
            Type::Object(_) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

/// JSON string literal for an attribute name (object keys in type JSON).
fn write_json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if u32::from(c) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

// Small functions with cold error paths keep each nesting level's stack frame small, even in
// debug builds.

fn parse_type(v: &Json, path: &AttributePath, depth: usize) -> Result<Type, CtyError> {
    if depth > MAX_DEPTH {
        return Err(CtyError::too_deep(path));
    }
    match v {
        Json::String(name) => match name.as_str() {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(bad_primitive(other, path)),
        },
        Json::Array(parts) => parse_complex(parts, path, depth),
        _ => Err(CtyError::invalid_type(path, "invalid type description")),
    }
}

fn parse_complex(parts: &[Json], path: &AttributePath, depth: usize) -> Result<Type, CtyError> {
    let Some((Json::String(kind), args)) = parts.split_first() else {
        return Err(CtyError::invalid_type(
            path,
            "invalid complex type kind name",
        ));
    };
    match (kind.as_str(), args) {
        ("list", [elem]) => Ok(Type::list(parse_type(elem, path, depth + 1)?)),
        ("set", [elem]) => Ok(Type::set(parse_type(elem, path, depth + 1)?)),
        ("map", [elem]) => Ok(Type::map(parse_type(elem, path, depth + 1)?)),
        ("object", [Json::Object(attrs)]) => parse_object(attrs, None, path, depth),
        ("object", [Json::Object(attrs), Json::Array(optional)]) => {
            parse_object(attrs, Some(optional), path, depth)
        }
        ("tuple", [Json::Array(elems)]) => {
            let mut out = Vec::with_capacity(elems.len());
            for e in elems {
                out.push(parse_type(e, path, depth + 1)?);
            }
            Ok(Type::Tuple(out))
        }
        (kind, _) => Err(bad_complex(kind, path)),
    }
}

#[cold]
#[inline(never)]
fn bad_primitive(name: &str, path: &AttributePath) -> CtyError {
    CtyError::invalid_type(path, format!("invalid primitive type name {name:?}"))
}

#[cold]
#[inline(never)]
fn bad_complex(kind: &str, path: &AttributePath) -> CtyError {
    match kind {
        "list" | "set" | "map" | "object" | "tuple" => {
            CtyError::invalid_type(path, format!("invalid {kind} type description"))
        }
        other => CtyError::invalid_type(path, format!("invalid complex type kind name {other:?}")),
    }
}

#[cold]
#[inline(never)]
fn bad_optional(name: &Json, path: &AttributePath) -> CtyError {
    match name {
        Json::String(name) => {
            CtyError::invalid_type(path, format!("optional attribute {name:?} is not declared"))
        }
        _ => CtyError::invalid_type(path, "optional attribute names must be strings"),
    }
}

/// An object type; `optional` is the type-constraint list of optional attribute names, which
/// must name declared attributes and is otherwise dropped.
fn parse_object(
    attrs: &serde_json::Map<String, Json>,
    optional: Option<&Vec<Json>>,
    path: &AttributePath,
    depth: usize,
) -> Result<Type, CtyError> {
    for name in optional.into_iter().flatten() {
        if !name.as_str().is_some_and(|n| attrs.contains_key(n)) {
            return Err(bad_optional(name, path));
        }
    }
    let mut out = BTreeMap::new();
    for (name, t) in attrs {
        out.insert(name.clone(), parse_type(t, path, depth + 1)?);
    }
    Ok(Type::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn primitive_type_bytes_include_the_quotes() {
        assert_eq!(Type::String.to_json_bytes(), b"\"string\"");
        assert_eq!(Type::Number.to_json_bytes(), b"\"number\"");
        assert_eq!(Type::Bool.to_json_bytes(), b"\"bool\"");
        assert_eq!(Type::Dynamic.to_json_bytes(), b"\"dynamic\"");
    }

    #[test]
    fn complex_type_bytes_are_compact_with_sorted_attributes() {
        assert_eq!(
            Type::map(Type::String).to_json_bytes(),
            br#"["map","string"]"#
        );
        let t = Type::list(Type::object([
            ("z", Type::Bool),
            ("a", Type::set(Type::Number)),
            ("t", Type::tuple(vec![Type::String, Type::Dynamic])),
        ]));
        assert_eq!(
            String::from_utf8_lossy(&t.to_json_bytes()),
            r#"["list",["object",{"a":["set","number"],"t":["tuple",["string","dynamic"]],"z":"bool"}]]"#
        );
        // The serde_json rendering agrees byte for byte.
        assert_eq!(
            serde_json::to_vec(&t.to_json()).unwrap_or_default(),
            t.to_json_bytes()
        );
    }

    #[test]
    fn attribute_names_are_escaped() {
        let t = Type::object([("a\"b", Type::String)]);
        let bytes = t.to_json_bytes();
        assert_eq!(Type::from_json_bytes(&bytes), Ok(t));
    }

    #[test]
    fn round_trips_through_json() {
        let types = [
            Type::String,
            Type::Dynamic,
            Type::list(Type::map(Type::Bool)),
            Type::object([("x", Type::Number), ("y", Type::tuple(vec![]))]),
            Type::Object(BTreeMap::new()),
            Type::tuple(vec![Type::String, Type::set(Type::Dynamic)]),
        ];
        for t in types {
            assert_eq!(Type::from_json(&t.to_json()), Ok(t.clone()));
            assert_eq!(Type::from_json_bytes(&t.to_json_bytes()), Ok(t));
        }
    }

    #[test]
    fn accepts_optional_attribute_lists() {
        let v = json!(["object", {"a": "string", "b": "number"}, ["b"]]);
        assert_eq!(
            Type::from_json(&v),
            Ok(Type::object([("a", Type::String), ("b", Type::Number)]))
        );
        let bad = json!(["object", {"a": "string"}, ["c"]]);
        assert!(Type::from_json(&bad).is_err());
    }

    #[test]
    fn unknown_type_names_are_errors() {
        let e = Type::from_json(&json!("float")).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some(r#"invalid primitive type name "float""#.to_string())
        );
        for bad in [
            json!(["lisst", "string"]),
            json!(["list"]),
            json!(["list", "string", "extra"]),
            json!(["object", ["a"]]),
            json!(["tuple", "string"]),
            json!([]),
            json!([1, "string"]),
            json!(42),
            json!(null),
            json!({"type": "string"}),
        ] {
            assert!(
                matches!(Type::from_json(&bad), Err(CtyError::InvalidType { .. })),
                "{bad}"
            );
        }
        assert!(Type::from_json_bytes(b"\"string").is_err());
        assert!(Type::from_json_bytes(b"").is_err());
    }

    #[test]
    fn very_deep_types_are_refused() {
        let mut v = json!("string");
        for _ in 0..(MAX_DEPTH + 5) {
            v = json!(["list", v]);
        }
        assert!(matches!(Type::from_json(&v), Err(CtyError::TooDeep { .. })));
    }

    #[test]
    fn friendly_names() {
        assert_eq!(Type::list(Type::String).to_string(), "list of string");
        assert_eq!(
            Type::map(Type::object([("a", Type::Bool)])).friendly_name(),
            "map of object"
        );
    }
}
