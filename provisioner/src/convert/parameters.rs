//! `data "coder_parameter"` → [`RichParameter`]s, in discovery order.

use coder_proto::provisioner::{ParameterFormType, RichParameter, RichParameterOption};
use serde_json::Value;

use super::json::{saturate_i32, AttrError, Attrs};
use super::text::go_quote;
use super::{ConvertError, Index, TfResource};

#[derive(Debug, Default)]
struct Validation {
    min: i64,
    min_disabled: bool,
    max: i64,
    max_disabled: bool,
    monotonic: String,
    regex: String,
    error: String,
}

#[derive(Debug, Default)]
struct ParameterAttributes {
    name: String,
    display_name: String,
    description: String,
    r#type: String,
    form_type: String,
    mutable: bool,
    default: String,
    icon: String,
    options: Vec<RichParameterOption>,
    validation: Vec<Validation>,
    optional: bool,
    order: i64,
    ephemeral: bool,
}

impl ParameterAttributes {
    fn decode(a: Attrs<'_>) -> Result<Self, AttrError> {
        Ok(ParameterAttributes {
            name: a.string("name")?,
            display_name: a.string("display_name")?,
            description: a.string("description")?,
            r#type: a.string("type")?,
            form_type: a.string("form_type")?,
            mutable: a.bool("mutable")?,
            default: a.opt_string("default")?.unwrap_or_default(),
            icon: a.string("icon")?,
            options: a.decode_blocks("option", |o| {
                Ok(RichParameterOption {
                    name: o.string("name")?,
                    description: o.string("description")?,
                    value: o.string("value")?,
                    icon: o.string("icon")?,
                })
            })?,
            validation: a.decode_blocks("validation", |v| {
                Ok(Validation {
                    min: v.i64("min")?,
                    min_disabled: v.bool("min_disabled")?,
                    max: v.i64("max")?,
                    max_disabled: v.bool("max_disabled")?,
                    monotonic: v.string("monotonic")?,
                    regex: v.string("regex")?,
                    error: v.string("error")?,
                })
            })?,
            optional: a.bool("optional")?,
            order: a.i64("order")?,
            ephemeral: a.bool("ephemeral")?,
        })
    }
}

/// The provider's `form_type` names; empty means "let the UI choose".
fn form_type(name: &str) -> Option<ParameterFormType> {
    Some(match name {
        "" => ParameterFormType::Default,
        "error" => ParameterFormType::FormError,
        "radio" => ParameterFormType::Radio,
        "dropdown" => ParameterFormType::Dropdown,
        "input" => ParameterFormType::Input,
        "textarea" => ParameterFormType::Textarea,
        "slider" => ParameterFormType::Slider,
        "checkbox" => ParameterFormType::Checkbox,
        "switch" => ParameterFormType::Switch,
        "tag-select" => ParameterFormType::Tagselect,
        "multi-select" => ParameterFormType::Multiselect,
        _ => return None,
    })
}

/// Provider < 0.8.2 had no `min_disabled`/`max_disabled` and required `min` and `max`
/// together: both count as set when either is non-zero.
fn has_legacy_validation(resource: &TfResource) -> bool {
    match resource.values.get("validation") {
        Some(Value::Array(blocks)) => match blocks.first() {
            Some(Value::Object(block)) => !block.contains_key("min_disabled"),
            _ => false,
        },
        _ => false,
    }
}

fn convert_one(resource: &TfResource) -> Result<RichParameter, ConvertError> {
    let attrs = ParameterAttributes::decode(Attrs::new(&resource.values)).map_err(|source| {
        ConvertError::DecodeParameter {
            name: resource.name.clone(),
            source,
        }
    })?;
    let form = form_type(&attrs.form_type).ok_or_else(|| ConvertError::UnknownFormType {
        name: resource.name.clone(),
        form_type: attrs.form_type.clone(),
    })?;
    let mut parameter = RichParameter {
        name: attrs.name,
        description: attrs.description,
        r#type: attrs.r#type,
        mutable: attrs.mutable,
        default_value: attrs.default,
        icon: attrs.icon,
        options: attrs.options,
        required: !attrs.optional,
        display_name: attrs.display_name,
        order: saturate_i32(attrs.order),
        ephemeral: attrs.ephemeral,
        form_type: form as i32,
        ..RichParameter::default()
    };
    // Several validation blocks are ignored altogether, as upstream does.
    if let [validation] = attrs.validation.as_slice() {
        let (min_disabled, max_disabled) = if has_legacy_validation(resource) {
            let unset = validation.min == 0 && validation.max == 0;
            (unset, unset)
        } else {
            (validation.min_disabled, validation.max_disabled)
        };
        parameter.validation_regex = validation.regex.clone();
        parameter.validation_error = validation.error.clone();
        parameter.validation_min = (!min_disabled).then(|| saturate_i32(validation.min));
        parameter.validation_max = (!max_disabled).then(|| saturate_i32(validation.max));
        parameter.validation_monotonic = validation.monotonic.clone();
    }
    Ok(parameter)
}

/// Every `coder_parameter`, in discovery order; names must be unique.
pub(crate) fn convert(index: &Index<'_>) -> Result<Vec<RichParameter>, ConvertError> {
    let mut parameters: Vec<RichParameter> = Vec::new();
    let mut duplicates: Vec<String> = Vec::new();
    for resource in &index.parameters {
        let parameter = convert_one(resource)?;
        let quoted = go_quote(&parameter.name);
        if !duplicates.contains(&quoted) && parameters.iter().any(|p| p.name == parameter.name) {
            duplicates.push(quoted);
        }
        parameters.push(parameter);
    }
    if !duplicates.is_empty() {
        return Err(ConvertError::DuplicateParameterNames { names: duplicates });
    }
    Ok(parameters)
}

#[cfg(test)]
mod tests {
    use coder_proto::provisioner::ParameterFormType;
    use serde_json::{json, Value};

    use super::super::test_support::{module, resource};
    use super::super::{convert_state, ConvertError, TfModule};

    fn params(values: &[Value]) -> Vec<TfModule> {
        let resources = values
            .iter()
            .enumerate()
            .map(|(i, v)| resource(&format!("data.coder_parameter.p{i}"), v.clone()))
            .collect();
        vec![module(resources)]
    }

    fn convert(
        values: &[Value],
    ) -> Result<Vec<coder_proto::provisioner::RichParameter>, ConvertError> {
        convert_state(&params(values), "digraph {}").map(|s| s.parameters)
    }

    #[test]
    fn duplicate_names() {
        let named =
            |names: &[&str]| -> Vec<Value> { names.iter().map(|n| json!({"name": n})).collect() };
        let cases = [
            (
                named(&["identical", "identical", "identical"]),
                r#"coder_parameter names must be unique but "identical" appears multiple times"#,
            ),
            (
                named(&["identical-0", "identical-1", "identical-0", "identical-1"]),
                r#"coder_parameter names must be unique but "identical-0" and "identical-1" appear multiple times"#,
            ),
            (
                named(&[
                    "identical-0",
                    "identical-1",
                    "identical-2",
                    "identical-0",
                    "identical-1",
                    "identical-2",
                ]),
                r#"coder_parameter names must be unique but "identical-0", "identical-1" and "identical-2" appear multiple times"#,
            ),
        ];
        for (values, want) in cases {
            assert_eq!(convert(&values).unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn fields_and_validation() {
        let got = convert(&[
            json!({"name": "a", "type": "number", "default": "4", "optional": true,
                   "form_type": "input", "order": 55, "ephemeral": true, "mutable": true,
                   "validation": [{"min": 0, "min_disabled": false, "max": 6,
                                   "max_disabled": true, "monotonic": "increasing",
                                   "regex": "", "error": "bad"}]}),
            json!({"name": "b", "default": null, "form_type": "radio",
                   "option": [{"name": "First", "value": "first"}]}),
            // Provider < 0.8.2: no *_disabled keys.
            json!({"name": "c", "validation": [{"min": 0, "max": 0}]}),
            json!({"name": "d", "validation": [{"min": 0, "max": 3}]}),
            // Two validation blocks: neither is used.
            json!({"name": "e", "validation": [{"min": 1}, {"min": 2}]}),
        ])
        .unwrap();
        assert_eq!(got[0].default_value, "4");
        assert!(!got[0].required);
        assert_eq!(got[0].order, 55);
        assert!(got[0].ephemeral && got[0].mutable);
        assert_eq!(got[0].form_type, ParameterFormType::Input as i32);
        assert_eq!(
            (got[0].validation_min, got[0].validation_max),
            (Some(0), None)
        );
        assert_eq!(got[0].validation_monotonic, "increasing");
        assert_eq!(got[0].validation_error, "bad");
        assert!(got[1].required);
        assert_eq!(got[1].default_value, "");
        assert_eq!(got[1].form_type, ParameterFormType::Radio as i32);
        assert_eq!(got[1].options[0].value, "first");
        assert_eq!((got[2].validation_min, got[2].validation_max), (None, None));
        assert_eq!(
            (got[3].validation_min, got[3].validation_max),
            (Some(0), Some(3))
        );
        assert_eq!((got[4].validation_min, got[4].validation_max), (None, None));
    }

    #[test]
    fn child_modules_come_first() {
        let mut root = module(vec![resource(
            "data.coder_parameter.root",
            json!({"name": "root"}),
        )]);
        let mut child = module(vec![resource(
            "module.c.data.coder_parameter.x",
            json!({"name": "child"}),
        )]);
        child.child_modules.push(module(vec![resource(
            "module.c.module.g.data.coder_parameter.x",
            json!({"name": "grandchild"}),
        )]));
        root.child_modules.push(child);
        let names: Vec<String> = convert_state(&[root], "digraph {}")
            .unwrap()
            .parameters
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["grandchild", "child", "root"]);
    }

    #[test]
    fn decode_errors() {
        assert_eq!(
            convert(&[json!({"name": "a", "mutable": "yes"})])
                .unwrap_err()
                .to_string(),
            r#"decode map values for coder_parameter.p0: "mutable": expected a bool, found a string"#
        );
        assert_eq!(
            convert(&[json!({"name": "a", "form_type": "wheel"})])
                .unwrap_err()
                .to_string(),
            r#"decode form_type for coder_parameter.p0: unsupported form type "wheel""#
        );
    }
}
