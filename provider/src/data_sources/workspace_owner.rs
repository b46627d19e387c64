//! `data "coder_workspace_owner"`: who owns the workspace being built, as the Coder control
//! plane passes it in `CODER_WORKSPACE_OWNER_*` variables.

use std::collections::BTreeMap;

use crate::cty::{Type, Value};
use crate::provider::CoderMeta;
use crate::schema::{Attribute, DataSource, Diagnostic, Diagnostics, Schema};

use crate::go::json::{decode_string_list, decode_string_maps, Framing};

pub struct WorkspaceOwner;

const NAME: &str = "coder_workspace_owner";

fn rbac_role_type() -> Type {
    Type::object([("name", Type::String), ("org_id", Type::String)])
}

impl DataSource<CoderMeta> for WorkspaceOwner {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> Schema {
        // Upstream never gave this type a schema version.
        Schema::new("The user who owns the workspace being built.")
            .version(0)
            .attr(
                Attribute::string("id")
                    .computed()
                    .describe("The owner's user id (a UUID)."),
            )
            .attr(
                Attribute::string("name")
                    .computed()
                    .describe("The owner's username."),
            )
            .attr(
                Attribute::string("full_name")
                    .computed()
                    .describe("The owner's full name."),
            )
            .attr(
                Attribute::string("email")
                    .computed()
                    .describe("The owner's email address."),
            )
            .attr(
                Attribute::string("ssh_public_key")
                    .computed()
                    .describe("The public half of the SSH key pair Coder generated for the owner."),
            )
            .attr(
                Attribute::string("ssh_private_key")
                    .computed()
                    .sensitive()
                    .describe(
                        "The private half of the SSH key pair Coder generated for the owner.",
                    ),
            )
            .attr(
                Attribute::list_of_string("groups")
                    .computed()
                    .describe("Names of the groups the owner belongs to."),
            )
            .attr(
                Attribute::string("session_token")
                    .computed()
                    .sensitive()
                    .describe(
                        "A session token for the Coder API, issued anew on every workspace start.",
                    ),
            )
            .attr(
                Attribute::string("oidc_access_token")
                    .computed()
                    .sensitive()
                    .describe(
                        "The owner's OpenID Connect access token when they signed in with OIDC; \
                         empty otherwise or when no valid token is available.",
                    ),
            )
            .attr(Attribute::string("login_type").computed().describe(
                "How the owner signs in to Coder (for example `password`, `github`, `oidc`).",
            ))
            .attr(
                // A computed-only list of objects is an attribute, not a block, on the wire.
                Attribute::new("rbac_roles", Type::list(rbac_role_type()))
                    .computed()
                    .describe("The owner's RBAC roles; `org_id` is empty for site-wide roles."),
            )
    }

    fn read(&self, meta: &CoderMeta, config: Value, diags: &mut Diagnostics) -> Value {
        let env = &meta.env;
        let mut state = config.as_object().cloned().unwrap_or_default();

        // Unlike the old `coder_workspace.owner_id` (nil UUID), a missing id is random here.
        let id = match env.non_empty("CODER_WORKSPACE_OWNER_ID") {
            Some(id) => Value::string(id),
            None => Value::string(uuid::Uuid::new_v4().to_string()),
        };
        put(&mut state, "id", id);
        put(
            &mut state,
            "name",
            Value::string(env.or("CODER_WORKSPACE_OWNER", "default")),
        );
        put(
            &mut state,
            "full_name",
            Value::string(env.or("CODER_WORKSPACE_OWNER_NAME", "default")),
        );
        put(
            &mut state,
            "email",
            Value::string(env.or("CODER_WORKSPACE_OWNER_EMAIL", "default@example.com")),
        );
        for (attr, var) in [
            ("ssh_public_key", "CODER_WORKSPACE_OWNER_SSH_PUBLIC_KEY"),
            ("ssh_private_key", "CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY"),
            ("session_token", "CODER_WORKSPACE_OWNER_SESSION_TOKEN"),
            (
                "oidc_access_token",
                "CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN",
            ),
        ] {
            put(
                &mut state,
                attr,
                Value::string(env.lookup(var).unwrap_or_default()),
            );
        }

        // Upstream decodes the variable whenever it is set, so an empty value is an error
        // ("EOF"), and anything after the first JSON value is ignored (a stream decoder).
        let groups = match env.lookup("CODER_WORKSPACE_OWNER_GROUPS") {
            None => Vec::new(),
            Some(raw) => match decode_string_list(raw, Framing::FirstValue) {
                Ok(groups) => groups,
                Err(e) => {
                    diags.push(Diagnostic::error(format!("invalid user groups: {e}")));
                    return Value::Object(state);
                }
            },
        };
        put(
            &mut state,
            "groups",
            Value::List(groups.into_iter().map(Value::string).collect()),
        );

        // Left null (not "") when the control plane does not say, as upstream never sets it.
        if let Some(login_type) = env.non_empty("CODER_WORKSPACE_OWNER_LOGIN_TYPE") {
            put(&mut state, "login_type", Value::string(login_type));
        }

        let roles = match env.lookup("CODER_WORKSPACE_OWNER_RBAC_ROLES") {
            None => Vec::new(),
            Some(raw) => match decode_string_maps(raw, Framing::FirstValue) {
                Ok(roles) => roles,
                Err(e) => {
                    diags.push(Diagnostic::error(format!("invalid user rbac roles: {e}")));
                    return Value::Object(state);
                }
            },
        };
        put(
            &mut state,
            "rbac_roles",
            Value::List(roles.iter().map(rbac_role).collect()),
        );
        Value::Object(state)
    }
}

fn put(state: &mut BTreeMap<String, Value>, name: &str, value: Value) {
    state.insert(name.to_string(), value);
}

/// One role; keys other than `name` and `org_id` are dropped and missing ones read as `""`
/// (site-wide roles have no organization).
fn rbac_role(role: &BTreeMap<String, String>) -> Value {
    let field = |key: &str| Value::string(role.get(key).cloned().unwrap_or_default());
    Value::object([("name", field("name")), ("org_id", field("org_id"))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{read, read_error};

    #[test]
    fn defaults_without_any_variable() {
        let state = read(NAME, &[], &[]);
        let id = state.get_attr("id").and_then(Value::as_str).unwrap_or("");
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "random UUID id, got {id:?}"
        );
        assert_eq!(state.get_attr("name"), Some(&Value::string("default")));
        assert_eq!(state.get_attr("full_name"), Some(&Value::string("default")));
        assert_eq!(
            state.get_attr("email"),
            Some(&Value::string("default@example.com"))
        );
        assert_eq!(state.get_attr("ssh_public_key"), Some(&Value::string("")));
        assert_eq!(state.get_attr("session_token"), Some(&Value::string("")));
        assert_eq!(state.get_attr("groups"), Some(&Value::List(vec![])));
        assert_eq!(state.get_attr("rbac_roles"), Some(&Value::List(vec![])));
        assert_eq!(state.get_attr("login_type"), Some(&Value::Null));
    }

    #[test]
    fn every_variable_is_passed_through() {
        let state = read(
            NAME,
            &[],
            &[
                (
                    "CODER_WORKSPACE_OWNER_ID",
                    "11111111-1111-1111-1111-111111111111",
                ),
                ("CODER_WORKSPACE_OWNER", "alice"),
                ("CODER_WORKSPACE_OWNER_NAME", "Alice A"),
                ("CODER_WORKSPACE_OWNER_EMAIL", "alice@example.com"),
                ("CODER_WORKSPACE_OWNER_SSH_PUBLIC_KEY", "ssh-ed25519 AAAA"),
                ("CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY", "-----BEGIN"),
                ("CODER_WORKSPACE_OWNER_GROUPS", r#"["group1", "group2"]"#),
                ("CODER_WORKSPACE_OWNER_SESSION_TOKEN", "tok"),
                ("CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN", "oidc"),
                ("CODER_WORKSPACE_OWNER_LOGIN_TYPE", "github"),
                (
                    "CODER_WORKSPACE_OWNER_RBAC_ROLES",
                    r#"[{"name":"member","org_id":"o1"},{"name":"owner"}]"#,
                ),
            ],
        );
        assert_eq!(
            state.get_attr("id"),
            Some(&Value::string("11111111-1111-1111-1111-111111111111"))
        );
        assert_eq!(state.get_attr("name"), Some(&Value::string("alice")));
        assert_eq!(state.get_attr("full_name"), Some(&Value::string("Alice A")));
        assert_eq!(
            state.get_attr("groups"),
            Some(&Value::List(vec![
                Value::string("group1"),
                Value::string("group2")
            ]))
        );
        assert_eq!(state.get_attr("login_type"), Some(&Value::string("github")));
        assert_eq!(
            state.get_attr("rbac_roles"),
            Some(&Value::List(vec![
                Value::object([
                    ("name", Value::string("member")),
                    ("org_id", Value::string("o1"))
                ]),
                Value::object([
                    ("name", Value::string("owner")),
                    ("org_id", Value::string(""))
                ]),
            ]))
        );
    }

    #[test]
    fn groups_set_but_empty_is_eof() {
        let d = read_error(NAME, &[], &[("CODER_WORKSPACE_OWNER_GROUPS", "")]);
        assert_eq!(d.summary, "invalid user groups: EOF");
    }

    #[test]
    fn groups_of_the_wrong_shape() {
        let d = read_error(NAME, &[], &[("CODER_WORKSPACE_OWNER_GROUPS", "[1]")]);
        assert_eq!(
            d.summary,
            "invalid user groups: json: cannot unmarshal number into Go value of type string"
        );
    }

    #[test]
    fn rbac_roles_that_are_not_json() {
        let d = read_error(NAME, &[], &[("CODER_WORKSPACE_OWNER_RBAC_ROLES", "admin")]);
        assert_eq!(
            d.summary,
            "invalid user rbac roles: invalid character 'a' looking for beginning of value"
        );
    }

    #[test]
    fn rbac_roles_of_the_wrong_shape() {
        let d = read_error(
            NAME,
            &[],
            &[("CODER_WORKSPACE_OWNER_RBAC_ROLES", r#"["admin"]"#)],
        );
        assert_eq!(
            d.summary,
            "invalid user rbac roles: json: cannot unmarshal string into Go value of type \
             map[string]string"
        );
    }
}
