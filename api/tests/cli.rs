//! The `pearls` binary as an operator uses it.

use std::io::Write;
use std::process::{Command, Stdio};

fn pearls(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pearls"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db)
        .env("PEARLS_ARGON2_MEMORY_KIB", "1024")
        .env("PEARLS_ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "error");
    c
}

fn temp_db() -> (String, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("pearls-cli-{}.db", uuid::Uuid::now_v7()));
    (format!("sqlite://{}?mode=rwc", path.display()), path)
}

fn cleanup(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[test]
fn schema_command_prints_the_checked_in_sdl() {
    let out = pearls("sqlite::memory:")
        .arg("schema")
        .output()
        .expect("run");
    assert!(out.status.success());
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql"))
            .unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&out.stdout) == checked_in,
        "run `cargo run -- schema > schema.graphql`"
    );
}

#[test]
fn migrate_seed_and_create_a_user() {
    let (url, path) = temp_db();
    let status = pearls(&url).args(["migrate", "up"]).status().expect("run");
    assert!(status.success());
    let out = pearls(&url)
        .args(["migrate", "status"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("applied") && !text.contains("pending"),
        "{text}"
    );

    let out = pearls(&url).args(["seed", "--demo"]).output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pearls(&url).args(["seed", "--demo"]).output().expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 rows inserted"));

    let mut child = pearls(&url)
        .args([
            "user",
            "create",
            "--email",
            "new.partner@example.org",
            "--role",
            "PARTNER",
            "--organisation",
            "ARS BALTICA",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a long enough password\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("PARTNER"));

    // `export keep --out` writes the whole document, and a failed export leaves the previous
    // file as it was (written beside it, renamed only when complete), with nothing else behind.
    let dir = std::env::temp_dir().join(format!("pearls-keep-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir(&dir).expect("a directory");
    let file = dir.join("keep.xml");
    let out = pearls(&url)
        .args(["export", "keep", "--format", "xml", "--out"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&file).expect("the document");
    assert!(written.starts_with("<?xml") && written.trim_end().ends_with("</programme>"));
    let out = pearls(&url)
        .args(["export", "keep", "--period", "99", "--out"])
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("there is no reporting period 99"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), written);
    assert_eq!(std::fs::read_dir(&dir).expect("list").count(), 1);
    let _ = std::fs::remove_dir_all(&dir);

    // Rolling back and re-applying works.
    assert!(
        pearls(&url)
            .args(["migrate", "down"])
            .status()
            .expect("run")
            .success()
    );
    let out = pearls(&url)
        .args(["migrate", "status"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("pending"));
    assert!(
        pearls(&url)
            .args(["migrate", "up"])
            .status()
            .expect("run")
            .success()
    );
    cleanup(&path);
}

#[test]
fn production_refuses_demo_data_and_weak_secrets() {
    let (url, path) = temp_db();
    let out = pearls(&url)
        .args(["--env", "production", "seed", "--demo"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("production"));
    let out = pearls(&url)
        .env("PEARLS_ENV", "production")
        .env("PEARLS_JWT_SECRET", "too-short")
        .env("PEARLS_BIND", "127.0.0.1:0")
        .arg("serve")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PEARLS_JWT_SECRET"));
    cleanup(&path);
}

/// The binary serves, answers, and on SIGTERM shuts down gracefully and exits 0 (as an
/// orchestrator stopping a node sees it).
#[test]
fn serve_answers_and_exits_zero_on_sigterm() {
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpStream;
    let (url, path) = temp_db();
    let mut child = pearls(&url)
        .env("PEARLS_BIND", "127.0.0.1:0")
        .env("PEARLS_SHUTDOWN_GRACE_SECS", "5")
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    let port: u16 = loop {
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
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{status:?}");
    cleanup(&path);
}

/// `pearls import edition FILE` as a coordinator, then again (nothing changes), `pearls export
/// edition YEAR` (the committed document, byte for byte), `pearls rollups check` (no drift), and
/// a refused document (every reason printed, exit code not zero).
#[test]
fn import_and_export_an_edition_history() {
    let (url, path) = temp_db();
    assert!(
        pearls(&url)
            .args(["migrate", "up"])
            .status()
            .unwrap()
            .success()
    );
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/seed/editions/2025.json");
    let out = pearls(&url)
        .args(["import", "edition", file])
        .output()
        .unwrap();
    assert!(!out.status.success(), "no coordinator yet");
    let mut child = pearls(&url)
        .args([
            "user",
            "create",
            "--email",
            "coord@example.org",
            "--role",
            "COORDINATOR",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());

    let run = |args: &[&str]| {
        let out = pearls(&url).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), text, err)
    };
    let (ok, text, err) = run(&["import", "edition", file, "--as", "coord@example.org"]);
    assert!(ok, "{err}");
    assert!(
        text.contains("imported the 2025 edition: 18 applications"),
        "{text}"
    );
    let (ok, text, err) = run(&["import", "edition", file]);
    assert!(ok, "{err}");
    assert!(text.contains("nothing changed"), "{text}");
    let (ok, text, err) = run(&["export", "edition", "2025"]);
    assert!(ok, "{err}");
    assert!(
        text == std::fs::read_to_string(file).unwrap(),
        "the export differs"
    );
    let (ok, text, err) = run(&["rollups", "check"]);
    assert!(ok && text.contains("match"), "{text}{err}");

    let broken = std::env::temp_dir().join(format!("pearls-history-{}.json", uuid::Uuid::now_v7()));
    let changed = std::fs::read_to_string(file)
        .unwrap()
        .replace("\"titleYear\": 2025", "\"titleYear\": 2031")
        .replace("\"awardCap\": 6", "\"awardCap\": 5");
    std::fs::write(&broken, changed).unwrap();
    let (ok, _, err) = run(&["import", "edition", broken.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("award cap of 5"), "{err}");
    let (ok, _, _) = run(&["export", "edition", "2031"]);
    assert!(!ok, "nothing of the refused document was written");
    let _ = std::fs::remove_file(&broken);
    cleanup(&path);
}
