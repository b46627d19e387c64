//! The environment the Coder control plane passes to the provider (`CODER_*` variables), captured
//! once when the provider is configured so every type reads the same snapshot and tests can supply
//! their own without touching the process environment.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value when the variable is set, even to the empty string (Go's `os.LookupEnv`).
    pub fn lookup(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value when set and non-empty (upstream treats an empty value as unset here).
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.lookup(name).filter(|v| !v.is_empty())
    }

    /// The value when set and non-empty, else `default`.
    pub fn or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.non_empty(name).unwrap_or(default)
    }
}
