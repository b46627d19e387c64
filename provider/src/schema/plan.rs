//! The generic planning rules for strict (non-legacy) Terraform:
//! - an unconfigured attribute with a default is planned as the default;
//! - an unconfigured computed attribute is unknown at create and keeps its prior value otherwise;
//! - a change to a force-new attribute or block is reported in `requires_replace`.

use std::collections::BTreeMap;

use crate::cty::{AttributePath, Value};

use super::model::{Block, Nesting};
use super::walk::semantically_equal;

/// Plans one object of `block`'s shape. `config` is the configuration (null in places Terraform
/// has no config for), `proposed` is Terraform's proposed new state (config merged with prior
/// computed values), `create` says there is no prior object.
pub fn plan_object(block: &Block, config: &Value, proposed: &Value, create: bool) -> Value {
    let Value::Object(proposed_attrs) = proposed else {
        return proposed.clone();
    };
    let config_attrs = match config {
        Value::Object(attrs) => Some(attrs),
        _ => None,
    };
    let config_of = |name: &str| {
        config_attrs
            .and_then(|a| a.get(name))
            .unwrap_or(&Value::Null)
    };
    let mut planned: BTreeMap<String, Value> = proposed_attrs.clone();

    for attribute in &block.attributes {
        let configured = config_of(&attribute.name);
        let slot = planned.entry(attribute.name.clone()).or_insert(Value::Null);
        if !attribute.computed || !configured.is_null() {
            // Terraform already proposed the configured value (or null for a non-computed one).
            continue;
        }
        if let Some(default) = &attribute.default {
            *slot = default.clone();
        } else if create {
            *slot = Value::Unknown;
        }
    }

    for nested in &block.blocks {
        let configured = config_of(&nested.name);
        let Some(slot) = planned.get_mut(&nested.name) else {
            continue;
        };
        *slot = match (nested.nesting, &*slot) {
            (Nesting::Single | Nesting::Group, v) => {
                plan_object(&nested.block, configured, v, create)
            }
            (Nesting::List, Value::List(items)) => {
                let configs = configured.elements().unwrap_or(&[]);
                Value::List(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            let c = configs.get(i).unwrap_or(&Value::Null);
                            plan_object(&nested.block, c, item, create)
                        })
                        .collect(),
                )
            }
            // Set elements cannot be paired with their configuration reliably; on create the
            // proposed element is the configuration, which is all the rules above need.
            (Nesting::Set, Value::Set(items)) => Value::Set(
                items
                    .iter()
                    .map(|item| plan_object(&nested.block, item, item, create))
                    .collect(),
            ),
            (Nesting::Map, Value::Map(items)) => Value::Map(
                items
                    .iter()
                    .map(|(k, item)| {
                        let c = match configured {
                            Value::Map(m) => m.get(k).unwrap_or(&Value::Null),
                            _ => &Value::Null,
                        };
                        (k.clone(), plan_object(&nested.block, c, item, create))
                    })
                    .collect(),
            ),
            (_, other) => other.clone(),
        };
    }
    Value::Object(planned)
}

/// Paths of force-new attributes and blocks whose planned value differs from the prior one.
/// An unknown planned value counts as a change.
pub fn requires_replace(block: &Block, prior: &Value, planned: &Value) -> Vec<AttributePath> {
    let (Value::Object(prior_attrs), Value::Object(planned_attrs)) = (prior, planned) else {
        return Vec::new();
    };
    let changed = |name: &str| match (prior_attrs.get(name), planned_attrs.get(name)) {
        (Some(a), Some(b)) => !b.is_wholly_known() || !semantically_equal(a, b),
        (None, None) => false,
        _ => true,
    };
    let mut paths = Vec::new();
    for attribute in block.attributes.iter().filter(|a| a.force_new) {
        if changed(&attribute.name) {
            paths.push(AttributePath::root().attr(&attribute.name));
        }
    }
    for nested in block.blocks.iter().filter(|b| b.force_new) {
        if changed(&nested.name) {
            paths.push(AttributePath::root().attr(&nested.name));
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::{Attribute, NestedBlock};

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn block() -> Block {
        Block::new()
            .attr(Attribute::string("id").optional_computed())
            .attr(Attribute::string("name").required().force_new())
            .attr(
                Attribute::string("share")
                    .default(Value::string("owner"))
                    .force_new(),
            )
            .attr(Attribute::string("token").computed().sensitive())
            .block(
                NestedBlock::list(
                    "check",
                    Block::new()
                        .attr(Attribute::string("url").required())
                        .attr(Attribute::bool("on").default(Value::bool(true))),
                )
                .force_new(),
            )
    }

    #[test]
    fn create_plans_defaults_and_unknown_computed() {
        let config = obj(&[
            ("id", Value::Null),
            ("name", Value::string("a")),
            ("share", Value::Null),
            ("token", Value::Null),
            (
                "check",
                Value::List(vec![obj(&[
                    ("url", Value::string("u")),
                    ("on", Value::Null),
                ])]),
            ),
        ]);
        let planned = plan_object(&block(), &config, &config, true);
        assert_eq!(planned.get_attr("id"), Some(&Value::Unknown));
        assert_eq!(planned.get_attr("share"), Some(&Value::string("owner")));
        assert_eq!(planned.get_attr("token"), Some(&Value::Unknown));
        let check = planned
            .get_attr("check")
            .and_then(|c| c.elements())
            .map(|e| e[0].clone());
        assert_eq!(
            check.as_ref().and_then(|c| c.get_attr("on")),
            Some(&Value::bool(true))
        );
    }

    #[test]
    fn update_keeps_prior_computed_and_reverts_removed_default() {
        let prior = obj(&[
            ("id", Value::string("x")),
            ("name", Value::string("a")),
            ("share", Value::string("public")),
            ("token", Value::string("t")),
            ("check", Value::List(vec![])),
        ]);
        let config = obj(&[
            ("id", Value::Null),
            ("name", Value::string("a")),
            ("share", Value::Null),
            ("token", Value::Null),
            ("check", Value::List(vec![])),
        ]);
        // Terraform proposes prior values for null optional+computed attributes.
        let proposed = obj(&[
            ("id", Value::string("x")),
            ("name", Value::string("a")),
            ("share", Value::string("public")),
            ("token", Value::string("t")),
            ("check", Value::List(vec![])),
        ]);
        let planned = plan_object(&block(), &config, &proposed, false);
        assert_eq!(planned.get_attr("token"), Some(&Value::string("t")));
        assert_eq!(planned.get_attr("share"), Some(&Value::string("owner")));
        let replace = requires_replace(&block(), &prior, &planned);
        assert_eq!(replace, vec![AttributePath::root().attr("share")]);
    }

    #[test]
    fn unchanged_plan_requires_no_replace() {
        let prior = obj(&[
            ("id", Value::string("x")),
            ("name", Value::string("a")),
            ("share", Value::string("owner")),
            ("token", Value::string("t")),
            ("check", Value::List(vec![])),
        ]);
        assert!(requires_replace(&block(), &prior, &prior.clone()).is_empty());
    }

    #[test]
    fn unknown_force_new_value_requires_replace() {
        let prior = obj(&[("name", Value::string("a"))]);
        let planned = obj(&[("name", Value::Unknown)]);
        let b = Block::new().attr(Attribute::string("name").required().force_new());
        assert_eq!(requires_replace(&b, &prior, &planned).len(), 1);
    }
}
