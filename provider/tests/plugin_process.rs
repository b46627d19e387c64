//! The provider binary as a go-plugin process, driven by our own gRPC client over its real unix
//! socket (no Terraform): cookie check, handshake line, both protocol versions, bad wire input,
//! Shutdown, SIGINT, AutoMTLS handshake field, and -debug reattach mode.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coder_proto::plugin::grpc_controller_client::GrpcControllerClient;
use coder_proto::{plugin, tfplugin5, tfplugin6};
use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint};

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-coder");
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

struct Plugin {
    child: Child,
    line: String,
    /// Everything the process wrote to stdout after the handshake line.
    rest: Arc<Mutex<String>>,
}

impl Plugin {
    fn start(envs: &[(&str, &str)]) -> Plugin {
        let mut cmd = Command::new(BIN);
        cmd.env_remove("PLUGIN_CLIENT_CERT")
            .env_remove("CODER_PROVIDER_PROTOCOL_VERSION")
            .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start provider");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        reader.read_line(&mut line).expect("handshake line");
        let rest = Arc::new(Mutex::new(String::new()));
        let sink = rest.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = reader.read_to_string(&mut text);
            if let Ok(mut s) = sink.lock() {
                *s = text;
            }
        });
        Plugin {
            child,
            line: line.trim_end().to_string(),
            rest,
        }
    }

    fn fields(&self) -> Vec<String> {
        self.line.split('|').map(str::to_string).collect()
    }

    fn socket(&self) -> PathBuf {
        PathBuf::from(&self.fields()[3])
    }

    fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        wait_exit(&mut self.child, limit)
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn interrupt(child: &Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
}

async fn channel(socket: PathBuf) -> Channel {
    Endpoint::try_from("http://[::]:50051")
        .expect("endpoint")
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            async move {
                Ok::<_, std::io::Error>(TokioIo::new(
                    tokio::net::UnixStream::connect(socket).await?,
                ))
            }
        }))
        .await
        .expect("connect to the provider socket")
}

#[test]
fn running_by_hand_explains_what_the_binary_is() {
    let out = Command::new(BIN)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "stdout must stay empty");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("This binary is a plugin"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("Terraform"), "stderr: {stderr}");
}

#[test]
fn unknown_arguments_are_usage_errors() {
    let out = Command::new(BIN)
        .arg("--frobnicate")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument"));
}

#[tokio::test]
async fn protocol_6_handshake_schema_bad_input_and_shutdown() {
    let mut plugin = Plugin::start(&[]);
    let fields = plugin.fields();
    assert_eq!(fields.len(), 6, "handshake: {}", plugin.line);
    assert_eq!(&fields[..3], ["1", "6", "unix"]);
    assert_eq!(fields[4], "grpc");
    assert_eq!(
        fields[5], "",
        "no client cert, so no TLS and no server cert"
    );
    let socket = plugin.socket();
    assert!(socket.exists());

    let ch = channel(socket.clone()).await;
    let mut provider = tfplugin6::provider_client::ProviderClient::new(ch.clone());
    let schema = provider
        .get_provider_schema(tfplugin6::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    for name in ["coder_agent", "coder_app"] {
        assert!(schema.resource_schemas.contains_key(name), "missing {name}");
    }
    assert!(schema.data_source_schemas.contains_key("coder_workspace"));
    let token = schema.resource_schemas["coder_agent"]
        .block
        .as_ref()
        .and_then(|b| b.attributes.iter().find(|a| a.name == "token"))
        .expect("token attribute");
    assert!(token.sensitive && token.computed && !token.optional);

    // Malformed msgpack from the wire is an error diagnostic, not a crash.
    let bad = provider
        .validate_resource_config(tfplugin6::validate_resource_config::Request {
            type_name: "coder_agent".into(),
            config: Some(tfplugin6::DynamicValue {
                msgpack: vec![0xc1, 0xff, 0x00],
                json: vec![],
            }),
            client_capabilities: None,
        })
        .await
        .expect("rpc answers")
        .into_inner();
    assert_eq!(bad.diagnostics.len(), 1);
    assert_eq!(
        bad.diagnostics[0].summary,
        "Invalid resource configuration received from Terraform"
    );
    assert_eq!(
        bad.diagnostics[0].severity,
        tfplugin6::diagnostic::Severity::Error as i32
    );

    let unknown = provider
        .validate_resource_config(tfplugin6::validate_resource_config::Request {
            type_name: "coder_nope".into(),
            config: None,
            client_capabilities: None,
        })
        .await
        .expect("rpc answers")
        .into_inner();
    assert_eq!(unknown.diagnostics[0].summary, "Unknown resource type");

    // The process survived all of that; Shutdown ends it promptly and removes the socket.
    let mut controller = GrpcControllerClient::new(ch);
    controller
        .shutdown(plugin::Empty {})
        .await
        .expect("shutdown");
    let status = plugin
        .wait_exit(Duration::from_secs(1))
        .expect("exits within 1 s of Shutdown");
    assert!(status.success());
    assert!(!socket.exists(), "socket removed on exit");
    std::thread::sleep(Duration::from_millis(50));
    let rest = plugin.rest.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(rest, "", "nothing but the handshake line on stdout");
}

#[tokio::test]
async fn protocol_5_can_be_forced() {
    let plugin = Plugin::start(&[("CODER_PROVIDER_PROTOCOL_VERSION", "5")]);
    assert_eq!(plugin.fields()[1], "5");
    let ch = channel(plugin.socket()).await;
    let mut provider = tfplugin5::provider_client::ProviderClient::new(ch);
    let schema = provider
        .get_schema(tfplugin5::get_provider_schema::Request {})
        .await
        .expect("v5 schema")
        .into_inner();
    assert!(schema.resource_schemas.contains_key("coder_agent"));
}

#[test]
fn terraform_offering_only_5_gets_5() {
    let plugin = Plugin::start(&[("PLUGIN_PROTOCOL_VERSIONS", "5")]);
    assert_eq!(plugin.fields()[1], "5");
}

#[test]
fn sigint_does_not_kill_a_managed_plugin() {
    let mut plugin = Plugin::start(&[]);
    interrupt(&plugin.child);
    assert!(
        plugin.wait_exit(Duration::from_millis(300)).is_none(),
        "SIGINT must be ignored; Terraform stops providers with StopProvider"
    );
}

#[test]
fn auto_mtls_puts_the_server_certificate_in_the_handshake() {
    // Shaped like Terraform's: P-521, SHA-512, CA:TRUE (see tests/fixtures/README.md).
    let pem = include_str!("fixtures/terraform-client-p521.pem");
    let plugin = Plugin::start(&[("PLUGIN_CLIENT_CERT", pem)]);
    let cert = &plugin.fields()[5];
    assert!(
        cert.len() > 50,
        "go-plugin only treats a field longer than 50 chars as a certificate"
    );
    assert!(!cert.ends_with('='), "base64 without padding");
}

#[tokio::test]
async fn debug_mode_prints_a_working_reattach_value() {
    let child = Command::new(BIN)
        .arg("-debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .env_remove("CODER_PROVIDER_PROTOCOL_VERSION")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start in debug mode");
    // Killed on drop, so a failed assertion leaves no process behind.
    let mut guard = KillOnDrop(child);
    let child = &mut guard.0;
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut reattach = None;
    for _ in 0..20 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(value) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(value.trim_end_matches('\'').to_string());
            break;
        }
    }
    let reattach: serde_json::Value =
        serde_json::from_str(&reattach.expect("reattach line")).expect("reattach JSON");
    let entry = &reattach["registry.terraform.io/coder/coder"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Pid"], child.id());
    assert_eq!(entry["Addr"]["Network"], "unix");
    let socket = PathBuf::from(entry["Addr"]["String"].as_str().expect("socket path"));
    let mut provider = tfplugin6::provider_client::ProviderClient::new(channel(socket).await);
    assert!(provider
        .get_provider_schema(tfplugin6::get_provider_schema::Request {})
        .await
        .is_ok());
    interrupt(child);
    let exited = wait_exit(child, Duration::from_secs(2)).is_some();
    assert!(exited, "debug mode stops on Ctrl-C");
}

#[test]
fn provider_exits_when_terraform_dies_without_shutdown() {
    // A shell stands in for Terraform: it starts the provider in the background, waits until the
    // provider is up (as Terraform waits for the handshake), prints its pid and exits, so the
    // provider is re-parented exactly as when Terraform is killed.
    let dir = tempfile::tempdir().expect("tempdir");
    let out_file = dir.path().join("handshake");
    let script = format!(
        "TF_PLUGIN_MAGIC_COOKIE={COOKIE} PLUGIN_PROTOCOL_VERSIONS=5,6 {BIN} >{out} 2>/dev/null & \
         while [ ! -s {out} ]; do sleep 0.01; done; echo $!",
        out = out_file.display()
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("run the stand-in parent");
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!pid.is_empty(), "no pid printed");
    // A zombie (exited, not yet reaped by init) counts as gone.
    let alive = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                !state.starts_with('Z')
            })
            .unwrap_or(false)
    };
    let start = Instant::now();
    while alive(&pid) && start.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let still_alive = alive(&pid);
    if still_alive {
        let _ = Command::new("kill").arg(&pid).status();
    }
    assert!(!still_alive, "orphaned provider {pid} kept running");
}
