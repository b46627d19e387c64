//! Unpacking a template's source archive (a tar) into a session's work directory.
//!
//! The archive comes from whoever can push a template, so it is untrusted: only regular
//! files and directories below the target are written, nothing is ever followed out of it,
//! every file has a size limit (upstream's rules, coder-provisioner.md §3.2), and so does the
//! number of entries (ours: empty files and directories cost inodes, not bytes).

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use tar::EntryType;

/// Largest file an archive may hold.
pub const MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Most entries (files and directories) an archive may hold. Templates have tens of files; a
/// 64 MiB message could otherwise carry ~130,000 empty ones.
pub const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("template archive entry {entry:?}: absolute paths are not allowed")]
    AbsolutePath { entry: String },
    #[error("template archive entry {entry:?}: paths with \"..\" are not allowed")]
    ParentDir { entry: String },
    #[error("template archive entry {entry:?} is a {kind}; only regular files and directories are allowed")]
    Link { entry: String, kind: &'static str },
    #[error("template archive entry {entry:?} has unsupported type {kind}; only regular files and directories are allowed")]
    Unsupported { entry: String, kind: String },
    #[error("template archive entry {entry:?} is {size} bytes; files may be at most 10 MiB ({MAX_FILE_SIZE} bytes)")]
    TooLarge { entry: String, size: u64 },
    #[error("template archive has more than {MAX_ENTRIES} entries; templates may hold at most {MAX_ENTRIES} files and directories")]
    TooManyEntries,
    #[error("template archive entry {entry:?}: {source}")]
    Entry { entry: String, source: io::Error },
    #[error("read template archive: {0}")]
    Read(io::Error),
}

/// Writes the files of the tar archive `bytes` below `dest` (which must exist). Returns the
/// relative paths of the regular files written.
pub fn extract(bytes: &[u8], dest: &Path) -> Result<Vec<PathBuf>, ArchiveError> {
    let mut archive = tar::Archive::new(bytes);
    let mut written = Vec::new();
    for (index, entry) in archive.entries().map_err(ArchiveError::Read)?.enumerate() {
        if index >= MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries);
        }
        let mut entry = entry.map_err(ArchiveError::Read)?;
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        // PAX global headers carry settings, not files.
        if kind == EntryType::XGlobalHeader {
            continue;
        }
        let Some(relative) = safe_relative_path(&raw_name)? else {
            // "." or "./": the root itself.
            continue;
        };
        let target = dest.join(&relative);
        let entry_err = |source| ArchiveError::Entry {
            entry: raw_name.clone(),
            source,
        };
        match kind {
            EntryType::Directory => {
                create_dirs(dest, &relative).map_err(entry_err)?;
            }
            EntryType::Regular | EntryType::Continuous => {
                let size = entry.header().size().map_err(entry_err)?;
                if size > MAX_FILE_SIZE {
                    return Err(ArchiveError::TooLarge {
                        entry: raw_name,
                        size,
                    });
                }
                if let Some(parent) = relative.parent() {
                    create_dirs(dest, parent).map_err(entry_err)?;
                }
                // A header mode of 0 (some tar writers) would make the file unreadable even
                // to Terraform; keep the permission bits otherwise (scripts need `x`).
                let mode = match entry.header().mode().map_err(entry_err)? & 0o777 {
                    0 => 0o600,
                    m => m | 0o600,
                };
                write_file(&mut entry, &target, mode).map_err(|source| match source.kind() {
                    io::ErrorKind::FileTooLarge => ArchiveError::TooLarge {
                        entry: raw_name.clone(),
                        size,
                    },
                    _ => ArchiveError::Entry {
                        entry: raw_name.clone(),
                        source,
                    },
                })?;
                written.push(relative);
            }
            EntryType::Symlink => {
                return Err(ArchiveError::Link {
                    entry: raw_name,
                    kind: "symbolic link",
                })
            }
            EntryType::Link => {
                return Err(ArchiveError::Link {
                    entry: raw_name,
                    kind: "hard link",
                })
            }
            other => {
                return Err(ArchiveError::Unsupported {
                    entry: raw_name,
                    kind: format!("{other:?}"),
                })
            }
        }
    }
    Ok(written)
}

/// The entry name as a path below the destination; `None` for the root itself.
fn safe_relative_path(name: &str) -> Result<Option<PathBuf>, ArchiveError> {
    let path = Path::new(name);
    if path.is_absolute() {
        return Err(ArchiveError::AbsolutePath {
            entry: name.to_string(),
        });
    }
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(ArchiveError::ParentDir {
                    entry: name.to_string(),
                })
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(ArchiveError::AbsolutePath {
                    entry: name.to_string(),
                })
            }
        }
    }
    Ok(if out.as_os_str().is_empty() {
        None
    } else {
        Some(out)
    })
}

/// Creates `relative` below `root` one component at a time, refusing to pass through
/// anything that is not a real directory (a link planted by an earlier command).
fn create_dirs(root: &Path, relative: &Path) -> io::Result<()> {
    let mut current = root.to_path_buf();
    for component in relative.components() {
        current.push(component);
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a directory", current.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&current)?;
                fs::set_permissions(&current, fs::Permissions::from_mode(0o700))?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn write_file(reader: &mut impl Read, target: &Path, mode: u32) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        // Never write through a link, whatever put it there.
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(target)?;
    // The header's size was checked already; this also bounds what a lying header can make
    // us write.
    let copied = io::copy(&mut reader.take(MAX_FILE_SIZE + 1), &mut file)?;
    if copied > MAX_FILE_SIZE {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            "file is larger than 10 MiB",
        ));
    }
    file.flush()?;
    fs::set_permissions(target, fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(path: &str, kind: EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        // set_path refuses `..` and absolute paths, so write the raw name for the bad cases.
        let name = path.as_bytes();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        h
    }

    fn archive(entries: &[(&str, EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let h = header(path, *kind, data.len() as u64);
            builder.append(&h, *data).expect("append");
        }
        builder.into_inner().expect("finish")
    }

    fn extract_to_temp(bytes: &[u8]) -> (tempfile::TempDir, Result<Vec<PathBuf>, ArchiveError>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let result = extract(bytes, dir.path());
        (dir, result)
    }

    #[test]
    fn refuses_too_many_entries() {
        let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("f{i}.tf")).collect();
        let entries: Vec<(&str, EntryType, &[u8])> = names
            .iter()
            .map(|n| (n.as_str(), EntryType::Regular, &b""[..]))
            .collect();
        let (_dir, result) = extract_to_temp(&archive(&entries));
        let err = result.expect_err("one entry too many");
        assert!(matches!(err, ArchiveError::TooManyEntries), "{err}");
        assert!(err.to_string().contains("more than 10000 entries"), "{err}");
        // The limit itself is fine.
        let (_dir, result) = extract_to_temp(&archive(&entries[..MAX_ENTRIES]));
        assert_eq!(result.expect("at the limit").len(), MAX_ENTRIES);
    }

    #[test]
    fn extracts_files_and_directories() {
        let bytes = archive(&[
            ("main.tf", EntryType::Regular, b"resource \"x\" \"y\" {}"),
            ("modules/", EntryType::Directory, b""),
            ("modules/a/main.tf", EntryType::Regular, b"# a"),
            ("./README.md", EntryType::Regular, b"hi"),
        ]);
        let (dir, result) = extract_to_temp(&bytes);
        let written = result.expect("extract");
        assert_eq!(written.len(), 3);
        assert_eq!(
            fs::read_to_string(dir.path().join("modules/a/main.tf")).expect("read"),
            "# a"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("README.md")).expect("read"),
            "hi"
        );
    }

    #[test]
    fn zero_mode_becomes_owner_read_write() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut h = header("a.tf", EntryType::Regular, 1);
        h.set_mode(0);
        h.set_cksum();
        builder.append(&h, &b"x"[..]).expect("append");
        let (dir, result) = extract_to_temp(&builder.into_inner().expect("finish"));
        result.expect("extract");
        let mode = fs::metadata(dir.path().join("a.tf"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn refuses_parent_directory_escapes() {
        let (dir, result) = extract_to_temp(&archive(&[("../evil.tf", EntryType::Regular, b"x")]));
        let err = result.expect_err("must refuse");
        assert_eq!(
            err.to_string(),
            "template archive entry \"../evil.tf\": paths with \"..\" are not allowed"
        );
        assert!(!dir
            .path()
            .parent()
            .expect("parent")
            .join("evil.tf")
            .exists());
    }

    #[test]
    fn refuses_absolute_paths() {
        let (_dir, result) = extract_to_temp(&archive(&[("/etc/x", EntryType::Regular, b"x")]));
        assert!(matches!(result, Err(ArchiveError::AbsolutePath { .. })));
    }

    #[test]
    fn refuses_links() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(EntryType::Symlink);
        h.set_size(0);
        builder
            .append_link(&mut h, "link.tf", "/etc/passwd")
            .expect("append");
        let (_dir, result) = extract_to_temp(&builder.into_inner().expect("finish"));
        let err = result.expect_err("must refuse");
        assert!(
            err.to_string()
                .starts_with("template archive entry \"link.tf\" is a symbolic link"),
            "{err}"
        );

        let (_dir, result) = extract_to_temp(&archive(&[("hard.tf", EntryType::Link, b"")]));
        assert!(result
            .expect_err("must refuse")
            .to_string()
            .contains("is a hard link"));
    }

    #[test]
    fn refuses_devices() {
        let (_dir, result) = extract_to_temp(&archive(&[("dev", EntryType::Char, b"")]));
        assert!(matches!(result, Err(ArchiveError::Unsupported { .. })));
    }

    #[test]
    fn refuses_files_over_ten_mebibytes() {
        let big = vec![b'a'; (MAX_FILE_SIZE + 1) as usize];
        let (_dir, result) = extract_to_temp(&archive(&[("big.bin", EntryType::Regular, &big)]));
        let err = result.expect_err("must refuse");
        assert!(
            err.to_string()
                .starts_with("template archive entry \"big.bin\" is 10485761 bytes"),
            "{err}"
        );
        let exact = vec![b'a'; MAX_FILE_SIZE as usize];
        let (_dir, result) = extract_to_temp(&archive(&[("ok.bin", EntryType::Regular, &exact)]));
        result.expect("10 MiB exactly is fine");
    }

    #[test]
    fn does_not_write_through_planted_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("sub")).expect("symlink");
        std::os::unix::fs::symlink(outside.path().join("f"), dir.path().join("file.tf"))
            .expect("symlink");
        let err = extract(
            &archive(&[("sub/x.tf", EntryType::Regular, b"x")]),
            dir.path(),
        )
        .expect_err("must refuse");
        assert!(err.to_string().contains("not a directory"), "{err}");
        extract(
            &archive(&[("file.tf", EntryType::Regular, b"x")]),
            dir.path(),
        )
        .expect_err("must refuse");
        assert!(!outside.path().join("x.tf").exists());
        assert!(!outside.path().join("f").exists());
    }

    #[test]
    fn garbage_is_a_read_error() {
        let (_dir, result) = extract_to_temp(&[1u8; 700]);
        assert!(result.is_err());
    }
}
