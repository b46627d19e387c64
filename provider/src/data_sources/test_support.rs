//! Drives data sources through the real [`Framework`] path (config validation, defaults, read,
//! id filling) with an environment of the test's choosing, so unit tests see exactly what
//! Terraform would.

use crate::cty::Value;
use crate::env::Env;
use crate::provider::{framework_with_env, CoderProvider};
use crate::schema::{Block, Diagnostic, Diagnostics, Framework, Nesting, ProviderServer, Severity};

/// The real provider, configured with an empty provider block and the given environment.
fn framework(env: &[(&str, &str)]) -> Framework<CoderProvider> {
    let framework = framework_with_env(Env::from_pairs(env.iter().copied()));
    let mut provider_config = framework.schemas().provider.block.null_object();
    complete(&framework.schemas().provider.block, &mut provider_config);
    let configured = framework.configure_provider(&provider_config);
    assert!(configured.is_empty(), "configure: {configured:?}");
    framework
}

/// Fills what Terraform always sends: every attribute (null when unset) and every block type
/// (empty when absent), at every depth.
fn complete(block: &Block, value: &mut Value) {
    let Value::Object(attrs) = value else {
        return;
    };
    for attribute in &block.attributes {
        attrs.entry(attribute.name.clone()).or_insert(Value::Null);
    }
    for nested in &block.blocks {
        let slot = attrs
            .entry(nested.name.clone())
            .or_insert_with(|| nested.empty_value());
        match (nested.nesting, slot) {
            (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => items
                .iter_mut()
                .for_each(|item| complete(&nested.block, item)),
            (Nesting::Single | Nesting::Group, item) => complete(&nested.block, item),
            _ => {}
        }
    }
}

fn config(framework: &Framework<CoderProvider>, name: &str, attrs: &[(&str, Value)]) -> Value {
    let schema = &framework.schemas().data_sources[name];
    let mut value = Value::object(attrs.iter().map(|(k, v)| (k.to_string(), v.clone())));
    complete(&schema.block, &mut value);
    value
}

/// ValidateDataResourceConfig on a configuration made of `attrs`.
pub fn validate(name: &str, attrs: &[(&str, Value)]) -> Diagnostics {
    let framework = framework(&[]);
    let config = config(&framework, name, attrs);
    framework.validate_data_source_config(name, &config)
}

/// The error diagnostics of `validate`, failing the test when there are none.
pub fn validate_errors(name: &str, attrs: &[(&str, Value)]) -> Vec<Diagnostic> {
    let errors: Vec<Diagnostic> = validate(name, attrs)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(
        !errors.is_empty(),
        "expected validation errors for {attrs:?}"
    );
    errors
}

/// ReadDataSource with the given configuration and environment (after the configuration passed
/// validation, as Terraform only reads valid configurations).
pub fn read_diags(
    name: &str,
    attrs: &[(&str, Value)],
    env: &[(&str, &str)],
) -> (Value, Diagnostics) {
    let framework = framework(env);
    let config = config(&framework, name, attrs);
    let validation = framework.validate_data_source_config(name, &config);
    assert!(
        !validation.has_errors(),
        "configuration must be valid before reading: {validation:?}"
    );
    framework.read_data_source(name, config)
}

/// A read that must succeed without any diagnostic.
pub fn read(name: &str, attrs: &[(&str, Value)], env: &[(&str, &str)]) -> Value {
    let (state, diags) = read_diags(name, attrs, env);
    assert!(diags.is_empty(), "unexpected diagnostics: {diags:?}");
    state
}

/// A read that must fail; returns its first error.
pub fn read_error(name: &str, attrs: &[(&str, Value)], env: &[(&str, &str)]) -> Diagnostic {
    let (_, diags) = read_diags(name, attrs, env);
    match diags.into_iter().find(|d| d.severity == Severity::Error) {
        Some(d) => d,
        None => panic!("expected an error reading {name} with {attrs:?}"),
    }
}
