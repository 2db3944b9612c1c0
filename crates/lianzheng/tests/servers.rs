//! Several servers on one database: two `lianzheng serve` processes take events from clients
//! that spread their batches over both; one server is killed (SIGKILL) mid-load and the clients
//! carry on with the other, retrying the unanswered batch there. Afterwards every event is stored
//! exactly once, every acknowledged one among them, the record is one gapless log that audits
//! clean, checkpoints signed by either server verify with the one key, and the killed server comes
//! back. On PostgreSQL (production) and on SQLite (two processes on one file).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process that is killed when dropped, so a failing test leaves none behind.
pub(crate) struct Server(Child);

impl Server {
    pub(crate) fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) fn serve(bin: &str, url: &str, port: u16, key_file: &std::path::Path) -> Server {
    Server(spawn_server(bin, url, port, key_file))
}

fn spawn_server(bin: &str, url: &str, port: u16, key_file: &std::path::Path) -> Child {
    Command::new(bin)
        .args([
            "serve",
            "--db",
            url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("LIANZHENG_LOG_KEY_FILE", key_file)
        .env("LIANZHENG_SWEEP_INTERVAL_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// One HTTP/1.1 exchange on a fresh connection: the status and the body, or the I/O error.
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    exchange(port, method, path, key, body).map(|(status, _, body)| (status, body))
}

/// One request on its own connection: the status, the `Retry-After` header if any, the body.
pub(crate) fn exchange(
    port: u16,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> std::io::Result<(u16, Option<String>, String)> {
    let mut s = TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_secs(2),
    )?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line: {text:.80}")))?;
    let retry_after = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("retry-after")
            .then(|| value.trim().to_string())
    });
    Ok((status, retry_after, body.to_string()))
}

/// Each sender event id stored, with how many rows carry it.
pub(crate) fn stored_event_ids(app: &lianzheng_app::App) -> Vec<(String, i64)> {
    app.db
        .read(|tx| {
            tx.query(
                "SELECT source_event_id, COUNT(*) FROM events WHERE source_event_id IS NOT NULL GROUP BY source_event_id",
                &[],
            )
        })
        .unwrap()
        .iter()
        .map(|r| (r.text(0), r.int(1)))
        .collect()
}

pub(crate) fn wait_healthy(port: u16) {
    let start = Instant::now();
    while !matches!(http(port, "GET", "/healthz", "", ""), Ok((200, _))) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "server on {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The events of one case, in order.
pub(crate) fn case_events(no: &str) -> Vec<Value> {
    let actor = json!({"id": "W01", "role": "window"});
    let mut out = Vec::new();
    let mut push = |kind: &str, minute: u32, extra: Value| {
        let mut v = json!({"event_id": format!("{no}-{kind}-{minute}"), "case_no": no, "kind": kind,
            "occurred_at": format!("2026-03-02T{:02}:{:02}:00+08:00", 9 + minute / 60, minute % 60), "actor": actor});
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        out.push(v);
    };
    push(
        "apply",
        0,
        json!({"item_code": "ITEM1", "channel": "window", "applicant": {"name": "张三"}}),
    );
    push("accept", 1, json!({}));
    push("step", 2, json!({"step": "承办", "action": "pass"}));
    push("step", 3, json!({"step": "审核", "action": "pass"}));
    push("step", 4, json!({"step": "批准", "action": "pass"}));
    push("finish", 5, json!({"result": "granted"}));
    out
}

#[test]
fn two_servers_one_killed_mid_load_lose_and_duplicate_nothing() {
    let bin = env!("CARGO_BIN_EXE_lianzheng");
    for db in lianzheng_app::testing::all("servers").unwrap_or_else(|e| panic!("{e}")) {
        let app = lianzheng_app::App::new(
            db.open().unwrap(),
            Arc::new(lianzheng_app::SystemClock),
            Arc::new(lianzheng_app::OsEntropy),
            lianzheng_app::Settings::default(),
        )
        .unwrap();
        crate::crash::seed_app(&app);
        let key = app.create_api_key("scjg", Some("SCJG")).unwrap().key;
        drop(app);
        let dir = std::env::temp_dir().join(format!(
            "lianzheng-servers-{}-{}",
            db.backend,
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let key_file = dir.join("log.key");
        // One signing key for both servers, made before either starts.
        let out = Command::new(bin)
            .args(["log", "vkey"])
            .env("LIANZHENG_LOG_KEY_FILE", &key_file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let vkey = String::from_utf8_lossy(&out.stdout).trim().to_string();

        let ports = [free_port(), free_port()];
        let mut a = serve(bin, &db.url, ports[0], &key_file);
        let mut b = serve(bin, &db.url, ports[1], &key_file);
        wait_healthy(ports[0]);
        wait_healthy(ports[1]);

        // Four clients, 30 cases each, batches of 6 events alternating between the servers; a
        // batch that gets no answer (or a retryable one) is sent again to the other server.
        let acked = Arc::new(Mutex::new(std::collections::HashSet::<String>::new()));
        let answered = Arc::new(AtomicUsize::new(0));
        let failed_over = Arc::new(AtomicUsize::new(0));
        let total = 4 * 30 * 6;
        let clients: Vec<_> = (0..4)
            .map(|c| {
                let (acked, answered, failed_over, key) = (
                    acked.clone(),
                    answered.clone(),
                    failed_over.clone(),
                    key.clone(),
                );
                std::thread::spawn(move || {
                    let mut next = c % 2;
                    for k in 0..30 {
                        let batch =
                            json!({"events": case_events(&format!("S{c}K{k:03}"))}).to_string();
                        let start = Instant::now();
                        loop {
                            assert!(
                                start.elapsed() < Duration::from_secs(120),
                                "no server took the batch"
                            );
                            let port = ports[next];
                            next = 1 - next;
                            match http(port, "POST", "/api/v1/events", &key, &batch) {
                                Ok((200, body)) => {
                                    let v: Value = serde_json::from_str(&body).unwrap();
                                    let mut acked = acked.lock().unwrap();
                                    for r in v["results"].as_array().unwrap() {
                                        let status = r["status"].as_str().unwrap();
                                        assert!(
                                            status == "accepted" || status == "duplicate",
                                            "{r}"
                                        );
                                        acked.insert(r["event_id"].as_str().unwrap().to_string());
                                    }
                                    answered.fetch_add(6, Ordering::SeqCst);
                                    break;
                                }
                                Ok((503, _)) | Err(_) => {
                                    failed_over.fetch_add(1, Ordering::SeqCst);
                                    std::thread::sleep(Duration::from_millis(50))
                                }
                                Ok((s, body)) => panic!("unexpected {s}: {body}"),
                            }
                        }
                    }
                })
            })
            .collect();
        // Kill server A when about a third of the load is in.
        let start = Instant::now();
        while answered.load(Ordering::SeqCst) < total / 3 {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the load did not start"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        a.kill();
        for c in clients {
            c.join().unwrap();
        }
        assert_eq!(acked.lock().unwrap().len(), total);
        let failed_over = failed_over.load(Ordering::SeqCst);
        assert!(
            failed_over > 0,
            "the kill interrupted no client: nothing was tested"
        );

        // The killed server comes back and serves the same record.
        let mut a = serve(bin, &db.url, ports[0], &key_file);
        wait_healthy(ports[0]);
        // Give the servers a moment to sign a checkpoint over everything.
        std::thread::sleep(Duration::from_millis(2500));
        a.kill();
        b.kill();

        let app = lianzheng_app::App::open(&db.url).unwrap();
        let rows = stored_event_ids(&app);
        assert_eq!(rows.len(), total, "every event stored");
        assert!(rows.iter().all(|(_, n)| *n == 1), "nothing stored twice");
        let stored: std::collections::HashSet<String> =
            rows.into_iter().map(|(id, _)| id).collect();
        assert!(acked.lock().unwrap().iter().all(|id| stored.contains(id)));
        let report = app.audit(Some(&vkey)).unwrap();
        assert!(report.is_clean(), "{report:?}");
        let cp = app.latest_checkpoint().unwrap().unwrap();
        assert_eq!(
            cp.size,
            app.log_size().unwrap(),
            "the last checkpoint covers everything"
        );
        std::fs::remove_dir_all(&dir).ok();
        eprintln!(
            "servers ({}): {total} events over two servers, one killed mid-load, {failed_over} attempts went to the other server: all stored once, audit clean",
            db.backend
        );
    }
}

#[test]
fn dropped_database_connections_give_retryable_errors_and_heal() {
    let bin = env!("CARGO_BIN_EXE_lianzheng");
    let Some(db) = lianzheng_app::testing::all("conn_drop")
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .find(|d| d.backend == "postgres")
    else {
        return; // the skip was reported by `testing::all`
    };
    let app = lianzheng_app::App::new(
        db.open().unwrap(),
        Arc::new(lianzheng_app::SystemClock),
        Arc::new(lianzheng_app::OsEntropy),
        lianzheng_app::Settings::default(),
    )
    .unwrap();
    crate::crash::seed_app(&app);
    let key = app.create_api_key("scjg", Some("SCJG")).unwrap().key;
    drop(app);
    let dir = std::env::temp_dir().join(format!("lianzheng-conn-drop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The server's connections carry a name, so only they are cut.
    let name = format!("lz_drop_{}", std::process::id());
    let url = format!("{}&application_name={name}", db.url);
    let port = free_port();
    let mut server = serve(bin, &url, port, &dir.join("log.key"));
    wait_healthy(port);

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cutter = {
        let (stop, name) = (stop.clone(), name.clone());
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(
                &lianzheng_app::testing::postgres_base(),
                postgres::NoTls,
            )
            .unwrap();
            let mut cuts = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let n = c
                    .query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                        &[&name],
                    )
                    .unwrap()
                    .len();
                cuts += n as u64;
                std::thread::sleep(Duration::from_millis(150));
            }
            cuts
        })
    };
    let (mut ok, mut retryable) = (0, 0);
    for k in 0..60 {
        let batch = json!({"events": case_events(&format!("D{k:03}"))}).to_string();
        let start = Instant::now();
        loop {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the server did not recover"
            );
            let (status, body) = http(port, "POST", "/api/v1/events", &key, &batch).unwrap();
            match status {
                200 => {
                    ok += 1;
                    break;
                }
                503 => {
                    retryable += 1;
                    assert!(
                        body.contains("\"unavailable\"") || body.contains("error"),
                        "{body}"
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
                s => panic!("a dropped connection gave {s}, not a retryable 503: {body}"),
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    let cuts = cutter.join().unwrap();
    assert!(cuts > 0, "no connection was cut");
    // After the cuts the server answers without a restart.
    assert!(matches!(
        http(port, "GET", "/healthz", "", ""),
        Ok((200, _))
    ));
    server.kill();
    let app = lianzheng_app::App::open(&db.url).unwrap();
    let per_case = app
        .db
        .read(|tx| tx.query("SELECT subject_id, COUNT(*) FROM events WHERE subject_type = 'case' GROUP BY subject_id", &[]))
        .unwrap();
    assert_eq!(per_case.len(), 60);
    assert!(
        per_case.iter().all(|r| r.int(1) == 6),
        "no batch is half written"
    );
    assert!(app.audit(None).unwrap().is_clean());
    std::fs::remove_dir_all(&dir).ok();
    eprintln!(
        "connection drops: {cuts} server connections cut, {retryable} retryable 503s, {ok} batches stored whole, audit clean"
    );
}
