//! `coder_metadata`: key/value items (and cost, icon, visibility) that Coder shows next to
//! another resource of the template. Everything lives in Terraform state; nothing is called.

use std::collections::HashSet;

use crate::cty::{AttributePath, Value};
use crate::provider::CoderMeta;
use crate::schema::validators::go_quote;
use crate::schema::{Attribute, Block, Diagnostic, Diagnostics, NestedBlock, Resource, Schema};

pub struct Metadata;

const ICON_DESCRIPTION: &str = "URL of an icon shown for the resource in the dashboard. \
    Coder's built-in icons are served under `/icon/`, e.g. \
    `\"${data.coder_workspace.me.access_url}/icon/<path>\"`.";

impl Resource<CoderMeta> for Metadata {
    fn name(&self) -> &'static str {
        "coder_metadata"
    }

    fn schema(&self) -> Schema {
        let item = Block::new()
            .attr(
                Attribute::string("key")
                    .required()
                    .force_new()
                    .describe("Key of the item; unique within the resource."),
            )
            // Optional+Computed so that an item without a value can be planned as "" with
            // `is_null = true`, which is what upstream leaves in state (see `refine_plan`).
            .attr(
                Attribute::string("value")
                    .optional_computed()
                    .force_new()
                    .describe("Value of the item; basic Markdown (links included) is rendered."),
            )
            .attr(
                Attribute::bool("sensitive")
                    .default(Value::bool(false))
                    .force_new()
                    .describe(
                        "Hide the value in the dashboard until revealed (e.g. API keys). The API \
                         still returns it, so this is no protection for real secrets.",
                    ),
            )
            .attr(
                Attribute::bool("is_null")
                    .computed()
                    .force_new()
                    .describe("Whether the item was configured without a value."),
            )
            .describe("One key/value pair shown with the resource.");
        Schema::new(
            "Attaches metadata (key/value items, an icon, a daily cost) to another resource of \
             the template; the Coder dashboard shows it next to that resource.\n\nFor metadata \
             about an agent itself, use `metadata` blocks of `coder_agent`.",
        )
        .version(1)
        .attr(
            Attribute::string("resource_id")
                .required()
                .force_new()
                .describe("The `id` of the resource the metadata belongs to."),
        )
        .attr(
            Attribute::bool("hide")
                .optional()
                .force_new()
                .describe("Leave the resource out of the dashboard."),
        )
        .attr(
            Attribute::string("icon")
                .optional()
                .force_new()
                .validate(crate::go::url::validator())
                .describe(ICON_DESCRIPTION),
        )
        .attr(
            Attribute::number("daily_cost")
                .optional()
                .force_new()
                .describe(
                    "(Enterprise) What the resource costs per day, in the smallest unit of your \
                     currency (cents for USD).",
                ),
        )
        .block(NestedBlock::list("item", item).force_new())
    }

    /// Upstream decides `is_null` at create from the raw plan (was `value` null?) and then stores
    /// `value = ""` for such items. Strict Terraform forbids apply from changing a known planned
    /// value, so both are decided here instead, from the configuration, where the facts already
    /// are: a null `value` is planned as `""` with `is_null = true`, a configured one as itself
    /// with `is_null = false`, and an unknown one leaves both unknown until Terraform plans again
    /// with the final configuration during apply. The state then matches upstream's exactly,
    /// downstream references see the same values, and state written by the Go provider re-plans
    /// without a diff.
    fn refine_plan(&self, config: &Value, planned: &mut Value) {
        let configured = config
            .get_attr("item")
            .and_then(Value::elements)
            .unwrap_or(&[]);
        let Some(Value::List(items)) = planned.get_attr_mut("item") else {
            return;
        };
        for (item, item_config) in items.iter_mut().zip(configured) {
            let Value::Object(attrs) = item else {
                continue;
            };
            let (value, is_null) = match item_config.get_attr("value") {
                None | Some(Value::Null) => (Value::string(""), Value::bool(true)),
                Some(Value::Unknown) => (Value::Unknown, Value::Unknown),
                Some(v) => (v.clone(), Value::bool(false)),
            };
            attrs.insert("value".to_string(), value);
            attrs.insert("is_null".to_string(), is_null);
        }
    }

    fn check_plan(&self, planned: &Value, diags: &mut Diagnostics) {
        let items = planned
            .get_attr("item")
            .and_then(Value::elements)
            .unwrap_or(&[]);
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            // A key still unknown cannot be judged yet; Terraform plans again once it is known.
            let Some(key) = item.get_attr("key").and_then(Value::as_str) else {
                continue;
            };
            if !seen.insert(key) {
                diags.push(
                    Diagnostic::error(format!("duplicate resource metadata key {}", go_quote(key)))
                        .at(AttributePath::root()
                            .attr("item")
                            .index(i as i64)
                            .attr("key")),
                );
                return;
            }
        }
    }

    fn create(&self, _meta: &CoderMeta, mut planned: Value, _diags: &mut Diagnostics) -> Value {
        // Terraform plans again with the final configuration before applying, so `is_null` is
        // normally known by now; settle it from the value if it is not.
        if let Some(Value::List(items)) = planned.get_attr_mut("item") {
            for item in items {
                let Value::Object(attrs) = item else {
                    continue;
                };
                if attrs.get("is_null").is_none_or(Value::is_unknown) {
                    let is_null = attrs.get("value").is_none_or(Value::is_null);
                    attrs.insert("is_null".to_string(), Value::bool(is_null));
                }
            }
        }
        planned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{errors, is_uuid, tf, Tf};
    use crate::schema::ProviderServer;

    const NAME: &str = "coder_metadata";

    fn item(t: &Tf, attrs: &[(&str, Value)]) -> Value {
        t.element(NAME, &["item"], attrs)
    }

    fn items_of(state: &Value) -> Vec<Value> {
        state
            .get_attr("item")
            .and_then(Value::elements)
            .map(<[Value]>::to_vec)
            .unwrap_or_default()
    }

    #[test]
    fn schema_is_version_1_with_a_force_new_item_block() {
        let t = tf(&[]);
        let schema = &t.fw.schemas().resources[NAME];
        assert_eq!(schema.version, 1);
        let Some(item) = schema.block.nested("item") else {
            panic!("no item block");
        };
        assert!(item.force_new);
        let is_null = item.block.attribute("is_null");
        assert!(is_null.is_some_and(|a| a.computed && !a.optional && a.force_new));
    }

    #[test]
    fn items_record_whether_the_value_was_null() {
        let t = tf(&[]);
        let config = t.config(
            NAME,
            &[
                ("resource_id", Value::string("r")),
                ("hide", Value::bool(true)),
                ("icon", Value::string("/icon/server.svg")),
                ("daily_cost", Value::number_i64(200)),
                (
                    "item",
                    Value::list(vec![
                        item(
                            &t,
                            &[
                                ("key", Value::string("foo")),
                                ("value", Value::string("bar")),
                            ],
                        ),
                        item(
                            &t,
                            &[
                                ("key", Value::string("secret")),
                                ("value", Value::string("squirrel")),
                                ("sensitive", Value::bool(true)),
                            ],
                        ),
                        item(&t, &[("key", Value::string("implicit_null"))]),
                        item(
                            &t,
                            &[
                                ("key", Value::string("explicit_null")),
                                ("value", Value::Null),
                            ],
                        ),
                        item(
                            &t,
                            &[
                                ("key", Value::string("empty")),
                                ("value", Value::string("")),
                            ],
                        ),
                    ]),
                ),
            ],
        );
        let (planned, state, _) = t.create(NAME, &config);
        assert!(is_uuid(state.get_attr("id")));
        // Everything but the id is known at plan time already.
        assert_eq!(planned.get_attr("id"), Some(&Value::Unknown));
        assert!(items_of(&planned).iter().all(Value::is_wholly_known));
        let items = items_of(&state);
        let field = |i: usize, name: &str| items.get(i).and_then(|it| it.get_attr(name)).cloned();
        assert_eq!(field(0, "value"), Some(Value::string("bar")));
        assert_eq!(field(0, "is_null"), Some(Value::bool(false)));
        assert_eq!(field(0, "sensitive"), Some(Value::bool(false)));
        assert_eq!(field(1, "sensitive"), Some(Value::bool(true)));
        assert_eq!(field(2, "value"), Some(Value::string("")));
        assert_eq!(field(2, "is_null"), Some(Value::bool(true)));
        assert_eq!(field(3, "value"), Some(Value::string("")));
        assert_eq!(field(3, "is_null"), Some(Value::bool(true)));
        assert_eq!(field(4, "value"), Some(Value::string("")));
        assert_eq!(field(4, "is_null"), Some(Value::bool(false)));
    }

    #[test]
    fn an_unknown_value_leaves_is_null_unknown_until_the_final_plan() {
        let t = tf(&[]);
        let unknown = t.config(
            NAME,
            &[
                ("resource_id", Value::string("r")),
                (
                    "item",
                    Value::list(vec![item(
                        &t,
                        &[("key", Value::string("k")), ("value", Value::Unknown)],
                    )]),
                ),
            ],
        );
        let plan = t.plan(NAME, &unknown);
        let planned = items_of(&plan.planned_state);
        assert_eq!(planned[0].get_attr("value"), Some(&Value::Unknown));
        assert_eq!(planned[0].get_attr("is_null"), Some(&Value::Unknown));
        // During apply Terraform plans again with the value known (here: null after all).
        let known = t.config(
            NAME,
            &[
                ("resource_id", Value::string("r")),
                (
                    "item",
                    Value::list(vec![item(&t, &[("key", Value::string("k"))])]),
                ),
            ],
        );
        let (_, state, _) = t.create(NAME, &known);
        assert_eq!(
            items_of(&state)[0].get_attr("is_null"),
            Some(&Value::bool(true))
        );
    }

    #[test]
    fn apply_settles_an_is_null_left_unknown() {
        let t = tf(&[]);
        let config = t.config(
            NAME,
            &[
                ("resource_id", Value::string("r")),
                (
                    "item",
                    Value::list(vec![item(
                        &t,
                        &[("key", Value::string("k")), ("value", Value::string("v"))],
                    )]),
                ),
            ],
        );
        let mut planned = t.plan(NAME, &config).planned_state;
        if let Some(Value::List(items)) = planned.get_attr_mut("item") {
            let _ = items[0].set_attr("is_null", Value::Unknown);
        }
        let applied = t.apply(NAME, &planned, &config);
        assert!(applied.diagnostics.is_empty());
        assert_eq!(
            items_of(&applied.new_state)[0].get_attr("is_null"),
            Some(&Value::bool(false))
        );
    }

    #[test]
    fn no_items_is_fine() {
        let t = tf(&[]);
        let (_, state, _) = t.create(
            NAME,
            &t.config(NAME, &[("resource_id", Value::string("r"))]),
        );
        assert_eq!(state.get_attr("item"), Some(&Value::list(vec![])));
        assert_eq!(state.get_attr("hide"), Some(&Value::Null));
    }

    #[test]
    fn duplicate_keys_fail_the_plan() {
        let t = tf(&[]);
        let config = t.config(
            NAME,
            &[
                ("resource_id", Value::string("r")),
                (
                    "item",
                    Value::list(vec![
                        item(
                            &t,
                            &[
                                ("key", Value::string("foo")),
                                ("value", Value::string("bar")),
                            ],
                        ),
                        item(
                            &t,
                            &[
                                ("key", Value::string("foo")),
                                ("value", Value::string("baz")),
                            ],
                        ),
                    ]),
                ),
            ],
        );
        assert_eq!(
            errors(&t.plan(NAME, &config).diagnostics),
            vec![r#"duplicate resource metadata key "foo""#.to_string()]
        );
    }

    #[test]
    fn unknown_keys_are_not_duplicates_yet() {
        let t = tf(&[]);
        let config = t.config(
            NAME,
            &[
                ("resource_id", Value::string("r")),
                (
                    "item",
                    Value::list(vec![
                        item(&t, &[("key", Value::Unknown)]),
                        item(&t, &[("key", Value::Unknown)]),
                    ]),
                ),
            ],
        );
        assert!(t.plan(NAME, &config).diagnostics.is_empty());
    }

    #[test]
    fn icon_must_parse_as_a_url() {
        let t = tf(&[]);
        let config = t.config(
            NAME,
            &[
                ("resource_id", Value::string("r")),
                ("icon", Value::string("/icon%.svg")),
            ],
        );
        assert_eq!(
            errors(&t.validate(NAME, &config)),
            vec![r#"parse "/icon%.svg": invalid URL escape "%.s""#.to_string()]
        );
    }
}
