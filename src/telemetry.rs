//! Structured logs through tracing: plain for a terminal, JSON for collectors.

use tracing_subscriber::EnvFilter;

use crate::config::LogSettings;

/// Installs the global subscriber; `RUST_LOG` overrides `log.level`. Colours only on a
/// terminal: a file or a journal gets plain text.
pub fn init(settings: &LogSettings) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if settings.format == "json" { builder.json().try_init() } else { builder.try_init() };
}
