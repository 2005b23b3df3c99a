//! Structured JSON logs, and OpenTelemetry traces when an operator asks for them.
//!
//! Logs: each HTTP request runs in a span carrying its request id, so every line an error
//! produces can be matched to the response's `x-request-id`.
//!
//! Traces (README, "For operators: traces") are off unless the standard `OTEL_*` variables ask
//! for them; they are then exported over OTLP/HTTP (protobuf) by the SDK's own thread:
//! - a span per HTTP request (`tracing-actix-web`), continuing an incoming W3C `traceparent`;
//! - a span per GraphQL operation (`graphql/extensions.rs`, target [`TRACE_TARGET`]) named
//!   `query Dashboard` and carrying `graphql.operation.name`, `graphql.operation.type` and
//!   `graphql.document.hash`;
//! - a span per SQL statement ([`statement_span`], from the database's statement callback, with
//!   the statement's real start and end): `db.system.name`, `db.operation.name` and
//!   `db.query.text`, the statement's text with its placeholders — values are bound, never in it.
//!
//! Free when off: without traces the log layer is the only layer and never takes the operation
//! span, so its call site is disabled once and for all; the statement callback finds no tracer
//! and returns.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Metadata;
use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// The target of the spans that exist for traces only (the GraphQL operation span).
pub const TRACE_TARGET: &str = "pearls_api::trace";

/// The tracer of the statement spans, set when traces are exported (never otherwise: then
/// [`statement_span`] costs one load per statement).
static STATEMENT_TRACER: std::sync::OnceLock<opentelemetry_sdk::trace::SdkTracer> =
    std::sync::OnceLock::new();

/// Exports a client span for a SQL statement that has just run, as a child of the span the
/// statement ran in (the GraphQL operation's, or the request's), from its start to now. Called
/// by the database's statement callback (`db.rs`), which SeaORM runs after every statement on
/// the task that ran it; nothing is built when traces are off. Attributes after OpenTelemetry's
/// database conventions: `db.system.name`, `db.operation.name` and `db.query.text` — the
/// statement with its placeholders (values are bound, never part of it).
pub fn statement_span(info: &sea_orm::metric::Info<'_>) {
    use opentelemetry::KeyValue;
    use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _};
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let Some(tracer) = STATEMENT_TRACER.get() else {
        return;
    };
    let sql = info.statement.sql.as_str();
    let operation = sql
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    let system = match info.statement.db_backend {
        sea_orm::DbBackend::Postgres => "postgresql",
        sea_orm::DbBackend::Sqlite => "sqlite",
        _ => "other_sql",
    };
    let end = std::time::SystemTime::now();
    let parent = tracing::Span::current().context();
    let mut span = tracer
        .span_builder(operation.clone())
        .with_kind(SpanKind::Client)
        .with_start_time(end.checked_sub(info.elapsed).unwrap_or(end))
        .with_attributes([
            KeyValue::new("db.system.name", system),
            KeyValue::new("db.operation.name", operation),
            KeyValue::new("db.query.text", sql.to_owned()),
        ])
        .start_with_context(tracer, &parent);
    if info.failed {
        span.set_status(Status::error("the statement failed"));
    }
    span.end_with_timestamp(end);
}

/// The exporter, kept to flush what is buffered when the server stops.
#[must_use = "call shutdown() when the server has stopped, or buffered spans are lost"]
pub struct Traces(Option<SdkTracerProvider>);

impl Traces {
    /// Whether spans are being exported.
    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }

    /// Exports what is buffered and stops the exporter (blocking: call it off the async
    /// runtime's worker threads, e.g. in `spawn_blocking`).
    pub fn shutdown(self) {
        if let Some(provider) = self.0
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "traces could not be flushed at shutdown");
        }
    }
}

/// Whether the environment asks for traces, by the OpenTelemetry SDK's variables:
/// `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn them off;
/// `OTEL_TRACES_EXPORTER=otlp` or an `OTEL_EXPORTER_OTLP_ENDPOINT` /
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` turn them on. Anything this server cannot honour is an
/// error at start, not a silent lack of traces.
pub fn traces_wanted(var: impl Fn(&str) -> Option<String>) -> Result<bool, String> {
    let set = |name: &str| {
        var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if set("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Ok(false);
    }
    let wanted = match set("OTEL_TRACES_EXPORTER").as_deref() {
        Some("none") => return Ok(false),
        Some("otlp") => true,
        Some(other) => {
            return Err(format!(
                "OTEL_TRACES_EXPORTER={other} is not supported: use otlp or none"
            ));
        }
        None => {
            set("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
                || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        }
    };
    if wanted {
        for name in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Some(p) = set(name)
                && p != "http/protobuf"
            {
                return Err(format!(
                    "{name}={p} is not supported: traces are sent as http/protobuf"
                ));
            }
        }
    }
    Ok(wanted)
}

/// Spans for traces only: the log layer leaves them to the trace layer.
fn trace_only_span(meta: &Metadata<'_>) -> bool {
    meta.is_span() && meta.target() == TRACE_TARGET
}

/// What the trace layer takes: the request, operation and statement spans, and warnings and
/// errors as events on them.
fn traced(meta: &Metadata<'_>) -> bool {
    if meta.is_span() {
        trace_only_span(meta) || meta.target().starts_with("tracing_actix_web")
    } else {
        *meta.level() <= tracing::Level::WARN
    }
}

/// JSON lines on stderr, filtered by `filter` (an `EnvFilter` directive; `info` when it does
/// not parse), never taking the trace-only spans.
fn log_layer(filter: &str) -> impl Layer<Registry> + Send + Sync {
    log_layer_to(filter, std::io::stderr)
}

/// [`log_layer`] writing to `writer`.
fn log_layer_to<W>(filter: &str, writer: W) -> impl Layer<Registry> + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let env = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .fmt_fields(SpanFields)
        .with_writer(writer)
        .with_filter(env.and(filter_fn(|meta| !trace_only_span(meta))))
}

/// The JSON of a span's fields, as `tracing-subscriber`'s `JsonFields` writes it — except that
/// fields recorded after the span was made (the request span's status code and outcome, on
/// every request) are appended to the object's text, where `JsonFields` parses the whole object
/// back into a map and writes it again: that cost ~30 % of a `me` request at the default `info`
/// (BENCHMARKS.md, stop 24). A field recorded twice then appears twice in the stored text; the
/// event formatter reads the span's fields as a JSON object (the last value wins, as with
/// `JsonFields`' merge), so each log line still names it once.
struct SpanFields;

impl<'w> tracing_subscriber::fmt::FormatFields<'w> for SpanFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        writer: tracing_subscriber::fmt::format::Writer<'w>,
        fields: R,
    ) -> std::fmt::Result {
        tracing_subscriber::fmt::format::JsonFields::new().format_fields(writer, fields)
    }

    fn add_fields(
        &self,
        current: &'w mut tracing_subscriber::fmt::FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> std::fmt::Result {
        let mut added = String::new();
        tracing_subscriber::fmt::format::JsonFields::new().format_fields(
            tracing_subscriber::fmt::format::Writer::new(&mut added),
            fields,
        )?;
        // Both are JSON objects (`{}` when empty).
        if added.len() <= 2 {
            return Ok(());
        }
        if current.fields.len() <= 2 {
            current.fields = added;
            return Ok(());
        }
        current.fields.pop();
        current.fields.push(',');
        current.fields.push_str(&added[1..]);
        Ok(())
    }
}

/// The subscriber without traces: the log layer alone.
fn logs_only<L: Layer<Registry> + Send + Sync>(logs: L) -> Layered<L, Registry> {
    Registry::default().with(logs)
}

/// Installs the global subscriber once; later calls (tests start many servers) do nothing.
/// `with_traces` asks for the trace exporter when the environment configures one (only
/// `pearls serve` does: the other commands are not requests).
pub fn init(filter: &str, with_traces: bool) -> Result<Traces, String> {
    let logs = log_layer(filter);
    let provider = if with_traces && traces_wanted(|k| std::env::var(k).ok())? {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| format!("the OTLP trace exporter cannot start: {e}"))?;
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name(
                std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "pearls".to_owned()),
            )
            .build();
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource)
                .build(),
        )
    } else {
        None
    };
    match &provider {
        Some(p) => {
            let _ = STATEMENT_TRACER.set(p.tracer("pearls"));
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            let traces = tracing_opentelemetry::layer()
                .with_tracer(p.tracer("pearls"))
                .with_filter(filter_fn(traced));
            let _ = Registry::default().with(logs).with(traces).try_init();
        }
        // Without traces the log layer is the only one. (An absent `Option` layer would not
        // do: it enables every call site, so the trace-only spans — one per operation and per
        // SQL statement — would be built, entered and recorded on every request for nobody.)
        None => {
            let _ = logs_only(logs).try_init();
        }
    }
    Ok(Traces(provider))
}

#[cfg(test)]
mod tests {
    use super::{TRACE_TARGET, log_layer, log_layer_to, logs_only, traces_wanted};

    /// A span's fields recorded later are in the log lines of the events inside it — each
    /// field once, with its last value — as `JsonFields` wrote them.
    #[test]
    fn fields_recorded_later_reach_the_log_line_once() {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = buffer.clone();
        let writer = move || Sink(sink.clone());
        tracing::subscriber::with_default(logs_only(log_layer_to("info", writer)), || {
            let span = tracing::info_span!(
                "HTTP request",
                http.method = "POST",
                http.status_code = tracing::field::Empty,
                outcome = tracing::field::Empty,
                quoted = "a \"b\" c"
            );
            let _entered = span.enter();
            span.record("outcome", "first");
            span.record("http.status_code", 200);
            span.record("outcome", "second");
            tracing::info!(answer = 42, "done");
        });
        let text = String::from_utf8(buffer.lock().expect("lock").clone()).expect("utf-8");
        let line: serde_json::Value =
            serde_json::from_str(text.lines().next().expect("one line")).expect("json");
        assert_eq!(
            line["span"],
            serde_json::json!({ "name": "HTTP request", "http.method": "POST",
                                "http.status_code": 200, "outcome": "second",
                                "quoted": "a \"b\" c" }),
            "{text}"
        );
        assert_eq!(line["fields"]["answer"], 42);
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Production runs without traces: then the operation's span must not exist at all (not
    /// built, entered or recorded on every request).
    #[test]
    fn without_traces_the_trace_only_spans_are_never_built() {
        tracing::subscriber::with_default(logs_only(log_layer("info")), || {
            assert!(tracing::info_span!(target: TRACE_TARGET, "graphql.operation").is_disabled());
            // The request's span is logged.
            assert!(!tracing::info_span!("HTTP request").is_disabled());
        });
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn traces_are_off_unless_the_environment_asks() {
        assert_eq!(traces_wanted(env(&[])), Ok(false));
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        assert_eq!(traces_wanted(env(&[endpoint])), Ok(true));
        assert_eq!(
            traces_wanted(env(&[(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://c/v1/traces"
            )])),
            Ok(true)
        );
        assert_eq!(
            traces_wanted(env(&[("OTEL_TRACES_EXPORTER", "otlp")])),
            Ok(true)
        );
        assert_eq!(
            traces_wanted(env(&[endpoint, ("OTEL_SDK_DISABLED", "TRUE")])),
            Ok(false)
        );
        assert_eq!(
            traces_wanted(env(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")])),
            Ok(false)
        );
        assert_eq!(
            traces_wanted(env(&[
                endpoint,
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            ])),
            Ok(true)
        );
    }

    #[test]
    fn what_cannot_be_honoured_is_an_error_at_start() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        assert!(traces_wanted(env(&[("OTEL_TRACES_EXPORTER", "zipkin")])).is_err());
        assert!(traces_wanted(env(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])).is_err());
        assert!(
            traces_wanted(env(&[
                endpoint,
                ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")
            ]))
            .is_err()
        );
        // A protocol for a sink that is off is nobody's concern.
        assert_eq!(
            traces_wanted(env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])),
            Ok(false)
        );
    }
}
