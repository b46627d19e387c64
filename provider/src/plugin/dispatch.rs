//! The protocol-independent half of the provider service: decodes DynamicValues against the
//! schemas' implied types, calls the [`ProviderServer`], encodes the results. Both protocol
//! adapters (5 and 6) are thin field-copying layers over this.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cty::{self, AttributePath, Type, Value};
use crate::schema::server::{ApplyRequest, PlanRequest};
use crate::schema::{Diagnostic, Diagnostics, ProviderSchemas, ProviderServer, RawState};

/// A DynamicValue as both protocol versions carry it.
#[derive(Clone, Debug, Default)]
pub struct Dv {
    pub msgpack: Vec<u8>,
    pub json: Vec<u8>,
}

pub struct PlanOutcome {
    pub planned_state: Option<Dv>,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct StateOutcome {
    pub state: Option<Dv>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct Dispatcher {
    core: Arc<dyn ProviderServer>,
    provider_type: Type,
    resource_types: BTreeMap<String, Type>,
    data_source_types: BTreeMap<String, Type>,
}

fn decode(dv: Option<&Dv>, ty: &Type, what: &str) -> Result<Value, Diagnostic> {
    let result = match dv {
        None => return Ok(Value::Null),
        Some(dv) if !dv.msgpack.is_empty() => cty::msgpack::decode(&dv.msgpack, ty),
        Some(dv) if !dv.json.is_empty() => cty::json::decode_bytes(&dv.json, ty),
        Some(_) => return Ok(Value::Null),
    };
    result.map_err(|e| {
        Diagnostic::error(format!("Invalid {what} received from Terraform"))
            .detail(format!("The provider could not decode the {what}: {e}"))
    })
}

fn encode(value: &Value, ty: &Type, what: &str) -> Result<Dv, Diagnostic> {
    cty::msgpack::encode(value, ty)
        .map(|msgpack| Dv {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(format!("Provider produced an invalid {what}"))
                .detail(format!("The provider could not encode the {what}: {e}"))
        })
}

fn unknown_type(kind: &str, name: &str) -> Diagnostic {
    Diagnostic::error(format!("Unknown {kind} type")).detail(format!(
        "This provider does not support the {kind} type {name:?}."
    ))
}

impl Dispatcher {
    pub fn new(core: Arc<dyn ProviderServer>) -> Self {
        let schemas = core.schemas();
        let implied = |m: &BTreeMap<String, crate::schema::Schema>| {
            m.iter()
                .map(|(k, s)| (k.clone(), s.implied_type()))
                .collect::<BTreeMap<_, _>>()
        };
        Dispatcher {
            provider_type: schemas.provider.implied_type(),
            resource_types: implied(&schemas.resources),
            data_source_types: implied(&schemas.data_sources),
            core,
        }
    }

    pub fn schemas(&self) -> &ProviderSchemas {
        self.core.schemas()
    }

    fn resource_type(&self, name: &str) -> Result<&Type, Diagnostic> {
        self.resource_types
            .get(name)
            .ok_or_else(|| unknown_type("resource", name))
    }

    fn data_source_type(&self, name: &str) -> Result<&Type, Diagnostic> {
        self.data_source_types
            .get(name)
            .ok_or_else(|| unknown_type("data source", name))
    }

    pub fn validate_provider_config(&self, config: Option<&Dv>) -> Diagnostics {
        match decode(config, &self.provider_type, "provider configuration") {
            Ok(v) => self.core.validate_provider_config(&v),
            Err(d) => d.into(),
        }
    }

    pub fn configure_provider(&self, config: Option<&Dv>) -> Diagnostics {
        match decode(config, &self.provider_type, "provider configuration") {
            Ok(v) => self.core.configure_provider(&v),
            Err(d) => d.into(),
        }
    }

    pub fn validate_resource_config(&self, type_name: &str, config: Option<&Dv>) -> Diagnostics {
        let result = self
            .resource_type(type_name)
            .and_then(|ty| decode(config, ty, "resource configuration"));
        match result {
            Ok(v) => self.core.validate_resource_config(type_name, &v),
            Err(d) => d.into(),
        }
    }

    pub fn validate_data_source_config(&self, type_name: &str, config: Option<&Dv>) -> Diagnostics {
        let result = self
            .data_source_type(type_name)
            .and_then(|ty| decode(config, ty, "data source configuration"));
        match result {
            Ok(v) => self.core.validate_data_source_config(type_name, &v),
            Err(d) => d.into(),
        }
    }

    pub fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        json: Vec<u8>,
        flatmap: std::collections::HashMap<String, String>,
    ) -> (Option<Dv>, Diagnostics) {
        let ty = match self.resource_type(type_name) {
            Ok(ty) => ty,
            Err(d) => return (None, d.into()),
        };
        let raw = if json.is_empty() && !flatmap.is_empty() {
            RawState::Flatmap(flatmap.into_iter().collect())
        } else {
            RawState::Json(json)
        };
        let (value, mut diags) = self.core.upgrade_resource_state(type_name, version, &raw);
        if diags.has_errors() {
            return (None, diags);
        }
        match encode(&value, ty, "upgraded state") {
            Ok(dv) => (Some(dv), diags),
            Err(d) => {
                diags.push(d);
                (None, diags)
            }
        }
    }

    pub fn read_resource(
        &self,
        type_name: &str,
        current: Option<Dv>,
        private: Vec<u8>,
    ) -> StateOutcome {
        let ty = match self.resource_type(type_name) {
            Ok(ty) => ty.clone(),
            Err(d) => return keep_state(current, private, d),
        };
        let value = match decode(current.as_ref(), &ty, "current state") {
            Ok(v) => v,
            Err(d) => return keep_state(current, private, d),
        };
        let response = self.core.read_resource(type_name, value, private.clone());
        let mut diagnostics = response.diagnostics;
        match encode(&response.new_state, &ty, "refreshed state") {
            Ok(dv) => StateOutcome {
                state: Some(dv),
                private: response.private,
                diagnostics,
            },
            Err(d) => {
                diagnostics.push(d);
                StateOutcome {
                    state: current,
                    private,
                    diagnostics,
                }
            }
        }
    }

    pub fn plan_resource_change(
        &self,
        type_name: &str,
        prior: Option<&Dv>,
        proposed: Option<&Dv>,
        config: Option<&Dv>,
        prior_private: Vec<u8>,
    ) -> PlanOutcome {
        let failed = |d: Diagnostic| PlanOutcome {
            planned_state: None,
            requires_replace: Vec::new(),
            planned_private: Vec::new(),
            diagnostics: d.into(),
        };
        let ty = match self.resource_type(type_name) {
            Ok(ty) => ty,
            Err(d) => return failed(d),
        };
        let decoded = decode(prior, ty, "prior state").and_then(|prior| {
            Ok((
                prior,
                decode(proposed, ty, "proposed new state")?,
                decode(config, ty, "configuration")?,
            ))
        });
        let (prior_state, proposed_new_state, config) = match decoded {
            Ok(values) => values,
            Err(d) => return failed(d),
        };
        let response = self.core.plan_resource_change(PlanRequest {
            type_name,
            prior_state,
            proposed_new_state,
            config,
            prior_private,
        });
        let mut diagnostics = response.diagnostics;
        let planned_state = match encode(&response.planned_state, ty, "planned state") {
            Ok(dv) => Some(dv),
            Err(d) => {
                diagnostics.push(d);
                None
            }
        };
        PlanOutcome {
            planned_state,
            requires_replace: response.requires_replace,
            planned_private: response.planned_private,
            diagnostics,
        }
    }

    pub fn apply_resource_change(
        &self,
        type_name: &str,
        prior: Option<Dv>,
        planned: Option<&Dv>,
        config: Option<&Dv>,
        planned_private: Vec<u8>,
    ) -> StateOutcome {
        let ty = match self.resource_type(type_name) {
            Ok(ty) => ty.clone(),
            Err(d) => return keep_state(prior, Vec::new(), d),
        };
        let decoded = decode(prior.as_ref(), &ty, "prior state").and_then(|p| {
            Ok((
                p,
                decode(planned, &ty, "planned state")?,
                decode(config, &ty, "configuration")?,
            ))
        });
        let (prior_state, planned_state, config) = match decoded {
            Ok(values) => values,
            Err(d) => return keep_state(prior, Vec::new(), d),
        };
        let response = self.core.apply_resource_change(ApplyRequest {
            type_name,
            prior_state,
            planned_state,
            config,
            planned_private,
        });
        let mut diagnostics = response.diagnostics;
        match encode(&response.new_state, &ty, "new state") {
            Ok(dv) => StateOutcome {
                state: Some(dv),
                private: response.private,
                diagnostics,
            },
            Err(d) => {
                // Whatever went wrong, Terraform keeps the object it already had.
                diagnostics.push(d);
                StateOutcome {
                    state: prior,
                    private: Vec::new(),
                    diagnostics,
                }
            }
        }
    }

    pub fn import_resource_state(&self, type_name: &str, id: &str) -> Diagnostics {
        self.core.import_resource_state(type_name, id)
    }

    pub fn read_data_source(
        &self,
        type_name: &str,
        config: Option<&Dv>,
    ) -> (Option<Dv>, Diagnostics) {
        let ty = match self.data_source_type(type_name) {
            Ok(ty) => ty,
            Err(d) => return (None, d.into()),
        };
        let config = match decode(config, ty, "data source configuration") {
            Ok(v) => v,
            Err(d) => return (None, d.into()),
        };
        let (state, mut diags) = self.core.read_data_source(type_name, config);
        if diags.has_errors() {
            return (None, diags);
        }
        match encode(&state, ty, "data source state") {
            Ok(dv) => (Some(dv), diags),
            Err(d) => {
                diags.push(d);
                (None, diags)
            }
        }
    }

    pub fn stop(&self) {
        self.core.stop();
    }
}

fn keep_state(state: Option<Dv>, private: Vec<u8>, d: Diagnostic) -> StateOutcome {
    StateOutcome {
        state,
        private,
        diagnostics: d.into(),
    }
}
