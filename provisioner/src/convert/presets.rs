//! `data "coder_workspace_preset"` → [`Preset`]s, in discovery order.

use coder_proto::provisioner::{
    ExpirationPolicy, Prebuild, Preset, PresetParameter, RichParameter, Schedule, Scheduling,
};

use super::json::{AttrError, Attrs};
use super::text::{go_quote, join_with_conjunction};
use super::{ConvertError, Index};

#[derive(Debug, Default)]
struct PresetAttributes {
    name: String,
    description: String,
    icon: String,
    default: bool,
    parameters: Vec<(String, String)>,
    prebuilds: Vec<Prebuild>,
}

impl PresetAttributes {
    fn decode(a: Attrs<'_>) -> Result<Self, AttrError> {
        Ok(PresetAttributes {
            name: a.string("name")?,
            description: a.string("description")?,
            icon: a.string("icon")?,
            default: a.bool("default")?,
            parameters: a.string_pairs("parameters")?,
            prebuilds: a.decode_blocks("prebuilds", |p| {
                Ok(Prebuild {
                    instances: p.i32("instances")?,
                    expiration_policy: p
                        .decode_blocks("expiration_policy", |e| {
                            Ok(ExpirationPolicy { ttl: e.i32("ttl")? })
                        })?
                        .into_iter()
                        .next(),
                    scheduling: p
                        .decode_blocks("scheduling", |s| {
                            Ok(Scheduling {
                                timezone: s.string("timezone")?,
                                schedule: s.decode_blocks("schedule", |c| {
                                    Ok(Schedule {
                                        cron: c.string("cron")?,
                                        instances: c.i32("instances")?,
                                    })
                                })?,
                            })
                        })?
                        .into_iter()
                        .next(),
                })
            })?,
        })
    }
}

pub(crate) fn convert(
    index: &Index<'_>,
    parameters: &[RichParameter],
    warnings: &mut Vec<String>,
) -> Result<Vec<Preset>, ConvertError> {
    let mut presets: Vec<Preset> = Vec::new();
    let mut duplicate_names: Vec<String> = Vec::new();
    for resource in &index.presets {
        let mut attrs = PresetAttributes::decode(Attrs::new(&resource.values))
            .map_err(ConvertError::decode("preset"))?;

        // Terraform hands us a JSON object, so keys cannot repeat; the check guards inputs
        // built by other means.
        let mut duplicates: Vec<String> = Vec::new();
        for (i, (name, _)) in attrs.parameters.iter().enumerate() {
            let quoted = go_quote(name);
            if !duplicates.contains(&quoted) && attrs.parameters[..i].iter().any(|(n, _)| n == name)
            {
                duplicates.push(quoted);
            }
        }
        if !duplicates.is_empty() {
            return Err(ConvertError::DuplicatePresetParameters { names: duplicates });
        }
        // Upstream iterates a Go map here; sorting by name keeps the output stable.
        attrs.parameters.sort();

        let unknown: Vec<String> = attrs
            .parameters
            .iter()
            .filter(|(name, _)| !parameters.iter().any(|p| &p.name == name))
            .map(|(name, _)| name.clone())
            .collect();
        if !unknown.is_empty() {
            warnings.push(format!(
                "coder_workspace_preset defines preset values for at least one parameter that is not defined by the template: {}",
                join_with_conjunction(&unknown)
            ));
        }
        if attrs.prebuilds.len() != 1 {
            warnings.push(format!(
                "coder_workspace_preset must have exactly one prebuild block: {}",
                go_quote(&attrs.name)
            ));
        }

        if presets.iter().any(|p| p.name == attrs.name) {
            let quoted = go_quote(&attrs.name);
            if !duplicate_names.contains(&quoted) {
                duplicate_names.push(quoted);
            }
        }
        presets.push(Preset {
            name: attrs.name,
            parameters: attrs
                .parameters
                .into_iter()
                .map(|(name, value)| PresetParameter { name, value })
                .collect(),
            // Always present; instances 0 when there is no prebuild block.
            prebuild: Some(attrs.prebuilds.into_iter().next().unwrap_or_default()),
            default: attrs.default,
            description: attrs.description,
            icon: attrs.icon,
        });
    }
    // Upstream's own check never fires (it only records a name already recorded); we
    // enforce what it meant, since coderd cannot store two presets with one name anyway.
    if !duplicate_names.is_empty() {
        return Err(ConvertError::DuplicatePresetNames {
            names: duplicate_names,
        });
    }
    let defaults = presets.iter().filter(|p| p.default).count();
    if defaults > 1 {
        return Err(ConvertError::MultipleDefaultPresets { count: defaults });
    }
    Ok(presets)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::test_support::{module, resource};
    use super::super::{convert_state, ConvertError, ConvertedState};

    fn convert(presets: &[Value]) -> Result<ConvertedState, ConvertError> {
        let mut resources = vec![resource(
            "data.coder_parameter.sample",
            json!({"name": "Sample"}),
        )];
        for (i, p) in presets.iter().enumerate() {
            resources.push(resource(
                &format!("data.coder_workspace_preset.p{i}"),
                p.clone(),
            ));
        }
        convert_state(&[module(resources)], "digraph {}")
    }

    #[test]
    fn converts_prebuilds() {
        let state = convert(&[json!({
            "name": "My First Project",
            "parameters": {"Sample": "A1B2C3"},
            "prebuilds": [{
                "instances": 4,
                "expiration_policy": [{"ttl": 86400}],
                "scheduling": [{"timezone": "America/Los_Angeles",
                                "schedule": [{"cron": "* 8-18 * * 1-5", "instances": 3}]}]
            }]
        })])
        .unwrap();
        let preset = &state.presets[0];
        assert_eq!(preset.parameters[0].name, "Sample");
        let prebuild = preset.prebuild.as_ref().unwrap();
        assert_eq!(prebuild.instances, 4);
        assert_eq!(prebuild.expiration_policy.as_ref().unwrap().ttl, 86400);
        let scheduling = prebuild.scheduling.as_ref().unwrap();
        assert_eq!(scheduling.timezone, "America/Los_Angeles");
        assert_eq!(scheduling.schedule[0].instances, 3);
        assert!(state.warnings.is_empty());
    }

    #[test]
    fn warnings_for_unknown_parameters_and_missing_prebuild() {
        let state =
            convert(&[json!({"name": "p", "parameters": {"Nope": "1", "Sample": "2"}})]).unwrap();
        assert_eq!(
            state.warnings,
            [
                "coder_workspace_preset defines preset values for at least one parameter that is not defined by the template: Nope",
                "coder_workspace_preset must have exactly one prebuild block: \"p\"",
            ]
        );
        assert_eq!(state.presets[0].prebuild.as_ref().unwrap().instances, 0);
    }

    #[test]
    fn duplicate_names() {
        let err = convert(&[json!({"name": "a"}), json!({"name": "a"})]).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"coder_workspace_preset names must be unique but "a" appears multiple times"#
        );
    }

    #[test]
    fn at_most_one_default() {
        let err = convert(&[
            json!({"name": "a", "default": true}),
            json!({"name": "b", "default": true}),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a maximum of 1 coder_workspace_preset can be marked as default, but 2 are set"
        );
    }

    #[test]
    fn duplicate_parameters_message() {
        let err = ConvertError::DuplicatePresetParameters {
            names: vec!["\"a\"".into(), "\"b\"".into()],
        };
        assert_eq!(
            err.to_string(),
            r#"coder_workspace_preset parameters must be unique but "a" and "b" appear multiple times"#
        );
    }

    #[test]
    fn decode_error() {
        let err =
            convert(&[json!({"name": "a", "prebuilds": [{"instances": "many"}]})]).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"decode preset attributes: "prebuilds[0].instances": expected a number, found a string"#
        );
    }
}
