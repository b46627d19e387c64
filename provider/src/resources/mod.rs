//! Managed resource types, one file each.

pub mod agent;
pub mod app;
