//! `coder_ai_task` → [`AiTask`]s, and whether the graph declares AI tasks or external
//! agents at all.

use coder_proto::provisioner::{AiTask, AiTaskSidebarApp};

use super::graph::ResourceGraph;
use super::json::{AttrError, Attrs};
use super::{ConvertError, Index};

fn decode(a: Attrs<'_>) -> Result<AiTask, AttrError> {
    let mut app_id = a.string("app_id")?;
    // `sidebar_app { id }` is the deprecated spelling of `app_id`.
    if app_id.is_empty() {
        if let Some(sidebar) = a.decode_blocks("sidebar_app", |s| s.string("id"))?.first() {
            app_id = sidebar.clone();
        }
    }
    Ok(AiTask {
        id: a.string("id")?,
        // Both fields carry the app so daemons that only know sidebar_app keep working.
        sidebar_app: Some(AiTaskSidebarApp { id: app_id.clone() }),
        app_id,
    })
}

/// Every `coder_ai_task` instance that will exist, in discovery order.
pub(crate) fn convert(index: &Index<'_>) -> Result<Vec<AiTask>, ConvertError> {
    index
        .ai_tasks
        .iter()
        .map(|r| decode(Attrs::new(&r.values)).map_err(ConvertError::decode("coder_ai_task")))
        .collect()
}

/// Whether the graph has a managed resource of this type, in any module. The graph, unlike
/// the plan, lists a resource even when its count is zero.
pub(crate) fn graph_has_type(graph: &ResourceGraph, resource_type: &str) -> bool {
    graph.labels().any(|label| {
        let mut rest = label;
        while let Some(after) = rest.strip_prefix("module.") {
            match after.split_once('.') {
                Some((_, tail)) => rest = tail,
                None => return false,
            }
        }
        rest.strip_prefix(resource_type)
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|name| !name.is_empty() && !name.contains('.'))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::convert_state;
    use super::super::test_support::{dot, module, resource};
    use super::*;

    fn graph(labels: &[&str]) -> ResourceGraph {
        let (dot, edges) = super::super::dot::parse_indexed(&dot(labels, &[])).unwrap();
        ResourceGraph::new(dot, edges)
    }

    #[test]
    fn graph_type_detection() {
        assert!(graph_has_type(
            &graph(&["coder_ai_task.a"]),
            "coder_ai_task"
        ));
        assert!(graph_has_type(
            &graph(&["module.claude.module.x.coder_ai_task.task"]),
            "coder_ai_task"
        ));
        assert!(!graph_has_type(
            &graph(&["data.coder_ai_task.a"]),
            "coder_ai_task"
        ));
        assert!(!graph_has_type(
            &graph(&["coder_ai_task_x.a"]),
            "coder_ai_task"
        ));
        assert!(!graph_has_type(
            &graph(&["module.coder_ai_task"]),
            "coder_ai_task"
        ));
        assert!(graph_has_type(
            &graph(&["coder_external_agent.main"]),
            "coder_external_agent"
        ));
    }

    #[test]
    fn tasks_and_flags() {
        let modules = [module(vec![
            resource("coder_ai_task.a", json!({"id": "t1", "app_id": "app"})),
            resource(
                "coder_ai_task.b",
                json!({"id": "t2", "sidebar_app": [{"id": "side"}]}),
            ),
            resource("coder_external_agent.x", json!({})),
        ])];
        let state = convert_state(
            &modules,
            &dot(
                &[
                    "coder_ai_task.a",
                    "coder_ai_task.b",
                    "coder_external_agent.x",
                ],
                &[],
            ),
        )
        .unwrap();
        assert!(state.has_ai_tasks && state.has_external_agents);
        let got: Vec<(&str, &str, &str)> = state
            .ai_tasks
            .iter()
            .map(|t| {
                (
                    t.id.as_str(),
                    t.app_id.as_str(),
                    t.sidebar_app.as_ref().map_or("", |s| s.id.as_str()),
                )
            })
            .collect();
        assert_eq!(got, [("t1", "app", "app"), ("t2", "side", "side")]);
        // Both types are listed like any other managed resource.
        assert_eq!(state.resources.len(), 3);
    }

    #[test]
    fn decode_error() {
        let modules = [module(vec![resource(
            "coder_ai_task.a",
            json!({"app_id": 1.5}),
        )])];
        // A number is accepted where a string is expected (upstream keeps json.Number).
        assert!(convert_state(&modules, "digraph {}").is_ok());
        let modules = [module(vec![resource(
            "coder_ai_task.a",
            json!({"app_id": false}),
        )])];
        assert_eq!(
            convert_state(&modules, "digraph {}")
                .unwrap_err()
                .to_string(),
            r#"decode coder_ai_task attributes: "app_id": expected a string, found a bool"#
        );
    }
}
