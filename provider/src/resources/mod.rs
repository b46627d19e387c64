//! Managed resource types, one file each.

pub mod agent;
pub mod agent_instance;
pub mod ai_task;
pub mod app;
pub mod devcontainer;
pub mod env;
pub mod external_agent;
pub mod metadata;
pub mod script;
