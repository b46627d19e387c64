//! Logs go to stderr as hclog-style JSON lines (`@level`, `@message`, fields), which go-plugin
//! re-logs inside Terraform's own log at the right level. stdout is reserved for the handshake.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

struct HclogJson;

#[derive(Default)]
struct Fields(serde_json::Map<String, serde_json::Value>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(key(field), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(key(field), format!("{value:?}").into());
    }
}

fn key(field: &Field) -> String {
    match field.name() {
        "message" => "@message".to_string(),
        other => other.to_string(),
    }
}

impl<S, N> FormatEvent<S, N> for HclogJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = match *event.metadata().level() {
            Level::TRACE => "trace",
            Level::DEBUG => "debug",
            Level::INFO => "info",
            Level::WARN => "warn",
            Level::ERROR => "error",
        };
        fields.0.insert("@level".into(), level.into());
        fields
            .0
            .insert("@module".into(), "provider.terraform-provider-coder".into());
        let line = serde_json::Value::Object(fields.0).to_string();
        writeln!(writer, "{line}")
    }
}

/// The level from `TF_LOG_PROVIDER`, else `TF_LOG` (Terraform's own switches); warnings otherwise.
fn level_from(provider: Option<&str>, global: Option<&str>) -> Option<Level> {
    let raw = provider
        .or(global)
        .unwrap_or("warn")
        .trim()
        .to_ascii_lowercase();
    match raw.as_str() {
        "off" => None,
        "trace" | "json" => Some(Level::TRACE),
        "debug" => Some(Level::DEBUG),
        "info" => Some(Level::INFO),
        "error" => Some(Level::ERROR),
        _ => Some(Level::WARN),
    }
}

pub fn init() {
    let provider = std::env::var("TF_LOG_PROVIDER").ok();
    let global = std::env::var("TF_LOG").ok();
    let Some(level) = level_from(provider.as_deref(), global.as_deref()) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .event_format(HclogJson)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_level_wins_over_global() {
        assert_eq!(level_from(Some("debug"), Some("error")), Some(Level::DEBUG));
        assert_eq!(level_from(None, Some("TRACE")), Some(Level::TRACE));
        assert_eq!(level_from(None, None), Some(Level::WARN));
        assert_eq!(level_from(Some("off"), None), None);
    }
}
