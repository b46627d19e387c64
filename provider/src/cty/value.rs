//! Values: known, unknown (only at plan time) or null, at any depth.
//!
//! A `Value` does not carry its type, except under `dynamic` where the wire does; the codecs
//! take the type from the schema. Null and unknown are therefore untyped here: a null string
//! and a null list are both [`Value::Null`].

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use super::error::CtyError;
use super::number::Number;
use super::path::{AttributePath, PathStep};
use super::ty::Type;

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements in the order received or built; equality ignores that order.
    Set(Vec<Value>),
    Tuple(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    /// A value decoded against (or to be encoded as) the `dynamic` type, carrying its
    /// concrete type.
    Dynamic(Type, Box<Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }

    pub fn number_i64(n: i64) -> Value {
        Value::Number(Number::from_i64(n))
    }

    pub fn bool(b: bool) -> Value {
        Value::Bool(b)
    }

    pub fn list(elements: Vec<Value>) -> Value {
        Value::List(elements)
    }

    /// A set of the given elements with equal ones merged (first occurrence kept). Elements
    /// that are not wholly known are never merged: two blocks that differ only in what is not
    /// yet known may turn out different, so both stay.
    pub fn set(elements: Vec<Value>) -> Value {
        Value::Set(dedup_set(elements))
    }

    pub fn tuple(elements: Vec<Value>) -> Value {
        Value::Tuple(elements)
    }

    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn dynamic(ty: Type, value: Value) -> Value {
        Value::Dynamic(ty, Box::new(value))
    }

    /// An object with every attribute of `ty` null: what Terraform sends for a GROUP block
    /// that is absent, and a handy start for building state. Any other type gives `Null`.
    pub fn null_object(ty: &Type) -> Value {
        match ty {
            Type::Object(attrs) => {
                Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect())
            }
            _ => Value::Null,
        }
    }

    /// An object with every attribute of `ty` unknown (a resource about to be created whose
    /// attributes are all computed). Any other type gives `Unknown`.
    pub fn unknown_object(ty: &Type) -> Value {
        match ty {
            Type::Object(attrs) => {
                Value::Object(attrs.keys().map(|k| (k.clone(), Value::Unknown)).collect())
            }
            _ => Value::Unknown,
        }
    }

    /// The value itself, or the value inside a `Dynamic` wrapper.
    pub fn unwrap_dynamic(&self) -> &Value {
        let mut v = self;
        while let Value::Dynamic(_, inner) = v {
            v = inner;
        }
        v
    }

    fn unwrap_dynamic_mut(&mut self) -> &mut Value {
        match self {
            Value::Dynamic(_, inner) => inner.unwrap_dynamic_mut(),
            v => v,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Unknown)
    }

    /// Known at the top level; parts inside may still be unknown (see
    /// [`is_wholly_known`](Value::is_wholly_known)).
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// No `Unknown` anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Value::Map(entries) | Value::Object(entries) => {
                entries.values().all(Value::is_wholly_known)
            }
            Value::Dynamic(_, inner) => inner.is_wholly_known(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as an `i64`, only if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// Elements of a list, set or tuple.
    pub fn elements(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Object(attrs) => Some(attrs),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// An attribute of an object.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_object().and_then(|attrs| attrs.get(name))
    }

    pub fn get_attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self.unwrap_dynamic_mut() {
            Value::Object(attrs) => attrs.get_mut(name),
            _ => None,
        }
    }

    /// Sets an attribute of an object, returning the previous value. Anything but an object
    /// is a mismatch (a null block stays null until the caller decides what it becomes).
    pub fn set_attr(
        &mut self,
        name: impl Into<String>,
        value: Value,
    ) -> Result<Option<Value>, CtyError> {
        match self.unwrap_dynamic_mut() {
            Value::Object(attrs) => Ok(attrs.insert(name.into(), value)),
            other => Err(CtyError::mismatch(
                &AttributePath::root(),
                format!("cannot set an attribute on {}", other.kind_name()),
            )),
        }
    }

    /// An element of a map.
    pub fn get_key(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|entries| entries.get(key))
    }

    /// The value at `path`: attributes step into objects, keys into maps, indexes into lists,
    /// tuples and (by position) sets. `None` when the path leads nowhere, including through
    /// null or unknown values.
    pub fn at_path(&self, path: &AttributePath) -> Option<&Value> {
        let mut current = self;
        for step in path.steps() {
            current = match (step, current.unwrap_dynamic()) {
                (PathStep::Attr(name), Value::Object(attrs)) => attrs.get(name)?,
                (PathStep::Key(key), Value::Map(entries)) => entries.get(key)?,
                (
                    PathStep::Index(i),
                    Value::List(items) | Value::Set(items) | Value::Tuple(items),
                ) => items.get(usize::try_from(*i).ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    pub fn at_path_mut(&mut self, path: &AttributePath) -> Option<&mut Value> {
        let mut current = self;
        for step in path.steps() {
            current = match (step, current.unwrap_dynamic_mut()) {
                (PathStep::Attr(name), Value::Object(attrs)) => attrs.get_mut(name)?,
                (PathStep::Key(key), Value::Map(entries)) => entries.get_mut(key)?,
                (
                    PathStep::Index(i),
                    Value::List(items) | Value::Set(items) | Value::Tuple(items),
                ) => items.get_mut(usize::try_from(*i).ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// A short name for the kind of value, for messages: "string", "list", "null", ...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown value",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Tuple(_) => "tuple",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Dynamic(_, inner) => inner.kind_name(),
        }
    }

    /// The type this value most plausibly has, for encoding it as `dynamic` when the caller
    /// gave no `Value::Dynamic` wrapper. Null and unknown parts imply `dynamic`; collection
    /// elements must agree (a null element takes its siblings' type). `None` when they
    /// disagree, e.g. a list holding a string and a number.
    pub fn implied_type(&self) -> Option<Type> {
        match self {
            Value::Null | Value::Unknown => Some(Type::Dynamic),
            Value::Bool(_) => Some(Type::Bool),
            Value::Number(_) => Some(Type::Number),
            Value::String(_) => Some(Type::String),
            Value::List(items) => Some(Type::list(unify_all(items.iter())?)),
            Value::Set(items) => Some(Type::set(unify_all(items.iter())?)),
            Value::Map(entries) => Some(Type::map(unify_all(entries.values())?)),
            Value::Tuple(items) => Some(Type::Tuple(
                items
                    .iter()
                    .map(Value::implied_type)
                    .collect::<Option<Vec<_>>>()?,
            )),
            Value::Object(attrs) => Some(Type::Object(
                attrs
                    .iter()
                    .map(|(k, v)| Some((k.clone(), v.implied_type()?)))
                    .collect::<Option<BTreeMap<_, _>>>()?,
            )),
            Value::Dynamic(ty, _) => Some(ty.clone()),
        }
    }
}

fn unify_all<'a>(values: impl Iterator<Item = &'a Value>) -> Option<Type> {
    let mut ty = Type::Dynamic;
    for v in values {
        ty = unify(&ty, &v.implied_type()?)?;
    }
    Some(ty)
}

/// The one type both `a` and `b` can be, treating `dynamic` (from nulls and unknowns) as a
/// wildcard.
fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        _ if a == b => Some(a.clone()),
        (Type::Dynamic, t) | (t, Type::Dynamic) => Some(t.clone()),
        (Type::List(x), Type::List(y)) => Some(Type::list(unify(x, y)?)),
        (Type::Set(x), Type::Set(y)) => Some(Type::set(unify(x, y)?)),
        (Type::Map(x), Type::Map(y)) => Some(Type::map(unify(x, y)?)),
        (Type::Tuple(xs), Type::Tuple(ys)) if xs.len() == ys.len() => Some(Type::Tuple(
            xs.iter()
                .zip(ys)
                .map(|(x, y)| unify(x, y))
                .collect::<Option<Vec<_>>>()?,
        )),
        (Type::Object(xs), Type::Object(ys)) if xs.keys().eq(ys.keys()) => Some(Type::Object(
            xs.iter()
                .zip(ys.values())
                .map(|((k, x), y)| Some((k.clone(), unify(x, y)?)))
                .collect::<Option<BTreeMap<_, _>>>()?,
        )),
        _ => None,
    }
}

fn hash_of(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Positions of the elements that survive set de-duplication (see [`Value::set`]).
pub(crate) fn unique_positions(items: &[Value]) -> Vec<usize> {
    let mut kept: Vec<usize> = Vec::with_capacity(items.len());
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if item.is_wholly_known() {
            let bucket = by_hash.entry(hash_of(item)).or_default();
            if bucket
                .iter()
                .any(|&j| items.get(j).is_some_and(|other| other == item))
            {
                continue;
            }
            bucket.push(i);
        }
        kept.push(i);
    }
    kept
}

pub(crate) fn dedup_set(items: Vec<Value>) -> Vec<Value> {
    let keep = unique_positions(&items);
    if keep.len() == items.len() {
        return items;
    }
    let mut keep = keep.into_iter().peekable();
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, v)| {
            if keep.peek() == Some(&i) {
                keep.next();
                Some(v)
            } else {
                None
            }
        })
        .collect()
}

/// Sets are equal when they hold equal elements, in any order (counting repeats, which only
/// not-wholly-known elements can have).
fn sets_equal(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut unused: HashMap<u64, Vec<usize>> = HashMap::new();
    for (j, y) in b.iter().enumerate() {
        unused.entry(hash_of(y)).or_default().push(j);
    }
    for x in a {
        let Some(bucket) = unused.get_mut(&hash_of(x)) else {
            return false;
        };
        let Some(at) = bucket
            .iter()
            .position(|&j| b.get(j).is_some_and(|y| y == x))
        else {
            return false;
        };
        bucket.swap_remove(at);
    }
    true
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) | (Value::Unknown, Value::Unknown) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => sets_equal(a, b),
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a == b,
            (Value::Dynamic(ta, a), Value::Dynamic(tb, b)) => ta == tb && a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

/// Consistent with `PartialEq`: a set hashes the same whatever its order.
impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Null | Value::Unknown => {}
            Value::Bool(b) => b.hash(state),
            Value::Number(n) => n.hash(state),
            Value::String(s) => s.hash(state),
            Value::List(items) | Value::Tuple(items) => items.hash(state),
            Value::Set(items) => {
                let combined = items
                    .iter()
                    .fold(0u64, |acc, v| acc.wrapping_add(hash_of(v)));
                items.len().hash(state);
                combined.hash(state);
            }
            Value::Map(entries) | Value::Object(entries) => entries.hash(state),
            Value::Dynamic(ty, inner) => {
                ty.hash(state);
                inner.hash(state);
            }
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::number_i64(n)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` is null.
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> Value {
        Value::object([
            ("name", Value::string("main")),
            ("token", Value::Unknown),
            (
                "resources_monitoring",
                Value::list(vec![Value::object([
                    (
                        "memory",
                        Value::object([("threshold", Value::number_i64(80))]),
                    ),
                    ("volume", Value::set(vec![])),
                ])]),
            ),
            ("env", Value::map([("HOME", Value::string("/home/coder"))])),
        ])
    }

    #[test]
    fn null_and_unknown_say_what_they_are() {
        assert!(Value::Null.is_null() && Value::Null.is_known());
        assert!(Value::Unknown.is_unknown() && !Value::Unknown.is_known());
        assert!(!Value::string("").is_null());
        let wrapped = Value::dynamic(Type::String, Value::Null);
        assert!(wrapped.is_null());
        assert!(Value::dynamic(Type::String, Value::Unknown).is_unknown());
    }

    #[test]
    fn wholly_known_looks_everywhere() {
        assert!(!agent().is_wholly_known());
        assert!(agent().is_known());
        assert!(Value::list(vec![Value::Null, Value::string("x")]).is_wholly_known());
        assert!(!Value::map([("a", Value::list(vec![Value::Unknown]))]).is_wholly_known());
    }

    #[test]
    fn accessors() {
        let v = agent();
        assert_eq!(v.get_attr("name").and_then(Value::as_str), Some("main"));
        assert_eq!(v.get_attr("nope"), None);
        assert_eq!(
            v.get_attr("env").and_then(|e| e.get_key("HOME")),
            Some(&Value::string("/home/coder"))
        );
        assert_eq!(Value::number_i64(3).as_i64(), Some(3));
        assert_eq!(Value::bool(true).as_bool(), Some(true));
        assert_eq!(Value::string("3").as_i64(), None);
        assert_eq!(
            Value::dynamic(Type::String, Value::string("d")).as_str(),
            Some("d")
        );
    }

    #[test]
    fn at_path_walks_attributes_indexes_and_keys() {
        let v = agent();
        let p = AttributePath::root()
            .attr("resources_monitoring")
            .index(0)
            .attr("memory")
            .attr("threshold");
        assert_eq!(v.at_path(&p).and_then(Value::as_i64), Some(80));
        let home = AttributePath::root().attr("env").key("HOME");
        assert_eq!(
            v.at_path(&home).and_then(Value::as_str),
            Some("/home/coder")
        );
        assert_eq!(v.at_path(&AttributePath::root()), Some(&v));
        for nowhere in [
            AttributePath::root().attr("resources_monitoring").index(1),
            AttributePath::root().attr("resources_monitoring").index(-1),
            AttributePath::root().attr("env").attr("HOME"),
            AttributePath::root().attr("token").attr("x"),
        ] {
            assert_eq!(v.at_path(&nowhere), None, "{nowhere}");
        }
    }

    #[test]
    fn set_attr_and_at_path_mut() {
        let mut v = agent();
        assert_eq!(
            v.set_attr("token", Value::string("t")),
            Ok(Some(Value::Unknown))
        );
        assert_eq!(v.get_attr("token").and_then(Value::as_str), Some("t"));
        let p = AttributePath::root()
            .attr("resources_monitoring")
            .index(0)
            .attr("volume");
        if let Some(slot) = v.at_path_mut(&p) {
            *slot = Value::Null;
        }
        assert_eq!(v.at_path(&p), Some(&Value::Null));
        if let Some(name) = v.get_attr_mut("name") {
            *name = Value::string("dev");
        }
        assert_eq!(v.get_attr("name").and_then(Value::as_str), Some("dev"));
        assert!(Value::Null.set_attr("a", Value::Null).is_err());
    }

    #[test]
    fn sets_merge_equal_known_elements_only() {
        let s = Value::set(vec![
            Value::number_i64(1),
            Value::number(Number::parse("1.0").unwrap_or_else(|_| Number::zero())),
            Value::number_i64(2),
            Value::Unknown,
            Value::Unknown,
            Value::object([("a", Value::Unknown)]),
            Value::object([("a", Value::Unknown)]),
        ]);
        assert_eq!(s.elements().map(<[Value]>::len), Some(6));
        assert_eq!(
            s.elements().and_then(<[Value]>::first),
            Some(&Value::number_i64(1))
        );
    }

    #[test]
    fn set_equality_ignores_order() {
        let a = Value::set(vec![Value::string("x"), Value::string("y")]);
        let b = Value::set(vec![Value::string("y"), Value::string("x")]);
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
        assert_ne!(
            Value::list(vec![Value::string("x"), Value::string("y")]),
            Value::list(vec![Value::string("y"), Value::string("x")])
        );
        assert_ne!(a, Value::set(vec![Value::string("x")]));
        assert_ne!(
            Value::Set(vec![Value::Unknown, Value::string("x")]),
            Value::Set(vec![Value::Unknown, Value::Unknown])
        );
    }

    #[test]
    fn null_object_has_every_attribute() {
        let ty = Type::object([("a", Type::String), ("b", Type::list(Type::Number))]);
        assert_eq!(
            Value::null_object(&ty),
            Value::object([("a", Value::Null), ("b", Value::Null)])
        );
        assert_eq!(
            Value::unknown_object(&ty).get_attr("b"),
            Some(&Value::Unknown)
        );
        assert_eq!(Value::null_object(&Type::String), Value::Null);
    }

    #[test]
    fn implied_types() {
        assert_eq!(
            Value::list(vec![Value::Null, Value::string("a")]).implied_type(),
            Some(Type::list(Type::String))
        );
        assert_eq!(
            Value::list(vec![Value::string("a"), Value::number_i64(1)]).implied_type(),
            None
        );
        assert_eq!(
            Value::list(vec![
                Value::object([("a", Value::Null)]),
                Value::object([("a", Value::bool(true))]),
            ])
            .implied_type(),
            Some(Type::list(Type::object([("a", Type::Bool)])))
        );
        assert_eq!(
            Value::list(vec![]).implied_type(),
            Some(Type::list(Type::Dynamic))
        );
        assert_eq!(
            Value::tuple(vec![Value::string("a"), Value::number_i64(1)]).implied_type(),
            Some(Type::tuple(vec![Type::String, Type::Number]))
        );
    }

    #[test]
    fn conversions() {
        assert_eq!(Value::from("a"), Value::string("a"));
        assert_eq!(Value::from(Some(5i64)), Value::number_i64(5));
        assert_eq!(Value::from(None::<bool>), Value::Null);
    }
}
