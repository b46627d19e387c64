//! Finding the `terraform` executable and checking its version.
//!
//! Upstream installs a pinned Terraform when the one on `PATH` is unsuitable; we cannot
//! download anything, so an unusable Terraform is an error that says what to do instead.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use super::env::sanitized_environ;

/// Oldest Terraform we support (reference README, decision 6).
pub const MIN_VERSION: Version = Version {
    major: 1,
    minor: 5,
    patch: 0,
};

/// `terraform init -json` exists from 1.9 on.
pub const INIT_JSON_VERSION: Version = Version {
    major: 1,
    minor: 9,
    patch: 0,
};

/// `terraform graph -type=plan` keeps the full resource graph from 1.7 on, where a bare
/// `terraform graph` started printing a simplified one.
pub const GRAPH_TYPE_PLAN_VERSION: Version = Version {
    major: 1,
    minor: 7,
    patch: 0,
};

/// A Terraform release number; pre-release suffixes are ignored for comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    /// Reads `1.15.5`, `v1.11.4`, `1.16.0-alpha20260101`.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches('v');
        let core = text.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A usable Terraform executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformBinary {
    /// Absolute path.
    pub path: PathBuf,
    pub version: Version,
    /// The version exactly as Terraform reported it (may carry a pre-release suffix).
    pub version_text: String,
}

impl TerraformBinary {
    pub fn supports_init_json(&self) -> bool {
        self.version >= INIT_JSON_VERSION
    }

    pub fn supports_graph_type_plan(&self) -> bool {
        self.version >= GRAPH_TYPE_PLAN_VERSION
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    #[error(
        "terraform not found on PATH; install Terraform >= {MIN_VERSION} or pass --terraform <path>"
    )]
    NotOnPath,
    #[error("terraform binary {path:?} does not exist or is not an executable file")]
    NotExecutable { path: PathBuf },
    #[error("run `{path} version -json`: {source}", path = .path.display())]
    Run {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path} version -json` failed: {detail}", path = .path.display())]
    Failed { path: PathBuf, detail: String },
    #[error("`{path} version -json` printed no terraform_version: {output}", path = .path.display())]
    NoVersion { path: PathBuf, output: String },
    // Upstream's wording.
    #[error("terraform version {version:?} is too old. required >= \"{MIN_VERSION}\"")]
    TooOld { version: String },
}

/// Finds Terraform: `explicit` if given, else the first `terraform` on `PATH`; then checks
/// that it runs and is at least [`MIN_VERSION`].
pub async fn locate(explicit: Option<&Path>) -> Result<TerraformBinary, BinaryError> {
    let path = match explicit {
        Some(p) => {
            let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
            if !is_executable(&p) {
                return Err(BinaryError::NotExecutable { path: p });
            }
            p
        }
        None => find_on_path("terraform").ok_or(BinaryError::NotOnPath)?,
    };
    let version_text = query_version(&path).await?;
    let version = Version::parse(&version_text).ok_or_else(|| BinaryError::NoVersion {
        path: path.clone(),
        output: version_text.clone(),
    })?;
    if version < MIN_VERSION {
        return Err(BinaryError::TooOld {
            version: version_text,
        });
    }
    Ok(TerraformBinary {
        path,
        version,
        version_text,
    })
}

async fn query_version(path: &Path) -> Result<String, BinaryError> {
    let mut cmd = tokio::process::Command::new(path);
    cmd.args(["version", "-json"])
        .env_clear()
        .envs(sanitized_environ().iter())
        // No update check against HashiCorp's servers.
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = cmd.output().await.map_err(|source| BinaryError::Run {
        path: path.to_path_buf(),
        source,
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(BinaryError::Failed {
            path: path.to_path_buf(),
            detail: format!(
                "{}: {}",
                super::process::describe_exit(out.status),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let parsed: Option<String> = serde_json::from_str::<serde_json::Value>(&stdout)
        .ok()
        .and_then(|v| v.get("terraform_version")?.as_str().map(str::to_string));
    parsed.ok_or_else(|| BinaryError::NoVersion {
        path: path.to_path_buf(),
        output: stdout.trim().to_string(),
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// First executable `name` on `PATH`, made absolute.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path: OsString = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .map(|p| std::path::absolute(&p).unwrap_or(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(
            Version::parse("1.15.5"),
            Some(Version {
                major: 1,
                minor: 15,
                patch: 5
            })
        );
        assert_eq!(
            Version::parse("v1.11.4"),
            Some(Version {
                major: 1,
                minor: 11,
                patch: 4
            })
        );
        assert_eq!(
            Version::parse("1.16.0-alpha20260101"),
            Some(Version {
                major: 1,
                minor: 16,
                patch: 0
            })
        );
        assert_eq!(Version::parse("one.two"), None);
        assert_eq!(Version::parse("1"), None);
    }

    #[test]
    fn orders_versions() {
        let v = |s| Version::parse(s).expect("valid");
        assert!(v("1.4.9") < MIN_VERSION);
        assert!(v("1.5.0") >= MIN_VERSION);
        assert!(v("1.10.0") > v("1.9.9"));
    }

    #[test]
    fn too_old_message_matches_upstream() {
        let e = BinaryError::TooOld {
            version: "1.4.6".into(),
        };
        assert_eq!(
            e.to_string(),
            "terraform version \"1.4.6\" is too old. required >= \"1.5.0\""
        );
    }

    #[tokio::test]
    async fn explicit_path_must_exist() {
        let err = locate(Some(Path::new("/nonexistent/terraform")))
            .await
            .expect_err("missing binary");
        assert!(err.to_string().contains("/nonexistent/terraform"), "{err}");
    }

    #[tokio::test]
    async fn a_binary_that_is_not_terraform_is_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fake = dir.path().join("terraform");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho '{\"terraform_version\":\"1.4.6\"}'\n",
        )
        .expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let err = locate(Some(&fake)).await.expect_err("too old");
        assert!(matches!(err, BinaryError::TooOld { .. }), "{err}");

        std::fs::write(&fake, "#!/bin/sh\necho hello\n").expect("write");
        let err = locate(Some(&fake)).await.expect_err("no version");
        assert!(matches!(err, BinaryError::NoVersion { .. }), "{err}");
    }
}
