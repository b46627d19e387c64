//! The protocol-independent provider interface the plugin layer serves. Requests and responses
//! carry decoded cty values; the plugin layer owns the wire encodings and protocol versions.

use std::collections::BTreeMap;

use crate::cty::{AttributePath, Value};

use super::diag::Diagnostics;
use super::model::Schema;

/// Every schema a provider serves, keyed by type name.
#[derive(Clone, Debug, Default)]
pub struct ProviderSchemas {
    pub provider: Schema,
    pub resources: BTreeMap<String, Schema>,
    pub data_sources: BTreeMap<String, Schema>,
}

/// Stored state as Terraform hands it to `UpgradeResourceState`.
#[derive(Clone, Debug)]
pub enum RawState {
    Json(Vec<u8>),
    Flatmap(BTreeMap<String, String>),
}

pub struct PlanRequest<'a> {
    pub type_name: &'a str,
    pub prior_state: Value,
    pub proposed_new_state: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
}

#[derive(Debug)]
pub struct PlanResponse {
    pub planned_state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct ApplyRequest<'a> {
    pub type_name: &'a str,
    pub prior_state: Value,
    pub planned_state: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
}

#[derive(Debug)]
pub struct ApplyResponse {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug)]
pub struct ReadResponse {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// What the plugin layer needs from a provider. Handlers are called concurrently.
pub trait ProviderServer: Send + Sync + 'static {
    fn schemas(&self) -> &ProviderSchemas;
    fn validate_provider_config(&self, config: &Value) -> Diagnostics;
    fn configure_provider(&self, config: &Value) -> Diagnostics;
    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics;
    fn validate_data_source_config(&self, type_name: &str, config: &Value) -> Diagnostics;
    fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        raw: &RawState,
    ) -> (Value, Diagnostics);
    fn read_resource(&self, type_name: &str, current: Value, private: Vec<u8>) -> ReadResponse;
    fn plan_resource_change(&self, request: PlanRequest<'_>) -> PlanResponse;
    fn apply_resource_change(&self, request: ApplyRequest<'_>) -> ApplyResponse;
    fn import_resource_state(&self, type_name: &str, id: &str) -> Diagnostics;
    fn read_data_source(&self, type_name: &str, config: Value) -> (Value, Diagnostics);
    /// Terraform asks in-flight work to stop (Ctrl-C). Advisory.
    fn stop(&self) {}
}

impl Default for PlanResponse {
    fn default() -> Self {
        PlanResponse {
            planned_state: Value::Null,
            requires_replace: Vec::new(),
            planned_private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }
}

impl Default for ApplyResponse {
    fn default() -> Self {
        ApplyResponse {
            new_state: Value::Null,
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }
}
