//! The go-plugin handshake: the magic-cookie check, protocol version negotiation and the one line
//! on stdout that tells Terraform where to connect.

use base64::Engine;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Protocol versions this provider serves, lowest first.
pub const SUPPORTED_VERSIONS: [u32; 2] = [5, 6];

/// Set to 5 or 6 to force a protocol version (tests exercise both).
pub const VERSION_OVERRIDE_ENV: &str = "CODER_PROVIDER_PROTOCOL_VERSION";

/// Shown when someone runs the binary by hand.
pub const NOT_A_STANDALONE_PROGRAM: &str = "\
This binary is a plugin. These are not meant to be executed directly.
Please execute the program that consumes these plugins, which will
load any plugins automatically.

terraform-provider-coder is the Coder provider for Terraform: declare it in a
template's required_providers and run `terraform init`. To debug it, run it with
-debug and follow the instructions it prints.";

pub fn cookie_is_valid(value: Option<&str>) -> bool {
    value == Some(MAGIC_COOKIE_VALUE)
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VersionError {
    #[error("{VERSION_OVERRIDE_ENV}={0:?} is not a supported protocol version (use 5 or 6)")]
    BadOverride(String),
}

/// Picks the protocol version: the override when set, else the highest version both sides speak
/// (Terraform lists them in random order); when nothing matches, our lowest, and Terraform
/// reports the mismatch itself, as go-plugin servers do.
pub fn negotiate_version(offered: Option<&str>, forced: Option<&str>) -> Result<u32, VersionError> {
    if let Some(forced) = forced.filter(|f| !f.trim().is_empty()) {
        return match forced.trim().parse::<u32>() {
            Ok(v) if SUPPORTED_VERSIONS.contains(&v) => Ok(v),
            _ => Err(VersionError::BadOverride(forced.to_string())),
        };
    }
    let best = offered
        .unwrap_or_default()
        .split(',')
        .filter_map(|v| v.trim().parse::<u32>().ok())
        .filter(|v| SUPPORTED_VERSIONS.contains(v))
        .max();
    Ok(best.unwrap_or(SUPPORTED_VERSIONS[0]))
}

/// `CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT`; the certificate is the server's DER in standard
/// base64 without padding, empty when serving plaintext. Always six fields.
pub fn handshake_line(
    version: u32,
    network: &str,
    address: &str,
    server_cert_der: Option<&[u8]>,
) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("1|{version}|{network}|{address}|grpc|{cert}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_common_version_wins_in_any_order() {
        assert_eq!(negotiate_version(Some("5,6"), None), Ok(6));
        assert_eq!(negotiate_version(Some("6,5"), None), Ok(6));
        assert_eq!(negotiate_version(Some("5"), None), Ok(5));
        assert_eq!(negotiate_version(Some("4,7"), None), Ok(5));
        assert_eq!(negotiate_version(None, None), Ok(5));
    }

    #[test]
    fn override_forces_a_version() {
        assert_eq!(negotiate_version(Some("5,6"), Some("5")), Ok(5));
        assert_eq!(negotiate_version(Some("5,6"), Some("")), Ok(6));
        assert!(negotiate_version(Some("5,6"), Some("7")).is_err());
    }

    #[test]
    fn line_has_six_fields_and_unpadded_cert() {
        let line = handshake_line(6, "unix", "/tmp/p/plugin.sock", Some(&[1, 2, 3, 4]));
        assert_eq!(line, "1|6|unix|/tmp/p/plugin.sock|grpc|AQIDBA");
        let plain = handshake_line(5, "unix", "/s", None);
        assert_eq!(plain.split('|').count(), 6);
    }

    #[test]
    fn cookie_must_match_exactly() {
        assert!(cookie_is_valid(Some(MAGIC_COOKIE_VALUE)));
        assert!(!cookie_is_valid(Some("nope")));
        assert!(!cookie_is_valid(None));
    }
}
