//! The provider's documentation set: which page each type gets, where its example lives, and the
//! hand-written guides. Rendering itself is generic (`schema::docs`).

use std::path::{Path, PathBuf};

use crate::schema::docs::{render_page, Page, PageKind};
use crate::schema::ProviderServer;

const PROGRAM: &str = "terraform-provider-coder";

/// Guides are prose, so they live as files and are copied verbatim.
const GUIDES: &[(&str, &str)] = &[(
    "late-2022-templates.md",
    include_str!("../guides/late-2022-templates.md"),
)];

/// One file of the documentation set, relative to the repository root.
pub struct DocFile {
    pub path: PathBuf,
    pub contents: String,
}

fn page_name(type_name: &str) -> &str {
    type_name.strip_prefix("coder_").unwrap_or(type_name)
}

fn read_example(root: &Path, relative: &str) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(root.join(relative)) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Renders every page from the provider's schemas and the examples under `root/examples`.
pub fn render_all(root: &Path) -> std::io::Result<Vec<DocFile>> {
    let framework = crate::provider::framework();
    let schemas = framework.schemas();
    let mut files = Vec::new();

    let example = read_example(root, "examples/provider/provider.tf")?;
    files.push(DocFile {
        path: PathBuf::from("docs/index.md"),
        contents: render_page(&Page {
            kind: PageKind::Provider,
            name: "coder",
            program: PROGRAM,
            schema: &schemas.provider,
            example: example.as_deref(),
        }),
    });
    for (name, schema) in &schemas.resources {
        let example = read_example(root, &format!("examples/resources/{name}/resource.tf"))?;
        files.push(DocFile {
            path: PathBuf::from(format!("docs/resources/{}.md", page_name(name))),
            contents: render_page(&Page {
                kind: PageKind::Resource,
                name,
                program: PROGRAM,
                schema,
                example: example.as_deref(),
            }),
        });
    }
    for (name, schema) in &schemas.data_sources {
        let example = read_example(
            root,
            &format!("examples/data-sources/{name}/data-source.tf"),
        )?;
        files.push(DocFile {
            path: PathBuf::from(format!("docs/data-sources/{}.md", page_name(name))),
            contents: render_page(&Page {
                kind: PageKind::DataSource,
                name,
                program: PROGRAM,
                schema,
                example: example.as_deref(),
            }),
        });
    }
    for (file, text) in GUIDES {
        files.push(DocFile {
            path: PathBuf::from(format!("docs/guides/{file}")),
            contents: (*text).to_string(),
        });
    }
    Ok(files)
}

/// Pages under `docs/` that are written by hand, not rendered from the schema.
pub const HAND_WRITTEN: &[&str] = &["docs/reliability.md"];

/// Paths (relative to `root`) whose contents differ from what [`render_all`] produces, plus
/// stray files under `docs/` that it would not produce (other than [`HAND_WRITTEN`] pages).
pub fn stale_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let expected = render_all(root)?;
    let mut stale = Vec::new();
    for file in &expected {
        let current = std::fs::read_to_string(root.join(&file.path)).ok();
        if current.as_deref() != Some(file.contents.as_str()) {
            stale.push(file.path.clone());
        }
    }
    for dir in ["docs", "docs/resources", "docs/data-sources", "docs/guides"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = PathBuf::from(dir).join(entry.file_name());
            let is_md = path.extension().is_some_and(|e| e == "md");
            let hand_written = HAND_WRITTEN.iter().any(|p| Path::new(p) == path);
            if is_md && !hand_written && !expected.iter().any(|f| f.path == path) {
                stale.push(path);
            }
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_pages_are_not_stray_but_other_pages_are() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(root.path().join("docs")).expect("docs dir");
        std::fs::write(root.path().join("docs/reliability.md"), "# by hand\n").expect("write");
        std::fs::write(root.path().join("docs/stray.md"), "# stray\n").expect("write");
        let stale = stale_files(root.path()).expect("stale files");
        assert!(stale.contains(&PathBuf::from("docs/stray.md")), "{stale:?}");
        assert!(
            !stale.contains(&PathBuf::from("docs/reliability.md")),
            "{stale:?}"
        );
    }
}
