//! Drives types through the real provider (`Framework<CoderProvider>`, the code path Terraform
//! uses: config validation, defaults, plan, apply, read, id filling) with an environment of the
//! test's choosing, so unit tests see exactly what Terraform would.

use std::collections::BTreeMap;

use super::*;
use crate::schema::server::{ApplyRequest, ApplyResponse, PlanRequest, PlanResponse, ReadResponse};
use crate::schema::{Block, Diagnostic, Nesting, ProviderServer, Severity};

pub struct Tf {
    pub fw: Framework<CoderProvider>,
}

/// The provider configured with an empty `provider "coder" {}` block and `env`.
pub fn tf(env: &[(&str, &str)]) -> Tf {
    tf_with_url(None, env)
}

/// The provider configured with `url` (when given) and `env`; configuring must not report
/// anything.
pub fn tf_with_url(url: Option<&str>, env: &[(&str, &str)]) -> Tf {
    let fw = framework_with_env(Env::from_pairs(env.iter().copied()));
    let mut config = attrs(&[("url", url.map(Value::string).unwrap_or(Value::Null))]);
    complete(&fw.schemas().provider.block, &mut config);
    let diags = fw.configure_provider(&config);
    assert!(diags.is_empty(), "configure: {diags:?}");
    Tf { fw }
}

pub fn errors(diags: &Diagnostics) -> Vec<String> {
    of_severity(diags, Severity::Error)
}

pub fn warnings(diags: &Diagnostics) -> Vec<String> {
    of_severity(diags, Severity::Warning)
}

fn of_severity(diags: &Diagnostics, severity: Severity) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == severity)
        .map(|d| d.summary.clone())
        .collect()
}

pub fn is_uuid(value: Option<&Value>) -> bool {
    value
        .and_then(Value::as_str)
        .is_some_and(|s| s.len() == 36 && uuid::Uuid::try_parse(s).is_ok())
}

pub fn attrs(pairs: &[(&str, Value)]) -> Value {
    Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
}

impl Tf {
    fn resource_block(&self, name: &str) -> &Block {
        match self.fw.schemas().resources.get(name) {
            Some(schema) => &schema.block,
            None => panic!("{name} is not served"),
        }
    }

    /// A resource configuration as Terraform sends it: `pairs`, every other attribute
    /// null and every other block type empty, at every depth.
    pub fn config(&self, name: &str, pairs: &[(&str, Value)]) -> Value {
        let mut value = attrs(pairs);
        complete(self.resource_block(name), &mut value);
        value
    }

    /// One element of the nested block at `blocks` (outermost first), completed likewise.
    pub fn element(&self, name: &str, blocks: &[&str], pairs: &[(&str, Value)]) -> Value {
        let mut block = self.resource_block(name);
        for b in blocks {
            block = match block.nested(b) {
                Some(nested) => &nested.block,
                None => panic!("{name} has no block {b}"),
            };
        }
        let mut value = attrs(pairs);
        complete(block, &mut value);
        value
    }

    pub fn validate(&self, name: &str, config: &Value) -> Diagnostics {
        self.fw.validate_resource_config(name, config)
    }

    /// PlanResourceChange for a create; Terraform proposes the configuration.
    pub fn plan(&self, name: &str, config: &Value) -> PlanResponse {
        self.fw.plan_resource_change(PlanRequest {
            type_name: name,
            prior_state: Value::Null,
            proposed_new_state: config.clone(),
            config: config.clone(),
            prior_private: Vec::new(),
        })
    }

    pub fn apply(&self, name: &str, planned: &Value, config: &Value) -> ApplyResponse {
        self.fw.apply_resource_change(ApplyRequest {
            type_name: name,
            prior_state: Value::Null,
            planned_state: planned.clone(),
            config: config.clone(),
            planned_private: Vec::new(),
        })
    }

    /// The plan Terraform makes for `config` over the stored `state`.
    pub fn replan(&self, name: &str, state: &Value, config: &Value) -> PlanResponse {
        let proposed = proposed_new(self.resource_block(name), state, config);
        self.fw.plan_resource_change(PlanRequest {
            type_name: name,
            prior_state: state.clone(),
            proposed_new_state: proposed,
            config: config.clone(),
            prior_private: Vec::new(),
        })
    }

    pub fn refresh(&self, name: &str, state: &Value) -> ReadResponse {
        self.fw.read_resource(name, state.clone(), Vec::new())
    }

    /// Validate, plan, apply, refresh and re-plan `config`, asserting what strict
    /// Terraform asserts (no errors, apply keeps known planned values, the re-plan after
    /// a refresh is empty). Returns (plan, state, all diagnostics).
    pub fn create(&self, name: &str, config: &Value) -> (Value, Value, Diagnostics) {
        let mut all = self.validate(name, config);
        assert!(!all.has_errors(), "validate: {all:?}");
        let plan = self.plan(name, config);
        assert!(
            !plan.diagnostics.has_errors(),
            "plan: {:?}",
            plan.diagnostics
        );
        all.extend(plan.diagnostics.clone());
        let applied = self.apply(name, &plan.planned_state, config);
        assert!(
            !applied.diagnostics.has_errors(),
            "apply: {:?}",
            applied.diagnostics
        );
        all.extend(applied.diagnostics.clone());
        assert_consistent(&plan.planned_state, &applied.new_state, "");
        let refreshed = self.refresh(name, &applied.new_state);
        assert!(
            !refreshed.diagnostics.has_errors(),
            "refresh: {:?}",
            refreshed.diagnostics
        );
        assert_eq!(
            refreshed.new_state, applied.new_state,
            "refresh changed the state"
        );
        let again = self.replan(name, &refreshed.new_state, config);
        assert!(
            !again.diagnostics.has_errors(),
            "re-plan: {:?}",
            again.diagnostics
        );
        assert!(
            again.requires_replace.is_empty(),
            "re-plan replaces {:?}",
            again.requires_replace
        );
        assert_eq!(
            again.planned_state, applied.new_state,
            "re-plan changed the state"
        );
        (plan.planned_state, applied.new_state, all)
    }

    /// A data source configuration as Terraform sends it: `pairs`, every other attribute null
    /// and every other block type empty, at every depth.
    pub fn data_config(&self, name: &str, pairs: &[(&str, Value)]) -> Value {
        let block = match self.fw.schemas().data_sources.get(name) {
            Some(schema) => &schema.block,
            None => panic!("{name} is not served"),
        };
        let mut config = attrs(pairs);
        complete(block, &mut config);
        config
    }

    /// ReadDataSource with a configuration of `pairs` (others null / empty), after
    /// ValidateDataResourceConfig; the validation diagnostics come first.
    pub fn read_data(&self, name: &str, pairs: &[(&str, Value)]) -> (Value, Diagnostics) {
        let config = self.data_config(name, pairs);
        let mut diags = self.fw.validate_data_source_config(name, &config);
        let (state, read) = self.fw.read_data_source(name, config);
        diags.extend(read);
        (state, diags)
    }
}

/// ValidateDataResourceConfig of data source `name` on a configuration made of `attrs`, with an
/// empty environment.
pub fn validate(name: &str, attrs: &[(&str, Value)]) -> Diagnostics {
    let t = tf(&[]);
    t.fw.validate_data_source_config(name, &t.data_config(name, attrs))
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

/// ReadDataSource of data source `name` with the given configuration and environment (after
/// the configuration passed validation, as Terraform only reads valid configurations).
pub fn read_diags(
    name: &str,
    attrs: &[(&str, Value)],
    env: &[(&str, &str)],
) -> (Value, Diagnostics) {
    let t = tf(env);
    let config = t.data_config(name, attrs);
    let validation = t.fw.validate_data_source_config(name, &config);
    assert!(
        !validation.has_errors(),
        "configuration must be valid before reading: {validation:?}"
    );
    t.fw.read_data_source(name, config)
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

/// Terraform's proposed new state, as far as these schemas need it: configured values,
/// and prior values of computed attributes the configuration leaves null.
fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
    let (Value::Object(prior_attrs), Value::Object(config_attrs)) = (prior, config) else {
        return config.clone();
    };
    let mut out = BTreeMap::new();
    for attribute in &block.attributes {
        let configured = config_attrs
            .get(&attribute.name)
            .cloned()
            .unwrap_or(Value::Null);
        let value = if attribute.computed && configured.is_null() {
            prior_attrs
                .get(&attribute.name)
                .cloned()
                .unwrap_or(Value::Null)
        } else {
            configured
        };
        out.insert(attribute.name.clone(), value);
    }
    for nested in &block.blocks {
        let configured = config_attrs
            .get(&nested.name)
            .cloned()
            .unwrap_or_else(|| nested.empty_value());
        let prior_value = prior_attrs
            .get(&nested.name)
            .cloned()
            .unwrap_or(Value::Null);
        let value = match (&configured, &prior_value) {
            (Value::List(c), Value::List(p)) if c.len() == p.len() => Value::List(
                c.iter()
                    .zip(p)
                    .map(|(c, p)| proposed_new(&nested.block, p, c))
                    .collect(),
            ),
            (Value::Set(c), Value::Set(p)) if c.len() == p.len() => Value::Set(
                c.iter()
                    .zip(p)
                    .map(|(c, p)| proposed_new(&nested.block, p, c))
                    .collect(),
            ),
            _ => configured,
        };
        out.insert(nested.name.clone(), value);
    }
    Value::Object(out)
}

fn assert_consistent(planned: &Value, applied: &Value, at: &str) {
    match (planned, applied) {
        (Value::Unknown, v) => assert!(v.is_wholly_known(), "{at}: unknown after apply"),
        (Value::Object(p), Value::Object(a)) => {
            assert_eq!(
                p.keys().collect::<Vec<_>>(),
                a.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, pv) in p {
                if let Some(av) = a.get(k) {
                    assert_consistent(pv, av, &format!("{at}.{k}"));
                }
            }
        }
        (Value::List(p), Value::List(a)) | (Value::Set(p), Value::Set(a)) => {
            assert_eq!(p.len(), a.len(), "{at}: element count changed");
            for (i, (pv, av)) in p.iter().zip(a).enumerate() {
                assert_consistent(pv, av, &format!("{at}.{i}"));
            }
        }
        (p, a) => assert_eq!(p, a, "{at}: apply changed a planned value"),
    }
}
