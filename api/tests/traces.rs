//! Traces as an operator's collector receives them: `pearls serve`, configured only by the
//! standard `OTEL_*` variables, sends OTLP/HTTP (protobuf) to a receiver this test runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;

/// An OTLP/HTTP receiver: every request's path and body, answered 200 with an empty export
/// response (keep-alive, as the exporter's client expects).
fn receiver() -> (u16, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || receive(conn, tx));
        }
    });
    (port, rx)
}

fn receive(mut conn: TcpStream, tx: mpsc::Sender<(String, Vec<u8>)>) {
    let Ok(read) = conn.try_clone() else { return };
    let mut reader = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_owned();
        let _ = tx.send((path, body));
        let answer =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";
        if conn.write_all(answer).is_err() {
            return;
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes.iter().find(|a| a.key == key).and_then(|a| {
        match a.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            Value::IntValue(i) => Some(i.to_string()),
            Value::BoolValue(b) => Some(b.to_string()),
            other => Some(format!("{other:?}")),
        }
    })
}

/// Starts `pearls serve` on a fresh SQLite file with traces sent to `otlp_port`; returns the
/// child and the port it serves on.
fn serve(db: &std::path::Path, otlp_port: u16) -> (std::process::Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pearls"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", db.display()),
        )
        .env("PEARLS_BIND", "127.0.0.1:0")
        .env("PEARLS_SHUTDOWN_GRACE_SECS", "5")
        .env("RUST_LOG", "error")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{otlp_port}"),
        )
        .env("OTEL_SERVICE_NAME", "pearls-under-test")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    let port = loop {
        line.clear();
        if stderr.read_line(&mut line).expect("read") == 0 {
            let _ = child.kill();
            panic!("the server exited before it listened");
        }
        if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
            break rest
                .split('/')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("a port");
        }
    };
    // Keep reading so that the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = stderr.read_to_string(&mut sink);
    });
    (child, port)
}

fn post(port: u16, headers: &str, body: &str) -> String {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("answer");
    answer
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[test]
fn a_request_is_traced_from_the_incoming_traceparent_to_each_statement() {
    let (otlp_port, received) = receiver();
    let db = std::env::temp_dir().join(format!("pearls-traces-{}.db", uuid::Uuid::now_v7()));
    let (mut child, port) = serve(&db, otlp_port);

    // A literal in the operation: it must reach no span (statements carry placeholders).
    let query = r#"query Probe { practices(first: 2, search: "xylophonesecret") { totalCount } }"#;
    let body = format!(
        r#"{{"query":{},"operationName":"Probe"}}"#,
        json_string(query)
    );
    let answer = post(
        port,
        &format!("traceparent: 00-{TRACE_ID}-{CALLER_SPAN}-01\r\n"),
        &body,
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""totalCount":0"#), "{answer}");

    // Stopping flushes what the exporter buffers.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    assert_eq!(child.wait().expect("wait").code(), Some(0));

    let mut spans = Vec::new();
    let mut service = None;
    for (path, body) in received.try_iter() {
        assert_eq!(path, "/v1/traces");
        let export = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP protobuf");
        for rs in export.resource_spans {
            if let Some(resource) = &rs.resource {
                for a in &resource.attributes {
                    if a.key == "service.name"
                        && let Some(Value::StringValue(s)) =
                            a.value.as_ref().and_then(|v| v.value.as_ref())
                    {
                        service = Some(s.clone());
                    }
                }
            }
            for ss in rs.scope_spans {
                spans.extend(ss.spans);
            }
        }
    }
    assert_eq!(service.as_deref(), Some("pearls-under-test"));
    let ours: Vec<&Span> = spans
        .iter()
        .filter(|s| hex(&s.trace_id) == TRACE_ID)
        .collect();
    let names: Vec<&str> = ours.iter().map(|s| s.name.as_str()).collect();

    // The HTTP request continues the caller's trace.
    let http = ours
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .unwrap_or_else(|| panic!("no server span in {names:?}"));
    assert_eq!(hex(&http.parent_span_id), CALLER_SPAN);
    assert_eq!(
        attribute(http, "http.route").as_deref(),
        Some("/graphql"),
        "{http:?}"
    );

    // The operation, named as the semantic conventions say, under the request.
    let op = ours
        .iter()
        .find(|s| s.name == "query Probe" || s.name == "GraphQL Operation")
        .unwrap_or_else(|| panic!("no operation span in {names:?}"));
    assert_eq!(op.name, "query Probe", "{op:?}");
    assert_eq!(op.parent_span_id, http.span_id);
    assert_eq!(
        attribute(op, "graphql.operation.name").as_deref(),
        Some("Probe")
    );
    assert_eq!(
        attribute(op, "graphql.operation.type").as_deref(),
        Some("query")
    );
    let hash = attribute(op, "graphql.document.hash").expect("document hash");
    assert!(
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hash}"
    );

    // Its statements, with their shape and no values, inside the operation's time.
    let statements: Vec<&&Span> = ours
        .iter()
        .filter(|s| attribute(s, "db.system.name").is_some() && s.parent_span_id == op.span_id)
        .collect();
    assert!(
        !statements.is_empty(),
        "no statement under the operation in {names:?}"
    );
    for s in &statements {
        assert_eq!(s.kind, SpanKind::Client as i32);
        assert_eq!(attribute(s, "db.system.name").as_deref(), Some("sqlite"));
        assert_eq!(
            attribute(s, "db.operation.name").as_deref(),
            Some(s.name.as_str())
        );
        assert!(
            op.start_time_unix_nano <= s.start_time_unix_nano
                && s.start_time_unix_nano <= s.end_time_unix_nano
                && s.end_time_unix_nano <= op.end_time_unix_nano,
            "a statement outside its operation: {s:?}"
        );
    }
    assert!(
        statements.iter().any(|s| s.name == "SELECT"
            && attribute(s, "db.query.text")
                .is_some_and(|sql| sql.to_ascii_uppercase().contains("SELECT"))),
        "{statements:?}"
    );
    for s in &spans {
        for a in &s.attributes {
            assert!(
                !format!("{:?}", a.value).contains("xylophonesecret"),
                "a value reached span {}: {a:?}",
                s.name
            );
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
