//! Schema-driven walks over values: configuration checks (validators, conflicts, deprecations),
//! flat-key lookup, defaults, set-aware equality.

use std::collections::BTreeMap;

use crate::cty::{AttributePath, Value};

use super::diag::{Diagnostic, Diagnostics};
use super::model::{Block, Nesting};

/// Looks up an SDKv2 flat key (`validation.0.min`) in a configuration object. Numeric segments
/// index lists, sets and tuples.
pub fn lookup_flat<'v>(root: &'v Value, flat_key: &str) -> Option<&'v Value> {
    let mut current = root;
    for segment in flat_key.split('.') {
        current = match current {
            Value::Object(attrs) => attrs.get(segment)?,
            Value::Map(entries) => entries.get(segment)?,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.get(segment.parse::<usize>().ok()?)?
            }
            Value::Dynamic(_, inner) => return lookup_flat(inner, segment),
            _ => return None,
        };
    }
    Some(current)
}

/// SDKv2 counts a conflicting key as set when it is present with a known, non-null value
/// (even `false` or `""`). Its configuration shim leaves out block types with no blocks, so an
/// empty list or set (how Terraform sends an absent block) does not count either. (An empty
/// list *attribute* would count in SDKv2; no schema names one in a conflict.)
fn is_set(value: Option<&Value>) -> bool {
    match value {
        Some(Value::List(items) | Value::Set(items)) => !items.is_empty(),
        Some(v) => !v.is_null() && v.is_known(),
        None => false,
    }
}

/// Runs every declared check of `block` over `value` (a configuration object that may contain
/// unknowns). `root` is the whole configuration, for conflict lookups.
pub fn check_config(
    block: &Block,
    value: &Value,
    path: &AttributePath,
    root: &Value,
    diags: &mut Diagnostics,
) {
    let Value::Object(attrs) = value else {
        return;
    };
    for attribute in &block.attributes {
        let Some(v) = attrs.get(&attribute.name) else {
            continue;
        };
        if v.is_null() {
            continue;
        }
        let at = path.clone().attr(&attribute.name);
        if let Some(message) = &attribute.deprecated {
            diags.push(
                Diagnostic::warning("Argument is deprecated")
                    .detail(message.clone())
                    .at(at.clone()),
            );
        }
        if !v.is_wholly_known() {
            continue;
        }
        for other in &attribute.conflicts_with {
            if is_set(lookup_flat(root, other)) {
                diags.push(conflict(&at, other));
            }
        }
        for validator in &attribute.validators {
            for d in validator.check(v, &at) {
                diags.push(d);
            }
        }
    }
    for nested in &block.blocks {
        let Some(v) = attrs.get(&nested.name) else {
            continue;
        };
        let at = path.clone().attr(&nested.name);
        let present = match v {
            Value::Null => false,
            Value::List(items) | Value::Set(items) => !items.is_empty(),
            Value::Map(items) => !items.is_empty(),
            _ => true,
        };
        if present {
            if let Some(message) = &nested.deprecated {
                diags.push(
                    Diagnostic::warning("Argument is deprecated")
                        .detail(message.clone())
                        .at(at.clone()),
                );
            }
            for other in &nested.conflicts_with {
                if is_set(lookup_flat(root, other)) {
                    diags.push(conflict(&at, other));
                }
            }
        }
        match (nested.nesting, v) {
            (Nesting::Single | Nesting::Group, obj) => {
                check_config(&nested.block, obj, &at, root, diags)
            }
            (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let element = at.clone().index(i as i64);
                    check_config(&nested.block, item, &element, root, diags);
                }
            }
            (Nesting::Map, Value::Map(items)) => {
                for (k, item) in items {
                    let element = at.clone().key(k);
                    check_config(&nested.block, item, &element, root, diags);
                }
            }
            _ => {}
        }
    }
}

fn conflict(at: &AttributePath, other: &str) -> Diagnostic {
    Diagnostic::error("Conflicting configuration arguments")
        .detail(format!("\"{}\": conflicts with {other}", at.flat_key()))
        .at(at.clone())
}

/// Fills null attributes that have a default, recursively (data sources and provider configs).
pub fn apply_defaults(block: &Block, value: &mut Value) {
    let Value::Object(attrs) = value else {
        return;
    };
    for attribute in &block.attributes {
        if let Some(default) = &attribute.default {
            let slot = attrs.entry(attribute.name.clone()).or_insert(Value::Null);
            if slot.is_null() {
                *slot = default.clone();
            }
        }
    }
    for nested in &block.blocks {
        if let Some(v) = attrs.get_mut(&nested.name) {
            for_each_element_mut(nested.nesting, v, |item| {
                apply_defaults(&nested.block, item)
            });
        }
    }
}

/// Replaces every unknown with null; used to keep a response conforming after a provider bug.
pub fn unknowns_to_null(value: &mut Value) {
    match value {
        Value::Unknown => *value = Value::Null,
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            items.iter_mut().for_each(unknowns_to_null)
        }
        Value::Map(items) | Value::Object(items) => items.values_mut().for_each(unknowns_to_null),
        Value::Dynamic(_, inner) => unknowns_to_null(inner),
        _ => {}
    }
}

pub(crate) fn for_each_element_mut(
    nesting: Nesting,
    value: &mut Value,
    mut f: impl FnMut(&mut Value),
) {
    match (nesting, value) {
        (Nesting::Single | Nesting::Group, v @ Value::Object(_)) => f(v),
        (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => {
            items.iter_mut().for_each(f)
        }
        (Nesting::Map, Value::Map(items)) => items.values_mut().for_each(f),
        _ => {}
    }
}

/// Equality that ignores the order of set elements, as Terraform compares sets.
pub fn semantically_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len()
                && x.iter().all(|i| y.iter().any(|j| semantically_equal(i, j)))
                && y.iter().all(|j| x.iter().any(|i| semantically_equal(i, j)))
        }
        (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(i, j)| semantically_equal(i, j))
        }
        (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => maps_equal(x, y),
        (Value::Dynamic(_, x), y) | (y, Value::Dynamic(_, x)) => semantically_equal(x, y),
        _ => a == b,
    }
}

fn maps_equal(x: &BTreeMap<String, Value>, y: &BTreeMap<String, Value>) -> bool {
    x.len() == y.len()
        && x.iter()
            .all(|(k, v)| y.get(k).is_some_and(|w| semantically_equal(v, w)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::{Attribute, NestedBlock};
    use crate::schema::validators::one_of;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn flat_key_indexes_lists() {
        let root = obj(&[(
            "validation",
            Value::List(vec![obj(&[("min", Value::number_i64(3))])]),
        )]);
        assert_eq!(
            lookup_flat(&root, "validation.0.min"),
            Some(&Value::number_i64(3))
        );
        assert_eq!(lookup_flat(&root, "validation.1.min"), None);
    }

    #[test]
    fn conflicts_fire_even_for_false() {
        let block = Block::new()
            .attr(
                Attribute::string("command")
                    .optional()
                    .conflicts_with(&["subdomain"]),
            )
            .attr(Attribute::bool("subdomain").optional());
        let config = obj(&[
            ("command", Value::string("ls")),
            ("subdomain", Value::bool(false)),
        ]);
        let mut diags = Diagnostics::new();
        check_config(&block, &config, &AttributePath::root(), &config, &mut diags);
        let d = &diags.0[0];
        assert_eq!(d.summary, "Conflicting configuration arguments");
        assert_eq!(d.detail, "\"command\": conflicts with subdomain");
    }

    #[test]
    fn nested_validators_get_flat_keys() {
        let inner = Block::new().attr(
            Attribute::string("mode")
                .required()
                .validate(one_of(&["a"])),
        );
        let block = Block::new().block(NestedBlock::list("things", inner));
        let config = obj(&[(
            "things",
            Value::List(vec![obj(&[("mode", Value::string("b"))])]),
        )]);
        let mut diags = Diagnostics::new();
        check_config(&block, &config, &AttributePath::root(), &config, &mut diags);
        assert_eq!(
            diags.0[0].summary,
            r#"expected things.0.mode to be one of ["a"], got b"#
        );
    }

    #[test]
    fn unknown_values_skip_validation() {
        let block = Block::new().attr(
            Attribute::string("mode")
                .required()
                .validate(one_of(&["a"])),
        );
        let config = obj(&[("mode", Value::Unknown)]);
        let mut diags = Diagnostics::new();
        check_config(&block, &config, &AttributePath::root(), &config, &mut diags);
        assert!(diags.is_empty());
    }

    #[test]
    fn deprecated_attribute_warns_when_set() {
        let block = Block::new().attr(Attribute::string("old").optional().deprecated("use new"));
        let config = obj(&[("old", Value::string("x"))]);
        let mut diags = Diagnostics::new();
        check_config(&block, &config, &AttributePath::root(), &config, &mut diags);
        assert_eq!(diags.0[0].summary, "Argument is deprecated");
        assert_eq!(diags.0[0].detail, "use new");
        assert!(!diags.has_errors());
    }

    #[test]
    fn set_equality_ignores_order() {
        let a = Value::Set(vec![Value::string("x"), Value::string("y")]);
        let b = Value::Set(vec![Value::string("y"), Value::string("x")]);
        assert!(semantically_equal(&a, &b));
        assert!(!semantically_equal(
            &a,
            &Value::Set(vec![Value::string("x")])
        ));
    }
}
