//! The modules `terraform init` installed, read from its manifest
//! (`.terraform/modules/modules.json`), and the archive of their files that Init returns when
//! the control plane asks for it (coder-provisioner.md §3.9, `InitComplete.module_files`).
//!
//! As upstream, the archive holds only modules Terraform fetched into `.terraform/modules/`
//! (registry, git, absolute-path sources), plus the manifest itself: a module with a relative
//! source (`./mod`) is part of the template's own files already. `.git` directories are left
//! out, and times, owners and names are fixed so the same modules always give the same bytes
//! (the control plane stores archives by their SHA-256). Without any fetched module there is
//! no archive at all.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use coder_proto::provisioner::Module;
use sha2::{Digest, Sha256};

/// The manifest `terraform init` writes, relative to the work directory.
pub const MANIFEST: &str = ".terraform/modules/modules.json";
/// Where Terraform puts the modules it fetched.
const FETCHED_PREFIX: &str = ".terraform/modules/";

/// Upstream's cap on the archive (`MaximumModuleArchiveSize`, 20 MiB). Modules that would take
/// it over are left out, and named.
pub const MAX_MODULE_ARCHIVE_SIZE: usize = 20 * 1024 * 1024;

/// Owner recorded for every entry (upstream's fixed uid/gid).
const ARCHIVE_OWNER: u64 = 1000;

/// One entry of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ManifestEntry {
    #[serde(rename = "Key", default)]
    pub key: String,
    #[serde(rename = "Source", default)]
    pub source: String,
    #[serde(rename = "Version", default)]
    pub version: String,
    #[serde(rename = "Dir", default)]
    pub dir: String,
}

#[derive(serde::Deserialize)]
struct Manifest {
    #[serde(rename = "Modules", default)]
    modules: Vec<ManifestEntry>,
}

/// The manifest's bytes and entries; `Ok(None)` when there is none (no module blocks).
pub fn read_manifest(work_dir: &Path) -> io::Result<Option<(Vec<u8>, Vec<ManifestEntry>)>> {
    let bytes = match fs::read(work_dir.join(MANIFEST)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{MANIFEST}: {e}")))?;
    Ok(Some((bytes, manifest.modules)))
}

/// The installed modules as protocol messages, without the root module (empty key).
pub fn installed_modules(work_dir: &Path) -> io::Result<Vec<Module>> {
    let Some((_, entries)) = read_manifest(work_dir)? else {
        return Ok(Vec::new());
    };
    Ok(entries
        .into_iter()
        .filter(|m| !m.key.is_empty())
        .map(|m| Module {
            source: m.source,
            version: m.version,
            key: m.key,
            dir: m.dir,
        })
        .collect())
}

/// The archive of fetched module files.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ModuleFiles {
    /// A tar; empty when no fetched module has files.
    pub tar: Vec<u8>,
    /// Keys of modules left out, each with the reason.
    pub skipped: Vec<String>,
}

impl ModuleFiles {
    /// SHA-256 of the archive; empty when there is no archive.
    pub fn hash(&self) -> Vec<u8> {
        if self.tar.is_empty() {
            return Vec::new();
        }
        Sha256::digest(&self.tar).to_vec()
    }
}

/// Archives the modules Terraform fetched into `work_dir/.terraform/modules/`, at most `limit`
/// bytes of them.
pub fn archive_module_files(work_dir: &Path, limit: usize) -> io::Result<ModuleFiles> {
    let Some((manifest_bytes, entries)) = read_manifest(work_dir)? else {
        return Ok(ModuleFiles::default());
    };
    let mut builder = tar::Builder::new(Vec::new());
    let mut skipped = Vec::new();
    let mut any_file = false;
    for entry in &entries {
        let Some(dir) = fetched_dir(&entry.dir) else {
            continue;
        };
        let before = builder.get_ref().len();
        let reason = match append_module(&mut builder, work_dir, &dir, limit) {
            Ok(files) => {
                any_file |= files > 0;
                continue;
            }
            Err(Skip::TooLarge) => format!("the archive would exceed {}", size_text(limit)),
            Err(Skip::Io(e)) => e.to_string(),
        };
        // Entries are appended to the buffer one after another: cutting it back removes this
        // module's entries and leaves a well-formed archive.
        builder.get_mut().truncate(before);
        skipped.push(format!("{} ({reason})", entry.key));
    }
    if !any_file {
        return Ok(ModuleFiles {
            tar: Vec::new(),
            skipped,
        });
    }
    let mut header = entry_header(tar::EntryType::Regular, 0o644, manifest_bytes.len() as u64);
    builder.append_data(&mut header, MANIFEST, manifest_bytes.as_slice())?;
    Ok(ModuleFiles {
        tar: builder.into_inner()?,
        skipped,
    })
}

/// `dir` as a relative path below `.terraform/modules/`, or `None` for a module that was not
/// fetched there (a relative source) or a path that would leave it.
fn fetched_dir(dir: &str) -> Option<PathBuf> {
    let rest = dir.strip_prefix(FETCHED_PREFIX)?;
    let path = Path::new(dir);
    let plain = !rest.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    plain.then(|| path.to_path_buf())
}

/// `20 MiB`, or a byte count when the size is not whole mebibytes.
fn size_text(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Why a module is left out of the archive.
enum Skip {
    TooLarge,
    Io(io::Error),
}

impl From<io::Error> for Skip {
    fn from(e: io::Error) -> Skip {
        Skip::Io(e)
    }
}

fn entry_header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(ARCHIVE_OWNER);
    header.set_gid(ARCHIVE_OWNER);
    header.set_mtime(0);
    header
}

/// Appends one module's directory (`rel`, relative to `work_dir`), in name order. Its root may
/// be a symbolic link (Terraform links absolute-path sources); below it, links and special
/// files are left out. Returns the number of files added; stops once the archive would grow
/// past `limit`.
fn append_module(
    builder: &mut tar::Builder<Vec<u8>>,
    work_dir: &Path,
    rel: &Path,
    limit: usize,
) -> Result<usize, Skip> {
    let root = work_dir.join(rel);
    if !fs::metadata(&root)?.is_dir() {
        return Err(Skip::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a directory", rel.display()),
        )));
    }
    let mut files = 0;
    let mut stack = vec![rel.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mode = fs::metadata(work_dir.join(&dir))?.permissions().mode() & 0o7777;
        let mut header = entry_header(tar::EntryType::Directory, mode, 0);
        builder.append_data(&mut header, format!("{}/", dir.display()), io::empty())?;

        let mut children: Vec<(String, fs::Metadata)> = Vec::new();
        for child in fs::read_dir(work_dir.join(&dir))? {
            let child = child?;
            let Ok(name) = child.file_name().into_string() else {
                continue;
            };
            children.push((name, child.metadata()?));
        }
        children.sort_by(|a, b| a.0.cmp(&b.0));
        let mut subdirs = Vec::new();
        for (name, meta) in children {
            let path = dir.join(&name);
            if meta.is_dir() {
                // Version-control data only makes identical modules hash differently.
                if name != ".git" {
                    subdirs.push(path);
                }
            } else if meta.is_file() {
                if builder.get_ref().len().saturating_add(meta.len() as usize) > limit {
                    return Err(Skip::TooLarge);
                }
                let bytes = fs::read(work_dir.join(&path))?;
                let mode = meta.permissions().mode() & 0o7777;
                let mut header = entry_header(tar::EntryType::Regular, mode, bytes.len() as u64);
                builder.append_data(&mut header, &path, bytes.as_slice())?;
                files += 1;
            }
        }
        // Popped from the end: push in reverse so directories come out in name order.
        stack.extend(subdirs.into_iter().rev());
    }
    if builder.get_ref().len() > limit {
        return Err(Skip::TooLarge);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn write(path: &Path, contents: &[u8]) {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, contents).expect("write");
    }

    /// A work directory as `terraform init` leaves it: a local module `./local`, a fetched
    /// module `remote` with a nested directory, a `.git` and a link, and a stray directory
    /// no manifest entry names.
    fn work_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = dir.path();
        write(&w.join("local/main.tf"), b"# local");
        write(
            &w.join(".terraform/modules/remote/main.tf"),
            b"resource \"terraform_data\" \"r\" {}\n",
        );
        write(&w.join(".terraform/modules/remote/sub/b.tf"), b"# b");
        write(&w.join(".terraform/modules/remote/sub/a.tf"), b"# a");
        write(&w.join(".terraform/modules/remote/.git/HEAD"), b"ref");
        std::os::unix::fs::symlink("/etc/passwd", w.join(".terraform/modules/remote/passwd"))
            .expect("symlink");
        write(&w.join(".terraform/modules/stray/x.txt"), b"not a module");
        write(
            &w.join(MANIFEST),
            br#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"local","Source":"./local","Dir":"local"},{"Key":"remote","Source":"git::https://example.com/m.git","Dir":".terraform/modules/remote"},{"Key":"evil","Source":"x","Dir":".terraform/modules/../../.."}]}"#,
        );
        dir
    }

    fn entries(tar_bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = tar::Archive::new(tar_bytes);
        archive
            .entries()
            .expect("entries")
            .map(|e| {
                let mut e = e.expect("entry");
                let name = e.path().expect("path").display().to_string();
                let mut data = Vec::new();
                e.read_to_end(&mut data).expect("read");
                (name, data)
            })
            .collect()
    }

    #[test]
    fn archives_fetched_modules_and_the_manifest_only() {
        let dir = work_dir();
        let files = archive_module_files(dir.path(), MAX_MODULE_ARCHIVE_SIZE).expect("archive");
        assert_eq!(files.skipped, Vec::<String>::new());
        let names: Vec<String> = entries(&files.tar).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            vec![
                ".terraform/modules/remote/",
                ".terraform/modules/remote/main.tf",
                ".terraform/modules/remote/sub/",
                ".terraform/modules/remote/sub/a.tf",
                ".terraform/modules/remote/sub/b.tf",
                ".terraform/modules/modules.json",
            ]
        );
        assert_eq!(files.hash(), Sha256::digest(&files.tar).to_vec());
    }

    #[test]
    fn the_same_modules_give_the_same_bytes() {
        let one = archive_module_files(work_dir().path(), MAX_MODULE_ARCHIVE_SIZE).expect("one");
        let two = archive_module_files(work_dir().path(), MAX_MODULE_ARCHIVE_SIZE).expect("two");
        assert_eq!(one.hash(), two.hash());
        assert_eq!(one.hash().len(), 32);
    }

    #[test]
    fn no_fetched_module_means_no_archive() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            archive_module_files(dir.path(), MAX_MODULE_ARCHIVE_SIZE).expect("none"),
            ModuleFiles::default()
        );
        write(
            &dir.path().join(MANIFEST),
            br#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"l","Source":"./l","Dir":"l"}]}"#,
        );
        let files = archive_module_files(dir.path(), MAX_MODULE_ARCHIVE_SIZE).expect("local");
        assert!(files.tar.is_empty());
        assert!(files.hash().is_empty());
    }

    #[test]
    fn modules_over_the_limit_are_left_out_and_named() {
        let dir = work_dir();
        write(
            &dir.path().join(".terraform/modules/big/blob.bin"),
            &vec![7u8; 64 * 1024],
        );
        write(
            &dir.path().join(MANIFEST),
            br#"{"Modules":[{"Key":"big","Source":"/srv/big","Dir":".terraform/modules/big"},{"Key":"remote","Source":"/srv/remote","Dir":".terraform/modules/remote"}]}"#,
        );
        let files = archive_module_files(dir.path(), 32 * 1024).expect("archive");
        assert_eq!(
            files.skipped,
            vec!["big (the archive would exceed 32768 bytes)".to_string()]
        );
        let archived = entries(&files.tar);
        assert!(archived.iter().all(|(n, _)| !n.contains("big")));
        assert!(archived
            .iter()
            .any(|(n, d)| n == ".terraform/modules/remote/sub/a.tf" && d == b"# a"));
    }

    #[test]
    fn installed_modules_skip_the_root() {
        let dir = work_dir();
        let keys: Vec<String> = installed_modules(dir.path())
            .expect("modules")
            .into_iter()
            .map(|m| m.key)
            .collect();
        assert_eq!(keys, vec!["local", "remote", "evil"]);
        let empty = tempfile::tempdir().expect("tempdir");
        assert_eq!(installed_modules(empty.path()).expect("none"), vec![]);
    }
}
