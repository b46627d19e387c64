//! Loading stored state into the current schema. State written by any earlier provider version
//! (ours or upstream's, schema version 0 or 1) must load: attributes the schema no longer has are
//! dropped, attributes it gained take their default (so an upgrade never forces a replacement),
//! everything else is decoded against its current type.

use std::collections::BTreeMap;

use crate::cty::{self, AttributePath, Value};

use super::model::{Block, Nesting};

#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("stored state is not valid JSON: {0}")]
    Json(String),
    #[error("stored state at {path}: expected {expected}")]
    Shape {
        path: String,
        expected: &'static str,
    },
    #[error("stored state at {path}: {message}")]
    Value { path: String, message: String },
}

pub fn upgrade_json(block: &Block, raw: &[u8]) -> Result<Value, UpgradeError> {
    let json: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| UpgradeError::Json(e.to_string()))?;
    upgrade_object(block, &json, &AttributePath::root())
}

fn upgrade_object(
    block: &Block,
    json: &serde_json::Value,
    path: &AttributePath,
) -> Result<Value, UpgradeError> {
    let serde_json::Value::Object(stored) = json else {
        return Err(UpgradeError::Shape {
            path: path.to_string(),
            expected: "an object",
        });
    };
    let mut attrs = BTreeMap::new();
    for attribute in &block.attributes {
        let at = path.clone().attr(&attribute.name);
        let value = match stored.get(&attribute.name) {
            None | Some(serde_json::Value::Null) => {
                attribute.default.clone().unwrap_or(Value::Null)
            }
            Some(v) => cty::json::decode(v, &attribute.ty).map_err(|e| UpgradeError::Value {
                path: at.to_string(),
                message: e.to_string(),
            })?,
        };
        attrs.insert(attribute.name.clone(), value);
    }
    for nested in &block.blocks {
        let at = path.clone().attr(&nested.name);
        let stored_value = stored.get(&nested.name).unwrap_or(&serde_json::Value::Null);
        let value = match (nested.nesting, stored_value) {
            (_, serde_json::Value::Null) => nested.empty_value(),
            (Nesting::Single | Nesting::Group, v) => upgrade_object(&nested.block, v, &at)?,
            (Nesting::List | Nesting::Set, serde_json::Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(upgrade_object(
                        &nested.block,
                        item,
                        &at.clone().index(i as i64),
                    )?);
                }
                if nested.nesting == Nesting::Set {
                    Value::set(out)
                } else {
                    Value::List(out)
                }
            }
            (Nesting::Map, serde_json::Value::Object(items)) => {
                let mut out = BTreeMap::new();
                for (k, item) in items {
                    out.insert(
                        k.clone(),
                        upgrade_object(&nested.block, item, &at.clone().key(k))?,
                    );
                }
                Value::Map(out)
            }
            _ => {
                return Err(UpgradeError::Shape {
                    path: at.to_string(),
                    expected: "a list of blocks",
                })
            }
        };
        attrs.insert(nested.name.clone(), value);
    }
    Ok(Value::Object(attrs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::{Attribute, NestedBlock};

    fn block() -> Block {
        Block::new()
            .attr(Attribute::string("id").optional_computed())
            .attr(Attribute::string("api_key_scope").default(Value::string("all")))
            .attr(Attribute::number("connection_timeout").default(Value::number_i64(120)))
            .block(NestedBlock::list(
                "metadata",
                Block::new().attr(Attribute::string("key").required()),
            ))
    }

    #[test]
    fn drops_removed_and_defaults_added_attributes() {
        let raw = br#"{"id":"a","connection_timeout":5,"login_before_ready":true,"metadata":[{"key":"k"}]}"#;
        let v = upgrade_json(&block(), raw).expect("upgrade");
        assert_eq!(v.get_attr("id"), Some(&Value::string("a")));
        assert_eq!(v.get_attr("api_key_scope"), Some(&Value::string("all")));
        assert_eq!(
            v.get_attr("connection_timeout"),
            Some(&Value::number_i64(5))
        );
        assert_eq!(v.get_attr("login_before_ready"), None);
        assert_eq!(
            v.get_attr("metadata")
                .and_then(|m| m.elements())
                .map(|e| e.len()),
            Some(1)
        );
    }

    #[test]
    fn wrong_shapes_are_errors_with_paths() {
        let err = upgrade_json(&block(), br#"{"metadata":"x"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "stored state at metadata: expected a list of blocks"
        );
        assert!(upgrade_json(&block(), b"not json").is_err());
        assert!(upgrade_json(&block(), br#"{"connection_timeout":"abc"}"#).is_err());
    }
}
