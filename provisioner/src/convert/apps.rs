//! `coder_app` resources → [`App`]s on the agents they belong to.

use std::collections::HashSet;
use std::sync::LazyLock;

use coder_proto::provisioner::{App, AppOpenIn, AppSharingLevel, Healthcheck};
use regex::Regex;

use super::agents::{AgentsByLabel, Owners};
use super::graph::ResourceGraph;
use super::json::{AttrError, Attrs};
use super::{ConvertError, Index};

/// App slugs end up in hostnames; unlike agent names they were never allowed uppercase
/// letters or underscores.
pub(crate) const APP_SLUG_PATTERN: &str = "^[a-z0-9](-?[a-z0-9])*$";

static APP_SLUG: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern, compiled (and so checked) by the unit tests below.
    Regex::new(APP_SLUG_PATTERN).expect("APP_SLUG_PATTERN is a valid regex")
});

#[derive(Debug, Default)]
struct AppAttributes {
    agent_id: String,
    id: String,
    slug: String,
    display_name: String,
    /// Provider < 0.7: the display name.
    name: String,
    icon: String,
    url: String,
    external: bool,
    command: String,
    share: String,
    subdomain: bool,
    healthcheck: Option<Healthcheck>,
    order: i64,
    hidden: bool,
    open_in: String,
    group: String,
    tooltip: String,
}

impl AppAttributes {
    fn decode(a: Attrs<'_>) -> Result<Self, AttrError> {
        let healthcheck = a
            .decode_blocks("healthcheck", |h| {
                Ok(Healthcheck {
                    url: h.string("url")?,
                    interval: h.i32("interval")?,
                    threshold: h.i32("threshold")?,
                })
            })?
            .into_iter()
            .next();
        Ok(AppAttributes {
            agent_id: a.string("agent_id")?,
            id: a.string("id")?,
            slug: a.string("slug")?,
            display_name: a.string("display_name")?,
            name: a.string("name")?,
            icon: a.string("icon")?,
            url: a.string("url")?,
            external: a.bool("external")?,
            command: a.string("command")?,
            share: a.string("share")?,
            subdomain: a.bool("subdomain")?,
            healthcheck,
            order: a.i64("order")?,
            hidden: a.bool("hidden")?,
            open_in: a.string("open_in")?,
            group: a.string("group")?,
            tooltip: a.string("tooltip")?,
        })
    }
}

fn sharing_level(share: &str) -> AppSharingLevel {
    match share.to_ascii_lowercase().as_str() {
        "authenticated" => AppSharingLevel::Authenticated,
        "public" => AppSharingLevel::Public,
        _ => AppSharingLevel::Owner,
    }
}

fn open_in(value: &str) -> AppOpenIn {
    match value.to_ascii_lowercase().as_str() {
        "tab" => AppOpenIn::Tab,
        _ => AppOpenIn::SlimWindow,
    }
}

/// Validates every `coder_app` and adds it to each agent it belongs to.
pub(crate) fn attach_apps(
    index: &Index<'_>,
    graph: &ResourceGraph,
    agents: &mut AgentsByLabel,
) -> Result<(), ConvertError> {
    let mut slugs = HashSet::new();
    let mut owners = Owners::new(agents);
    for resource in index.of_type("coder_app") {
        let mut attrs = AppAttributes::decode(Attrs::new(&resource.values))
            .map_err(ConvertError::decode("app"))?;
        // Very old templates had no slug; the resource name stands in.
        if attrs.slug.is_empty() {
            attrs.slug = resource.name.clone();
        }
        if attrs.display_name.is_empty() {
            attrs.display_name = if attrs.name.is_empty() {
                attrs.slug.clone()
            } else {
                attrs.name.clone()
            };
        }
        if !APP_SLUG.is_match(&attrs.slug) {
            return Err(ConvertError::InvalidAppSlug { slug: attrs.slug });
        }
        // Unique across the template, not just per agent: slugs address apps in URLs.
        if !slugs.insert(attrs.slug.clone()) {
            return Err(ConvertError::DuplicateAppSlug { slug: attrs.slug });
        }

        owners.for_each(graph, &attrs.agent_id, resource, |agent| {
            // The id is unknown at plan time. Upstream fills in a random one so every app
            // in a response has an id; we do the same.
            let id = if attrs.id.is_empty() {
                uuid::Uuid::new_v4().to_string()
            } else {
                attrs.id.clone()
            };
            agent.apps.push(App {
                slug: attrs.slug.clone(),
                display_name: attrs.display_name.clone(),
                command: attrs.command.clone(),
                url: attrs.url.clone(),
                icon: attrs.icon.clone(),
                subdomain: attrs.subdomain,
                healthcheck: attrs.healthcheck.clone(),
                sharing_level: sharing_level(&attrs.share) as i32,
                external: attrs.external,
                order: attrs.order,
                hidden: attrs.hidden,
                open_in: open_in(&attrs.open_in) as i32,
                group: attrs.group.clone(),
                id,
                tooltip: attrs.tooltip.clone(),
            });
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::test_support::{dot, module, resource};
    use super::super::{convert_state, ConvertError, ConvertedState};
    use super::*;

    /// One agent `dev` on `null_resource.dev`, plus the given apps (slug → attributes),
    /// each linked to the agent by id.
    fn with_apps(apps: &[(&str, Value)]) -> Result<ConvertedState, ConvertError> {
        let mut resources = vec![
            resource(
                "coder_agent.dev",
                json!({"auth": "token", "id": "agent-id"}),
            ),
            resource("null_resource.dev", json!({})),
        ];
        let mut labels = vec![
            "coder_agent.dev".to_string(),
            "null_resource.dev".to_string(),
        ];
        for (name, values) in apps {
            let mut values = values.clone();
            values["agent_id"] = json!("agent-id");
            resources.push(resource(&format!("coder_app.{name}"), values));
            labels.push(format!("coder_app.{name}"));
        }
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        convert_state(
            &[module(resources)],
            &dot(&labels, &[("null_resource.dev", "coder_agent.dev")]),
        )
    }

    #[test]
    fn slug_pattern_matches_upstream_cases() {
        for ok in [
            "a", "1", "a1", "1a", "1a1", "1-1", "a-a", "ab-cd", "ab-cd-ef", "abc-123",
        ] {
            assert!(APP_SLUG.is_match(ok), "{ok}");
        }
        for bad in [
            "", "-", "-abc", "abc-", "ab--cd", "_", "ab_cd", " ", "A", "A1", "1A",
        ] {
            assert!(!APP_SLUG.is_match(bad), "{bad:?}");
        }
    }

    #[test]
    fn invalid_slugs() {
        for slug in [
            "$$$ invalid slug $$$",
            "invalid--slug",
            "invalid_slug",
            "Invalid-slug",
        ] {
            let err = with_apps(&[("app1", json!({"slug": slug}))]).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(r#"app slug "{slug}" does not match regex "^[a-z0-9](-?[a-z0-9])*$""#)
            );
        }
        assert!(with_apps(&[("app1", json!({"slug": "valid"}))]).is_ok());
    }

    #[test]
    fn duplicate_slugs() {
        let err = with_apps(&[
            ("app1", json!({"slug": "dev"})),
            ("app2", json!({"slug": "dev"})),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"duplicate app slug, they must be unique per template: "dev""#
        );
    }

    #[test]
    fn defaults_and_mappings() {
        let state = with_apps(&[
            ("legacy", json!({"name": "Legacy Name", "id": "x"})),
            (
                "app2",
                json!({"slug": "app2", "share": "PUBLIC", "open_in": "tab",
                       "healthcheck": [{"url": "u", "interval": 5, "threshold": 6}]}),
            ),
        ])
        .unwrap();
        let apps = &state.resources[0].agents[0].apps;
        let legacy = apps.iter().find(|a| a.slug == "legacy").unwrap();
        assert_eq!(legacy.display_name, "Legacy Name");
        assert_eq!(legacy.id, "x");
        assert_eq!(legacy.open_in, AppOpenIn::SlimWindow as i32);
        assert_eq!(legacy.sharing_level, AppSharingLevel::Owner as i32);
        let app2 = apps.iter().find(|a| a.slug == "app2").unwrap();
        assert_eq!(app2.display_name, "app2");
        assert_eq!(app2.sharing_level, AppSharingLevel::Public as i32);
        assert_eq!(app2.open_in, AppOpenIn::Tab as i32);
        assert_eq!(app2.healthcheck.as_ref().unwrap().threshold, 6);
        // Unknown ids (plan time) are filled in.
        assert_eq!(app2.id.len(), 36);
    }

    #[test]
    fn plan_time_matching_uses_direct_edges() {
        // No ids: app1 has an edge to dev1 only.
        let modules = [module(vec![
            resource("coder_agent.dev1", json!({"auth": "token"})),
            resource("coder_agent.dev2", json!({"auth": "token"})),
            resource("null_resource.a", json!({})),
            resource("coder_app.app1", json!({})),
        ])];
        let graph = dot(
            &[
                "coder_agent.dev1",
                "coder_agent.dev2",
                "null_resource.a",
                "coder_app.app1",
            ],
            &[
                ("null_resource.a", "coder_agent.dev1"),
                ("null_resource.a", "coder_agent.dev2"),
                ("coder_app.app1", "coder_agent.dev1"),
            ],
        );
        let state = convert_state(&modules, &graph).unwrap();
        let agents = &state.resources[0].agents;
        let with_app: Vec<&str> = agents
            .iter()
            .filter(|a| !a.apps.is_empty())
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(with_app, ["dev1"]);
    }
}
