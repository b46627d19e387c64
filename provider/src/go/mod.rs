//! The parts of Go's standard library (and of `robfig/cron`) whose behaviour upstream's users
//! see: what they accept and reject, and the exact error texts upstream passes through. Each
//! module is named after the Go package it reproduces; none knows about any `coder_*` type.

pub(crate) mod json;
pub(crate) mod regexp;
pub(crate) mod strconv;
pub mod url;
