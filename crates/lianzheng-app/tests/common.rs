//! The test app: a fresh database per backend, a manual clock, a small catalog, and builders
//! for events.

use std::sync::Arc;

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use lianzheng_app::catalog::{Department, ItemChange};
use lianzheng_app::ingest::{EventResult, Incoming};
use lianzheng_app::views::{FindingFilter, FindingView};
use lianzheng_app::{App, AppError, Db, ManualClock, Principal, SeededEntropy, Settings, testing};
use lianzheng_core::time::start_of;
use serde_json::{Value, json};

/// The SCJG item: 5 working days promised, 20 legal, one fee of 10.00, two required materials.
pub const ITEM: &str = "11410800MB0000001";
/// The ZJJ item.
pub const OTHER_ITEM: &str = "11410800MB0000002";

/// One test's application on one backend.
pub struct Env {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub backend: &'static str,
    url: String,
}

/// A local (UTC+08:00) instant.
pub fn at(d: Date, h: i64, m: i64) -> Timestamp {
    start_of(d) + SignedDuration::from_mins(h * 60 + m)
}

/// Mon 2026-03-02 09:00, when most stories start.
pub fn t0() -> Timestamp {
    at(date(2026, 3, 2), 9, 0)
}

/// Runs a story on SQLite and on PostgreSQL (PostgreSQL is skipped with a visible line when
/// unreachable, unless `LIANZHENG_REQUIRE_PG=1`).
pub fn both(tag: &str, story: impl Fn(&Env)) {
    both_at(tag, t0(), story);
}

/// [`both`] with the clock starting at `start`.
pub fn both_at(tag: &str, start: Timestamp, story: impl Fn(&Env)) {
    let dbs = testing::all(tag).unwrap_or_else(|e| panic!("{e}"));
    for tdb in &dbs {
        let db = tdb
            .open()
            .unwrap_or_else(|e| panic!("{}: {e}", tdb.backend));
        let clock = Arc::new(ManualClock::new(start));
        let app = App::new(
            db,
            clock.clone(),
            Arc::new(SeededEntropy::new(1)),
            Settings::default(),
        )
        .unwrap();
        let env = Env {
            app,
            clock,
            backend: tdb.backend,
            url: tdb.url.clone(),
        };
        env.seed_catalog();
        story(&env);
        // Whatever the story did, the statistics' running totals agree with the rows.
        let diffs = env.app.check_statistics().unwrap();
        assert!(
            diffs.is_empty(),
            "{}: statistics drifted: {diffs:#?}",
            env.backend
        );
        // The app (and its connections) goes before the database is dropped.
        drop(env);
    }
}

pub fn admin() -> Principal {
    Principal::Admin {
        name: "admin".into(),
    }
}

pub fn supervisor() -> Principal {
    Principal::Supervisor { name: "jcj".into() }
}

pub fn dept(code: &str) -> Principal {
    Principal::Department {
        name: format!("key:{code}"),
        department: code.into(),
    }
}

/// An item change as JSON (the import format), with overrides.
pub fn item_json(code: &str, department: &str, patch: Value) -> Value {
    let mut v = json!({
        "code": code, "effective_date": "2026-01-01", "reason": "首次录入",
        "name": "食品经营许可", "basic_code": "000123", "item_type": "01", "department": department,
        "legal_limit": {"amount": 20, "unit": "WD"}, "promised_limit": {"amount": 5, "unit": "WD"},
        "case_kind": "2", "window_auth": "handle",
        "fees": [{"code": "GB", "name": "工本费", "standard_fen": 1000}],
        "materials": [{"name": "申请书"}, {"name": "营业执照"}],
        "supervision_phone": "0391-12345"
    });
    if let (Some(obj), Some(p)) = (v.as_object_mut(), patch.as_object()) {
        for (k, x) in p {
            obj.insert(k.clone(), x.clone());
        }
    }
    v
}

pub fn item_change(code: &str, department: &str, patch: Value) -> ItemChange {
    serde_json::from_value(item_json(code, department, patch)).unwrap()
}

impl Env {
    fn seed_catalog(&self) {
        let deps = [
            ("SCJG", "焦作市市场监督管理局"),
            ("ZJJ", "焦作市住房和城乡建设局"),
        ]
        .map(|(code, name)| Department {
            code: code.into(),
            credit_code: format!("11410800{code}"),
            name: name.into(),
            short_name: code.into(),
            phone: "0391-12345".into(),
        });
        self.app.upsert_departments(&admin(), &deps).unwrap();
        let r = self
            .app
            .save_items(
                &admin(),
                vec![
                    item_change(ITEM, "SCJG", json!({})),
                    item_change(OTHER_ITEM, "ZJJ", json!({"name": "建筑工程施工许可"})),
                ],
            )
            .unwrap();
        assert_eq!(r.written, 2, "{:?}", r.errors);
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        self.app.now()
    }

    /// Sets the clock.
    pub fn set(&self, t: Timestamp) {
        self.clock.set(t);
    }

    /// Moves the clock forward by minutes and returns the new now.
    pub fn tick(&self, minutes: i64) -> Timestamp {
        let t = self.now() + SignedDuration::from_mins(minutes);
        self.clock.set(t);
        t
    }

    /// A second application on the same database (a restart).
    pub fn reopen(&self) -> App {
        let db = Db::open(&self.url).unwrap();
        App::new(
            db,
            self.clock.clone(),
            Arc::new(SeededEntropy::new(2)),
            Settings::default(),
        )
        .unwrap()
    }

    /// Submits events; panics on a whole-batch error.
    pub fn submit(&self, p: &Principal, events: Vec<Incoming>) -> Vec<EventResult> {
        self.app
            .submit(p, events.into_iter().map(Ok).collect())
            .unwrap_or_else(|e| panic!("{}: submit: {e}", self.backend))
    }

    /// Submits one event as the SCJG department and expects it accepted.
    pub fn ok(&self, e: Incoming) -> EventResult {
        let r = self.submit(&dept("SCJG"), vec![e]).remove(0);
        assert_eq!(r.status, "accepted", "{}: {:?}", self.backend, r.error);
        r
    }

    /// Applies for the SCJG item and accepts it now; returns the query code.
    pub fn open_case(&self, case_no: &str) -> String {
        let code = self
            .ok(apply(case_no, self.now()))
            .query_code
            .expect("a query code");
        self.tick(1);
        self.ok(ev(
            case_no,
            self.now(),
            "w1",
            json!({"kind": "accept", "document_no": "受字001"}),
        ));
        code
    }

    /// Passes the three steps and finishes now; `approver` decides.
    pub fn finish_case(&self, case_no: &str, approver: &str) {
        for (who, step) in [("o1", "承办"), ("o2", "审核"), (approver, "批准")] {
            self.tick(1);
            self.ok(ev(
                case_no,
                self.now(),
                who,
                json!({"kind": "step", "step": step, "action": "pass"}),
            ));
        }
        self.tick(1);
        self.ok(ev(
            case_no,
            self.now(),
            approver,
            json!({"kind": "finish", "result": "granted"}),
        ));
    }

    /// Findings with a rule code, as an administrator sees them.
    pub fn findings(&self, code: &str) -> Vec<FindingView> {
        let f = FindingFilter {
            code: Some(code.into()),
            ..FindingFilter::default()
        };
        self.app.findings(&admin(), &f).unwrap()
    }

    /// One integer from SQL.
    pub fn count(&self, sql: &str, params: &[lianzheng_app::db::Value]) -> i64 {
        self.app
            .db
            .read(|tx| Ok::<_, AppError>(tx.query_opt(sql, params)?.map_or(0, |r| r.int(0))))
            .unwrap()
    }

    /// Rows of the event log about a case.
    pub fn case_events(&self, case_no: &str) -> i64 {
        self.count(
            "SELECT COUNT(*) FROM events WHERE subject_type = 'case' AND subject_id = ?",
            &[case_no.into()],
        )
    }

    /// The stored case state.
    pub fn stored_case(&self, case_no: &str) -> Value {
        self.app.staff_case(&admin(), case_no).unwrap()["case"].clone()
    }
}

/// An event; the actor's role follows the id: `w…` window, `l…` leader, else officer.
pub fn ev(case_no: &str, occurred_at: Timestamp, actor: &str, body: Value) -> Incoming {
    let role = match actor.chars().next() {
        Some('w') => "window",
        Some('l') => "leader",
        _ => "officer",
    };
    let mut v = json!({"case_no": case_no, "occurred_at": occurred_at.to_string(), "actor": {"id": actor, "role": role}});
    if let (Some(obj), Some(b)) = (v.as_object_mut(), body.as_object()) {
        for (k, x) in b {
            obj.insert(k.clone(), x.clone());
        }
    }
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test event: {e}"))
}

/// The same with an event id.
pub fn ev_id(
    id: &str,
    case_no: &str,
    occurred_at: Timestamp,
    actor: &str,
    body: Value,
) -> Incoming {
    Incoming {
        event_id: Some(id.into()),
        ..ev(case_no, occurred_at, actor, body)
    }
}

/// 申请 of the SCJG item with both materials.
pub fn apply(case_no: &str, occurred_at: Timestamp) -> Incoming {
    apply_for(case_no, occurred_at, ITEM)
}

pub fn apply_for(case_no: &str, occurred_at: Timestamp, item: &str) -> Incoming {
    ev(
        case_no,
        occurred_at,
        "w1",
        json!({"kind": "apply", "item_code": item, "channel": "window", "window": "W01",
               "applicant": {"name": "张三丰", "id_type": "111", "id_no": "410802199001011234", "phone": "13903910000"},
               "materials": ["申请书", "营业执照"]}),
    )
}

/// A step of a case.
pub fn step(case_no: &str, occurred_at: Timestamp, actor: &str, name: &str) -> Incoming {
    ev(
        case_no,
        occurred_at,
        actor,
        json!({"kind": "step", "step": name, "action": "pass"}),
    )
}

/// A fee.
pub fn fee(case_no: &str, occurred_at: Timestamp, code: &str, fen: i64) -> Incoming {
    ev(
        case_no,
        occurred_at,
        "w1",
        json!({"kind": "fee", "fee_code": code, "amount_fen": fen}),
    )
}
