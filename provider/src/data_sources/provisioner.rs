//! `data "coder_provisioner"`: the platform the provider itself runs on (upstream reports its own
//! process, not Terraform's), named the way Go names platforms.

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::{Attribute, DataSource, Diagnostics, Schema};

pub struct Provisioner;

const NAME: &str = "coder_provisioner";

impl DataSource<CoderMeta> for Provisioner {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> Schema {
        Schema::new("The platform of the machine running this provider (Go naming).")
            .version(1)
            .attr(
                Attribute::string("os").computed().describe(
                    "Operating system, as Go names it (`linux`, `darwin`, `windows`, ...).",
                ),
            )
            .attr(Attribute::string("arch").computed().describe(
                "CPU architecture, as Go names it (`amd64`, `arm64`, ...; 32-bit ARM is `armv7`).",
            ))
    }

    fn read(&self, _meta: &CoderMeta, config: Value, _diags: &mut Diagnostics) -> Value {
        let mut state = config.as_object().cloned().unwrap_or_default();
        state.insert(
            "id".to_string(),
            Value::string(uuid::Uuid::new_v4().to_string()),
        );
        state.insert("os".to_string(), Value::string(go_os(std::env::consts::OS)));
        state.insert(
            "arch".to_string(),
            Value::string(go_arch(
                std::env::consts::ARCH,
                cfg!(target_endian = "little"),
            )),
        );
        Value::Object(state)
    }
}

/// Go's `GOOS` for a Rust target OS.
fn go_os(rust_os: &str) -> String {
    match rust_os {
        "macos" => "darwin".to_string(),
        other => other.to_string(),
    }
}

/// Go's `GOARCH` for a Rust target architecture, except that upstream reports 32-bit ARM as
/// `armv7` (the name Coder's agent downloads use) rather than Go's `arm`.
fn go_arch(rust_arch: &str, little_endian: bool) -> String {
    let name = match (rust_arch, little_endian) {
        ("x86_64", _) => "amd64",
        ("x86", _) => "386",
        ("aarch64", _) => "arm64",
        ("arm", _) => "armv7",
        ("powerpc64", true) => "ppc64le",
        ("powerpc64", false) => "ppc64",
        ("loongarch64", _) => "loong64",
        ("mips", true) => "mipsle",
        ("mips64", true) => "mips64le",
        ("wasm32", _) => "wasm",
        (other, _) => other,
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::read;

    #[test]
    fn reports_this_process_with_go_names() {
        let state = read(NAME, &[], &[]);
        assert_eq!(
            state.get_attr("os"),
            Some(&Value::string(go_os(std::env::consts::OS)))
        );
        let arch = state.get_attr("arch").and_then(Value::as_str).unwrap_or("");
        assert!(!arch.is_empty() && arch != "x86_64" && arch != "aarch64");
        let id = state.get_attr("id").and_then(Value::as_str).unwrap_or("");
        assert!(uuid::Uuid::parse_str(id).is_ok());
    }

    #[test]
    fn go_platform_names() {
        assert_eq!(go_os("macos"), "darwin");
        assert_eq!(go_os("linux"), "linux");
        assert_eq!(go_os("windows"), "windows");
        assert_eq!(go_arch("x86_64", true), "amd64");
        assert_eq!(go_arch("aarch64", true), "arm64");
        assert_eq!(go_arch("x86", true), "386");
        assert_eq!(go_arch("arm", true), "armv7");
        assert_eq!(go_arch("powerpc64", true), "ppc64le");
    }
}
