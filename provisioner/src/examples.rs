//! The example templates of `examples/`, embedded in the binary, and `init`, which writes one
//! out as the start of a new template (as upstream's `coder templates init` does).
//!
//! The file list is written out here rather than generated, so the binary's contents are
//! visible in review; a test checks it against the `examples/` directory, so a file added
//! there and forgotten here fails the build's tests.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One embedded example template.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// The directory name under `examples/`, used with `init --example`.
    pub name: &'static str,
    pub summary: &'static str,
    /// `(path relative to the example's directory, contents)`.
    pub files: &'static [(&'static str, &'static [u8])],
}

macro_rules! example_file {
    ($example:literal, $file:literal) => {
        (
            $file,
            include_bytes!(concat!("../../examples/", $example, "/", $file)) as &[u8],
        )
    };
}

/// Every example, in the order `init` lists them.
pub const EXAMPLES: &[Example] = &[
    Example {
        name: "quickstart",
        summary: "Runs anywhere, offline: terraform_data stands in for the container and volume",
        files: &[
            example_file!("quickstart", "README.md"),
            example_file!("quickstart", "main.tf"),
        ],
    },
    Example {
        name: "docker",
        summary: "A Docker container per workspace, home directory on a persistent volume",
        files: &[
            example_file!("docker", "README.md"),
            example_file!("docker", "main.tf"),
        ],
    },
    Example {
        name: "kubernetes",
        summary: "A Kubernetes pod per workspace, home directory on a persistent volume claim",
        files: &[
            example_file!("kubernetes", "README.md"),
            example_file!("kubernetes", "main.tf"),
        ],
    },
    Example {
        name: "aws-linux",
        summary: "An EC2 instance per workspace, stopped with the workspace; region as a parameter",
        files: &[
            example_file!("aws-linux", "README.md"),
            example_file!("aws-linux", "main.tf"),
        ],
    },
];

pub fn find(name: &str) -> Option<&'static Example> {
    EXAMPLES.iter().find(|e| e.name == name)
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("unknown example {name:?}; the examples are: {}", names().join(", "))]
    UnknownExample { name: String },
    #[error("{} is not empty; choose another directory or pass --force to write into it", .0.display())]
    NotEmpty(PathBuf),
    #[error("{} exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("write {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
}

pub fn names() -> Vec<&'static str> {
    EXAMPLES.iter().map(|e| e.name).collect()
}

/// Writes `example` into `dir` (created if missing). A directory that has anything in it is
/// refused unless `force`, which overwrites the example's files and leaves others alone.
/// Returns the paths written.
pub fn write_example(
    example: &Example,
    dir: &Path,
    force: bool,
) -> Result<Vec<PathBuf>, InitError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Write { path, source }
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(InitError::NotADirectory(dir.to_path_buf()));
        }
        let occupied = fs::read_dir(dir).map_err(io_err(dir))?.next().is_some();
        if occupied && !force {
            return Err(InitError::NotEmpty(dir.to_path_buf()));
        }
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut written = Vec::new();
    for (name, contents) in example.files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        fs::write(&path, contents).map_err(io_err(&path))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
    }

    /// Every file under `dir`, relative, sorted.
    fn files_under(dir: &Path) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for entry in fs::read_dir(dir).expect("read examples dir").flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                // Terraform's working files from trying an example in place are not part of it.
                if name == ".terraform"
                    || name == ".terraform.lock.hcl"
                    || name.contains(".tfstate")
                {
                    continue;
                }
                if path.is_dir() {
                    walk(root, &path, out);
                } else if let Ok(rel) = path.strip_prefix(root) {
                    out.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    #[test]
    fn the_table_embeds_exactly_the_example_templates() {
        // A template is a directory right under examples/ with a main.tf and a README.md;
        // examples/ also holds the provider documentation's snippets, which are not templates.
        let mut on_disk: Vec<String> = fs::read_dir(examples_dir())
            .expect("examples/")
            .flatten()
            .filter(|e| e.path().join("main.tf").is_file() && e.path().join("README.md").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut embedded = names();
        embedded.sort();
        assert_eq!(embedded, on_disk);
        for example in EXAMPLES {
            let mut files: Vec<String> = example.files.iter().map(|(n, _)| n.to_string()).collect();
            files.sort();
            assert_eq!(
                files,
                files_under(&examples_dir().join(example.name)),
                "{}",
                example.name
            );
        }
    }

    #[test]
    fn writes_into_a_new_directory_byte_for_byte() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("new");
        let example = find("docker").expect("docker example");
        write_example(example, &target, false).expect("writes");
        for (name, contents) in example.files {
            assert_eq!(fs::read(target.join(name)).expect("read"), *contents);
        }
    }

    #[test]
    fn refuses_a_non_empty_directory_unless_forced() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("notes.txt"), "mine").expect("write");
        let example = find("quickstart").expect("quickstart");
        let err = write_example(example, dir.path(), false).expect_err("refused");
        assert!(err.to_string().contains("is not empty"), "{err}");
        write_example(example, dir.path(), true).expect("forced");
        assert_eq!(
            fs::read_to_string(dir.path().join("notes.txt")).expect("kept"),
            "mine"
        );
        assert!(dir.path().join("main.tf").exists());
    }

    #[test]
    fn unknown_example_lists_the_known_ones() {
        let err = InitError::UnknownExample {
            name: "nope".into(),
        };
        assert_eq!(
            err.to_string(),
            "unknown example \"nope\"; the examples are: quickstart, docker, kubernetes, aws-linux"
        );
    }
}
