//! `data.coder_workspace`: the workspace being built, as Coder's provisioner describes it in
//! `CODER_WORKSPACE_*` variables (transition, name, id, template, prebuild state), plus the
//! access URL the provider was configured with.

use crate::cty::Value;
use crate::env::Env;
use crate::provider::CoderMeta;
use crate::schema::validators::go_quote;
use crate::schema::{Attribute, DataSource, Diagnostics, Schema};

use crate::go::json::{decode_string_list, Framing};

pub struct Workspace;

/// Set for real builds; without it the template fields may be missing (a bare `terraform plan`).
const BUILD_ID_ENV: &str = "CODER_WORKSPACE_BUILD_ID";

/// What the late-2022 `owner_id` defaulted to (the newer `coder_workspace_owner.id` defaults to
/// a random UUID instead).
const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// The late-2022 owner attributes (removed upstream in v2.0.0), each with the
/// `data.coder_workspace_owner` attribute that replaces it.
const OWNER_ATTRIBUTES: &[(&str, &str, &str)] = &[
    ("owner", "name", "Username of the workspace owner."),
    (
        "owner_email",
        "email",
        "Email address of the workspace owner.",
    ),
    ("owner_id", "id", "UUID of the workspace owner."),
    (
        "owner_name",
        "full_name",
        "Full name of the workspace owner.",
    ),
    (
        "owner_groups",
        "groups",
        "Names of the groups the workspace owner belongs to.",
    ),
    (
        "owner_oidc_access_token",
        "oidc_access_token",
        "The owner's OIDC access token, when they signed in with OIDC.",
    ),
    (
        "owner_session_token",
        "session_token",
        "A session token of the owner, for use with the Coder API.",
    ),
];

fn is_true(env: &Env, name: &str) -> bool {
    env.lookup(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Upstream's "required env" rule: a template field may only be missing outside a real build.
fn required_env(env: &Env, name: &str, what: &str) -> Result<String, String> {
    match env.non_empty(name) {
        Some(v) => Ok(v.to_string()),
        None if env.non_empty(BUILD_ID_ENV).is_some() => {
            Err(format!("{what} is missing: {name} is required"))
        }
        None => Ok(String::new()),
    }
}

/// The URL's explicit port, else the scheme's usual one (443 for `https`, 80 otherwise).
fn access_port(meta: &CoderMeta) -> Result<i64, String> {
    let port = meta.url.port();
    if port.is_empty() {
        return Ok(if meta.url.scheme() == "https" {
            443
        } else {
            80
        });
    }
    // Go's URL parser only lets digits through, so only an out-of-range port fails here.
    port.parse::<i64>()
        .map_err(|_| format!("couldn't parse port {}", go_quote(&port)))
}

impl DataSource<CoderMeta> for Workspace {
    fn name(&self) -> &'static str {
        "coder_workspace"
    }

    fn schema(&self) -> Schema {
        let computed = |name: &str, what: &str| Attribute::string(name).computed().describe(what);
        let mut schema =
            Schema::new("Use this data source to get information for the active workspace build.")
                .version(1)
                .attr(computed("id", "UUID of the workspace."))
                .attr(computed("name", "Name of the workspace."))
                .attr(computed(
                    "transition",
                    "Either `start` or `stop`: whether the workspace is being started or stopped.",
                ))
                .attr(
                    Attribute::number("start_count").computed().describe(
                        "1 when the workspace is being started, else 0; handy for `count`.",
                    ),
                )
                .attr(computed(
                    "access_url",
                    "The access URL of the Coder deployment provisioning this workspace.",
                ))
                .attr(
                    Attribute::number("access_port")
                        .computed()
                        .describe("The port of the access URL (443 or 80 when it names none)."),
                )
                .attr(computed("template_id", "UUID of the workspace's template."))
                .attr(computed(
                    "template_name",
                    "Name of the workspace's template.",
                ))
                .attr(computed(
                    "template_version",
                    "Version of the workspace's template.",
                ))
                .attr(
                    Attribute::bool("is_prebuild")
                        .computed()
                        .describe("Whether the workspace is an unclaimed prebuilt workspace."),
                )
                .attr(
                    Attribute::number("prebuild_count").computed().describe(
                        "1 for an unclaimed prebuilt workspace, else 0; handy for `count`.",
                    ),
                )
                .attr(Attribute::bool("is_prebuild_claim").computed().describe(
                    "Whether this build is the first one after a user claimed a prebuild.",
                ));
        for (name, replacement, what) in OWNER_ATTRIBUTES {
            let attribute = if *name == "owner_groups" {
                Attribute::list_of_string(name)
            } else {
                Attribute::string(name)
            };
            let attribute = attribute
                .computed()
                .deprecated(&format!(
                    "Use data.coder_workspace_owner.{replacement} instead. This attribute was \
                     removed in version 2 of the provider."
                ))
                .describe(what);
            schema = schema.attr(if name.ends_with("_token") {
                attribute.sensitive()
            } else {
                attribute
            });
        }
        schema
    }

    fn read(&self, meta: &CoderMeta, config: Value, diags: &mut Diagnostics) -> Value {
        let env = &meta.env;
        let mut state = config;

        let transition = env.or("CODER_WORKSPACE_TRANSITION", "start").to_string();
        put(
            &mut state,
            "start_count",
            Value::number_i64(i64::from(transition == "start")),
        );
        put(&mut state, "transition", Value::string(transition));

        // A claim is the first build of a prebuild a user took over: it is no longer a prebuild.
        let claim = is_true(env, "CODER_WORKSPACE_IS_PREBUILD_CLAIM");
        let prebuild = !claim && is_true(env, "CODER_WORKSPACE_IS_PREBUILD");
        put(&mut state, "is_prebuild", Value::bool(prebuild));
        put(
            &mut state,
            "prebuild_count",
            Value::number_i64(i64::from(prebuild)),
        );
        put(&mut state, "is_prebuild_claim", Value::bool(claim));

        put(
            &mut state,
            "name",
            Value::string(env.or("CODER_WORKSPACE_NAME", "default")),
        );
        let id = match env.non_empty("CODER_WORKSPACE_ID") {
            Some(id) => id.to_string(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        put(&mut state, "id", Value::string(id));

        for (attr, var, what) in [
            ("template_id", "CODER_WORKSPACE_TEMPLATE_ID", "template ID"),
            (
                "template_name",
                "CODER_WORKSPACE_TEMPLATE_NAME",
                "template name",
            ),
            (
                "template_version",
                "CODER_WORKSPACE_TEMPLATE_VERSION",
                "template version",
            ),
        ] {
            match required_env(env, var, what) {
                Ok(v) => put(&mut state, attr, Value::string(v)),
                Err(message) => {
                    diags.error(message);
                    return state;
                }
            }
        }

        put(
            &mut state,
            "access_url",
            Value::string(meta.url.to_string()),
        );
        match access_port(meta) {
            Ok(port) => put(&mut state, "access_port", Value::number_i64(port)),
            Err(message) => {
                diags.error(message);
                return state;
            }
        }

        put(
            &mut state,
            "owner",
            Value::string(env.or("CODER_WORKSPACE_OWNER", "default")),
        );
        put(
            &mut state,
            "owner_email",
            Value::string(env.or("CODER_WORKSPACE_OWNER_EMAIL", "default@example.com")),
        );
        put(
            &mut state,
            "owner_id",
            Value::string(env.or("CODER_WORKSPACE_OWNER_ID", NIL_UUID)),
        );
        put(
            &mut state,
            "owner_name",
            Value::string(env.or("CODER_WORKSPACE_OWNER_NAME", "default")),
        );
        put(
            &mut state,
            "owner_oidc_access_token",
            Value::string(
                env.lookup("CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN")
                    .unwrap_or_default(),
            ),
        );
        put(
            &mut state,
            "owner_session_token",
            Value::string(
                env.lookup("CODER_WORKSPACE_OWNER_SESSION_TOKEN")
                    .unwrap_or_default(),
            ),
        );
        // Decoded whenever set, so a set-but-empty value is an error, as upstream had it.
        let groups = match env.lookup("CODER_WORKSPACE_OWNER_GROUPS") {
            None => Vec::new(),
            Some(raw) => match decode_string_list(raw, Framing::WholeInput) {
                Ok(groups) => groups,
                Err(_) => {
                    diags.error(format!("couldn't parse owner groups {}", go_quote(raw)));
                    return state;
                }
            },
        };
        put(
            &mut state,
            "owner_groups",
            Value::List(groups.into_iter().map(Value::string).collect()),
        );
        state
    }
}

fn put(state: &mut Value, name: &str, value: Value) {
    if let Value::Object(attrs) = state {
        attrs.insert(name.to_string(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{errors, is_uuid, tf, tf_with_url};
    use crate::schema::ProviderServer;

    const NAME: &str = "coder_workspace";

    fn read(env: &[(&str, &str)]) -> Value {
        let (state, diags) = tf(env).read_data(NAME, &[]);
        assert!(diags.is_empty(), "{diags:?}");
        state
    }

    fn read_errors(env: &[(&str, &str)]) -> Vec<String> {
        errors(&tf(env).read_data(NAME, &[]).1)
    }

    fn attr(state: &Value, name: &str) -> Value {
        state.get_attr(name).cloned().unwrap_or(Value::Unknown)
    }

    #[test]
    fn defaults_outside_a_build() {
        let state = read(&[]);
        assert_eq!(attr(&state, "transition"), Value::string("start"));
        assert_eq!(attr(&state, "start_count"), Value::number_i64(1));
        assert_eq!(attr(&state, "name"), Value::string("default"));
        assert!(is_uuid(state.get_attr("id")));
        assert_eq!(attr(&state, "template_id"), Value::string(""));
        assert_eq!(attr(&state, "template_name"), Value::string(""));
        assert_eq!(attr(&state, "template_version"), Value::string(""));
        assert_eq!(attr(&state, "is_prebuild"), Value::bool(false));
        assert_eq!(attr(&state, "prebuild_count"), Value::number_i64(0));
        assert_eq!(attr(&state, "is_prebuild_claim"), Value::bool(false));
        assert_eq!(
            attr(&state, "access_url"),
            Value::string("https://mydeployment.coder.com")
        );
        assert_eq!(attr(&state, "access_port"), Value::number_i64(443));
    }

    #[test]
    fn stop_transition_zeroes_start_count() {
        let state = read(&[("CODER_WORKSPACE_TRANSITION", "stop")]);
        assert_eq!(attr(&state, "transition"), Value::string("stop"));
        assert_eq!(attr(&state, "start_count"), Value::number_i64(0));
        let state = read(&[("CODER_WORKSPACE_TRANSITION", "")]);
        assert_eq!(attr(&state, "start_count"), Value::number_i64(1));
    }

    #[test]
    fn workspace_identity_from_the_environment() {
        let state = read(&[
            ("CODER_WORKSPACE_NAME", "dev"),
            ("CODER_WORKSPACE_ID", "6a5f8a5e-1b8f-4a39-9b7e-0c9e6e7b8a11"),
            ("CODER_WORKSPACE_TEMPLATE_ID", "t-id"),
            ("CODER_WORKSPACE_TEMPLATE_NAME", "docker"),
            ("CODER_WORKSPACE_TEMPLATE_VERSION", "v1"),
        ]);
        assert_eq!(attr(&state, "name"), Value::string("dev"));
        assert_eq!(
            attr(&state, "id"),
            Value::string("6a5f8a5e-1b8f-4a39-9b7e-0c9e6e7b8a11")
        );
        assert_eq!(attr(&state, "template_id"), Value::string("t-id"));
        assert_eq!(attr(&state, "template_name"), Value::string("docker"));
        assert_eq!(attr(&state, "template_version"), Value::string("v1"));
    }

    #[test]
    fn a_real_build_requires_the_template_fields_in_order() {
        let build = ("CODER_WORKSPACE_BUILD_ID", "b1");
        assert_eq!(
            read_errors(&[build]),
            vec!["template ID is missing: CODER_WORKSPACE_TEMPLATE_ID is required"]
        );
        assert_eq!(
            read_errors(&[build, ("CODER_WORKSPACE_TEMPLATE_ID", "t")]),
            vec!["template name is missing: CODER_WORKSPACE_TEMPLATE_NAME is required"]
        );
        assert_eq!(
            read_errors(&[
                build,
                ("CODER_WORKSPACE_TEMPLATE_ID", "t"),
                ("CODER_WORKSPACE_TEMPLATE_NAME", "n"),
                ("CODER_WORKSPACE_TEMPLATE_VERSION", ""),
            ]),
            vec!["template version is missing: CODER_WORKSPACE_TEMPLATE_VERSION is required"]
        );
        assert!(read_errors(&[
            build,
            ("CODER_WORKSPACE_TEMPLATE_ID", "t"),
            ("CODER_WORKSPACE_TEMPLATE_NAME", "n"),
            ("CODER_WORKSPACE_TEMPLATE_VERSION", "v"),
        ])
        .is_empty());
    }

    #[test]
    fn prebuild_flags() {
        let prebuild = read(&[("CODER_WORKSPACE_IS_PREBUILD", "TRUE")]);
        assert_eq!(attr(&prebuild, "is_prebuild"), Value::bool(true));
        assert_eq!(attr(&prebuild, "prebuild_count"), Value::number_i64(1));
        assert_eq!(attr(&prebuild, "is_prebuild_claim"), Value::bool(false));

        let claim = read(&[
            ("CODER_WORKSPACE_IS_PREBUILD", "true"),
            ("CODER_WORKSPACE_IS_PREBUILD_CLAIM", "True"),
        ]);
        assert_eq!(attr(&claim, "is_prebuild"), Value::bool(false));
        assert_eq!(attr(&claim, "prebuild_count"), Value::number_i64(0));
        assert_eq!(attr(&claim, "is_prebuild_claim"), Value::bool(true));

        let other = read(&[("CODER_WORKSPACE_IS_PREBUILD", "1")]);
        assert_eq!(attr(&other, "is_prebuild"), Value::bool(false));
    }

    fn access(url: &str) -> (Value, Value) {
        let (state, diags) = tf_with_url(Some(url), &[]).read_data(NAME, &[]);
        assert!(diags.is_empty(), "{url}: {diags:?}");
        (attr(&state, "access_url"), attr(&state, "access_port"))
    }

    #[test]
    fn access_url_is_go_reserialised_and_port_inferred() {
        assert_eq!(
            access("https://coder.example.com/"),
            (
                Value::string("https://coder.example.com/"),
                Value::number_i64(443)
            )
        );
        assert_eq!(
            access("http://coder.example.com"),
            (
                Value::string("http://coder.example.com"),
                Value::number_i64(80)
            )
        );
        assert_eq!(
            access("HTTPS://Coder.example.com:8443/x y"),
            (
                Value::string("https://Coder.example.com:8443/x%20y"),
                Value::number_i64(8443)
            )
        );
        assert_eq!(
            access("ftp://files.example.com"),
            (
                Value::string("ftp://files.example.com"),
                Value::number_i64(80)
            )
        );
        assert_eq!(access("http://[::1]:3000").1, Value::number_i64(3000));
    }

    #[test]
    fn access_url_from_coder_agent_url() {
        let (state, _) = tf(&[("CODER_AGENT_URL", "http://localhost:3000")]).read_data(NAME, &[]);
        assert_eq!(
            attr(&state, "access_url"),
            Value::string("http://localhost:3000")
        );
        assert_eq!(attr(&state, "access_port"), Value::number_i64(3000));
    }

    #[test]
    fn out_of_range_port_is_an_error() {
        let t = tf_with_url(Some("http://host:99999999999999999999"), &[]);
        assert_eq!(
            errors(&t.read_data(NAME, &[]).1),
            vec![r#"couldn't parse port "99999999999999999999""#]
        );
    }

    #[test]
    fn late_2022_owner_defaults() {
        let state = read(&[]);
        assert_eq!(attr(&state, "owner"), Value::string("default"));
        assert_eq!(
            attr(&state, "owner_email"),
            Value::string("default@example.com")
        );
        assert_eq!(attr(&state, "owner_id"), Value::string(NIL_UUID));
        assert_eq!(attr(&state, "owner_name"), Value::string("default"));
        assert_eq!(attr(&state, "owner_groups"), Value::List(vec![]));
        assert_eq!(attr(&state, "owner_oidc_access_token"), Value::string(""));
        assert_eq!(attr(&state, "owner_session_token"), Value::string(""));
    }

    #[test]
    fn late_2022_owner_from_the_environment() {
        let state = read(&[
            ("CODER_WORKSPACE_OWNER", "alice"),
            ("CODER_WORKSPACE_OWNER_EMAIL", "alice@example.com"),
            (
                "CODER_WORKSPACE_OWNER_ID",
                "0d2b3c4e-1111-4222-8333-444455556666",
            ),
            ("CODER_WORKSPACE_OWNER_NAME", "Alice Liddell"),
            ("CODER_WORKSPACE_OWNER_GROUPS", r#"["devs", "ops"]"#),
            ("CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN", "oidc"),
            ("CODER_WORKSPACE_OWNER_SESSION_TOKEN", "session"),
        ]);
        assert_eq!(attr(&state, "owner"), Value::string("alice"));
        assert_eq!(
            attr(&state, "owner_email"),
            Value::string("alice@example.com")
        );
        assert_eq!(
            attr(&state, "owner_id"),
            Value::string("0d2b3c4e-1111-4222-8333-444455556666")
        );
        assert_eq!(attr(&state, "owner_name"), Value::string("Alice Liddell"));
        assert_eq!(
            attr(&state, "owner_groups"),
            Value::List(vec![Value::string("devs"), Value::string("ops")])
        );
        assert_eq!(
            attr(&state, "owner_oidc_access_token"),
            Value::string("oidc")
        );
        assert_eq!(
            attr(&state, "owner_session_token"),
            Value::string("session")
        );
    }

    #[test]
    fn bad_owner_groups_are_an_error() {
        assert_eq!(
            read_errors(&[("CODER_WORKSPACE_OWNER_GROUPS", "")]),
            vec![r#"couldn't parse owner groups """#]
        );
        assert_eq!(
            read_errors(&[("CODER_WORKSPACE_OWNER_GROUPS", "[1]")]),
            vec![r#"couldn't parse owner groups "[1]""#]
        );
    }

    #[test]
    fn owner_attributes_are_deprecated_in_favour_of_coder_workspace_owner() {
        let t = tf(&[]);
        let schema = &t.fw.schemas().data_sources[NAME];
        for (name, replacement, _) in OWNER_ATTRIBUTES {
            let attribute = schema.block.attribute(name);
            let message = attribute
                .and_then(|a| a.deprecated.clone())
                .unwrap_or_default();
            assert!(
                message.contains(&format!("coder_workspace_owner.{replacement}")),
                "{name}: {message}"
            );
            assert!(attribute.is_some_and(|a| a.computed && !a.optional));
        }
        let sensitive: Vec<_> = schema
            .block
            .attributes
            .iter()
            .filter(|a| a.sensitive)
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(
            sensitive,
            vec!["owner_oidc_access_token", "owner_session_token"]
        );
        assert!(schema
            .block
            .attribute("id")
            .is_some_and(|a| a.computed && !a.optional));
    }
}
