//! `docs/` is generated from the provider schema and the examples; this fails when someone
//! changes either without regenerating.

use std::path::Path;

use terraform_provider_coder::docs::stale_files;

#[test]
fn docs_directory_matches_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let stale = stale_files(&root).expect("render docs");
    assert!(
        stale.is_empty(),
        "docs/ is stale; regenerate with `cargo run -p terraform-provider-coder --bin coder-provider-docs`. \
         Files that differ: {stale:?}"
    );
}

#[test]
fn every_type_has_a_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = terraform_provider_coder::docs::render_all(&root).expect("render docs");
    let count = |dir: &str| files.iter().filter(|f| f.path.starts_with(dir)).count();
    assert_eq!(count("docs/resources"), 9);
    assert_eq!(
        count("docs/data-sources"),
        10,
        "9 current data sources plus coder_git_auth"
    );
    assert!(files.iter().any(|f| f.path == Path::new("docs/index.md")));
}
