//! The parts of Go's standard library (and of `robfig/cron`) whose behaviour upstream's users
//! see: what they accept and reject, and the exact error texts upstream passes through. Each
//! module is named after the Go package it reproduces, and none depends on a `coder_*` type.

pub(crate) mod cron;
pub(crate) mod json;
pub(crate) mod regexp;
pub(crate) mod strconv;
pub(crate) mod time;
pub mod url;
