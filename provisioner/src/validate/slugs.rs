//! `coder_app` slugs: the pattern and uniqueness upstream's converter enforces when a
//! workspace is built (coder-provisioner.md §4, step 5), checked before it is.
//!
//! Only slugs written as literals are checked; a computed slug (`each.key`) is the dry run's
//! to check. An app with `for_each` and a literal slug gives every instance the same slug,
//! which upstream rejects as a duplicate.

use std::collections::BTreeMap;

use regex::Regex;

use super::hcl_model::{Block, TemplateModel};
use super::{Check, Finding};
use crate::parse::SourcePos;

/// Upstream's app slug pattern (provisioner/regexes.go).
pub const APP_SLUG_PATTERN: &str = "^[a-z0-9](-?[a-z0-9])*$";

pub fn check(model: &TemplateModel) -> Vec<Finding> {
    let Ok(pattern) = Regex::new(APP_SLUG_PATTERN) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    let mut first_use: BTreeMap<String, (String, SourcePos)> = BTreeMap::new();
    for app in model.resources_of_type("coder_app") {
        let Some((slug, pos)) = literal_slug(app) else {
            continue;
        };
        if !pattern.is_match(&slug) {
            findings.push(
                Finding::error(
                    Check::AppSlug,
                    format!(
                        "app slug {slug:?} does not match regex {APP_SLUG_PATTERN:?}: lower-case \
                         letters, digits and single hyphens, starting and ending with a letter \
                         or digit"
                    ),
                )
                .at(&pos),
            );
        }
        if app.attr("for_each").is_some() {
            findings.push(
                Finding::error(
                    Check::AppSlug,
                    format!(
                        "duplicate app slug, they must be unique per template: {slug:?} (every \
                         instance of {} has this slug; derive it from each.key)",
                        app.address()
                    ),
                )
                .at(&pos),
            );
        }
        match first_use.get(&slug) {
            Some((first, first_pos)) => findings.push(
                Finding::error(
                    Check::AppSlug,
                    format!(
                        "duplicate app slug, they must be unique per template: {slug:?} ({first} \
                         at {first_pos} has it too)"
                    ),
                )
                .at(&pos),
            ),
            None => {
                first_use.insert(slug, (app.address(), pos));
            }
        }
    }
    findings
}

/// The slug and where it is written, when it is a literal.
fn literal_slug(app: &Block) -> Option<(String, SourcePos)> {
    let attr = app.attr("slug")?;
    let slug = attr.literal.as_ref()?.as_text()?;
    let pos = SourcePos {
        filename: app.pos.filename.clone(),
        line: attr.line,
    };
    Some((slug, pos))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{check_files, findings, GOOD};
    use super::super::{Check, Severity};

    fn app(name: &str, slug: &str) -> String {
        format!(
            "resource \"coder_app\" \"{name}\" {{\n  agent_id = coder_agent.main.id\n  slug     = \"{slug}\"\n}}\n"
        )
    }

    fn slug_findings(apps: &str) -> Vec<(String, String)> {
        findings(&check_files(&[("main.tf", GOOD), ("apps.tf", apps)]))
            .into_iter()
            .filter(|f| f.1 == Check::AppSlug && f.0 == Severity::Error)
            .map(|f| (f.2, f.3))
            .collect()
    }

    #[test]
    fn valid_slugs_pass() {
        let apps = [app("a", "code-server"), app("b", "a1"), app("c", "1-a")].concat();
        assert!(slug_findings(&apps).is_empty());
    }

    #[test]
    fn invalid_slugs_use_upstreams_text() {
        for bad in ["Code", "code_server", "code--server", "-code", "code-", ""] {
            let found = slug_findings(&app("a", bad));
            assert_eq!(found.len(), 1, "{bad}: {found:?}");
            assert_eq!(found[0].0, "apps.tf:3");
            assert!(
                found[0].1.starts_with(&format!(
                    "app slug {bad:?} does not match regex \"^[a-z0-9](-?[a-z0-9])*$\""
                )),
                "{found:?}"
            );
        }
    }

    #[test]
    fn duplicate_slugs_point_at_the_second_and_name_the_first() {
        let found = slug_findings(&[app("a", "code"), app("b", "code")].concat());
        assert_eq!(
            found,
            vec![(
                "apps.tf:7".to_string(),
                "duplicate app slug, they must be unique per template: \"code\" (coder_app.a at apps.tf:3 has it too)".to_string()
            )]
        );
    }

    #[test]
    fn for_each_with_a_literal_slug_repeats_it() {
        let apps = "resource \"coder_app\" \"apps\" {\n  for_each = toset([\"a\", \"b\"])\n  agent_id = coder_agent.main.id\n  slug     = \"same\"\n}\n";
        let found = slug_findings(apps);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "apps.tf:4");
    }

    #[test]
    fn computed_slugs_are_left_to_the_dry_run() {
        let apps = "resource \"coder_app\" \"apps\" {\n  for_each = toset([\"a\", \"b\"])\n  agent_id = coder_agent.main.id\n  slug     = each.key\n}\n";
        assert!(slug_findings(apps).is_empty());
    }
}
