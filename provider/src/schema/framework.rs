//! A small provider framework: resource and data-source types declare a schema and behaviour,
//! and [`Framework`] turns them into a [`ProviderServer`] with the generic rules (validation,
//! defaults, planning, replacement, state upgrade, ids) applied uniformly.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::cty::{AttributePath, Value};

use super::diag::{Diagnostic, Diagnostics};
use super::model::Schema;
use super::plan::{plan_object, requires_replace};
use super::server::{
    ApplyRequest, ApplyResponse, PlanRequest, PlanResponse, ProviderSchemas, ProviderServer,
    RawState, ReadResponse,
};
use super::upgrade::upgrade_json;
use super::walk::{apply_defaults, check_config, unknowns_to_null};

/// A managed resource type. `M` is what the provider's configure step produced.
pub trait Resource<M>: Send + Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Cross-attribute checks on configuration (may contain unknowns).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Adjusts the generic plan where a computed value already follows from the configuration
    /// (may hold unknowns) at plan time, so it is known to Terraform before apply. Runs
    /// before `check_plan`; whatever it makes known, `create` must return unchanged.
    fn refine_plan(&self, _config: &Value, _planned: &mut Value) {}
    /// Plan-time checks on the planned object (upstream's CustomizeDiff).
    fn check_plan(&self, _planned: &Value, _diags: &mut Diagnostics) {}
    /// Creates the object: resolve every unknown of `planned`. An unknown `id` left in place
    /// becomes a random UUID.
    fn create(&self, meta: &M, planned: Value, diags: &mut Diagnostics) -> Value;
    /// Refresh. The default keeps the state as it is.
    fn read(&self, _meta: &M, state: Value, _diags: &mut Diagnostics) -> Value {
        state
    }
    /// Deletion; nothing to do for types that only exist in state.
    fn delete(&self, _meta: &M, _state: &Value, _diags: &mut Diagnostics) {}
}

/// A data source type.
pub trait DataSource<M>: Send + Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Reads: `config` has defaults applied; set every computed attribute. A null or unknown
    /// `id` left in place becomes a random UUID.
    fn read(&self, meta: &M, config: Value, diags: &mut Diagnostics) -> Value;
}

/// The provider itself: its configuration block and the types it serves.
pub trait ProviderDefinition: Send + Sync + 'static {
    type Meta: Send + Sync + 'static;
    fn schema(&self) -> Schema;
    /// Checks on the provider configuration beyond the declared validators.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<Self::Meta>;
    fn resources(&self) -> Vec<Box<dyn Resource<Self::Meta>>>;
    fn data_sources(&self) -> Vec<Box<dyn DataSource<Self::Meta>>>;
}

pub struct Framework<P: ProviderDefinition> {
    definition: P,
    schemas: ProviderSchemas,
    resources: BTreeMap<String, Box<dyn Resource<P::Meta>>>,
    data_sources: BTreeMap<String, Box<dyn DataSource<P::Meta>>>,
    meta: RwLock<Option<Arc<P::Meta>>>,
}

fn random_id() -> Value {
    Value::string(uuid::Uuid::new_v4().to_string())
}

fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    Diagnostic::error(format!("Unknown {kind} type"))
        .detail(format!(
            "This provider does not support the {kind} type {name:?}."
        ))
        .into()
}

impl<P: ProviderDefinition> Framework<P> {
    pub fn new(definition: P) -> Self {
        let mut schemas = ProviderSchemas {
            provider: definition.schema(),
            ..ProviderSchemas::default()
        };
        let mut resources = BTreeMap::new();
        for r in definition.resources() {
            schemas
                .resources
                .insert(r.name().to_string(), r.schema().with_implicit_id());
            resources.insert(r.name().to_string(), r);
        }
        let mut data_sources = BTreeMap::new();
        for d in definition.data_sources() {
            schemas
                .data_sources
                .insert(d.name().to_string(), d.schema().with_implicit_id());
            data_sources.insert(d.name().to_string(), d);
        }
        Framework {
            definition,
            schemas,
            resources,
            data_sources,
            meta: RwLock::new(None),
        }
    }

    fn meta(&self, diags: &mut Diagnostics) -> Option<Arc<P::Meta>> {
        let meta = self.meta.read().ok().and_then(|m| m.clone());
        if meta.is_none() {
            diags.push(
                Diagnostic::error("Provider not configured")
                    .detail("Terraform called the provider before configuring it."),
            );
        }
        meta
    }

    fn resource(&self, name: &str) -> Result<(&dyn Resource<P::Meta>, &Schema), Diagnostics> {
        match (self.resources.get(name), self.schemas.resources.get(name)) {
            (Some(r), Some(s)) => Ok((r.as_ref(), s)),
            _ => Err(unknown_type("resource", name)),
        }
    }

    fn data_source(&self, name: &str) -> Result<(&dyn DataSource<P::Meta>, &Schema), Diagnostics> {
        match (
            self.data_sources.get(name),
            self.schemas.data_sources.get(name),
        ) {
            (Some(d), Some(s)) => Ok((d.as_ref(), s)),
            _ => Err(unknown_type("data source", name)),
        }
    }
}

/// Fills an unknown or null `id` with a random UUID, as SDKv2 types do.
fn ensure_id(value: &mut Value) {
    if let Value::Object(attrs) = value {
        if let Some(id) = attrs.get_mut("id") {
            if id.is_null() || id.is_unknown() {
                *id = random_id();
            }
        }
    }
}

/// A provider bug (an unknown left after apply or read) must not corrupt state; report it and
/// store null instead.
fn settle(mut value: Value, what: &str, diags: &mut Diagnostics) -> Value {
    if !value.is_wholly_known() {
        diags.push(
            Diagnostic::error("Provider returned an incomplete object").detail(format!(
                "The provider left a value unknown after {what}; this is a bug in the provider."
            )),
        );
        unknowns_to_null(&mut value);
    }
    value
}

impl<P: ProviderDefinition> ProviderServer for Framework<P> {
    fn schemas(&self) -> &ProviderSchemas {
        &self.schemas
    }

    fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let block = &self.schemas.provider.block;
        check_config(block, config, &AttributePath::root(), config, &mut diags);
        self.definition.validate(config, &mut diags);
        diags
    }

    fn configure_provider(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let mut config = config.clone();
        apply_defaults(&self.schemas.provider.block, &mut config);
        if let Some(meta) = self.definition.configure(&config, &mut diags) {
            if let Ok(mut slot) = self.meta.write() {
                *slot = Some(Arc::new(meta));
            }
        }
        diags
    }

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let (resource, schema) = match self.resource(type_name) {
            Ok(found) => found,
            Err(d) => return d,
        };
        let mut diags = Diagnostics::new();
        check_config(
            &schema.block,
            config,
            &AttributePath::root(),
            config,
            &mut diags,
        );
        resource.validate(config, &mut diags);
        diags
    }

    fn validate_data_source_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let (data_source, schema) = match self.data_source(type_name) {
            Ok(found) => found,
            Err(d) => return d,
        };
        let mut diags = Diagnostics::new();
        check_config(
            &schema.block,
            config,
            &AttributePath::root(),
            config,
            &mut diags,
        );
        data_source.validate(config, &mut diags);
        diags
    }

    fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        raw: &RawState,
    ) -> (Value, Diagnostics) {
        let schema = match self.resource(type_name) {
            Ok((_, schema)) => schema,
            Err(d) => return (Value::Null, d),
        };
        if version > schema.version {
            return (
                Value::Null,
                Diagnostic::error("Resource state is newer than this provider")
                    .detail(format!(
                        "The state of this {type_name} was written with schema version {version}, \
                         but this provider only knows up to version {}. Use a newer provider.",
                        schema.version
                    ))
                    .into(),
            );
        }
        match raw {
            RawState::Json(bytes) => match upgrade_json(&schema.block, bytes) {
                Ok(value) => (value, Diagnostics::new()),
                Err(e) => (
                    Value::Null,
                    Diagnostic::error("Failed to upgrade resource state")
                        .detail(format!("{type_name}: {e}"))
                        .into(),
                ),
            },
            RawState::Flatmap(_) => (
                Value::Null,
                Diagnostic::error("Failed to upgrade resource state")
                    .detail(format!(
                        "{type_name}: state in the pre-0.12 flatmap format is not supported; \
                         refresh it with an older provider first."
                    ))
                    .into(),
            ),
        }
    }

    fn read_resource(&self, type_name: &str, current: Value, private: Vec<u8>) -> ReadResponse {
        let mut diagnostics = Diagnostics::new();
        let (resource, _) = match self.resource(type_name) {
            Ok(found) => found,
            Err(d) => {
                return ReadResponse {
                    new_state: current,
                    private,
                    diagnostics: d,
                }
            }
        };
        let Some(meta) = self.meta(&mut diagnostics) else {
            return ReadResponse {
                new_state: current,
                private,
                diagnostics,
            };
        };
        if current.is_null() {
            return ReadResponse {
                new_state: current,
                private,
                diagnostics,
            };
        }
        let new_state = resource.read(&meta, current, &mut diagnostics);
        ReadResponse {
            new_state: settle(new_state, "refresh", &mut diagnostics),
            private,
            diagnostics,
        }
    }

    fn plan_resource_change(&self, request: PlanRequest<'_>) -> PlanResponse {
        let (resource, schema) = match self.resource(request.type_name) {
            Ok(found) => found,
            Err(diagnostics) => {
                return PlanResponse {
                    planned_state: request.proposed_new_state,
                    diagnostics,
                    ..PlanResponse::default()
                }
            }
        };
        if request.proposed_new_state.is_null() {
            // Destroy: nothing to plan.
            return PlanResponse {
                planned_state: Value::Null,
                planned_private: request.prior_private,
                ..PlanResponse::default()
            };
        }
        let create = request.prior_state.is_null();
        let mut planned = plan_object(
            &schema.block,
            &request.config,
            &request.proposed_new_state,
            create,
        );
        resource.refine_plan(&request.config, &mut planned);
        let mut diagnostics = Diagnostics::new();
        resource.check_plan(&planned, &mut diagnostics);
        let replace = if create {
            Vec::new()
        } else {
            requires_replace(&schema.block, &request.prior_state, &planned)
        };
        PlanResponse {
            planned_state: planned,
            requires_replace: replace,
            planned_private: request.prior_private,
            diagnostics,
        }
    }

    fn apply_resource_change(&self, request: ApplyRequest<'_>) -> ApplyResponse {
        let mut diagnostics = Diagnostics::new();
        let (resource, _) = match self.resource(request.type_name) {
            Ok(found) => found,
            Err(d) => {
                return ApplyResponse {
                    new_state: request.prior_state,
                    diagnostics: d,
                    ..ApplyResponse::default()
                }
            }
        };
        let Some(meta) = self.meta(&mut diagnostics) else {
            return ApplyResponse {
                new_state: request.prior_state,
                diagnostics,
                ..ApplyResponse::default()
            };
        };
        if request.planned_state.is_null() {
            resource.delete(&meta, &request.prior_state, &mut diagnostics);
            let new_state = if diagnostics.has_errors() {
                request.prior_state
            } else {
                Value::Null
            };
            return ApplyResponse {
                new_state,
                diagnostics,
                ..ApplyResponse::default()
            };
        }
        let mut new_state = if request.prior_state.is_null() {
            resource.create(&meta, request.planned_state, &mut diagnostics)
        } else {
            // Every configurable attribute of our types is force-new, so an in-place update only
            // ever carries values that are already known.
            request.planned_state
        };
        ensure_id(&mut new_state);
        ApplyResponse {
            new_state: settle(new_state, "apply", &mut diagnostics),
            private: request.planned_private,
            diagnostics,
        }
    }

    fn import_resource_state(&self, type_name: &str, _id: &str) -> Diagnostics {
        Diagnostic::error(format!("resource {type_name} doesn't support import"))
            .detail(format!(
                "{type_name} only exists in Terraform state; declare it in configuration instead \
                 of importing it."
            ))
            .into()
    }

    fn read_data_source(&self, type_name: &str, config: Value) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        let (data_source, schema) = match self.data_source(type_name) {
            Ok(found) => found,
            Err(d) => return (Value::Null, d),
        };
        let Some(meta) = self.meta(&mut diags) else {
            return (Value::Null, diags);
        };
        let mut config = config;
        apply_defaults(&schema.block, &mut config);
        let mut state = data_source.read(&meta, config, &mut diags);
        ensure_id(&mut state);
        (settle(state, "read", &mut diags), diags)
    }
}
