//! The final resource list: every managed resource except the Coder resources that only
//! decorate others, with its agents and metadata.

use std::collections::HashMap;

use coder_proto::provisioner::agent::Auth;
use coder_proto::provisioner::{Agent, Resource};
use serde_json::Value;

use super::address::{label_of, module_path};
use super::agents::AgentsByLabel;
use super::metadata::ResourceMetadata;
use super::text::go_quote;
use super::{Index, ResourceMode, TfResource};

/// Coder resources that are folded into agents or other resources instead of being listed.
/// `coder_env`, `coder_devcontainer` and other `coder_*` types are listed.
const FOLDED_TYPES: [&str; 5] = [
    "coder_script",
    "coder_agent",
    "coder_agent_instance",
    "coder_app",
    "coder_metadata",
];

/// Module path recorded for an address that does not parse. Upstream keeps a sentinel
/// rather than an empty path because an empty path means "root module".
const INVALID_ADDRESS: &str = "invalid terraform address";

/// VM types whose size is shown as the resource's instance type: type → attribute.
fn instance_type_attribute(resource_type: &str) -> Option<&'static str> {
    match resource_type {
        "google_compute_instance" => Some("machine_type"),
        "aws_instance" | "aws_spot_instance_request" => Some("instance_type"),
        "azurerm_linux_virtual_machine" | "azurerm_windows_virtual_machine" => Some("size"),
        _ => None,
    }
}

/// VM types whose instance id authenticates agents with instance identity: type →
/// attribute.
fn instance_id_attribute(resource_type: &str) -> Option<&'static str> {
    match resource_type {
        "google_compute_instance" => Some("instance_id"),
        "aws_instance" => Some("id"),
        "aws_spot_instance_request" => Some("spot_instance_id"),
        "azurerm_linux_virtual_machine" | "azurerm_windows_virtual_machine" => {
            Some("virtual_machine_id")
        }
        _ => None,
    }
}

/// Whether [`build`] reads attribute values of resources of this type.
pub(crate) fn shows_attributes(resource_type: &str) -> bool {
    instance_type_attribute(resource_type).is_some()
        || instance_id_attribute(resource_type).is_some()
}

fn string_attr<'a>(resource: &'a TfResource, key: Option<&str>) -> Option<&'a str> {
    match resource.values.get(key?) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Agents on a VM with instance identity, and no instance id yet, take the VM's.
fn apply_automatic_instance_id(resource: &TfResource, agents: &mut [Agent]) {
    let Some(instance_id) = string_attr(resource, instance_id_attribute(&resource.r#type)) else {
        return;
    };
    for agent in agents {
        let unset = match &agent.auth {
            Some(Auth::Token(token)) => token.is_empty(),
            Some(Auth::InstanceId(id)) => id.is_empty(),
            None => true,
        };
        if unset {
            agent.auth = Some(Auth::InstanceId(instance_id.to_string()));
        }
    }
}

pub(crate) fn build(
    index: &Index<'_>,
    mut agents: AgentsByLabel,
    metadata: &HashMap<String, ResourceMetadata>,
    warnings: &mut Vec<String>,
) -> Vec<Resource> {
    let listed: Vec<&TfResource> = index
        .all()
        .filter(|r| r.mode != ResourceMode::Data && !FOLDED_TYPES.contains(&r.r#type.as_str()))
        .collect();
    let mut resources = Vec::with_capacity(listed.len());
    for (i, resource) in listed.iter().copied().enumerate() {
        let label = label_of(&resource.address);
        // Resources come by label, so the last one with this label is followed by another
        // label (or nothing): it can have the agents rather than a copy.
        let last_of_label = listed
            .get(i + 1)
            .is_none_or(|next| label_of(&next.address) != label);
        let module_path = module_path(&resource.address).unwrap_or_else(|| {
            warnings.push(format!(
                "failed to parse Terraform address: {}",
                go_quote(&resource.address)
            ));
            INVALID_ADDRESS.to_string()
        });
        // All instances of a counted resource share the agents of their label; the first
        // instance (by address) with an instance id sets it.
        let resource_agents = match agents.get_mut(label) {
            Some(group) => {
                apply_automatic_instance_id(resource, group);
                if last_of_label {
                    std::mem::take(group)
                } else {
                    group.clone()
                }
            }
            None => Vec::new(),
        };
        let meta = metadata.get(label).cloned().unwrap_or_default();
        resources.push(Resource {
            name: resource.name.clone(),
            r#type: resource.r#type.clone(),
            agents: resource_agents,
            metadata: meta.items,
            hide: meta.hide,
            icon: meta.icon,
            instance_type: string_attr(resource, instance_type_attribute(&resource.r#type))
                .unwrap_or_default()
                .to_string(),
            daily_cost: meta.daily_cost,
            module_path,
        });
    }
    resources
}

#[cfg(test)]
mod tests {
    use coder_proto::provisioner::agent::Auth;
    use serde_json::json;

    use super::super::convert_state;
    use super::super::test_support::{dot, module, resource};

    const VMS: [(&str, &str, &str); 5] = [
        ("google_compute_instance", "machine_type", "instance_id"),
        ("aws_instance", "instance_type", "id"),
        (
            "aws_spot_instance_request",
            "instance_type",
            "spot_instance_id",
        ),
        (
            "azurerm_linux_virtual_machine",
            "size",
            "virtual_machine_id",
        ),
        (
            "azurerm_windows_virtual_machine",
            "size",
            "virtual_machine_id",
        ),
    ];

    #[test]
    fn instance_types() {
        for (ty, type_attr, _) in VMS {
            let address = format!("{ty}.dev");
            let modules = [module(vec![resource(
                &address,
                json!({type_attr: "m5.large"}),
            )])];
            let state = convert_state(&modules, &dot(&[&address], &[])).unwrap();
            assert_eq!(state.resources[0].instance_type, "m5.large", "{ty}");
        }
    }

    #[test]
    fn instance_ids() {
        for (ty, _, id_attr) in VMS {
            for auth in [
                "google-instance-identity",
                "aws-instance-identity",
                "azure-instance-identity",
            ] {
                let address = format!("{ty}.dev");
                let modules = [module(vec![
                    resource("coder_agent.dev", json!({"auth": auth})),
                    resource(&address, json!({id_attr: "the-id"})),
                ])];
                let graph = dot(
                    &["coder_agent.dev", &address],
                    &[(&address, "coder_agent.dev")],
                );
                let state = convert_state(&modules, &graph).unwrap();
                assert_eq!(
                    state.resources[0].agents[0].auth,
                    Some(Auth::InstanceId("the-id".into())),
                    "{ty} {auth}"
                );
            }
        }
    }

    #[test]
    fn token_agents_keep_their_token() {
        let modules = [module(vec![
            resource("coder_agent.dev", json!({"auth": "token", "token": "t"})),
            resource("aws_instance.dev", json!({"id": "i-1"})),
        ])];
        let graph = dot(
            &["coder_agent.dev", "aws_instance.dev"],
            &[("aws_instance.dev", "coder_agent.dev")],
        );
        let state = convert_state(&modules, &graph).unwrap();
        assert_eq!(
            state.resources[0].agents[0].auth,
            Some(Auth::Token("t".into()))
        );
    }

    #[test]
    fn counted_resources_share_agents_and_get_module_paths() {
        let modules = [module(vec![
            resource("coder_agent.dev", json!({"auth": "token"})),
            resource("module.m.null_resource.dev[0]", json!({})),
            resource("module.m.null_resource.dev[1]", json!({})),
            resource("data.null_data_source.d", json!({})),
        ])];
        let graph = dot(
            &["coder_agent.dev", "module.m.null_resource.dev"],
            &[("module.m.null_resource.dev", "coder_agent.dev")],
        );
        let state = convert_state(&modules, &graph).unwrap();
        assert_eq!(state.resources.len(), 2);
        for r in &state.resources {
            assert_eq!(r.module_path, "module.m");
            assert_eq!(r.agents.len(), 1);
        }
    }
}
