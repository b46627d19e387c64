//! Per-session working directories.
//!
//! Each session gets `<root>/session-<pid>-<uuid>` (mode 0700: it holds state and plan files
//! with secrets in them), removed when the session ends. A server that crashed leaves its
//! directories behind; the next server removes those whose process is gone, and anything
//! older than a week, so several servers may share one root.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const PREFIX: &str = "session-";

/// Directories older than this are removed even if their process still seems to run (the
/// pid may have been reused).
pub const STALE_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The directory holding all session directories of a server.
#[derive(Debug, Clone)]
pub struct WorkRoot {
    path: PathBuf,
}

impl WorkRoot {
    /// Uses (and creates, mode 0700) `path`.
    pub fn new(path: impl Into<PathBuf>) -> io::Result<WorkRoot> {
        let path = path.into();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&path)?;
        let path = fs::canonicalize(&path)?;
        Ok(WorkRoot { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes session directories left by processes that are gone, or older than
    /// [`STALE_AGE`]. Returns how many were removed.
    pub fn clean_stale(&self) -> usize {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return 0;
        };
        let own_pid = std::process::id();
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(pid) = session_pid(name) else {
                continue;
            };
            let too_old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > STALE_AGE);
            let stale = if pid == own_pid {
                too_old
            } else {
                too_old || !process_alive(pid)
            };
            if stale && fs::remove_dir_all(entry.path()).is_ok() {
                tracing::info!(dir = %entry.path().display(), "removed stale session directory");
                removed += 1;
            }
        }
        removed
    }

    /// A new, empty session directory.
    pub fn create_session(&self) -> io::Result<SessionDir> {
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        let path = self.path.join(name);
        fs::DirBuilder::new().mode(0o700).create(&path)?;
        // The umask may have taken bits away but never adds any; set it anyway so the
        // mode does not depend on the caller's umask.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o700))?;
        Ok(SessionDir { path: Some(path) })
    }
}

fn session_pid(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        // It exists but belongs to someone else.
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

/// A session's directory; removed on [`SessionDir::remove`] or, failing that, on drop.
#[derive(Debug)]
pub struct SessionDir {
    path: Option<PathBuf>,
}

impl SessionDir {
    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Deletes everything inside the directory, keeping the directory itself.
    pub fn clear(&self) -> io::Result<()> {
        clear_dir(self.path())
    }

    /// Removes the directory, retrying briefly: a provider process Terraform started may
    /// still be writing into it for a moment after Terraform exits.
    pub async fn remove(mut self) {
        if let Some(path) = self.path.take() {
            let result = tokio::task::spawn_blocking(move || remove_with_retries(&path)).await;
            if let Ok(Err(e)) = result {
                tracing::warn!(error = %e, "cannot remove session directory");
            }
        }
    }
}

impl Drop for SessionDir {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            if let Err(e) = fs::remove_dir_all(&path) {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(dir = %path.display(), error = %e, "cannot remove session directory");
                }
            }
        }
    }
}

/// Deletes everything inside `dir` (links themselves, never what they point to), keeping
/// `dir`.
pub fn clear_dir(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` readable by the owner only (0600, also when the file existed
/// with other permissions): states and plans hold secrets such as agent tokens.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

fn remove_with_retries(path: &Path) -> io::Result<()> {
    let mut last = Ok(());
    for attempt in 0..5 {
        match fs::remove_dir_all(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => last = Err(e),
        }
        if attempt < 4 {
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_dirs_are_private_and_removed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = WorkRoot::new(tmp.path().join("work")).expect("root");
        let session = root.create_session().expect("session");
        let path = session.path().to_path_buf();
        let mode = fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(session_pid(path.file_name().and_then(|n| n.to_str()).unwrap_or("")).is_some());
        fs::write(path.join("terraform.tfstate"), "{}").expect("write");
        drop(session);
        assert!(!path.exists());
    }

    #[test]
    fn clear_keeps_the_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = WorkRoot::new(tmp.path()).expect("root");
        let session = root.create_session().expect("session");
        fs::create_dir(session.path().join("sub")).expect("mkdir");
        fs::write(session.path().join("sub/a"), "a").expect("write");
        fs::write(session.path().join("b"), "b").expect("write");
        session.clear().expect("clear");
        assert!(session.path().is_dir());
        assert_eq!(fs::read_dir(session.path()).expect("read").count(), 0);
    }

    #[test]
    fn removes_directories_of_dead_processes_only() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = WorkRoot::new(tmp.path()).expect("root");
        // Pid 0x7ffffff0 is far above any pid_max, so it is never alive.
        let dead = tmp.path().join("session-2147483632-abc");
        fs::create_dir(&dead).expect("mkdir");
        let live = root.create_session().expect("session");
        let unrelated = tmp.path().join("keep-me");
        fs::create_dir(&unrelated).expect("mkdir");
        assert_eq!(root.clean_stale(), 1);
        assert!(!dead.exists());
        assert!(live.path().exists());
        assert!(unrelated.exists());
    }
}
