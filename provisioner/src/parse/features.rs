//! `provider "coder" { feature_use_managed_variables = … }`: the late-2022 opt-in that turns
//! every Terraform variable into an admin-managed template variable (reference/README.md,
//! decision 5).
//!
//! As upstream did: only `.tf` files are looked at, in name order; the first file that sets
//! the attribute in a `provider "coder"` block decides (so a later file cannot override it);
//! within that file the last setting wins. The value must convert to a bool.

use hcl::edit::Span;

use super::diagnostics::Diagnostic;
use super::module::{Content, LoadedFile};
use super::syntax::line_of;
use super::value;

pub const FEATURE_USE_MANAGED_VARIABLES: &str = "feature_use_managed_variables";

/// Whether the template opted into managed variables; errors are diagnostics.
pub fn use_managed_variables(files: &[LoadedFile]) -> Result<bool, Vec<Diagnostic>> {
    let mut native: Vec<_> = files
        .iter()
        .filter_map(|f| match &f.content {
            Content::Native(native) => Some((f.name.as_str(), native)),
            Content::Json(_) => None,
        })
        .collect();
    // Upstream lists the directory by name, override files included in their place.
    native.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let mut diagnostics = Vec::new();
    for (filename, file) in native {
        let mut setting = None;
        let coder_providers = file.body.blocks().filter(|b| {
            b.ident.as_str() == "provider"
                && b.labels.len() == 1
                && b.labels.first().is_some_and(|l| l.as_str() == "coder")
        });
        for block in coder_providers {
            let Some(attribute) = block.body.get_attribute(FEATURE_USE_MANAGED_VARIABLES) else {
                continue;
            };
            let line = attribute
                .value
                .span()
                .map_or(1, |span| line_of(file.src.as_bytes(), span.start));
            let expr = hcl::Expression::from(attribute.value.clone());
            match value::evaluate(&expr).map(|v| v.to_cty_bool()) {
                Ok(Ok(flag)) => setting = Some(flag),
                Ok(Err(detail)) => diagnostics.push(
                    Diagnostic::error(
                        "Unsuitable value type",
                        format!("Unsuitable value: {detail}"),
                    )
                    .at(filename, line),
                ),
                Err(problem) => diagnostics
                    .push(Diagnostic::error(problem.summary, problem.detail).at(filename, line)),
            }
        }
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        if let Some(flag) = setting {
            return Ok(flag);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::super::module::load_sources;
    use super::*;

    fn managed(files: &[(&str, &str)]) -> Result<bool, Vec<Diagnostic>> {
        let (loaded, diags) = load_sources(files);
        assert!(diags.is_empty(), "{diags:?}");
        use_managed_variables(&loaded)
    }

    #[test]
    fn off_without_a_coder_provider_block() {
        assert_eq!(managed(&[("main.tf", "provider \"aws\" {}\n")]), Ok(false));
    }

    #[test]
    fn on_when_the_coder_provider_sets_it() {
        let src = "provider \"coder\" {\n  feature_use_managed_variables = true\n}\n";
        assert_eq!(managed(&[("main.tf", src)]), Ok(true));
    }

    #[test]
    fn first_file_by_name_that_sets_it_decides() {
        let off = "provider \"coder\" {\n  feature_use_managed_variables = false\n}\n";
        let on = "provider \"coder\" {\n  feature_use_managed_variables = true\n}\n";
        assert_eq!(managed(&[("a.tf", off), ("b.tf", on)]), Ok(false));
        assert_eq!(managed(&[("a.tf", "\n"), ("b.tf", on)]), Ok(true));
    }

    #[test]
    fn json_files_are_not_consulted() {
        let json = r#"{"provider": {"coder": {"feature_use_managed_variables": true}}}"#;
        assert_eq!(managed(&[("main.tf.json", json)]), Ok(false));
    }

    #[test]
    fn non_bool_value_is_an_error_on_its_line() {
        let src = "provider \"coder\" {\n  feature_use_managed_variables = \"maybe\"\n}\n";
        let Err(diags) = managed(&[("main.tf", src)]) else {
            panic!("expected an error")
        };
        assert_eq!(diags[0].summary, "Unsuitable value type");
        assert_eq!(diags[0].detail, "Unsuitable value: a bool is required");
        assert_eq!(diags[0].pos.as_ref().map(|p| p.line), Some(2));
    }
}
