//! Benchmarks that report figures and ratios against a baseline measured in the same run
//! (`lianzheng bench …`). Nothing here asserts a speed; it prints what it measured.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use lianzheng_app::catalog::{Department, ItemChange};
use lianzheng_app::ingest::Incoming;
use lianzheng_app::{App, Db, ManualClock, Principal, SeededEntropy, Settings};
use lianzheng_core::case::{Actor, Applicant, CaseEvent, EventBody};
use lianzheng_core::catalog::{ItemBody, ItemStatus, StepDef};
use lianzheng_core::codes::{
    ActorRole, CaseKind, Channel, FinishResult, ItemType, ServiceObject, StepAction, WindowAuth,
};
use lianzheng_core::deadline::TimeLimit;

/// A fresh database for a benchmark: a new SQLite file, or a new schema in PostgreSQL.
pub fn fresh_db(url: &str, tag: &str) -> anyhow::Result<(Db, String)> {
    if let Some(dir) = url.strip_prefix("sqlite://") {
        std::fs::create_dir_all(dir).ok();
        let path = format!("{dir}/bench-{tag}.db");
        for s in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{s}"));
        }
        let u = format!("sqlite://{path}");
        Ok((Db::open(&u)?, u))
    } else {
        let schema = format!("bench_{tag}");
        let mut c =
            postgres::Client::connect(url, postgres::NoTls).context("connecting to PostgreSQL")?;
        c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))?;
        let sep = if url.contains('?') { '&' } else { '?' };
        let u = format!("{url}{sep}options=-csearch_path%3D{schema}");
        let db = Db::open(&u)?;
        db.migrate()?;
        Ok((db, u))
    }
}

fn t0() -> Timestamp {
    // 2026-03-02 09:00 +08:00, a Monday.
    Timestamp::from_second(1_772_413_200).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn setup(db: Db, clock: Arc<ManualClock>) -> anyhow::Result<App> {
    setup_with(db, clock, true)
}

fn setup_with(db: Db, clock: Arc<ManualClock>, log: bool) -> anyhow::Result<App> {
    let app = App::new(
        db,
        clock,
        Arc::new(SeededEntropy::new(7)),
        Settings {
            max_batch: 100_000,
            log,
            ..Settings::default()
        },
    )?;
    let admin = Principal::Admin {
        name: "bench".into(),
    };
    app.upsert_departments(
        &admin,
        &[Department {
            code: "SCJG".into(),
            credit_code: "11410800MB1234567X".into(),
            name: "焦作市市场监督管理局".into(),
            short_name: "市市场监管局".into(),
            phone: "0391-0000000".into(),
        }],
    )?;
    let body = ItemBody {
        name: "食品经营许可".into(),
        basic_code: "0111001000".into(),
        item_type: ItemType::Licensing,
        department: "SCJG".into(),
        legal_basis: "《食品经营许可和备案管理办法》".into(),
        legal_limit: TimeLimit::working_days(10),
        promised_limit: TimeLimit::working_days(5),
        case_kind: CaseKind::Promised,
        service_object: ServiceObject::Enterprise,
        window_auth: WindowAuth::AcceptOnly,
        fees: Vec::new(),
        materials: Vec::new(),
        steps: vec![
            StepDef {
                name: "承办".into(),
                limit_days: 2,
            },
            StepDef {
                name: "审核".into(),
                limit_days: 2,
            },
            StepDef {
                name: "批准".into(),
                limit_days: 1,
            },
        ],
        special_procedures: Vec::new(),
        supervision_phone: String::new(),
        conditions: String::new(),
        online_required: false,
    };
    let change = ItemChange {
        code: "ITEM1".into(),
        effective_date: jiff::civil::date(2026, 1, 1),
        reason: "bench".into(),
        status: ItemStatus::Active,
        body,
    };
    app.save_items(&admin, vec![change])?;
    Ok(app)
}

fn case_events(i: usize, at: Timestamp, finish: bool) -> Vec<Incoming> {
    let no = format!("B{i:09}");
    let a = |id: &str, role| Actor {
        id: id.into(),
        name: String::new(),
        role,
    };
    let mut t = at;
    let mut out = Vec::new();
    let mut push = |actor: Actor, body: EventBody, step_mins: i64| {
        t += SignedDuration::from_mins(step_mins);
        out.push(Incoming {
            event_id: Some(format!("{no}-{}", out.len())),
            event: CaseEvent {
                case_no: no.clone(),
                occurred_at: t,
                actor,
                body,
            },
        });
    };
    push(
        a("W01", ActorRole::Window),
        EventBody::Apply {
            item_code: "ITEM1".into(),
            channel: Channel::Window,
            applicant: Applicant {
                name: "张三".into(),
                id_type: "111".into(),
                id_no: "410802199001011234".into(),
                phone: "13900000000".into(),
            },
            materials: Vec::new(),
            window: Some("W01".into()),
            project_code: None,
        },
        0,
    );
    push(
        a("W01", ActorRole::Window),
        EventBody::Accept { document_no: None },
        1,
    );
    if finish {
        for (s, who) in [("承办", "O01"), ("审核", "R01"), ("批准", "L01")] {
            push(
                a(who, ActorRole::Officer),
                EventBody::Step {
                    step: s.into(),
                    action: StepAction::Pass,
                    opinion: Some("同意".into()),
                },
                1,
            );
        }
        push(
            a("L01", ActorRole::Leader),
            EventBody::Finish {
                result: FinishResult::Granted,
                certificate_no: None,
            },
            1,
        );
    }
    out
}

/// Ingest: events through `App::submit` (validated, rules applied, state updated, stored in one
/// transaction per batch) next to a raw batched insert of the same rows into the same table.
pub fn ingest(url: &str, cases: usize, batch: usize) -> anyhow::Result<String> {
    let clock = Arc::new(ManualClock::new(t0() + SignedDuration::from_hours(1)));
    let (db, _) = fresh_db(url, "ingest")?;
    let app = setup(db, clock.clone())?;
    let principal = Principal::Admin {
        name: "bench".into(),
    };
    let mut events: Vec<Incoming> = Vec::with_capacity(cases * 6);
    for i in 0..cases {
        events.extend(case_events(i, t0(), true));
    }
    let n = events.len();
    let payloads: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(&e.event).unwrap_or_default())
        .collect();
    let started = Instant::now();
    let mut accepted = 0;
    for chunk in events.chunks(batch) {
        let results = app.submit(&principal, chunk.iter().cloned().map(Ok).collect())?;
        accepted += results.iter().filter(|r| r.status == "accepted").count();
    }
    let full = started.elapsed().as_secs_f64();
    anyhow::ensure!(accepted == n, "only {accepted} of {n} events were accepted");

    // The same path with the transparency log switched off, to show what the log costs.
    let clock2 = Arc::new(ManualClock::new(t0() + SignedDuration::from_hours(1)));
    let (db2, _) = fresh_db(url, "nolog")?;
    let app2 = setup_with(db2, clock2, false)?;
    let started = Instant::now();
    for chunk in events.chunks(batch) {
        app2.submit(&principal, chunk.iter().cloned().map(Ok).collect())?;
    }
    let nolog = started.elapsed().as_secs_f64();

    // Baseline: the same rows, raw, into a fresh copy of the same table in the same database.
    let (raw_db, _) = fresh_db(url, "raw")?;
    raw_db.migrate()?;
    let started = Instant::now();
    let mut seq = 0i64;
    for chunk in payloads.chunks(batch) {
        raw_db.write(|tx| {
            for p in chunk {
                seq += 1;
                tx.exec(
                    "INSERT INTO events (seq, subject_type, subject_id, kind, department, actor, occurred_at, recorded_at, source, source_event_id, payload) VALUES (?, 'case', ?, 'step', 'SCJG', 'O01', ?, ?, 'raw', ?, ?)",
                    &[seq.into(), format!("B{seq:09}").into(), seq.into(), seq.into(), seq.to_string().into(), p.clone().into()],
                )?;
            }
            Ok::<_, lianzheng_app::DbError>(())
        })?;
    }
    let raw = started.elapsed().as_secs_f64();
    let (rate, raw_rate) = (n as f64 / full, n as f64 / raw);
    let nolog_rate = n as f64 / nolog;
    Ok(format!(
        "ingest {} ({} events, {} cases, batches of {batch}): full path with the log {:.0} events/s ({:.2} s); without the log {:.0} events/s ({:.2} s), log on/off {:.2}; raw batched insert {:.0} rows/s ({:.2} s); full path/raw {:.2}",
        backend_name(url),
        n,
        cases,
        rate,
        full,
        nolog_rate,
        nolog,
        rate / nolog_rate,
        raw_rate,
        raw,
        rate / raw_rate
    ))
}

/// The sweep over many open cases: `crossing` cases have deadlines that have passed; the rest
/// (`open` in all) are open with deadlines in the future. Reports the sweep time, which should
/// follow the crossings, not the open cases.
pub fn sweep(url: &str, open: usize, crossing: usize) -> anyhow::Result<String> {
    let clock = Arc::new(ManualClock::new(t0() + SignedDuration::from_hours(1)));
    let (db, _) = fresh_db(url, &format!("sweep{open}"))?;
    let app = setup(db, clock.clone())?;
    let principal = Principal::Admin {
        name: "bench".into(),
    };
    // The crossing cases go through the real path.
    let mut events = Vec::new();
    for i in 0..crossing {
        events.extend(case_events(i, t0(), false));
    }
    for chunk in events.chunks(1000) {
        app.submit(&principal, chunk.iter().cloned().map(Ok).collect())?;
    }
    // The other open cases are copies of one real case, accepted later, so that their deadlines
    // lie in the future; inserted raw because only their presence matters here.
    let template = app.db.read(|tx| {
        Ok::<_, lianzheng_app::AppError>(
            tx.query_opt("SELECT state FROM cases LIMIT 1", &[])?
                .map(|r| r.text(0)),
        )
    })?;
    let template = template.context("no template case")?;
    let future = (t0() + SignedDuration::from_hours(24 * 200)).as_millisecond();
    let started = Instant::now();
    let extra = open.saturating_sub(crossing);
    let mut done = 0;
    if app.db.backend() == lianzheng_app::db::Backend::Postgres {
        // One statement per table: a row-by-row fill over the network would take minutes.
        app.db.write(|tx| {
            tx.exec(
                "INSERT INTO cases (case_no, item_code, item_version, department, status, channel, registered_at, accepted_at, state, updated_seq) SELECT 'F' || lpad(g::text, 9, '0'), 'ITEM1', 1, 'SCJG', 'accepted', 'window', ?, ?, ?, 0 FROM generate_series(1, ?) g",
                &[future.into(), future.into(), template.clone().into(), (extra as i64).into()],
            )?;
            for (code, off) in [("A003", 0i64), ("A004", 86_400_000), ("A005", 5 * 86_400_000), ("A006", 90 * 86_400_000)] {
                tx.exec(
                    "INSERT INTO deadlines (subject_type, subject_id, code, scope, due_at) SELECT 'case', 'F' || lpad(g::text, 9, '0'), ?, '', ? FROM generate_series(1, ?) g",
                    &[code.into(), (future + off).into(), (extra as i64).into()],
                )?;
            }
            Ok::<_, lianzheng_app::DbError>(())
        })?;
        done = extra;
    }
    while done < extra {
        let n = (extra - done).min(5000);
        app.db.write(|tx| {
            for k in 0..n {
                let no = format!("F{:09}", done + k);
                tx.exec(
                    "INSERT INTO cases (case_no, item_code, item_version, department, status, channel, registered_at, accepted_at, state, updated_seq) VALUES (?, 'ITEM1', 1, 'SCJG', 'accepted', 'window', ?, ?, ?, 0)",
                    &[no.clone().into(), future.into(), future.into(), template.clone().into()],
                )?;
                for (code, off) in [("A003", 0i64), ("A004", 86_400_000), ("A005", 5 * 86_400_000), ("A006", 90 * 86_400_000)] {
                    tx.exec(
                        "INSERT INTO deadlines (subject_type, subject_id, code, scope, due_at) VALUES ('case', ?, ?, '', ?)",
                        &[no.clone().into(), code.into(), (future + off).into()],
                    )?;
                }
            }
            Ok::<_, lianzheng_app::DbError>(())
        })?;
        done += n;
    }
    let fill = started.elapsed().as_secs_f64();
    // Move past the crossing cases' promised deadline (5 working days) but not the others'.
    clock.set(t0() + SignedDuration::from_hours(24 * 14));
    let started = Instant::now();
    let report = app.sweep(1000)?;
    let took = started.elapsed().as_secs_f64();
    Ok(format!(
        "sweep {} with {open} open cases ({} deadline rows), {crossing} crossing: {:.3} s for {} crossed deadlines, {} findings ({:.0} µs per crossing); filling took {:.1} s",
        backend_name(url),
        open * 4,
        took,
        report.crossed,
        report.fired,
        took * 1e6 / report.crossed.max(1) as f64,
        fill
    ))
}

fn backend_name(url: &str) -> &'static str {
    if url.starts_with("sqlite://") {
        "SQLite"
    } else {
        "PostgreSQL"
    }
}

/// Proof generation at a given log size: a synthetic log of `leaves` leaves (appended in
/// batches through the same code as events), then inclusion and consistency proofs.
pub fn proofs(url: &str, leaves: u64) -> anyhow::Result<String> {
    let (db, _) = fresh_db(url, &format!("proofs{leaves}"))?;
    let started = Instant::now();
    let mut size = 0u64;
    while size < leaves {
        let n = (leaves - size).min(20_000);
        let batch: Vec<Vec<u8>> = (size..size + n)
            .map(|i| format!("lianzheng-bench-leaf-{i:012}-{}", "x".repeat(120)).into_bytes())
            .collect();
        db.write(|tx| {
            lianzheng_app::log::append(tx, size, &batch)?;
            tx.exec(
                "INSERT INTO counters (name, value) VALUES ('event_seq', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                &[((size + n) as i64).into()],
            )?;
            Ok::<_, lianzheng_app::AppError>(())
        })?;
        size += n;
    }
    let build = started.elapsed().as_secs_f64();
    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::new(
        db,
        clock,
        Arc::new(SeededEntropy::new(7)),
        Settings::default(),
    )?;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let k = 1000;
    let started = Instant::now();
    for _ in 0..k {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let i = (x >> 11) % leaves;
        let p = app.inclusion_proof(i, leaves)?;
        anyhow::ensure!(!p.is_empty() || leaves == 1);
    }
    let incl = started.elapsed().as_secs_f64() / f64::from(k);
    let started = Instant::now();
    for _ in 0..k {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let from = 1 + (x >> 11) % (leaves - 1).max(1);
        app.consistency_proof(from, leaves)?;
    }
    let cons = started.elapsed().as_secs_f64() / f64::from(k);
    Ok(format!(
        "proofs {} at {leaves} leaves: inclusion {:.0} µs, consistency {:.0} µs (means of {k}); building the log took {:.1} s ({:.0} leaves/s)",
        backend_name(url),
        incl * 1e6,
        cons * 1e6,
        build,
        leaves as f64 / build
    ))
}

/// `audit` throughput on an ingested database, next to SHA-256 over the same number of bytes
/// in the same process.
pub fn audit(url: &str, cases: usize) -> anyhow::Result<String> {
    use sha2::Digest;
    let clock = Arc::new(ManualClock::new(t0() + SignedDuration::from_hours(1)));
    let (db, _) = fresh_db(url, "audit")?;
    let app = setup(db, clock)?;
    let principal = Principal::Admin {
        name: "bench".into(),
    };
    let mut events: Vec<Incoming> = Vec::new();
    for i in 0..cases {
        events.extend(case_events(i, t0(), true));
    }
    for chunk in events.chunks(1000) {
        app.submit(&principal, chunk.iter().cloned().map(Ok).collect())?;
    }
    let signer =
        lianzheng_tlog::checkpoint::LogSigner::generate("bench.example/log", &mut rand_core::OsRng)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    app.checkpoint(&signer)?;
    let started = Instant::now();
    let report = app.audit(Some(&signer.vkey_text()))?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.is_clean(),
        "the audit found problems: {:?}",
        report.problems.first()
    );
    // SHA-256 over the same bytes, in records of the same mean size.
    let per = usize::try_from(report.bytes_hashed / report.events.max(1))
        .unwrap_or(256)
        .max(1);
    let record = vec![0x5au8; per];
    let started = Instant::now();
    let mut acc = [0u8; 32];
    for _ in 0..report.events {
        let mut h = sha2::Sha256::new();
        h.update(acc);
        h.update(&record);
        acc = h.finalize().into();
    }
    let sha = started.elapsed().as_secs_f64();
    let (audit_bps, sha_bps) = (
        report.bytes_hashed as f64 / secs,
        report.bytes_hashed as f64 / sha,
    );
    Ok(format!(
        "audit {}: {} records in {:.2} s = {:.0} records/s, {:.1} MB/s hashed; SHA-256 alone over the same bytes {:.1} MB/s; audit/SHA-256 {:.2} (checksum {:02x})",
        backend_name(url),
        report.events,
        secs,
        report.events as f64 / secs,
        audit_bps / 1e6,
        sha_bps / 1e6,
        audit_bps / sha_bps,
        acc[0]
    ))
}
