//! Helpers for tests that drive the provider's types through real Terraform: reading the
//! diagnostics of `-json` commands, the variables Coder's control plane sets for a workspace
//! build, and running one check against every Terraform at once.

use std::thread;

use crate::{terraform_versions, Terraform, TfOutput};

/// The `terraform` block every test configuration starts with: our provider under its
/// Registry address, installed from the harness mirror.
pub const REQUIRED_PROVIDERS: &str = r#"
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}
"#;

/// What Coder's control plane puts into the environment of a start build of workspace `dev`
/// owned by `alice`. Stable ids, so a second plan reads the same values as the first.
pub const WORKSPACE_BUILD_ENV: &[(&str, &str)] = &[
    ("CODER_AGENT_URL", "https://coder.example.com"),
    (
        "CODER_AGENT_SCRIPT_linux_amd64",
        "#!/bin/sh\ncurl -fsSL ${ACCESS_URL}bin/coder-linux-amd64 -o /tmp/coder && CODER_AGENT_AUTH=${AUTH_TYPE} /tmp/coder agent",
    ),
    (
        "CODER_AGENT_SCRIPT_linux_arm64",
        "#!/bin/sh\ncurl -fsSL ${ACCESS_URL}bin/coder-linux-arm64 -o /tmp/coder && CODER_AGENT_AUTH=${AUTH_TYPE} /tmp/coder agent",
    ),
    ("CODER_WORKSPACE_TRANSITION", "start"),
    ("CODER_WORKSPACE_BUILD_ID", "8e1c0f4a-2b7d-4c1e-9f3a-5d6b7c8e9f01"),
    ("CODER_WORKSPACE_ID", "3b9d6f2e-7a41-4c58-b0e2-94d1c6a8f573"),
    ("CODER_WORKSPACE_NAME", "dev"),
    (
        "CODER_WORKSPACE_TEMPLATE_ID",
        "c4a7e2d9-1f3b-4e6a-8d5c-2b9f0e7a1c34",
    ),
    ("CODER_WORKSPACE_TEMPLATE_NAME", "docker"),
    ("CODER_WORKSPACE_TEMPLATE_VERSION", "brave_turing3"),
    (
        "CODER_WORKSPACE_OWNER_ID",
        "6f1e4b8a-9c2d-4a7f-b3e5-0d8c2a6f4e19",
    ),
    ("CODER_WORKSPACE_OWNER", "alice"),
    ("CODER_WORKSPACE_OWNER_NAME", "Alice Liddell"),
    ("CODER_WORKSPACE_OWNER_EMAIL", "alice@example.com"),
    ("CODER_WORKSPACE_OWNER_GROUPS", r#"["Everyone","data-science"]"#),
    (
        "CODER_WORKSPACE_OWNER_RBAC_ROLES",
        r#"[{"name":"owner","org_id":""},{"name":"organization-member","org_id":"0b7f3c2e-5a9d-4e1b-8c6f-3d2a1e0b9c87"}]"#,
    ),
    ("CODER_WORKSPACE_OWNER_LOGIN_TYPE", "oidc"),
    (
        "CODER_WORKSPACE_OWNER_SSH_PUBLIC_KEY",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0kzGz2yHxk7cTq1bqK0J0bC0d3r alice@coder",
    ),
    (
        "CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n",
    ),
    (
        "CODER_WORKSPACE_OWNER_SESSION_TOKEN",
        "Xk2pQ9vL7s-R4mN8bT1cW6yZ3hJ5fD0gA",
    ),
    (
        "CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl",
    ),
];

/// One diagnostic of a `-json` Terraform command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub severity: String,
    pub summary: String,
    pub detail: String,
    /// The resource or data source it is about (`coder_env.bad`,
    /// `data.coder_parameter.region`); empty when Terraform names none.
    pub address: String,
}

impl Diag {
    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }
}

fn diag_of(d: &serde_json::Value) -> Diag {
    let text = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    Diag {
        severity: text("severity"),
        summary: text("summary"),
        detail: text("detail"),
        address: text("address"),
    }
}

/// The diagnostics of `terraform validate -json` (one JSON document) or of `plan`/`apply -json`
/// (one JSON message per line).
pub fn diagnostics(out: &TfOutput) -> Vec<Diag> {
    if let Ok(doc) = serde_json::from_str::<serde_json::Value>(&out.stdout) {
        if let Some(list) = doc["diagnostics"].as_array() {
            return list.iter().map(diag_of).collect();
        }
    }
    out.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["type"] == "diagnostic")
        .map(|m| diag_of(&m["diagnostic"]))
        .collect()
}

/// Runs `check` once for every Terraform from [`terraform_versions`], all at the same time, and
/// fails naming each version whose check panicked.
pub fn each_terraform(check: impl Fn(&Terraform) + Sync) {
    let versions = terraform_versions();
    let failures: Vec<String> = thread::scope(|scope| {
        let running: Vec<_> = versions
            .iter()
            .map(|tf| (tf, scope.spawn(|| check(tf))))
            .collect();
        running
            .into_iter()
            .filter_map(|(tf, handle)| {
                handle
                    .join()
                    .err()
                    .map(|panic| format!("{tf}: {}", panic_message(panic.as_ref())))
            })
            .collect()
    });
    if !failures.is_empty() {
        panic!(
            "failed with {} of {} Terraform versions:\n{}",
            failures.len(),
            versions.len(),
            failures.join("\n")
        );
    }
}

/// The text a panic carried (`panic!` with a literal or a formatted message).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(panic without a message)".to_string()
    }
}

/// The resource (`address`, e.g. `coder_agent.dev` or `data.coder_parameter.region`) in the
/// `values` of `terraform show -json`, with its `values` and `sensitive_values`.
pub fn resource_in<'a>(show: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    show["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["address"] == address))
        .unwrap_or_else(|| panic!("no {address} in the state:\n{show:#}"))
}

/// The variable holding the value a user gave parameter `name`:
/// `CODER_PARAMETER_<hex sha256(name)>`.
pub fn parameter_variable(name: &str) -> String {
    format!("CODER_PARAMETER_{}", sha256_hex(name.as_bytes()))
}

/// The variable holding the value parameter `name` had in the previous build (for `monotonic`).
pub fn previous_parameter_variable(name: &str) -> String {
    format!("CODER_PARAMETER_PREVIOUS_{}", sha256_hex(name.as_bytes()))
}

/// SHA-256 (FIPS 180-4) in lowercase hex; small enough to keep the tests free of a crypto
/// dependency.
pub fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for chunk in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, add) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(add);
        }
    }
    h.iter().map(|word| format!("{word:08x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_known_digests() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Two blocks of padding.
        assert_eq!(
            sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn parameter_variables_use_the_name_digest() {
        // Samples from the provider research notes (§3.3 of coder-provider.md).
        assert_eq!(
            parameter_variable("parameter"),
            "CODER_PARAMETER_6390361dfdff141a9223d632accf61242133a92d83f2a71be7233bb1cdbacca2"
        );
        assert_eq!(
            previous_parameter_variable("AI Prompt"),
            "CODER_PARAMETER_PREVIOUS_0881b748bb90b4c4eb0d79a67fa62678aec1d0cdb90d9ae75026b11dcac8555a"
        );
    }
}
