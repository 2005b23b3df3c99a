//! Structured JSON logs. Each HTTP request runs in a span carrying its request id, so every line
//! an error produces can be matched to the response's `x-request-id`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests start many servers) do nothing.
pub fn init(filter: &str) {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .try_init();
}
