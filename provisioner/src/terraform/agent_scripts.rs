//! Agent bootstrap scripts, handed to Terraform as `CODER_AGENT_SCRIPT_<os>_<arch>`.
//!
//! The coder provider renders `coder_agent.init_script` from the script for the agent's
//! platform, replacing `${ACCESS_URL}` (the deployment URL, ending in `/`) and `${AUTH_TYPE}`
//! (`token`, `google-instance-identity`, ...). A template runs the result inside the
//! workspace's machine (e.g. as a container's entrypoint): it fetches the agent binary from
//! the deployment and starts it. These scripts are our own; only the download path
//! (`bin/coder-<os>-<arch>`) and the agent's variables are facts of Coder's deployment.

/// Every platform a script is provided for, as `(os, arch)` in Go's naming.
pub const PLATFORMS: &[(&str, &str)] = &[
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("linux", "armv7"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
    ("windows", "arm64"),
];

/// The script for one platform: POSIX shell for Linux and macOS, PowerShell for Windows.
pub fn bootstrap_script(os: &str, arch: &str) -> String {
    if os == "windows" {
        WINDOWS_TEMPLATE.replace("@BINARY@", &format!("coder-{os}-{arch}.exe"))
    } else {
        UNIX_TEMPLATE.replace("@BINARY@", &format!("coder-{os}-{arch}"))
    }
}

// `@BINARY@` is ours and filled in above; `${ACCESS_URL}` and `${AUTH_TYPE}` are left for
// the provider. Shell variables use other names so the provider's plain text replacement
// cannot touch them.
const UNIX_TEMPLATE: &str = r#"#!/usr/bin/env sh
# Coder agent bootstrap (coder-provisioner): download the agent from the deployment and run it.
set -eu
BINARY_URL="${ACCESS_URL}bin/@BINARY@"
BINARY_DIR=$(mktemp -d 2>/dev/null || mktemp -d -t coder)
cd "$BINARY_DIR"
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --compressed -o coder "$BINARY_URL"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O coder "$BINARY_URL"
  elif command -v busybox >/dev/null 2>&1; then
    busybox wget -q -O coder "$BINARY_URL"
  else
    echo "error: curl, wget or busybox is needed to download the Coder agent" >&2
    exit 1
  fi
}
# The deployment may still be starting; keep trying rather than failing the workspace.
until fetch; do
  echo "error: failed to download the Coder agent from $BINARY_URL; retrying in 30s" >&2
  sleep 30
done
chmod +x ./coder
export CODER_AGENT_AUTH="${AUTH_TYPE}"
export CODER_AGENT_URL="${ACCESS_URL}"
exec ./coder agent
"#;

const WINDOWS_TEMPLATE: &str = r#"# Coder agent bootstrap (coder-provisioner): download the agent from the deployment and run it.
$ErrorActionPreference = "Stop"
$ProgressPreference = "SilentlyContinue"
$BinaryUrl = "${ACCESS_URL}bin/@BINARY@"
$BinaryDir = Join-Path $env:TEMP ("coder-" + [guid]::NewGuid())
New-Item -ItemType Directory -Force -Path $BinaryDir | Out-Null
$Binary = Join-Path $BinaryDir "coder.exe"
# The deployment may still be starting; keep trying rather than failing the workspace.
while ($true) {
  try {
    Invoke-WebRequest -Uri $BinaryUrl -OutFile $Binary -UseBasicParsing
    break
  } catch {
    Write-Output "error: failed to download the Coder agent from ${BinaryUrl}; retrying in 30s"
    Start-Sleep -Seconds 30
  }
}
$env:CODER_AGENT_AUTH = "${AUTH_TYPE}"
$env:CODER_AGENT_URL = "${ACCESS_URL}"
Start-Process -FilePath $Binary -ArgumentList "agent" -NoNewWindow -Wait
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_script_downloads_the_platform_binary() {
        let script = bootstrap_script("linux", "armv7");
        assert!(script.starts_with("#!/usr/bin/env sh\n"));
        assert!(script.contains(r#"BINARY_URL="${ACCESS_URL}bin/coder-linux-armv7""#));
        assert!(script.contains(r#"CODER_AGENT_AUTH="${AUTH_TYPE}""#));
        assert!(!script.contains("@BINARY@"));
    }

    #[test]
    fn windows_script_downloads_an_exe() {
        let script = bootstrap_script("windows", "amd64");
        assert!(script.contains("${ACCESS_URL}bin/coder-windows-amd64.exe"));
        assert!(script.contains("${AUTH_TYPE}"));
    }

    #[test]
    fn placeholders_are_the_only_provider_substitutions() {
        // Anything else shaped like `${NAME}` would be a shell variable the provider's text
        // replacement leaves alone; make sure we use none that could be mistaken for one.
        for (os, arch) in PLATFORMS {
            let script = bootstrap_script(os, arch);
            let rendered = script
                .replace("${ACCESS_URL}", "https://x/")
                .replace("${AUTH_TYPE}", "token");
            let leftover = rendered
                .match_indices("${")
                .map(|(i, _)| &rendered[i..rendered.len().min(i + 12)])
                .filter(|s| !s.starts_with("${BinaryUrl}"))
                .collect::<Vec<_>>();
            assert!(leftover.is_empty(), "{os}/{arch}: {leftover:?}");
        }
    }
}
