//! Values that must never appear in a log line sent to a client, and their removal.
//!
//! Terraform hides what it knows to be sensitive, but a template can print anything
//! (`nonsensitive()`, a script that echoes its environment, a file written by one resource and
//! printed by another), Terraform's own debug log quotes its command line (`-var` values
//! included), and a `check` warning may quote whatever its message interpolates. So every
//! line is scrubbed of:
//!
//! - sensitive variable values: marked so in the request, or declared `sensitive = true` by
//!   the template;
//! - masked rich parameter values, current and previous ([`crate::parse::masked_parameter_names`]);
//! - the workspace owner's session token, OIDC access token and SSH private key, running agent
//!   auth tokens (prebuild claims), external auth access tokens;
//! - agent tokens in the state (given, or written by an apply).
//!
//! Each value is also hidden as Terraform and JSON quote it (`\"`, `\\`, `\n`), and a
//! multi-line value line by line (a script prints a key one line at a time).
//!
//! One value cannot be known in advance: the token of an agent created by the running apply
//! exists only in Terraform's memory until the apply ends and the state is read. From the
//! moment an apply starts creating or updating a `coder_agent` until the state that holds its
//! token has been read, every UUID in a line (the provider's tokens are UUIDs) is hidden unless
//! it is known to be public: a resource id Terraform reported in its hooks, or an id from the
//! build's metadata.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use coder_proto::provisioner::{Metadata, RichParameterValue, VariableValue};
use regex::Regex;

use crate::terraform::logs::JsonLogLine;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Shorter values are not worth hiding and would mangle ordinary text.
const MIN_SECRET_LEN: usize = 3;
/// Lines of a multi-line secret shorter than this are left alone (`}` or a blank line would
/// otherwise vanish from every log).
const MIN_LINE_LEN: usize = 8;

fn uuid_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
            .expect("a constant pattern")
    })
}

#[derive(Debug, Default)]
struct Inner {
    /// Longest first, so a secret containing another is replaced whole.
    values: Vec<String>,
    /// An apply may have created agent tokens we have not seen yet.
    unseen_agent_tokens: bool,
    /// UUIDs known not to be secret.
    public_ids: HashSet<String>,
}

/// The secrets of one session. Shared by the session and its log sink.
#[derive(Debug, Default)]
pub struct Secrets {
    inner: Mutex<Inner>,
}

impl Secrets {
    /// Hides `value` from now on (with its quoted and per-line forms).
    pub fn add(&self, value: &str) {
        if value.len() < MIN_SECRET_LEN {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        for form in forms(value) {
            if !inner.values.contains(&form) {
                inner.values.push(form);
            }
        }
        inner.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// `text` with every secret replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        let Ok(inner) = self.inner.lock() else {
            // A poisoned lock means a panic elsewhere; hide everything rather than leak.
            return REDACTED.to_string();
        };
        let mut out = text.to_string();
        for v in &inner.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        if inner.unseen_agent_tokens {
            let hidden = uuid_pattern().replace_all(&out, |c: &regex::Captures<'_>| {
                let id = &c[0];
                if inner.public_ids.contains(&id.to_ascii_lowercase()) {
                    id.to_string()
                } else {
                    REDACTED.to_string()
                }
            });
            if let std::borrow::Cow::Owned(hidden) = hidden {
                out = hidden;
            }
        }
        out
    }

    /// Sees each line of Terraform's `-json` output before it is logged: resource ids in hooks
    /// are public; an apply that starts creating or updating an agent makes a new token.
    pub fn observe(&self, line: &JsonLogLine) {
        let Some(hook) = &line.hook else { return };
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if let Some(id) = &hook.id_value {
            inner.public_ids.insert(id.to_ascii_lowercase());
        }
        let agent = hook
            .resource
            .as_ref()
            .is_some_and(|r| r.resource_type == "coder_agent");
        let action = hook.action.as_deref().unwrap_or_default();
        if agent && line.kind == "apply_start" && action != "delete" {
            inner.unseen_agent_tokens = true;
        }
    }

    fn add_public_id(&self, id: &str) {
        if id.is_empty() {
            return;
        }
        if let Ok(mut inner) = self.inner.lock() {
            inner.public_ids.insert(id.to_ascii_lowercase());
        }
    }

    /// The secrets of a build's metadata, and its ids as public.
    pub fn add_metadata(&self, metadata: Option<&Metadata>) {
        let Some(m) = metadata else { return };
        for v in [
            &m.workspace_owner_session_token,
            &m.workspace_owner_oidc_access_token,
            &m.workspace_owner_ssh_private_key,
        ] {
            self.add(v);
        }
        for t in &m.running_agent_auth_tokens {
            self.add(&t.token);
            self.add_public_id(&t.agent_id);
        }
        for id in [
            &m.workspace_id,
            &m.workspace_owner_id,
            &m.template_id,
            &m.template_version_id,
            &m.workspace_build_id,
            &m.task_id,
        ] {
            self.add_public_id(id);
        }
    }

    /// Agent tokens recorded in a raw Terraform state file; every other resource id in it is
    /// public. Once a state has been read, no agent token is unknown any more.
    pub fn add_state(&self, state: &[u8]) {
        if state.is_empty() {
            return;
        }
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(state) else {
            return;
        };
        let resources = json.get("resources").and_then(|r| r.as_array());
        for resource in resources.into_iter().flatten() {
            let is_agent = resource.get("type").and_then(|t| t.as_str()) == Some("coder_agent");
            let instances = resource.get("instances").and_then(|i| i.as_array());
            for attributes in instances
                .into_iter()
                .flatten()
                .filter_map(|i| i.get("attributes"))
            {
                let text = |name: &str| attributes.get(name).and_then(|t| t.as_str());
                if is_agent {
                    if let Some(token) = text("token") {
                        self.add(token);
                    }
                }
                if let Some(id) = text("id") {
                    self.add_public_id(id);
                }
            }
        }
        if let Ok(mut inner) = self.inner.lock() {
            inner.unseen_agent_tokens = false;
        }
    }

    /// Secrets a Plan request carries: variables marked sensitive by the request or declared
    /// sensitive by the template in `dir`, masked rich parameters (this build's and the
    /// previous build's values), external auth tokens are added by the caller.
    pub fn add_plan_inputs(
        &self,
        dir: &Path,
        variables: &[VariableValue],
        parameters: &[RichParameterValue],
        previous_parameters: &[RichParameterValue],
    ) {
        let declared: BTreeSet<String> = match crate::parse::parse_template_dir(dir) {
            Ok(parsed) => parsed
                .variables
                .into_iter()
                .filter(|v| v.sensitive)
                .map(|v| v.name)
                .collect(),
            // Terraform reports a broken template; the request's marks still apply.
            Err(_) => BTreeSet::new(),
        };
        for v in variables {
            if v.sensitive || declared.contains(&v.name) {
                self.add(&v.value);
            }
        }
        if parameters.is_empty() && previous_parameters.is_empty() {
            return;
        }
        let masked = crate::parse::masked_parameter_names(dir);
        for p in parameters.iter().chain(previous_parameters) {
            if masked.contains(&p.name) {
                self.add(&p.value);
            }
        }
    }
}

/// The ways `value` can show up in a line: as is, quoted as Go's `%q` and JSON quote it
/// (Terraform's logs and diagnostics), and each line of a multi-line value.
fn forms(value: &str) -> Vec<String> {
    let mut out = vec![value.to_string()];
    let json = serde_json::Value::from(value).to_string();
    if let Some(inner) = json.get(1..json.len().saturating_sub(1)) {
        out.push(inner.to_string());
    }
    out.push(go_quote_inner(value));
    if value.contains('\n') {
        for line in value.lines().map(str::trim) {
            // PEM armour (`-----BEGIN ... KEY-----`) is the same in every key.
            if line.len() >= MIN_LINE_LEN && !line.starts_with("-----") {
                out.push(line.to_string());
                out.extend(forms_of_line(line));
            }
        }
    }
    out.retain(|f| f.len() >= MIN_SECRET_LEN);
    out.sort();
    out.dedup();
    out
}

fn forms_of_line(line: &str) -> Vec<String> {
    let json = serde_json::Value::from(line).to_string();
    json.get(1..json.len().saturating_sub(1))
        .map(|inner| vec![inner.to_string(), go_quote_inner(line)])
        .unwrap_or_default()
}

/// Go's `strconv.Quote` without the surrounding quotes, for the characters where it differs
/// from JSON: `\a`, `\v`, and `\x` escapes for other control bytes.
fn go_quote_inner(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use coder_proto::provisioner::RunningAgentAuthToken;

    fn line(json: serde_json::Value) -> JsonLogLine {
        serde_json::from_value(json).expect("log line")
    }

    #[test]
    fn secrets_are_redacted_longest_first() {
        let s = Secrets::default();
        s.add("abc");
        s.add("abcdef");
        s.add("x");
        assert_eq!(
            s.redact("token abcdef and abc and x"),
            "token <redacted> and <redacted> and x"
        );
    }

    #[test]
    fn quoted_forms_are_redacted() {
        let s = Secrets::default();
        s.add("pa\"ss\\word\u{7}");
        assert_eq!(
            s.redact(r#"-var "db=pa\"ss\\word\a" and {"v":"pa\"ss\\word\u0007"}"#),
            r#"-var "db=<redacted>" and {"v":"<redacted>"}"#
        );
    }

    #[test]
    fn multi_line_secrets_are_redacted_line_by_line() {
        let s = Secrets::default();
        s.add("-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQAB\nshort\n-----END KEY-----\n");
        assert_eq!(s.redact("AAAAB3NzaC1yc2EAAAADAQAB"), "<redacted>");
        assert_eq!(s.redact("-----BEGIN KEY-----"), "-----BEGIN KEY-----");
        assert_eq!(s.redact("short"), "short");
        assert_eq!(
            s.redact("k=\"-----BEGIN KEY-----\\nAAAAB3NzaC1yc2EAAAADAQAB\\nshort"),
            "k=\"-----BEGIN KEY-----\\n<redacted>\\nshort"
        );
    }

    #[test]
    fn agent_tokens_come_from_coder_agent_state_only_and_end_the_uuid_guard() {
        let s = Secrets::default();
        s.add_state(
            br#"{"version":4,"resources":[{"type":"coder_agent","name":"main","instances":[{"attributes":{"token":"tok-123","id":"a"}}]},{"type":"terraform_data","instances":[{"attributes":{"token":"not-a-secret"}}]}]}"#,
        );
        assert_eq!(s.redact("tok-123 not-a-secret"), "<redacted> not-a-secret");
    }

    #[test]
    fn unknown_uuids_are_hidden_while_an_apply_may_have_made_agent_tokens() {
        const TOKEN: &str = "8d4c2f60-7c3b-4e57-9a61-0f2b3c4d5e6f";
        const AGENT_ID: &str = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
        const WORKSPACE_ID: &str = "0f0e0d0c-0000-4000-8000-000000000001";
        let s = Secrets::default();
        s.add_metadata(Some(&Metadata {
            workspace_id: WORKSPACE_ID.into(),
            running_agent_auth_tokens: vec![RunningAgentAuthToken {
                agent_id: String::new(),
                token: "running-token".into(),
            }],
            ..Default::default()
        }));
        let printed = format!("{TOKEN} {WORKSPACE_ID} running-token");
        // Before any agent is created, UUIDs are ordinary text.
        assert_eq!(
            s.redact(&printed),
            format!("{TOKEN} {WORKSPACE_ID} <redacted>")
        );

        // A data source read and a delete do not make tokens.
        s.observe(&line(serde_json::json!({"type": "apply_start", "hook": {
            "resource": {"addr": "coder_agent.old", "resource_type": "coder_agent"},
            "action": "delete"}})));
        assert_eq!(s.redact(TOKEN), TOKEN);

        s.observe(&line(serde_json::json!({"type": "apply_start", "hook": {
            "resource": {"addr": "coder_agent.main", "resource_type": "coder_agent"},
            "action": "create"}})));
        s.observe(&line(
            serde_json::json!({"type": "apply_complete", "hook": {
            "resource": {"addr": "coder_agent.main", "resource_type": "coder_agent"},
            "action": "create", "id_key": "id", "id_value": AGENT_ID}}),
        ));
        assert_eq!(
            s.redact(&format!("{printed} {AGENT_ID} {}", AGENT_ID.to_uppercase())),
            format!(
                "<redacted> {WORKSPACE_ID} <redacted> {AGENT_ID} {}",
                AGENT_ID.to_uppercase()
            )
        );

        // The state after the apply holds the token: it is a known secret from then on, and
        // other UUIDs are ordinary text again.
        let state = serde_json::json!({"resources": [{"type": "coder_agent", "instances": [
            {"attributes": {"id": AGENT_ID, "token": TOKEN}}]}]});
        s.add_state(state.to_string().as_bytes());
        let other = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
        assert_eq!(
            s.redact(&format!("{TOKEN} {other}")),
            format!("<redacted> {other}")
        );
    }

    #[test]
    fn plan_inputs_hide_declared_sensitive_variables_and_masked_parameters() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("main.tf"),
            r#"
variable "declared" {
  sensitive = true
}
variable "plain" {}
data "coder_parameter" "pw" {
  name    = "pw"
  styling = jsonencode({ mask_input = true })
}
data "coder_parameter" "region" {
  name = "region"
}
"#,
        )
        .expect("write");
        let var = |name: &str, value: &str, sensitive| VariableValue {
            name: name.into(),
            value: value.into(),
            sensitive,
        };
        let param = |name: &str, value: &str| RichParameterValue {
            name: name.into(),
            value: value.into(),
        };
        let s = Secrets::default();
        s.add_plan_inputs(
            dir.path(),
            &[
                var("declared", "declared-value", false),
                var("plain", "plain-value", false),
                var("marked", "marked-value", true),
            ],
            &[param("pw", "pw-now"), param("region", "eu-west")],
            &[param("pw", "pw-before")],
        );
        assert_eq!(
            s.redact("declared-value plain-value marked-value pw-now eu-west pw-before"),
            "<redacted> plain-value <redacted> <redacted> eu-west <redacted>"
        );
    }
}
