//! `coder_ai_task`: declares that workspaces of the template can run Coder Tasks, naming the
//! `coder_app` that serves the AI interface. Inside a task build Coder passes the task's id and
//! prompt through `CODER_TASK_ID` / `CODER_TASK_PROMPT`. (Coder also expects a `coder_parameter`
//! named "AI Prompt" alongside; Coder checks that, not the provider.)

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::validators::is_uuid;
use crate::schema::{Attribute, Block, Diagnostic, Diagnostics, NestedBlock, Resource, Schema};

pub struct AiTask;

const SIDEBAR_APP_DEPRECATION: &str =
    "This field has been deprecated in favor of the `app_id` field.";

/// The app named by the (deprecated) `sidebar_app` block, if any is known and non-empty.
fn sidebar_app_id(object: &Value) -> Option<&str> {
    object
        .get_attr("sidebar_app")
        .and_then(Value::elements)
        .and_then(<[Value]>::first)
        .and_then(|app| app.get_attr("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
}

impl Resource<CoderMeta> for AiTask {
    fn name(&self) -> &'static str {
        "coder_ai_task"
    }

    fn schema(&self) -> Schema {
        Schema::new("Defines Coder Tasks for the workspace.")
            .version(1)
            // Declared (computed only) rather than SDKv2's implicit optional `id`: inside a task
            // it is the task's id.
            .attr(
                Attribute::string("id")
                    .computed()
                    .describe("The task's id inside a Coder Task, otherwise a random UUID."),
            )
            .attr(
                Attribute::string("app_id")
                    .optional_computed()
                    .force_new()
                    .validate(is_uuid())
                    .conflicts_with(&["sidebar_app"])
                    .describe("The `id` of the `coder_app` that provides the task's AI interface."),
            )
            .attr(
                Attribute::string("prompt")
                    .computed()
                    .describe("The prompt Coder gave the task."),
            )
            .attr(Attribute::bool("enabled").computed().describe(
                "Whether this build runs for a Coder Task (true) or a plain workspace (false).",
            ))
            .block(
                NestedBlock::set(
                    "sidebar_app",
                    Block::new()
                        .describe(
                            "The `coder_app` shown in the task sidebar, usually a chat with the \
                             AI agent in the workspace (such as coder/agentapi).",
                        )
                        .attr(
                            Attribute::string("id")
                                .required()
                                .force_new()
                                .validate(is_uuid())
                                .describe("The `id` of a `coder_app` of the template."),
                        ),
                )
                .max(1)
                .force_new()
                .deprecated(SIDEBAR_APP_DEPRECATION)
                .conflicts_with(&["app_id"]),
            )
    }

    /// Upstream copies the sidebar app's id into `app_id` at create; when that id is already
    /// known, plan it, so references to `app_id` are known before apply too.
    fn refine_plan(&self, config: &Value, planned: &mut Value) {
        if !config.get_attr("app_id").is_none_or(Value::is_null) {
            return;
        }
        let Some(id) = sidebar_app_id(config).map(str::to_string) else {
            return;
        };
        if let Some(slot) = planned.get_attr_mut("app_id") {
            if slot.is_unknown() {
                *slot = Value::string(id);
            }
        }
    }

    fn create(&self, meta: &CoderMeta, mut planned: Value, diags: &mut Diagnostics) -> Value {
        let task = meta
            .env
            .lookup("CODER_TASK_ID")
            .and_then(|raw| uuid::Uuid::try_parse(raw).ok())
            .filter(|id| !id.is_nil());
        let enabled = task.is_some();
        let id = task.unwrap_or_else(uuid::Uuid::new_v4).to_string();
        let prompt = match meta.env.non_empty("CODER_TASK_PROMPT") {
            Some(p) => Value::string(p),
            None => Value::Null,
        };

        let app_id = match planned.get_attr("app_id") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => sidebar_app_id(&planned).map(str::to_string),
        };
        let Some(app_id) = app_id else {
            diags.push(Diagnostic::error("'app_id' must be set"));
            return Value::Null;
        };

        for (name, value) in [
            ("id", Value::string(id)),
            ("enabled", Value::bool(enabled)),
            ("prompt", prompt),
            ("app_id", Value::string(app_id)),
        ] {
            if let Some(slot) = planned.get_attr_mut(name) {
                if slot.is_unknown() {
                    *slot = value;
                }
            }
        }
        planned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{errors, is_uuid as looks_like_uuid, tf, warnings, Tf};
    use crate::schema::ProviderServer;

    const NAME: &str = "coder_ai_task";
    const APP: &str = "7128be08-8722-44cb-bbe1-b5a391c4d94b";
    const TASK: &str = "7d8d4c2e-fb57-44f9-a183-22509819c2e7";

    fn sidebar(t: &Tf, id: &str) -> Value {
        Value::set(vec![t.element(
            NAME,
            &["sidebar_app"],
            &[("id", Value::string(id))],
        )])
    }

    fn with_app(t: &Tf) -> Value {
        t.config(NAME, &[("app_id", Value::string(APP))])
    }

    #[test]
    fn id_is_declared_computed_only() {
        let t = tf(&[]);
        let id = t.fw.schemas().resources[NAME].block.attribute("id");
        assert!(id.is_some_and(|a| a.computed && !a.optional && !a.required));
    }

    #[test]
    fn outside_a_task_it_is_disabled_with_a_random_id() {
        let t = tf(&[]);
        let (planned, state, _) = t.create(NAME, &with_app(&t));
        assert_eq!(planned.get_attr("enabled"), Some(&Value::Unknown));
        assert!(looks_like_uuid(state.get_attr("id")));
        assert_eq!(state.get_attr("enabled"), Some(&Value::bool(false)));
        assert_eq!(state.get_attr("prompt"), Some(&Value::Null));
        assert_eq!(state.get_attr("app_id"), Some(&Value::string(APP)));
    }

    #[test]
    fn inside_a_task_it_takes_the_task_id_and_prompt() {
        let upper = TASK.to_uppercase();
        let t = tf(&[
            ("CODER_TASK_ID", upper.as_str()),
            ("CODER_TASK_PROMPT", "fix the bug"),
        ]);
        let (_, state, _) = t.create(NAME, &with_app(&t));
        assert_eq!(state.get_attr("id"), Some(&Value::string(TASK)));
        assert_eq!(state.get_attr("enabled"), Some(&Value::bool(true)));
        assert_eq!(
            state.get_attr("prompt"),
            Some(&Value::string("fix the bug"))
        );
    }

    #[test]
    fn a_nil_or_malformed_task_id_means_no_task() {
        for bad in ["00000000-0000-0000-0000-000000000000", "not-a-uuid", ""] {
            let t = tf(&[("CODER_TASK_ID", bad)]);
            let (_, state, _) = t.create(NAME, &with_app(&t));
            assert_eq!(
                state.get_attr("enabled"),
                Some(&Value::bool(false)),
                "{bad:?}"
            );
            assert!(looks_like_uuid(state.get_attr("id")));
            assert_ne!(state.get_attr("id"), Some(&Value::string(bad)));
        }
    }

    #[test]
    fn sidebar_app_is_deprecated_and_fills_app_id_at_plan() {
        let t = tf(&[]);
        let config = t.config(NAME, &[("sidebar_app", sidebar(&t, APP))]);
        let diags = t.validate(NAME, &config);
        assert!(errors(&diags).is_empty());
        assert_eq!(warnings(&diags), vec!["Argument is deprecated".to_string()]);
        assert_eq!(diags.0[0].detail, SIDEBAR_APP_DEPRECATION);
        let (planned, state, _) = t.create(NAME, &config);
        assert_eq!(planned.get_attr("app_id"), Some(&Value::string(APP)));
        assert_eq!(state.get_attr("app_id"), Some(&Value::string(APP)));
    }

    #[test]
    fn without_any_app_the_apply_fails() {
        let t = tf(&[]);
        let config = t.config(NAME, &[]);
        assert!(t.validate(NAME, &config).is_empty());
        let plan = t.plan(NAME, &config);
        assert!(plan.diagnostics.is_empty());
        let applied = t.apply(NAME, &plan.planned_state, &config);
        assert_eq!(
            errors(&applied.diagnostics),
            vec!["'app_id' must be set".to_string()]
        );
        assert_eq!(applied.new_state, Value::Null);
    }

    #[test]
    fn app_id_and_sidebar_app_conflict() {
        let t = tf(&[]);
        let config = t.config(
            NAME,
            &[
                ("app_id", Value::string(APP)),
                ("sidebar_app", sidebar(&t, APP)),
            ],
        );
        let details: Vec<String> = t
            .validate(NAME, &config)
            .iter()
            .filter(|d| d.summary == "Conflicting configuration arguments")
            .map(|d| d.detail.clone())
            .collect();
        assert_eq!(
            details,
            vec![
                r#""app_id": conflicts with sidebar_app"#.to_string(),
                r#""sidebar_app": conflicts with app_id"#.to_string(),
            ]
        );
    }

    #[test]
    fn ids_must_be_uuids() {
        let t = tf(&[]);
        let config = t.config(NAME, &[("app_id", Value::string("nope"))]);
        assert_eq!(
            errors(&t.validate(NAME, &config)),
            vec![r#"expected "app_id" to be a valid UUID, got nope"#.to_string()]
        );
        let config = t.config(NAME, &[("sidebar_app", sidebar(&t, "nope"))]);
        assert_eq!(
            errors(&t.validate(NAME, &config)),
            vec![r#"expected "sidebar_app.0.id" to be a valid UUID, got nope"#.to_string()]
        );
    }
}
