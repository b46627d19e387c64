//! `coder_metadata` → hide/icon/daily cost and metadata items of the resource it
//! describes.

use std::collections::HashMap;

use coder_proto::provisioner::resource;

use super::address::label_of;
use super::graph::{Direction, ResourceGraph};
use super::json::{AttrError, Attrs};
use super::{ConvertError, Index};

#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ResourceMetadata {
    pub(crate) hide: bool,
    pub(crate) icon: String,
    pub(crate) daily_cost: i32,
    pub(crate) items: Vec<resource::Metadata>,
}

fn decode(a: Attrs<'_>) -> Result<ResourceMetadata, AttrError> {
    Ok(ResourceMetadata {
        hide: a.bool("hide")?,
        icon: a.string("icon")?,
        daily_cost: a.i32("daily_cost")?,
        items: a.decode_blocks("item", |i| {
            Ok(resource::Metadata {
                key: i.string("key")?,
                value: i.string("value")?,
                sensitive: i.bool("sensitive")?,
                is_null: i.bool("is_null")?,
            })
        })?,
    })
}

/// Metadata per target graph label. A `coder_metadata` describes the nearest managed,
/// non-Coder resource it depends on (its `resource_id` is not consulted); one that is not
/// in the graph or depends on no such resource is ignored. Two on the same target are an
/// error.
pub(crate) fn collect(
    index: &Index<'_>,
    graph: &ResourceGraph,
) -> Result<HashMap<String, ResourceMetadata>, ConvertError> {
    let mut by_target = HashMap::new();
    for resource in index.of_type("coder_metadata") {
        let metadata =
            decode(Attrs::new(&resource.values)).map_err(ConvertError::decode("metadata"))?;
        let Some(node) = graph.node_by_label(label_of(&resource.address)) else {
            continue;
        };
        let Some(target) = graph.nearest(node, Direction::Dependencies, |l| index.can_host(l))
        else {
            continue;
        };
        if by_target.contains_key(&target) {
            return Err(ConvertError::DuplicateMetadataResource { label: target });
        }
        by_target.insert(target, metadata);
    }
    Ok(by_target)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::convert_state;
    use super::super::test_support::{dot, module, resource};

    #[test]
    fn attaches_to_the_resource_it_depends_on() {
        let modules = [module(vec![
            resource("null_resource.about", json!({})),
            resource(
                "coder_metadata.about_info",
                json!({"hide": true, "icon": "/icon/server.svg", "daily_cost": 29,
                       "item": [{"key": "hello", "value": "world"},
                                {"key": "null", "is_null": true},
                                {"key": "secret", "value": "squirrel", "sensitive": true}]}),
            ),
            resource("coder_metadata.orphan", json!({})),
            resource("coder_metadata.not_in_graph", json!({})),
        ])];
        let graph = dot(
            &[
                "null_resource.about",
                "coder_metadata.about_info",
                "coder_metadata.orphan",
            ],
            &[("coder_metadata.about_info", "null_resource.about")],
        );
        let state = convert_state(&modules, &graph).unwrap();
        assert_eq!(state.resources.len(), 1);
        let about = &state.resources[0];
        assert!(about.hide);
        assert_eq!(about.icon, "/icon/server.svg");
        assert_eq!(about.daily_cost, 29);
        let items: Vec<(&str, &str, bool, bool)> = about
            .metadata
            .iter()
            .map(|m| (m.key.as_str(), m.value.as_str(), m.sensitive, m.is_null))
            .collect();
        assert_eq!(
            items,
            [
                ("hello", "world", false, false),
                ("null", "", false, true),
                ("secret", "squirrel", true, false)
            ]
        );
    }

    #[test]
    fn two_on_one_resource_is_an_error() {
        let modules = [module(vec![
            resource("null_resource.about", json!({})),
            resource("coder_metadata.a", json!({})),
            resource("coder_metadata.b", json!({})),
        ])];
        let graph = dot(
            &[
                "null_resource.about",
                "coder_metadata.a",
                "coder_metadata.b",
            ],
            &[
                ("coder_metadata.a", "null_resource.about"),
                ("coder_metadata.b", "null_resource.about"),
            ],
        );
        assert_eq!(
            convert_state(&modules, &graph).unwrap_err().to_string(),
            "duplicate metadata resource: null_resource.about"
        );
    }

    #[test]
    fn decode_error() {
        let modules = [module(vec![resource(
            "coder_metadata.a",
            json!({"item": [{"key": 1, "sensitive": "no"}]}),
        )])];
        assert_eq!(
            convert_state(&modules, "digraph {}")
                .unwrap_err()
                .to_string(),
            r#"decode metadata attributes: "item[0].sensitive": expected a bool, found a string"#
        );
    }
}
