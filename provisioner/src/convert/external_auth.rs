//! `data "coder_external_auth"` (and the legacy `coder_git_auth`) → the external auth
//! providers a workspace needs.

use std::collections::BTreeMap;

use coder_proto::provisioner::ExternalAuthProviderResource;
use serde_json::Value;

use super::{ConvertError, Index};

/// Deduplicated by id and sorted by id.
pub(crate) fn collect(
    index: &Index<'_>,
) -> Result<Vec<ExternalAuthProviderResource>, ConvertError> {
    let mut by_id = BTreeMap::new();
    for resource in index
        .all()
        .filter(|r| r.r#type == "coder_external_auth" || r.r#type == "coder_git_auth")
    {
        let Some(Value::String(id)) = resource.values.get("id") else {
            return Err(ConvertError::ExternalAuthIdNotString);
        };
        let optional = matches!(resource.values.get("optional"), Some(Value::Bool(true)));
        by_id.insert(
            id.clone(),
            ExternalAuthProviderResource {
                id: id.clone(),
                optional,
            },
        );
    }
    Ok(by_id.into_values().collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::convert_state;
    use super::super::test_support::{module, resource};

    #[test]
    fn deduplicated_and_sorted() {
        let modules = [module(vec![
            resource(
                "data.coder_external_auth.gitlab",
                json!({"id": "gitlab", "optional": true}),
            ),
            resource(
                "data.coder_external_auth.github",
                json!({"id": "github", "optional": null}),
            ),
            resource("data.coder_git_auth.old", json!({"id": "github"})),
        ])];
        let got = convert_state(&modules, "digraph {}")
            .unwrap()
            .external_auth_providers;
        let got: Vec<(&str, bool)> = got.iter().map(|p| (p.id.as_str(), p.optional)).collect();
        assert_eq!(got, [("github", false), ("gitlab", true)]);
    }

    #[test]
    fn id_must_be_a_string() {
        // At plan time an unknown id is absent.
        let modules = [module(vec![resource(
            "data.coder_external_auth.x",
            json!({}),
        )])];
        assert_eq!(
            convert_state(&modules, "digraph {}")
                .unwrap_err()
                .to_string(),
            "external auth id is not a string"
        );
    }
}
