//! The smaller Coder resources that hang off an agent: `coder_agent_instance` (instance
//! identity), `coder_env`, `coder_script` and `coder_devcontainer`.

use coder_proto::provisioner::agent::Auth;
use coder_proto::provisioner::{Devcontainer, Env, Script};
use serde_json::Value;

use super::agents::{AgentsByLabel, Owners};
use super::graph::ResourceGraph;
use super::json::{AttrError, Attrs};
use super::{ConvertError, Index};

/// `coder_agent_instance { agent_id, instance_id }` sets the instance id of the agent with
/// that id, if the agent uses instance identity. Both attributes must be known strings,
/// so this does nothing at plan time.
pub(crate) fn apply_agent_instances(index: &Index<'_>, agents: &mut AgentsByLabel) {
    for resource in index.of_type("coder_agent_instance") {
        let (Some(Value::String(agent_id)), Some(Value::String(instance_id))) = (
            resource.values.get("agent_id"),
            resource.values.get("instance_id"),
        ) else {
            continue;
        };
        for group in agents.values_mut() {
            // Token agents are skipped even with a matching id: a template can declare an
            // instance while still using token auth (coder/coder#4551).
            let target = group
                .iter_mut()
                .find(|agent| agent.id == *agent_id && !matches!(agent.auth, Some(Auth::Token(_))));
            if let Some(agent) = target {
                agent.auth = Some(Auth::InstanceId(instance_id.clone()));
            }
        }
    }
}

pub(crate) fn attach_envs(
    index: &Index<'_>,
    graph: &ResourceGraph,
    agents: &mut AgentsByLabel,
) -> Result<(), ConvertError> {
    let mut owners = Owners::new(agents);
    for resource in index.of_type("coder_env") {
        let a = Attrs::new(&resource.values);
        // merge_strategy has no field in the provisioner protocol; it is not read.
        let (agent_id, env) = (|| -> Result<_, AttrError> {
            Ok((
                a.string("agent_id")?,
                Env {
                    name: a.string("name")?,
                    value: a.string("value")?,
                },
            ))
        })()
        .map_err(ConvertError::decode("env"))?;
        owners.for_each(graph, &agent_id, resource, |agent| {
            agent.extra_envs.push(env.clone());
        });
    }
    Ok(())
}

pub(crate) fn attach_scripts(
    index: &Index<'_>,
    graph: &ResourceGraph,
    agents: &mut AgentsByLabel,
) -> Result<(), ConvertError> {
    let mut owners = Owners::new(agents);
    for resource in index.of_type("coder_script") {
        let a = Attrs::new(&resource.values);
        let (agent_id, script) = (|| -> Result<_, AttrError> {
            Ok((
                a.string("agent_id")?,
                Script {
                    display_name: a.string("display_name")?,
                    icon: a.string("icon")?,
                    script: a.string("script")?,
                    cron: a.string("cron")?,
                    start_blocks_login: a.bool("start_blocks_login")?,
                    run_on_start: a.bool("run_on_start")?,
                    run_on_stop: a.bool("run_on_stop")?,
                    timeout_seconds: a.i32("timeout")?,
                    log_path: a.string("log_path")?,
                },
            ))
        })()
        .map_err(ConvertError::decode("script"))?;
        owners.for_each(graph, &agent_id, resource, |agent| {
            agent.scripts.push(script.clone());
        });
    }
    Ok(())
}

pub(crate) fn attach_devcontainers(
    index: &Index<'_>,
    graph: &ResourceGraph,
    agents: &mut AgentsByLabel,
) -> Result<(), ConvertError> {
    let mut owners = Owners::new(agents);
    for resource in index.of_type("coder_devcontainer") {
        let a = Attrs::new(&resource.values);
        let (agent_id, devcontainer) = (|| -> Result<_, AttrError> {
            Ok((
                a.string("agent_id")?,
                Devcontainer {
                    workspace_folder: a.string("workspace_folder")?,
                    config_path: a.string("config_path")?,
                    name: resource.name.clone(),
                },
            ))
        })()
        .map_err(ConvertError::decode("devcontainer"))?;
        owners.for_each(graph, &agent_id, resource, |agent| {
            agent.devcontainers.push(devcontainer.clone());
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use coder_proto::provisioner::agent::Auth;
    use serde_json::json;

    use super::super::test_support::{dot, module, resource};
    use super::super::{convert_state, ConvertError, ConvertedState};

    fn convert(
        extra: Vec<super::super::TfResource>,
        auth: &str,
    ) -> Result<ConvertedState, ConvertError> {
        let mut resources = vec![
            resource("coder_agent.dev", json!({"auth": auth, "id": "A"})),
            resource("null_resource.dev", json!({})),
        ];
        resources.extend(extra);
        convert_state(
            &[module(resources)],
            &dot(
                &["coder_agent.dev", "null_resource.dev"],
                &[("null_resource.dev", "coder_agent.dev")],
            ),
        )
    }

    #[test]
    fn instance_ids_apply_to_instance_auth_only() {
        let instance = || {
            resource(
                "coder_agent_instance.dev",
                json!({"agent_id": "A", "instance_id": "example"}),
            )
        };
        let state = convert(vec![instance()], "google-instance-identity").unwrap();
        assert_eq!(
            state.resources[0].agents[0].auth,
            Some(Auth::InstanceId("example".into()))
        );
        let state = convert(vec![instance()], "token").unwrap();
        assert_eq!(
            state.resources[0].agents[0].auth,
            Some(Auth::Token(String::new()))
        );
        // An unknown agent_id (plan time) changes nothing.
        let unknown = resource(
            "coder_agent_instance.dev",
            json!({"instance_id": "example"}),
        );
        let state = convert(vec![unknown], "aws-instance-identity").unwrap();
        assert_eq!(
            state.resources[0].agents[0].auth,
            Some(Auth::InstanceId(String::new()))
        );
    }

    #[test]
    fn envs_scripts_and_devcontainers() {
        let state = convert(
            vec![
                resource(
                    "coder_env.e",
                    json!({"agent_id": "A", "name": "N", "value": "V"}),
                ),
                resource("coder_env.other", json!({"agent_id": "B", "name": "X"})),
                resource(
                    "coder_script.s",
                    json!({"agent_id": "A", "display_name": "S", "script": "echo",
                           "run_on_start": true, "timeout": 10}),
                ),
                resource(
                    "coder_devcontainer.dc",
                    json!({"agent_id": "A", "workspace_folder": "/w"}),
                ),
            ],
            "token",
        )
        .unwrap();
        let dev = state.resources.iter().find(|r| r.name == "dev").unwrap();
        let agent = &dev.agents[0];
        assert_eq!(agent.extra_envs.len(), 1);
        assert_eq!(agent.extra_envs[0].name, "N");
        assert_eq!(agent.scripts[0].timeout_seconds, 10);
        assert!(agent.scripts[0].run_on_start);
        assert_eq!(agent.devcontainers[0].name, "dc");
        assert_eq!(agent.devcontainers[0].workspace_folder, "/w");
        // coder_env is also a resource in its own right (coder_script is not).
        let names: Vec<&str> = state.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["dc", "e", "other", "dev"]);
    }

    #[test]
    fn decode_errors() {
        let err = convert(
            vec![resource(
                "coder_env.e",
                json!({"agent_id": "A", "name": true}),
            )],
            "token",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"decode env attributes: "name": expected a string, found a bool"#
        );
        let err = convert(
            vec![resource("coder_script.s", json!({"run_on_start": "yes"}))],
            "token",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"decode script attributes: "run_on_start": expected a bool, found a string"#
        );
        let err = convert(
            vec![resource("coder_devcontainer.d", json!({"config_path": []}))],
            "token",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"decode devcontainer attributes: "config_path": expected a string, found a list"#
        );
    }
}
