//! Running one Terraform command: output streamed line by line, and cancellation the way
//! Terraform wants it (coder-provisioner.md §3.8): first SIGINT, so Terraform stops its
//! operations, tells its providers to stop and writes the state it has; then, if it has
//! not exited after the exit timeout, SIGKILL for it and everything it started.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio_util::sync::CancellationToken;

use super::env::Environment;

/// After the process exits, how long its output pipes may stay open (held by a grandchild
/// that outlived it) before we stop reading them.
const PIPE_DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// A command to run.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub dir: PathBuf,
    /// The complete environment; nothing is inherited.
    pub env: Environment,
}

impl CommandSpec {
    /// The command line for logs, with every `-var` value hidden: variables may be secret.
    pub fn display(&self) -> String {
        let mut out = String::from("terraform");
        let mut hide_next = false;
        for arg in &self.args {
            let arg = arg.to_string_lossy();
            out.push(' ');
            if hide_next {
                let name = arg.split_once('=').map_or(arg.as_ref(), |(n, _)| n);
                out.push_str(&format!("{name}=<value redacted>"));
                hide_next = false;
            } else {
                out.push_str(&arg);
                hide_next = arg == "-var";
            }
        }
        out
    }
}

/// How a command ended.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub status: ExitStatus,
    /// Cancellation was requested while it ran (it was sent SIGINT).
    pub interrupted: bool,
    /// It did not exit within the exit timeout after SIGINT and was killed.
    pub killed: bool,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Go's wording for an exit, which upstream's error messages carry: `exit status 1`,
    /// `signal: killed`.
    pub fn describe(&self) -> String {
        describe_exit(self.status)
    }
}

/// `exit status N` or `signal: <name>`.
pub fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(2) => "signal: interrupt".to_string(),
        Some(9) => "signal: killed".to_string(),
        Some(15) => "signal: terminated".to_string(),
        Some(n) => format!("signal: {n}"),
        None => status.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Cancellation was requested before the command started; it was not run.
    #[error("canceled before `{command}` started")]
    CanceledBeforeStart { command: String },
    #[error("start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("wait for `{command}`: {source}")]
    Wait {
        command: String,
        source: std::io::Error,
    },
}

/// Runs `spec`, calling `on_stdout` / `on_stderr` with each output line (lossily decoded,
/// without the newline). `cancel` interrupts it; `exit_timeout` later it is killed.
pub async fn run(
    spec: &CommandSpec,
    mut on_stdout: impl FnMut(&str) + Send,
    mut on_stderr: impl FnMut(&str) + Send,
    cancel: &CancellationToken,
    exit_timeout: Duration,
) -> Result<Outcome, RunError> {
    let command = spec.display();
    if cancel.is_cancelled() {
        return Err(RunError::CanceledBeforeStart { command });
    }
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(&spec.args)
        .current_dir(&spec.dir)
        .env_clear()
        .envs(spec.env.iter())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a terminal's Ctrl-C reaches us, not Terraform directly
        // (we forward it), and a kill can take Terraform's provider processes with it.
        .process_group(0)
        // If this future is dropped mid-run, Terraform must not live on unsupervised.
        .kill_on_drop(true);
    // Cancel is SIGINT. A process started with SIGINT ignored (`nohup`, `&` in a non-interactive
    // shell, some service managers) passes that on to its children, and a shell cannot trap a
    // signal ignored at entry: a wrapper script around terraform would never see the cancel.
    // SAFETY: runs in the forked child before exec; it only calls sigaction, which is
    // async-signal-safe, and touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(|| {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            if libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    tracing::debug!(command = %command, dir = %spec.dir.display(), "running terraform");
    let mut child = cmd.spawn().map_err(|source| RunError::Spawn {
        command: command.clone(),
        source,
    })?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    let wait = async {
        tokio::select! {
            status = child.wait() => return (status, false, false),
            _ = cancel.cancelled() => {}
        }
        if let Some(pid) = pid {
            tracing::info!(command = %command, "interrupting terraform");
            // It may have exited in the meantime; then there is nothing to signal.
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
        }
        tokio::select! {
            status = child.wait() => return (status, true, false),
            _ = tokio::time::sleep(exit_timeout) => {}
        }
        tracing::warn!(command = %command, timeout = ?exit_timeout, "terraform did not exit after interrupt; killing it");
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = child.start_kill();
        (child.wait().await, true, true)
    };
    let readers = async {
        tokio::join!(
            read_lines(stdout, &mut on_stdout),
            read_lines(stderr, &mut on_stderr)
        )
    };
    tokio::pin!(wait);
    tokio::pin!(readers);

    let mut readers_done = false;
    let (status, interrupted, killed) = loop {
        tokio::select! {
            ended = &mut wait => break ended,
            _ = &mut readers, if !readers_done => readers_done = true,
        }
    };
    if let (Ok(status), Some(pid), false) = (&status, pid, killed) {
        use std::os::unix::process::ExitStatusExt;
        let signal = status.signal();
        if signal.is_some() || interrupted {
            // Terraform did not finish its work: it was killed by someone else (an OOM
            // killer, an operator) and could stop nothing, or we interrupted it and it gave
            // up on what it was running (a provisioner's `sh -c` is killed, the commands that
            // shell started are not). What is left in its process group would go on changing
            // resources no state records: stop it. (A group outlives its leader while members
            // remain, so its id cannot have been reused.)
            let killed_any =
                rustix::process::kill_process_group(pid, rustix::process::Signal::KILL).is_ok();
            if killed_any {
                tracing::warn!(command = %command, ?signal, interrupted, "killed what terraform left running");
            }
        }
    }
    if !readers_done
        && tokio::time::timeout(PIPE_DRAIN_LIMIT, &mut readers)
            .await
            .is_err()
    {
        tracing::warn!(command = %command, "terraform exited but its output stayed open; stopped reading it");
    }
    let status = status.map_err(|source| RunError::Wait {
        command: command.clone(),
        source,
    })?;
    Ok(Outcome {
        status,
        interrupted,
        killed,
    })
}

async fn read_lines(pipe: Option<impl AsyncRead + Unpin>, on_line: &mut (impl FnMut(&str) + Send)) {
    let Some(pipe) = pipe else { return };
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                on_line(line.trim_end_matches(['\n', '\r']));
            }
            Err(e) => {
                tracing::debug!(error = %e, "reading terraform output failed");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    fn sh(script: &str) -> CommandSpec {
        let mut env = Environment::default();
        env.set("PATH", std::env::var_os("PATH").unwrap_or_default());
        CommandSpec {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            dir: std::env::temp_dir(),
            env,
        }
    }

    #[tokio::test]
    async fn streams_lines_and_reports_exit() {
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        let (o, e) = (out.clone(), err.clone());
        let outcome = run(
            &sh("echo one; echo two; echo oops >&2; exit 3"),
            move |l| o.lock().expect("lock").push(l.to_string()),
            move |l| e.lock().expect("lock").push(l.to_string()),
            &CancellationToken::new(),
            Duration::from_secs(5),
        )
        .await
        .expect("run");
        assert_eq!(outcome.describe(), "exit status 3");
        assert_eq!(*out.lock().expect("lock"), vec!["one", "two"]);
        assert_eq!(*err.lock().expect("lock"), vec!["oops"]);
    }

    #[tokio::test]
    async fn environment_is_not_inherited() {
        let out = Arc::new(Mutex::new(Vec::new()));
        let o = out.clone();
        let mut spec = sh("echo \"[$HOME][$MINE]\"");
        spec.env.set("MINE", "yes");
        run(
            &spec,
            move |l| o.lock().expect("lock").push(l.to_string()),
            |_| {},
            &CancellationToken::new(),
            Duration::from_secs(5),
        )
        .await
        .expect("run");
        assert_eq!(*out.lock().expect("lock"), vec!["[][yes]"]);
    }

    #[tokio::test]
    async fn cancel_sends_interrupt_first() {
        let cancel = CancellationToken::new();
        let out = Arc::new(Mutex::new(Vec::new()));
        let o = out.clone();
        let trigger = cancel.clone();
        let spec = sh(
            "trap 'echo interrupted; exit 1' INT; echo started; while true; do sleep 0.05; done",
        );
        let handle = tokio::spawn(async move {
            run(
                &spec,
                move |l| {
                    if l == "started" {
                        trigger.cancel();
                    }
                    o.lock().expect("lock").push(l.to_string());
                },
                |_| {},
                &cancel,
                Duration::from_secs(30),
            )
            .await
        });
        let outcome = handle.await.expect("join").expect("run");
        assert!(outcome.interrupted);
        assert!(!outcome.killed);
        assert_eq!(outcome.describe(), "exit status 1");
        assert_eq!(*out.lock().expect("lock"), vec!["started", "interrupted"]);
    }

    #[tokio::test]
    async fn kills_after_the_exit_timeout() {
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        // Ignores SIGINT, as upstream's fake_cancel_hang.sh does; the sleeping child holds
        // the output pipe open too.
        let spec = sh("trap '' INT; echo started; sleep 30; echo never");
        let started = Instant::now();
        let outcome = run(
            &spec,
            move |l| {
                if l == "started" {
                    trigger.cancel();
                }
            },
            |_| {},
            &cancel,
            Duration::from_millis(300),
        )
        .await
        .expect("run");
        assert!(outcome.killed);
        assert_eq!(outcome.describe(), "signal: killed");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// `pid` is a live process (not a zombie).
    fn running(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| {
                // The state follows the parenthesised command name.
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                !state.starts_with('Z') && !state.starts_with('X')
            })
            .unwrap_or(false)
    }

    #[tokio::test]
    async fn what_a_killed_command_left_running_is_killed_too() {
        let out = Arc::new(Mutex::new(Vec::new()));
        let o = out.clone();
        // The background sleep keeps our stdout open; the shell then dies of SIGKILL, as
        // Terraform does under an OOM killer.
        let started = Instant::now();
        let outcome = run(
            &sh("sleep 30 & echo $!; kill -KILL $$"),
            move |l| o.lock().expect("lock").push(l.to_string()),
            |_| {},
            &CancellationToken::new(),
            Duration::from_secs(5),
        )
        .await
        .expect("run");
        assert_eq!(outcome.describe(), "signal: killed");
        assert!(!outcome.interrupted && !outcome.killed);
        let orphan = out.lock().expect("lock").first().cloned().expect("pid");
        // SIGKILL is delivered asynchronously; give the kernel a moment.
        let deadline = Instant::now() + Duration::from_secs(2);
        while running(&orphan) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            !running(&orphan),
            "the background sleep {orphan} is still running"
        );
        // Its end closed the pipe: no wait for the drain limit.
        assert!(
            started.elapsed() < PIPE_DRAIN_LIMIT,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn what_an_interrupted_command_left_running_is_killed() {
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        let out = Arc::new(Mutex::new(Vec::new()));
        let o = out.clone();
        // Like Terraform cancelling a provisioner: the command it ran exits on the interrupt,
        // a process that command started does not.
        let spec =
            sh("trap 'exit 1' INT; sleep 30 >/dev/null & echo $!; while true; do sleep 0.05; done");
        let outcome = run(
            &spec,
            move |l| {
                o.lock().expect("lock").push(l.to_string());
                trigger.cancel();
            },
            |_| {},
            &cancel,
            Duration::from_secs(30),
        )
        .await
        .expect("run");
        assert!(outcome.interrupted && !outcome.killed);
        assert_eq!(outcome.describe(), "exit status 1");
        let orphan = out.lock().expect("lock").first().cloned().expect("pid");
        let deadline = Instant::now() + Duration::from_secs(2);
        while running(&orphan) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!running(&orphan), "{orphan} is still running");
    }

    #[tokio::test]
    async fn does_not_start_when_already_canceled() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let err = run(
            &sh("echo hi"),
            |_| {},
            |_| {},
            &cancel,
            Duration::from_secs(1),
        )
        .await
        .expect_err("canceled");
        assert!(matches!(err, RunError::CanceledBeforeStart { .. }));
    }

    #[test]
    fn display_hides_variable_values() {
        let spec = CommandSpec {
            program: PathBuf::from("terraform"),
            args: ["plan", "-var", "password=hunter2", "-destroy"]
                .iter()
                .map(OsString::from)
                .collect(),
            dir: PathBuf::new(),
            env: Environment::default(),
        };
        assert_eq!(
            spec.display(),
            "terraform plan -var password=<value redacted> -destroy"
        );
    }
}
