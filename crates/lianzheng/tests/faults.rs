//! Storage faults under load, end to end through `lianzheng serve`:
//!
//! - PostgreSQL stopped (`pg_ctl stop -m fast`, then a crash with `-m immediate`) and started
//!   again while clients submit batches: the server answers 503 with `Retry-After` during the
//!   outage, heals by itself, and every acknowledged event is stored once. It runs on a private
//!   cluster made for the test, never on the shared one. Without PostgreSQL's binaries it is
//!   skipped visibly, unless `LIANZHENG_REQUIRE_PG=1`.
//! - A full disk under a SQLite database (a small tmpfs): 507 `disk_full`, nothing partial, reads
//!   go on, and writes resume once space is freed. It needs `mount` (root); without it it is
//!   skipped visibly, unless `LIANZHENG_REQUIRE_FAULTS=1`.
//! - PostgreSQL's disk full (SQLSTATE 53100), raised by a trigger, gives the same 507.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::servers::{
    case_events, exchange, free_port, http, serve, stored_event_ids, wait_healthy,
};

/// Says visibly (on the stderr handle, which the harness does not capture) that a test did not
/// run, or fails it when `require` names an environment variable set to 1.
fn skip_or_fail(test: &str, require: &str, why: &str) {
    assert!(
        std::env::var(require).as_deref() != Ok("1"),
        "{test} must run ({require}=1) but cannot: {why}"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// A scratch directory for the server's key file, removed when dropped, also on a failure.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("lianzheng-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The error code of an API error body, checking its documented shape.
fn error_code(body: &str) -> String {
    let v: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("an error body that is not JSON ({e}): {body}"));
    let (Some(code), Some(message)) = (v["error"]["code"].as_str(), v["error"]["message"].as_str())
    else {
        panic!("an error body without error.code and error.message: {body}")
    };
    assert!(!message.is_empty(), "an error without a message: {body}");
    code.to_string()
}

/// The event ids of a 200 answer to a batch of `n` events, checking that every one of them was
/// taken (accepted now or before) and none rejected: a batch is stored whole or not at all.
fn taken_ids(body: &str, n: usize) -> Vec<String> {
    let v: Value = serde_json::from_str(body).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), n, "one result per event: {body}");
    results
        .iter()
        .map(|r| {
            let status = r["status"].as_str().unwrap();
            assert!(
                status == "accepted" || status == "duplicate",
                "an event of a whole case was not taken: {r}"
            );
            r["event_id"].as_str().unwrap().to_string()
        })
        .collect()
}

/// A test database: seeded with the department and item the case events use, and an API key.
fn seed(db: lianzheng_app::Db) -> String {
    let app = lianzheng_app::App::new(
        db,
        Arc::new(lianzheng_app::SystemClock),
        Arc::new(lianzheng_app::OsEntropy),
        lianzheng_app::Settings::default(),
    )
    .unwrap();
    crate::crash::seed_app(&app);
    app.create_api_key("scjg", Some("SCJG")).unwrap().key
}

/// Waits until the server has signed a checkpoint over the whole log, which the audit then
/// checks: its checkpoint task (every second) must have come through the fault by itself.
fn wait_checkpointed(url: &str) {
    let app = lianzheng_app::App::open(url).unwrap();
    let start = Instant::now();
    loop {
        let size = app.log_size().unwrap();
        let signed = app.latest_checkpoint().unwrap().map(|c| c.size);
        if signed == Some(size) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the server signed no checkpoint over the whole log ({size} records, newest checkpoint {signed:?}) within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the server stored, checked against what it acknowledged: every acknowledged event once,
/// nothing else, every case whole; then `lianzheng audit` (which checks the signed checkpoints
/// with the key file's verifier key) must pass.
fn check_stored(bin: &str, url: &str, key_file: &Path, acked: &HashSet<String>) -> String {
    let app = lianzheng_app::App::open(url).unwrap();
    let rows = stored_event_ids(&app);
    let twice: Vec<&String> = rows
        .iter()
        .filter(|(_, n)| *n != 1)
        .map(|(id, _)| id)
        .collect();
    assert!(twice.is_empty(), "events stored more than once: {twice:?}");
    let stored: HashSet<String> = rows.iter().map(|(id, _)| id.clone()).collect();
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged events not stored: {lost:?}");
    let unacked: Vec<&String> = stored.difference(acked).collect();
    assert!(
        unacked.is_empty(),
        "events stored that no answer acknowledged (every batch was retried until taken): {unacked:?}"
    );
    let partial: Vec<(String, i64)> = app
        .db
        .read(|tx| {
            tx.query(
                "SELECT subject_id, COUNT(*) FROM events WHERE subject_type = 'case' GROUP BY subject_id",
                &[],
            )
        })
        .unwrap()
        .iter()
        .filter(|r| r.int(1) != 6)
        .map(|r| (r.text(0), r.int(1)))
        .collect();
    assert!(partial.is_empty(), "cases stored in part: {partial:?}");
    drop(app);
    let out = Command::new(bin)
        .args(["audit", "--db", url])
        .env("LIANZHENG_LOG_KEY_FILE", key_file)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "lianzheng audit failed: {report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

/// Which of a uid-0 process's commands must run as the `postgres` user (initdb refuses root).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The directory of PostgreSQL's server binaries: `LIANZHENG_PG_BIN`, `pg_config --bindir`, or
/// the newest `/usr/lib/postgresql/*/bin` (Debian and Ubuntu).
fn pg_bindir() -> Option<PathBuf> {
    let has_initdb = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Ok(d) = std::env::var("LIANZHENG_PG_BIN") {
        return Some(PathBuf::from(d)).filter(|d| has_initdb(d));
    }
    if let Ok(o) = Command::new("pg_config").arg("--bindir").output() {
        let d = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        if o.status.success() && has_initdb(&d) {
            return Some(d);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_initdb(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

/// A PostgreSQL cluster of the test's own in a fresh temporary directory (trust auth, TCP on
/// 127.0.0.1 only, no Unix socket), stopped and removed when dropped, also on a failure.
struct PgCluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PgCluster {
    /// Makes and starts one; `Err` says why PostgreSQL's binaries are not there.
    fn create(tag: &str) -> Result<PgCluster, String> {
        let bin = pg_bindir().ok_or(
            "no PostgreSQL server binaries (initdb, pg_ctl): set LIANZHENG_PG_BIN or install postgresql",
        )?;
        let data = std::env::temp_dir().join(format!("lianzheng-{tag}-{}-pg", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        let cluster = PgCluster {
            bin,
            data,
            port: free_port(),
            as_postgres: is_root(),
        };
        let data = cluster.data.to_string_lossy().into_owned();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let conf = cluster.data.join("postgresql.conf");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .unwrap_or_else(|e| panic!("{}: {e}", conf.display()));
        writeln!(
            f,
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nshared_buffers = 32MB\nmax_connections = 40",
            cluster.port
        )
        .unwrap();
        cluster.start();
        Ok(cluster)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs one of the binaries (as `postgres` when we are root); panics with its output and the
    /// server log on failure.
    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let out = self.command(tool, args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default()
        );
        out
    }

    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let tool = self.bin.join(tool);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(tool);
            c
        } else {
            Command::new(tool)
        };
        c.args(args);
        c
    }

    /// Starts the server and waits until it accepts connections.
    fn start(&self) {
        let data = self.data.to_string_lossy().into_owned();
        let log = self.data.join("server.log").to_string_lossy().into_owned();
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "-t", "60", "start"],
        );
    }

    /// Stops the server: `fast` (sessions are ended, a clean shutdown) or `immediate` (a crash:
    /// the next start recovers from the WAL).
    fn stop(&self, mode: &str) {
        let data = self.data.to_string_lossy().into_owned();
        self.run("pg_ctl", &["-D", &data, "-w", "-m", mode, "stop"]);
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().into_owned();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-w", "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// What one outage looked like.
struct Outage {
    mode: &'static str,
    down: Duration,
    /// Of which `pg_ctl start` (with the crash recovery after `immediate`).
    restart: Duration,
    unavailable: usize,
    recovered: Duration,
}

#[test]
fn postgres_restarted_mid_load_gives_503_then_heals_without_a_restart() {
    let test = "faults::postgres_restarted_mid_load";
    let cluster = match PgCluster::create("pg-restart") {
        Ok(c) => c,
        Err(why) => return skip_or_fail(test, "LIANZHENG_REQUIRE_PG", &why),
    };
    let bin = env!("CARGO_BIN_EXE_lianzheng");
    let url = cluster.url();
    let db = lianzheng_app::Db::open(&url).unwrap();
    db.migrate().unwrap();
    let key = seed(db);
    let scratch = Scratch::new("pg-restart");
    let key_file = scratch.0.join("log.key");
    let port = free_port();
    let mut server = serve(bin, &url, port, &key_file);
    wait_healthy(port);

    // Three clients submit whole cases (batches of 6 events) until told to stop; each batch is
    // sent again after a 503 until it is taken. Only 200 and 503 are acceptable answers.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(HashSet::<String>::new()));
    let batches = Arc::new(AtomicUsize::new(0));
    let unavailable = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..3)
        .map(|c| {
            let (stop, acked, batches, unavailable, key) = (
                stop.clone(),
                acked.clone(),
                batches.clone(),
                unavailable.clone(),
                key.clone(),
            );
            std::thread::spawn(move || {
                let mut k = 0;
                while !stop.load(Ordering::SeqCst) {
                    let batch = json!({"events": case_events(&format!("R{c}K{k:04}"))}).to_string();
                    k += 1;
                    let start = Instant::now();
                    loop {
                        assert!(
                            start.elapsed() < Duration::from_secs(120),
                            "a batch was not taken within 120 s: the server did not recover"
                        );
                        let (status, retry_after, body) =
                            exchange(port, "POST", "/api/v1/events", &key, &batch)
                                .unwrap_or_else(|e| {
                                    panic!("the server gave no answer (it must answer 503 while the database is down): {e}")
                                });
                        match status {
                            200 => {
                                acked.lock().unwrap().extend(taken_ids(&body, 6));
                                batches.fetch_add(1, Ordering::SeqCst);
                                break;
                            }
                            503 => {
                                assert_eq!(
                                    error_code(&body),
                                    "storage_unavailable",
                                    "a 503 for another reason: {body}"
                                );
                                let wait: u64 = retry_after
                                    .as_deref()
                                    .and_then(|v| v.parse().ok())
                                    .unwrap_or_else(|| {
                                        panic!("a 503 without a Retry-After of whole seconds: {retry_after:?}")
                                    });
                                assert!(wait > 0, "Retry-After: 0");
                                unavailable.fetch_add(1, Ordering::SeqCst);
                                // A real client waits `wait` seconds; the test retries sooner to
                                // see the recovery as it happens.
                                std::thread::sleep(Duration::from_millis(100));
                            }
                            s => panic!(
                                "the database outage gave {s}, not a retryable 503: {body}"
                            ),
                        }
                    }
                }
            })
        })
        .collect();

    // Polls `done` until it holds (and says how long that took), failing after `limit` or as
    // soon as a client has failed.
    let wait_for = |what: &str, limit: Duration, done: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !done() {
            assert!(
                !clients.iter().any(|c| c.is_finished()),
                "a client failed (its panic is above) while waiting for {what}"
            );
            assert!(
                start.elapsed() < limit,
                "waited {limit:?} in vain for {what}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        start.elapsed()
    };
    let mut outages = Vec::new();
    for mode in ["fast", "immediate"] {
        let before = batches.load(Ordering::SeqCst);
        wait_for(
            "20 more batches to be taken",
            Duration::from_secs(120),
            &|| batches.load(Ordering::SeqCst) >= before + 20,
        );
        let seen = unavailable.load(Ordering::SeqCst);
        let down = Instant::now();
        cluster.stop(mode);
        // The database stays down for at least a second and a half, and until a client has been
        // told so.
        wait_for(
            "a 503 while the database is down",
            Duration::from_secs(60),
            &|| {
                down.elapsed() >= Duration::from_millis(1500)
                    && unavailable.load(Ordering::SeqCst) > seen
            },
        );
        let restart = Instant::now();
        cluster.start();
        let restart = restart.elapsed();
        let down = down.elapsed();
        let taken = batches.load(Ordering::SeqCst);
        let recovered = wait_for(
            "a batch taken after the database came back: the server does not heal by itself",
            Duration::from_secs(60),
            &|| batches.load(Ordering::SeqCst) > taken,
        );
        outages.push(Outage {
            mode: if mode == "fast" {
                "stop -m fast"
            } else {
                "crash (-m immediate)"
            },
            down,
            restart,
            unavailable: unavailable.load(Ordering::SeqCst) - seen,
            recovered,
        });
    }
    let before = batches.load(Ordering::SeqCst);
    wait_for(
        "10 more batches to be taken",
        Duration::from_secs(120),
        &|| batches.load(Ordering::SeqCst) >= before + 10,
    );
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    assert!(
        matches!(http(port, "GET", "/healthz", "", ""), Ok((200, _))),
        "the server is healthy after the outages"
    );
    wait_checkpointed(&url);
    server.kill();

    let acked = acked.lock().unwrap();
    let report = check_stored(bin, &url, &key_file, &acked);
    let figures: Vec<String> = outages
        .iter()
        .map(|o| {
            format!(
                "{}: down {:.1} s (restart {:.1} s), {} answers 503 + Retry-After, first batch taken {:.2} s after the restart",
                o.mode,
                o.down.as_secs_f64(),
                o.restart.as_secs_f64(),
                o.unavailable,
                o.recovered.as_secs_f64()
            )
        })
        .collect();
    eprintln!(
        "postgres restart: {} batches ({} events) from 3 clients; {}; all stored once, audit: {report}",
        batches.load(Ordering::SeqCst),
        acked.len(),
        figures.join("; ")
    );
    drop(cluster);
}

/// A tmpfs of `size_mib` mounted on a fresh directory, unmounted and removed when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts one; `Err` says why it cannot be (not root, no `mount`, not permitted).
    fn mount(tag: &str, size_mib: u32) -> Result<Tmpfs, String> {
        let dir =
            std::env::temp_dir().join(format!("lianzheng-{tag}-{}-tmpfs", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(Tmpfs(dir)),
            Ok(o) => {
                let _ = std::fs::remove_dir(&dir);
                Err(format!(
                    "cannot mount a tmpfs: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ))
            }
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(format!("cannot run mount: {e}"))
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            // Something still holds a file open there: detach it, so nothing is left mounted.
            let _ = Command::new("umount").arg("-l").arg(&self.0).output();
        }
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Fills the filesystem of `path` with it, then gives back `leave` bytes: the file system is left
/// with about that much free space.
fn fill(path: &Path, leave: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0x5a_u8; 1 << 20];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    f.set_len(written.saturating_sub(leave)).unwrap();
    f.sync_all().unwrap();
}

#[test]
fn full_disk_gives_507_stores_nothing_partial_and_heals_when_space_is_freed() {
    let test = "faults::full_disk";
    let mount = match Tmpfs::mount("disk-full", 24) {
        Ok(m) => m,
        Err(why) => return skip_or_fail(test, "LIANZHENG_REQUIRE_FAULTS", &why),
    };
    let bin = env!("CARGO_BIN_EXE_lianzheng");
    let url = format!("sqlite://{}", mount.0.join("lianzheng.db").display());
    let key = seed(lianzheng_app::Db::open(&url).unwrap());
    let scratch = Scratch::new("disk-full");
    let key_file = scratch.0.join("log.key");
    let port = free_port();
    let mut server = serve(bin, &url, port, &key_file);
    wait_healthy(port);

    let mut acked = HashSet::new();
    let post = |no: &str| {
        let batch = json!({"events": case_events(no)}).to_string();
        exchange(port, "POST", "/api/v1/events", &key, &batch)
            .unwrap_or_else(|e| panic!("the server gave no answer to case {no}: {e}"))
    };
    let case_status = |no: &str| {
        exchange(port, "GET", &format!("/api/v1/cases/{no}"), &key, "")
            .unwrap_or_else(|e| panic!("the server gave no answer to a read of case {no}: {e}"))
    };
    // A few cases while there is room; the applicant's query code of the first is kept for the
    // public case query.
    let mut query_code = String::new();
    for k in 0..5 {
        let (status, _, body) = post(&format!("F{k:04}"));
        assert_eq!(status, 200, "{body}");
        acked.extend(taken_ids(&body, 6));
        if k == 0 {
            let v: Value = serde_json::from_str(&body).unwrap();
            query_code = v["results"][0]["query_code"]
                .as_str()
                .unwrap_or_else(|| panic!("no query code for a new case: {body}"))
                .to_string();
        }
    }
    // Leave about 2 MiB, then ingest until the disk is full: every batch is either stored (200)
    // or refused whole (507).
    let filler = mount.0.join("filler");
    fill(&filler, 2 << 20);
    let mut k = 5;
    let refused = loop {
        assert!(k < 5000, "5000 batches and the disk never filled");
        let no = format!("F{k:04}");
        let (status, retry_after, body) = post(&no);
        match status {
            200 => acked.extend(taken_ids(&body, 6)),
            507 => {
                assert_eq!(error_code(&body), "disk_full", "{body}");
                assert!(
                    body.contains("disk is full") && body.contains("nothing was stored"),
                    "the 507 says what happened: {body}"
                );
                assert_eq!(
                    retry_after, None,
                    "a full disk is not a retry-soon condition"
                );
                break no;
            }
            s => panic!("a full disk gave {s}, not 507 disk_full: {body}"),
        }
        k += 1;
    };
    let stored_before_full = k;

    // While the disk is full: nothing of the refused case is there (a staff read of a case that
    // does not exist writes nothing), the public case query and /healthz are served, a staff view
    // of personal data is refused because its access record cannot be written, and the same
    // batch is refused again.
    let (status, _, body) = case_status(&refused);
    assert_eq!(
        status, 404,
        "the refused case is not stored, not even in part: {body}"
    );
    let (status, _, body) = exchange(
        port,
        "GET",
        &format!("/api/v1/public/cases/F0000?query_code={query_code}"),
        "",
        "",
    )
    .unwrap();
    assert_eq!(
        status, 200,
        "the public case query is served while the disk is full: {body}"
    );
    assert!(body.contains("F0000"), "{body}");
    assert!(
        matches!(http(port, "GET", "/healthz", "", ""), Ok((200, _))),
        "/healthz answers while the disk is full"
    );
    // A staff view of personal data writes its access record first: refused with 507 when that
    // cannot be written, served when the record fits in space SQLite's WAL already holds.
    let (status, _, body) = case_status("F0000");
    match status {
        200 => assert!(body.contains("F0000"), "{body}"),
        507 => assert_eq!(error_code(&body), "disk_full", "{body}"),
        other => panic!("a staff view while the disk is full answered {other}: {body}"),
    }
    // Retried while the disk is full, the batch is refused whole again, or taken whole once a
    // checkpoint has let SQLite reuse the WAL's space: never in part.
    let mut refusals = 1;
    let mut taken_while_full = false;
    for _ in 0..3 {
        let (status, _, body) = post(&refused);
        match status {
            507 => {
                assert_eq!(error_code(&body), "disk_full", "{body}");
                refusals += 1;
            }
            200 => {
                let v: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["accepted"], 6, "taken whole: {body}");
                acked.extend(taken_ids(&body, 6));
                taken_while_full = true;
                break;
            }
            s => panic!("a retry on a full disk gave {s}: {body}"),
        }
    }

    // Space is freed: the same server takes the refused batch whole (every event new, so nothing
    // of it was stored before) and more.
    std::fs::remove_file(&filler).unwrap();
    let (status, _, body) = post(&refused);
    assert_eq!(
        status, 200,
        "the refused batch is taken once space is freed: {body}"
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    if taken_while_full {
        assert_eq!(v["duplicate"], 6, "stored once: {body}");
    } else {
        assert_eq!(
            v["accepted"], 6,
            "nothing of the refused batch was stored: {body}"
        );
        acked.extend(taken_ids(&body, 6));
    }
    for k in k + 1..k + 6 {
        let (status, _, body) = post(&format!("F{k:04}"));
        assert_eq!(status, 200, "writes go on after space is freed: {body}");
        acked.extend(taken_ids(&body, 6));
    }
    let (status, _, body) = case_status("F0000");
    assert_eq!(status, 200, "a staff view works again: {body}");
    wait_checkpointed(&url);
    server.kill();

    let report = check_stored(bin, &url, &key_file, &acked);
    let cases: HashMap<&str, usize> =
        acked
            .iter()
            .filter_map(|id| id.split('-').next())
            .fold(HashMap::new(), |mut m, no| {
                *m.entry(no).or_default() += 1;
                m
            });
    eprintln!(
        "disk full: {stored_before_full} batches stored before the 24 MiB tmpfs filled, {refusals} answers 507 disk_full while full (reads and /healthz served), then {} batches stored after freeing space without a restart; {} cases, all stored once, audit: {report}",
        cases.len() - stored_before_full,
        cases.len()
    );
    drop(mount);
}

#[test]
fn postgres_disk_full_gives_507() {
    // PostgreSQL reports a full disk as SQLSTATE 53100; a trigger raises it on the events of the
    // test's own schema, so the server's whole path from the database error to the answer runs.
    let bin = env!("CARGO_BIN_EXE_lianzheng");
    let db = match lianzheng_app::testing::postgres("pg_disk_full") {
        Ok(db) => db,
        Err(why) => {
            return skip_or_fail("faults::postgres_disk_full", "LIANZHENG_REQUIRE_PG", &why);
        }
    };
    let key = seed(db.open().unwrap());
    let app = lianzheng_app::App::open(&db.url).unwrap();
    app.db
        .write(|tx| {
            tx.exec(
                "CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$",
                &[],
            )?;
            tx.exec(
                "CREATE TRIGGER full_disk BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION full_disk()",
                &[],
            )
        })
        .unwrap();
    let scratch = Scratch::new("pg-full");
    let port = free_port();
    let mut server = serve(bin, &db.url, port, &scratch.0.join("log.key"));
    wait_healthy(port);
    let batch = json!({"events": case_events("PF0001")}).to_string();
    let (status, retry_after, body) =
        exchange(port, "POST", "/api/v1/events", &key, &batch).unwrap();
    assert_eq!(status, 507, "SQLSTATE 53100 gives 507: {body}");
    assert_eq!(error_code(&body), "disk_full", "{body}");
    assert_eq!(retry_after, None, "{body}");
    app.db
        .write(|tx| tx.exec("DROP TRIGGER full_disk ON events", &[]))
        .unwrap();
    let (status, _, body) = exchange(port, "POST", "/api/v1/events", &key, &batch).unwrap();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["accepted"], 6,
        "nothing of the refused batch was stored: {body}"
    );
    server.kill();
}
