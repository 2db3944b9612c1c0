//! Durability: the importer is killed (SIGKILL) at random points while it ingests; after every
//! kill, every event it acknowledged is in the database, and the record audits clean. Then the
//! import is resumed (idempotent by event id) until it completes. On SQLite and PostgreSQL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lianzheng_app::Principal;
use lianzheng_app::catalog::{Department, ItemChange};
use serde_json::json;

pub(crate) fn seed_app(app: &lianzheng_app::App) {
    let admin = Principal::Admin {
        name: "test".into(),
    };
    app.upsert_departments(
        &admin,
        &[Department {
            code: "SCJG".into(),
            credit_code: "11410800MB1234567X".into(),
            name: "焦作市市场监督管理局".into(),
            short_name: "市市场监管局".into(),
            phone: String::new(),
        }],
    )
    .unwrap();
    let change: ItemChange = serde_json::from_value(json!({
        "code": "ITEM1", "effective_date": "2026-01-01", "reason": "公布", "name": "食品经营许可",
        "basic_code": "0111001000", "item_type": "01", "department": "SCJG",
        "legal_limit": {"amount": 20, "unit": "WD"}, "promised_limit": {"amount": 5, "unit": "WD"},
        "case_kind": "2", "window_auth": "handle"
    }))
    .unwrap();
    app.save_items(&admin, vec![change]).unwrap();
}

fn events_file(dir: &std::path::Path, cases: usize) -> (std::path::PathBuf, usize) {
    let mut lines = Vec::new();
    for c in 0..cases {
        let no = format!("K{c:05}");
        let actor = json!({"id": "W01", "role": "window"});
        let mut push = |kind: &str, minute: usize, extra: serde_json::Value| {
            let mut v = json!({"event_id": format!("{no}-{kind}-{minute}"), "case_no": no, "kind": kind,
                "occurred_at": format!("2026-03-02T{:02}:{:02}:00+08:00", 9 + minute / 60, minute % 60), "actor": actor});
            if let (Some(o), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
                o.extend(e);
            }
            lines.push(v.to_string());
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
    }
    let path = dir.join("events.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    (path, lines.len())
}

#[test]
fn killed_at_random_points_loses_no_acknowledged_event() {
    let bin = env!("CARGO_BIN_EXE_lianzheng");
    for db in lianzheng_app::testing::all("crash").unwrap_or_else(|e| panic!("{e}")) {
        let app = lianzheng_app::App::new(
            db.open().unwrap(),
            std::sync::Arc::new(lianzheng_app::SystemClock),
            std::sync::Arc::new(lianzheng_app::OsEntropy),
            lianzheng_app::Settings::default(),
        )
        .unwrap();
        seed_app(&app);
        drop(app);
        let dir = std::env::temp_dir().join(format!(
            "lianzheng-crash-{}-{}",
            db.backend,
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (file, total) = events_file(&dir, 250);
        let mut acked: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut rng = 0x2008u64;
        let mut kills = 0;
        let mut finished = false;
        for round in 0..40 {
            let mut child = Command::new(bin)
                .args(["import", "events"])
                .arg(&file)
                .args([
                    "--db",
                    &db.url,
                    "--department",
                    "SCJG",
                    "--batch",
                    "25",
                    "--print-acks",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Kill it once it has acknowledged a random number of new events, or (from the fifth
            // run on, one time in three) let it run to the end.
            rng = rng
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let let_finish = round >= 4 && (rng >> 33).is_multiple_of(3);
            let target = acked.len() + 10 + ((rng >> 40) % 200) as usize;
            let stdout = child.stdout.take().unwrap();
            let reader = BufReader::new(stdout);
            let started = Instant::now();
            let mut killed = false;
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if let Some(id) = line.strip_prefix("ack ") {
                    acked.insert(id.to_string());
                    if !let_finish && acked.len() >= target {
                        child.kill().unwrap();
                        killed = true;
                        kills += 1;
                        break;
                    }
                }
                assert!(started.elapsed() < Duration::from_secs(120), "import hung");
            }
            let status = child.wait().unwrap();
            // After a kill (or a clean exit), every acknowledged event is there and the record
            // audits clean.
            let app = lianzheng_app::App::open(&db.url).unwrap();
            let stored: std::collections::HashSet<String> = app
                .db
                .read(|tx| {
                    tx.query(
                        "SELECT source_event_id FROM events WHERE source_event_id IS NOT NULL",
                        &[],
                    )
                })
                .unwrap()
                .iter()
                .map(|r| r.text(0))
                .collect();
            let missing: Vec<&String> = acked
                .iter()
                .filter(|id| !stored.contains(id.as_str()))
                .collect();
            assert!(
                missing.is_empty(),
                "{}: acknowledged events lost after a kill: {missing:?}",
                db.backend
            );
            let report = app.audit(None).unwrap();
            assert!(report.is_clean(), "{}: {:?}", db.backend, report.problems);
            if !killed && status.success() {
                assert_eq!(stored.len(), total, "{}", db.backend);
                finished = true;
                break;
            }
        }
        assert!(finished, "{}: the import never completed", db.backend);
        assert!(kills >= 3, "{}: only {kills} kills happened", db.backend);
        eprintln!(
            "{}: {kills} kills, {} events acknowledged before kills, none lost",
            db.backend,
            acked.len()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn an_online_backup_restores_and_audits_clean() {
    let bin = env!("CARGO_BIN_EXE_lianzheng");
    let db = lianzheng_app::testing::sqlite("backup");
    let app = lianzheng_app::App::open(&db.url).unwrap();
    seed_app(&app);
    let dir = std::env::temp_dir().join(format!("lianzheng-backup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, total) = events_file(&dir, 20);
    let import = Command::new(bin)
        .args(["import", "events"])
        .arg(&file)
        .args(["--db", &db.url, "--department", "SCJG"])
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    // The backup is taken while the source stays open in this process.
    let backup = dir.join("backup.db");
    let out = Command::new(bin)
        .args(["backup", "--db", &db.url, "--to"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = format!("sqlite://{}", dir.join("restored.db").display());
    let out = Command::new(bin)
        .args(["restore", "--from"])
        .arg(&backup)
        .args(["--db", &restored])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = lianzheng_app::App::open(&restored)
        .unwrap()
        .audit(None)
        .unwrap();
    assert!(report.is_clean());
    assert!(
        report.events as usize > total,
        "events and catalog records: {}",
        report.events
    );
    // Restoring over an existing database is refused; backing up PostgreSQL points to pg_dump.
    let again = Command::new(bin)
        .args(["restore", "--from"])
        .arg(&backup)
        .args(["--db", &restored])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!again.status.success());
    let pg = Command::new(bin)
        .args(["backup", "--db", "postgres://x@127.0.0.1/y", "--to"])
        .arg(dir.join("pg.db"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"));
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}
