//! One event's path: shape check, state machine, rules, and one transaction that writes the
//! event, the case projection, the findings opened or withdrawn (themselves events) and the
//! deadline index. Batches share one transaction, so one commit (one fsync) covers many events.
//!
//! The deadline index holds, for each open subject, exactly the time rules still pending
//! (`RulePack::desired_deadlines`). The sweep reads only rows with `due_at <= now`, so its cost
//! grows with the number of deadlines crossed, not with the number of open cases.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use lianzheng_core::case::{self, Case, CaseEvent, Context, EventBody};
use lianzheng_core::catalog::ItemBody;
use lianzheng_core::codes::Level;
use lianzheng_core::finding::{self, FindingAction, FindingState, FindingStatus};
use lianzheng_core::rules::{EventContext, Hit, Outcome, RulePack, Withdrawal};
use lianzheng_core::time::{end_of, local_date};
use serde::{Deserialize, Serialize};

use crate::bulk;
use crate::db::{Backend, DbError, Row, Tx, Value};
use crate::tally::{CaseFigures, Tally};
use crate::{App, AppError, Principal, from_ms, ms};

/// The stored columns a case row's statistics come from ([`CaseFigures::from_row`]).
macro_rules! case_figures {
    () => {
        "department, registered_at, accepted_at, finished_at, on_time"
    };
}

/// An event as submitted: the sender's own id (for idempotency) and the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incoming {
    /// The sender's event id; a second event with the same id from the same sender is a
    /// duplicate and changes nothing.
    #[serde(default)]
    pub event_id: Option<String>,
    /// The event.
    #[serde(flatten)]
    pub event: CaseEvent,
}

/// An error in a response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code.
    pub code: String,
    /// Message.
    pub message: String,
}

/// What happened to one submitted event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventResult {
    /// Position in the batch.
    pub index: usize,
    /// The sender's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// `accepted`, `duplicate` or `rejected`.
    pub status: String,
    /// The event's sequence number in the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    /// Rule codes of findings it opened.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub findings: Vec<String>,
    /// The applicant's private query code, returned once when a case is registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_code: Option<String>,
}

impl EventResult {
    /// A rejection.
    pub fn rejected(
        index: usize,
        event_id: Option<String>,
        code: &str,
        message: String,
    ) -> EventResult {
        EventResult {
            index,
            event_id,
            status: "rejected".into(),
            seq: None,
            error: Some(ErrorBody {
                code: code.into(),
                message,
            }),
            findings: Vec::new(),
            query_code: None,
        }
    }
}

/// A finding row as the writer keeps it.
#[derive(Debug, Clone)]
struct FindingRow {
    id: i64,
    code: String,
    scope: String,
    state: FindingState,
}

struct CaseEntry {
    case: Case,
    item: Arc<ItemBody>,
    findings: Vec<FindingRow>,
    dirty: bool,
    new: bool,
    parties: Option<(String, String)>,
    /// What its stored row counted for in the statistics (none for a new case).
    before: Option<CaseFigures>,
}

/// An item version's body, from the process-wide cache or the database. Versions never change
/// once written, so a cached body is never stale.
pub(crate) fn cached_item_body(
    cache: &ItemCache,
    tx: &mut dyn Tx,
    code: &str,
    version: u32,
) -> Result<Arc<ItemBody>, AppError> {
    if let Some(b) = known_item_body(cache, code, version) {
        return Ok(b);
    }
    let key = (code.to_string(), version);
    let r = tx
        .query_opt(
            "SELECT body FROM item_versions WHERE code = ? AND version = ?",
            &[code.into(), version.into()],
        )?
        .ok_or_else(|| AppError::NotFound {
            what: "item version",
            id: format!("{code}@{version}"),
        })?;
    let body: ItemBody = serde_json::from_str(&r.text(0))
        .map_err(|e| AppError::Invalid(format!("stored item `{code}` is unreadable: {e}")))?;
    let body = Arc::new(body);
    if let Ok(mut c) = cache.write() {
        c.insert(key, Arc::clone(&body));
    }
    Ok(body)
}

/// The body of an item version if the process has read it before. Item versions are never
/// changed or deleted once written, so a version read once exists from then on.
fn known_item_body(cache: &ItemCache, code: &str, version: u32) -> Option<Arc<ItemBody>> {
    cache
        .read()
        .ok()
        .and_then(|c| c.get(&(code.to_string(), version)).cloned())
}

/// Item bodies by `(code, version)`, shared by all transactions of the process.
pub(crate) type ItemCache = RwLock<HashMap<(String, u32), Arc<ItemBody>>>;

/// The writer's transaction with the event rows appended but not yet sent. Event rows are sent
/// as multi-row inserts when [`bulk::MAX_ROWS`] have gathered, before any other statement runs
/// through this handle (so every read sees them and every write comes after them, as if each had
/// been inserted on its own), and at the end of the transaction.
pub(crate) struct BufTx<'a> {
    inner: &'a mut dyn Tx,
    /// Event rows not yet inserted, [`EVENT_COLS`] values each.
    events: Vec<Value>,
    /// Set by every statement run through this handle from outside the writer's own paths:
    /// what the writer remembers from earlier reads (absent cases, item versions) is then
    /// forgotten.
    direct: bool,
}

/// Columns of an event row.
const EVENT_COLS: usize = 12;

impl BufTx<'_> {
    /// Runs a statement after the pending event rows (see [`Tx::exec`]).
    pub(crate) fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        Tx::exec(self, sql, params)
    }

    /// Runs a query after the pending event rows (see [`Tx::query`]).
    pub(crate) fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        Tx::query(self, sql, params)
    }

    /// Runs a query for at most one row after the pending event rows.
    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<Row>, DbError> {
        Tx::query_opt(self, sql, params)
    }

    /// Inserts the pending event rows.
    fn flush(&mut self) -> Result<(), DbError> {
        if self.events.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.events);
        bulk::insert_rows(
            self.inner,
            "INSERT INTO events (seq, subject_type, subject_id, kind, department, actor, occurred_at, recorded_at, source, source_event_id, payload, salt)",
            EVENT_COLS,
            "",
            &rows,
        )
    }
}

impl Tx for BufTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        self.flush()?;
        self.direct = true;
        self.inner.exec(sql, params)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        self.flush()?;
        self.direct = true;
        self.inner.query(sql, params)
    }

    fn backend(&self) -> Backend {
        self.inner.backend()
    }
}

/// An item lookup remembered for the transaction: the code, the version asked for (or none),
/// the day (for none).
type ItemKey = (String, Option<u32>, String);

/// The state of one write transaction: counters, cached cases and items.
pub(crate) struct Writer<'a> {
    /// The transaction. Statements run through it see (and follow) every event appended so far.
    pub(crate) tx: BufTx<'a>,
    event_seq: i64,
    finding_id: i64,
    counters_dirty: bool,
    cases: HashMap<String, CaseEntry>,
    item_cache: &'a ItemCache,
    app: &'a App,
    /// The log size when the transaction began.
    log_size: u64,
    /// Leaves of the events appended in this transaction.
    leaves: Vec<Vec<u8>>,
    /// Work buffers for encoding the leaves.
    leaf_scratch: crate::log::LeafScratch,
    /// Sender event ids (source, id) known in this transaction: appended here (`Some(seq)`),
    /// or looked up in the database (stored: `Some(seq)`, not stored: `None`).
    event_ids: HashMap<(String, String), Option<i64>>,
    /// Case numbers found not to exist (until the case is created here, or a statement from
    /// outside the writer's paths runs).
    absent_cases: HashSet<String>,
    /// Item lookups of this transaction (until a statement from outside the writer's paths runs).
    items: HashMap<ItemKey, Option<(u32, Arc<ItemBody>)>>,
    /// The statistics' differences, written at `finish`.
    pub(crate) tally: Tally,
    pub(crate) now: Timestamp,
}

/// Fields of an event row.
pub(crate) struct EventRow<'s> {
    pub subject_type: &'s str,
    pub subject_id: &'s str,
    pub kind: &'s str,
    pub department: &'s str,
    pub actor: &'s str,
    pub occurred_at: Timestamp,
    pub source: &'s str,
    pub source_event_id: Option<&'s str>,
    pub payload: String,
}

impl<'a> Writer<'a> {
    pub(crate) fn begin(
        tx: &'a mut dyn Tx,
        app: &'a App,
        now: Timestamp,
    ) -> Result<Writer<'a>, AppError> {
        let rows = tx.query(
            "SELECT name, value FROM counters WHERE name IN ('event_seq', 'finding_id')",
            &[],
        )?;
        let get = |name: &str| {
            rows.iter()
                .find(|r| r.text(0) == name)
                .map_or(0, |r| r.int(1))
        };
        let event_seq = get("event_seq");
        let finding_id = get("finding_id");
        Ok(Writer {
            tx: BufTx {
                inner: tx,
                events: Vec::new(),
                direct: false,
            },
            event_seq,
            finding_id,
            counters_dirty: false,
            cases: HashMap::new(),
            item_cache: &app.item_cache,
            app,
            log_size: u64::try_from(event_seq).unwrap_or(0),
            leaves: Vec::new(),
            leaf_scratch: crate::log::LeafScratch::default(),
            event_ids: HashMap::new(),
            absent_cases: HashSet::new(),
            items: HashMap::new(),
            tally: Tally::default(),
            now,
        })
    }

    /// Forgets what earlier reads found once a statement from outside the writer's own paths
    /// has run (it may have written anything).
    fn check_memos(&mut self) {
        if std::mem::take(&mut self.tx.direct) {
            self.absent_cases.clear();
            self.items.clear();
        }
    }

    /// Appends an event row; returns its sequence number.
    pub(crate) fn append(&mut self, e: EventRow<'_>) -> Result<i64, AppError> {
        self.event_seq += 1;
        self.counters_dirty = true;
        // The leaf commits to the whole row with a fresh salt; the salt stays with the row.
        let mut salt = [0u8; 32];
        self.app.random(&mut salt);
        let fields = crate::log::EventFields {
            seq: self.event_seq,
            subject_type: e.subject_type.to_string(),
            subject_id: e.subject_id.to_string(),
            kind: e.kind.to_string(),
            department: e.department.to_string(),
            actor: e.actor.to_string(),
            occurred_at: ms(e.occurred_at),
            recorded_at: ms(self.now),
            source: e.source.to_string(),
            source_event_id: e.source_event_id.map(str::to_string),
            payload: e.payload,
        };
        if self.app.settings.log {
            let mut leaf = Vec::new();
            fields
                .encode_leaf(&salt, &mut self.leaf_scratch, &mut leaf)
                .map_err(|e| AppError::Invalid(format!("log leaf: {e}")))?;
            self.leaves.push(leaf);
        }
        let crate::log::EventFields {
            seq,
            subject_type,
            subject_id,
            kind,
            department,
            actor,
            occurred_at,
            recorded_at,
            source,
            source_event_id,
            payload,
        } = fields;
        if let Some(id) = &source_event_id {
            self.event_ids
                .insert((source.clone(), id.clone()), Some(seq));
        }
        self.tx.events.extend([
            seq.into(),
            subject_type.into(),
            subject_id.into(),
            kind.into(),
            department.into(),
            actor.into(),
            occurred_at.into(),
            recorded_at.into(),
            source.into(),
            source_event_id.into(),
            payload.into(),
            Value::Blob(salt.to_vec()),
        ]);
        if self.tx.events.len() >= bulk::MAX_ROWS * EVENT_COLS {
            self.tx.flush()?;
        }
        Ok(self.event_seq)
    }

    /// The sequence number of the event a sender already sent with this id: appended earlier in
    /// this transaction, or stored before.
    fn existing(&mut self, source: &str, event_id: &str) -> Result<Option<i64>, AppError> {
        let key = (source.to_string(), event_id.to_string());
        if let Some(known) = self.event_ids.get(&key) {
            return Ok(*known);
        }
        // Rows appended in this transaction are all in `event_ids`: the stored ones suffice.
        let seq = self
            .tx
            .inner
            .query_opt(
                "SELECT seq FROM events WHERE source = ? AND source_event_id = ?",
                &[source.into(), event_id.into()],
            )?
            .map(|r| r.int(0));
        self.event_ids.insert(key, seq);
        Ok(seq)
    }

    /// Looks up the stored events of a batch's sender ids in a few statements, so that
    /// [`Writer::existing`] answers from memory.
    fn prefetch_event_ids(&mut self, source: &str, ids: &[&str]) -> Result<(), AppError> {
        let keys: Vec<Value> = ids
            .iter()
            .filter(|id| {
                !self
                    .event_ids
                    .contains_key(&(source.to_string(), (*id).to_string()))
            })
            .map(|id| Value::from(*id))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let rows = bulk::query_in(self.tx.inner, &[source.into()], &keys, |n| {
            format!(
                "SELECT source_event_id, seq FROM events WHERE source = ? AND source_event_id IN ({})",
                bulk::marks(n)
            )
        })?;
        for k in &keys {
            if let Value::Text(id) = k {
                self.event_ids
                    .insert((source.to_string(), id.clone()), None);
            }
        }
        for r in rows {
            self.event_ids
                .insert((source.to_string(), r.text(0)), Some(r.int(1)));
        }
        Ok(())
    }

    /// The item version in force for a case: a given version, or the newest one effective on
    /// `on` (or the newest at all when none is effective yet).
    pub(crate) fn item(
        &mut self,
        code: &str,
        version: Option<u32>,
        on: Timestamp,
    ) -> Result<Option<(u32, Arc<ItemBody>)>, AppError> {
        self.check_memos();
        let key = (
            code.to_string(),
            version,
            if version.is_none() {
                local_date(on).to_string()
            } else {
                String::new()
            },
        );
        if let Some(found) = self.items.get(&key) {
            return Ok(found.clone());
        }
        let found = self.item_uncached(code, version, on)?;
        self.items.insert(key, found.clone());
        Ok(found)
    }

    fn item_uncached(
        &mut self,
        code: &str,
        version: Option<u32>,
        on: Timestamp,
    ) -> Result<Option<(u32, Arc<ItemBody>)>, AppError> {
        // A given version the process has read before exists: no statement for it.
        if let Some(v) = version
            && let Some(body) = known_item_body(self.item_cache, code, v)
        {
            return Ok(Some((v, body)));
        }
        let row = match version {
            Some(v) => self.tx.inner.query_opt(
                "SELECT version, status FROM item_versions WHERE code = ? AND version = ?",
                &[code.into(), v.into()],
            )?,
            None => {
                let day = local_date(on).to_string();
                match self.tx.inner.query_opt(
                    "SELECT version, status FROM item_versions WHERE code = ? AND effective_date <= ? ORDER BY version DESC LIMIT 1",
                    &[code.into(), day.into()],
                )? {
                    Some(r) => Some(r),
                    None => self.tx.inner.query_opt(
                        "SELECT version, status FROM item_versions WHERE code = ? ORDER BY version DESC LIMIT 1",
                        &[code.into()],
                    )?,
                }
            }
        };
        let Some(r) = row else { return Ok(None) };
        // A retired item takes no new cases; existing cases keep their version.
        if version.is_none() && r.text(1) != "active" {
            return Ok(None);
        }
        let v = u32::try_from(r.int(0)).unwrap_or(0);
        Ok(Some((v, self.item_body(code, v)?)))
    }

    /// An item version's body. Versions never change once written, so bodies are cached for
    /// the life of the process.
    fn item_body(&mut self, code: &str, version: u32) -> Result<Arc<ItemBody>, AppError> {
        cached_item_body(self.item_cache, &mut *self.tx.inner, code, version)
    }

    fn load_case(&mut self, case_no: &str) -> Result<bool, AppError> {
        self.check_memos();
        if self.cases.contains_key(case_no) {
            return Ok(true);
        }
        if self.absent_cases.contains(case_no) {
            return Ok(false);
        }
        // Case projections are written at `finish`: the stored row is the current one.
        let Some(r) = self.tx.inner.query_opt(
            concat!(
                "SELECT state, ",
                case_figures!(),
                " FROM cases WHERE case_no = ?"
            ),
            &[case_no.into()],
        )?
        else {
            self.absent_cases.insert(case_no.to_string());
            return Ok(false);
        };
        let findings = self.open_findings("case", case_no)?;
        self.add_loaded_case(case_no, &r.text(0), CaseFigures::from_row(&r, 1), findings)?;
        Ok(true)
    }

    /// Loads the stored cases among `case_nos` (and their open findings) in a few statements,
    /// and remembers which do not exist.
    pub(crate) fn prefetch_cases(&mut self, case_nos: &[&str]) -> Result<(), AppError> {
        self.check_memos();
        let mut seen = HashSet::new();
        let keys: Vec<Value> = case_nos
            .iter()
            .filter(|c| {
                !self.cases.contains_key(**c)
                    && !self.absent_cases.contains(**c)
                    && seen.insert(**c)
            })
            .map(|c| Value::from(*c))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let rows = bulk::query_in(self.tx.inner, &[], &keys, |n| {
            format!(
                concat!(
                    "SELECT case_no, state, ",
                    case_figures!(),
                    " FROM cases WHERE case_no IN ({})"
                ),
                bulk::marks(n)
            )
        })?;
        let found: Vec<Value> = rows.iter().map(|r| Value::from(r.text(0))).collect();
        let mut findings: HashMap<String, Vec<FindingRow>> = HashMap::new();
        if !found.is_empty() {
            let frows = bulk::query_in(self.tx.inner, &[], &found, |n| {
                format!(
                    "SELECT id, code, scope, status, level, due_at, escalations, answer, subject_id FROM findings WHERE subject_type = 'case' AND subject_id IN ({}) AND status IN ('open', 'supervised', 'rectified') ORDER BY id",
                    bulk::marks(n)
                )
            })?;
            for r in &frows {
                findings.entry(r.text(8)).or_default().push(finding_row(r));
            }
        }
        let stored: HashSet<String> = rows.iter().map(|r| r.text(0)).collect();
        for r in &rows {
            let no = r.text(0);
            let f = findings.remove(&no).unwrap_or_default();
            // A case that does not load (unreadable, item version gone) is left to
            // `load_case`, which reports it if an event of the batch really needs it.
            let _ = self.add_loaded_case(&no, &r.text(1), CaseFigures::from_row(r, 2), f);
        }
        for k in keys {
            if let Value::Text(no) = k
                && !stored.contains(&no)
            {
                self.absent_cases.insert(no);
            }
        }
        Ok(())
    }

    fn add_loaded_case(
        &mut self,
        case_no: &str,
        state: &str,
        before: CaseFigures,
        findings: Vec<FindingRow>,
    ) -> Result<(), AppError> {
        let case: Case = serde_json::from_str(state).map_err(|e| {
            AppError::Invalid(format!("stored case `{case_no}` is unreadable: {e}"))
        })?;
        let Some((_, item)) =
            self.item(&case.item_code, Some(case.item_version), case.registered_at)?
        else {
            return Err(AppError::NotFound {
                what: "item version",
                id: format!("{}@{}", case.item_code, case.item_version),
            });
        };
        self.cases.insert(
            case_no.to_string(),
            CaseEntry {
                case,
                item,
                findings,
                dirty: false,
                new: false,
                parties: None,
                before: Some(before),
            },
        );
        Ok(())
    }

    fn open_findings(
        &mut self,
        subject_type: &str,
        subject_id: &str,
    ) -> Result<Vec<FindingRow>, AppError> {
        // Findings are written as they open: the stored rows are the current ones.
        let rows = self.tx.inner.query(
            "SELECT id, code, scope, status, level, due_at, escalations, answer FROM findings WHERE subject_type = ? AND subject_id = ? AND status IN ('open', 'supervised', 'rectified') ORDER BY id",
            &[subject_type.into(), subject_id.into()],
        )?;
        Ok(rows.iter().map(finding_row).collect())
    }

    fn next_finding_id(&mut self) -> i64 {
        self.finding_id += 1;
        self.counters_dirty = true;
        self.finding_id
    }

    /// Opens a finding (unless one with the same rule and scope is already open on the subject)
    /// and logs it. Returns the new id.
    #[expect(clippy::too_many_arguments, reason = "a finding has that many facts")]
    pub(crate) fn open_finding(
        &mut self,
        subject_type: &str,
        subject_id: &str,
        department: &str,
        item_code: Option<&str>,
        owner: &str,
        hit: &Hit,
        due_at: Timestamp,
        source: &str,
    ) -> Result<i64, AppError> {
        let id = self.next_finding_id();
        let now = self.now;
        self.tx.inner.exec(
            "INSERT INTO findings (id, code, level, subject_type, subject_id, scope, department, item_code, owner, message, status, opened_at, due_at, escalations, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, 0, ?)",
            &[
                id.into(),
                hit.code.into(),
                hit.level.code().into(),
                subject_type.into(),
                subject_id.into(),
                hit.scope.clone().into(),
                department.into(),
                item_code.into(),
                owner.into(),
                hit.message.clone().into(),
                ms(now).into(),
                ms(due_at).into(),
                ms(now).into(),
            ],
        )?;
        if let Some(col) = crate::tally::level_column(hit.level.code()) {
            self.tally.add(department, ms(now), col, 1);
        }
        self.tally.add_open(department, hit.level.code(), 1);
        let payload = serde_json::json!({
            "code": hit.code, "level": hit.level.code(), "scope": hit.scope, "message": hit.message,
            "subject_type": subject_type, "subject_id": subject_id, "owner": owner, "due_at": due_at.to_string(),
        });
        let fid = id.to_string();
        self.append(EventRow {
            subject_type: "finding",
            subject_id: &fid,
            kind: "opened",
            department,
            actor: "system",
            occurred_at: now,
            source,
            source_event_id: None,
            payload: payload.to_string(),
        })?;
        Ok(id)
    }

    /// Applies an action to a stored finding, logs it, and keeps the finding's deadlines.
    pub(crate) fn act_on_finding(
        &mut self,
        id: i64,
        action: &FindingAction,
        actor: &str,
        source: &str,
    ) -> Result<FindingState, AppError> {
        let Some(r) = self.tx.inner.query_opt(
            "SELECT id, code, scope, status, level, due_at, escalations, answer, department, opened_at FROM findings WHERE id = ?",
            &[id.into()],
        )?
        else {
            return Err(AppError::NotFound { what: "finding", id: id.to_string() });
        };
        let row = finding_row(&r);
        let department = r.text(8);
        let next = finding::apply(&row.state, action, self.now)
            .map_err(|e| AppError::Conflict(e.to_string()))?;
        // The statistics move the finding from its stored status and level to the new ones.
        self.tally.finding_changed(
            &department,
            r.int(9),
            (&r.text(3), &r.text(4)),
            (next.status.code(), next.level.code()),
        );
        self.store_finding_state(id, &next)?;
        let fid = id.to_string();
        self.append(EventRow {
            subject_type: "finding",
            subject_id: &fid,
            kind: action.name(),
            department: &department,
            actor,
            occurred_at: self.now,
            source,
            source_event_id: None,
            payload: serde_json::to_string(action).unwrap_or_default(),
        })?;
        // Deadlines of the finding: a running 督办 is watched by B001, a bad-rating task by R002.
        self.tx.inner.exec(
            "DELETE FROM deadlines WHERE subject_type = 'finding' AND subject_id = ?",
            &[fid.clone().into()],
        )?;
        if matches!(next.status, FindingStatus::Open | FindingStatus::Supervised) {
            let code = if row.code == "R001" { "R002" } else { "B001" };
            if next.status == FindingStatus::Supervised || code == "R002" {
                self.tx.inner.exec(
                    "INSERT INTO deadlines (subject_type, subject_id, code, scope, due_at) VALUES ('finding', ?, ?, '', ?)",
                    &[fid.into(), code.into(), ms(next.due_at).into()],
                )?;
            }
        }
        Ok(next)
    }

    fn store_finding_state(&mut self, id: i64, s: &FindingState) -> Result<(), AppError> {
        let closed = if s.status.is_final() {
            Some(ms(self.now))
        } else {
            None
        };
        self.tx.inner.exec(
            "UPDATE findings SET status = ?, level = ?, due_at = ?, escalations = ?, answer = ?, closed_at = ?, updated_at = ? WHERE id = ?",
            &[
                s.status.code().into(),
                s.level.code().into(),
                ms(s.due_at).into(),
                i64::from(s.escalations).into(),
                s.answer.clone().into(),
                closed.into(),
                ms(self.now).into(),
                id.into(),
            ],
        )?;
        Ok(())
    }

    /// Applies a rule outcome to a case: withdrawals first (a higher alert replaces a lower
    /// one), then new findings. Returns the codes opened.
    fn apply_outcome(
        &mut self,
        case_no: &str,
        outcome: &Outcome,
        owner: &str,
        source: &str,
        pack: &RulePack,
        app: &App,
    ) -> Result<Vec<String>, AppError> {
        let mut opened = Vec::new();
        for w in &outcome.withdrawals {
            self.withdraw(case_no, w, source)?;
        }
        for hit in &outcome.hits {
            let Some(entry) = self.cases.get(case_no) else {
                continue;
            };
            if entry
                .findings
                .iter()
                .any(|f| f.code == hit.code && f.scope == hit.scope)
            {
                continue;
            }
            let department = entry.case.department.clone();
            let item_code = entry.case.item_code.clone();
            let due = finding_due(app, pack, self.now, hit.level);
            let id = self.open_finding(
                "case",
                case_no,
                &department,
                Some(&item_code),
                owner,
                hit,
                due,
                source,
            )?;
            if let Some(entry) = self.cases.get_mut(case_no) {
                entry.findings.push(FindingRow {
                    id,
                    code: hit.code.to_string(),
                    scope: hit.scope.clone(),
                    state: FindingState {
                        status: FindingStatus::Open,
                        level: hit.level,
                        due_at: due,
                        escalations: 0,
                        answer: None,
                    },
                });
            }
            opened.push(hit.code.to_string());
        }
        Ok(opened)
    }

    fn withdraw(&mut self, case_no: &str, w: &Withdrawal, source: &str) -> Result<(), AppError> {
        let Some(entry) = self.cases.get(case_no) else {
            return Ok(());
        };
        let ids: Vec<i64> = entry
            .findings
            .iter()
            .filter(|f| f.code == w.code && f.scope == w.scope && !f.state.status.is_final())
            .map(|f| f.id)
            .collect();
        for id in ids {
            self.act_on_finding(
                id,
                &FindingAction::Withdraw {
                    reason: w.reason.clone(),
                },
                "system",
                source,
            )?;
            if let Some(entry) = self.cases.get_mut(case_no) {
                entry.findings.retain(|f| f.id != id);
            }
        }
        Ok(())
    }

    /// Writes projections and deadlines of changed cases, and the counters.
    pub(crate) fn finish(mut self, app: &App, pack: &RulePack) -> Result<(), AppError> {
        let cal = app.calendar();
        let hours = &app.settings.hours;
        let now = self.now;
        let entries: Vec<(String, CaseEntry)> =
            self.cases.drain().filter(|(_, e)| e.dirty).collect();
        // Rows gathered for multi-row statements: new cases, changed cases, parties, the case
        // numbers whose deadline rows are replaced, and the new deadline rows.
        let (mut inserted, mut updated, mut parties) = (Vec::new(), Vec::new(), Vec::new());
        let (mut replaced, mut deadlines) = (Vec::new(), Vec::new());
        for (case_no, e) in entries {
            let c = &e.case;
            let promised = c.promised_deadline(&cal, hours, now);
            let legal = c.legal_deadline(&cal, hours, now);
            let on_time = c.finished_at.and_then(|_| c.finished_on_time(&cal, hours));
            if let Some(before) = &e.before {
                self.tally.case(before, -1);
            }
            self.tally.case(
                &CaseFigures {
                    department: c.department.clone(),
                    registered_at: ms(c.registered_at),
                    finished: c
                        .finished_at
                        .map(|at| (ms(at), c.accepted_at.is_some(), on_time == Some(true))),
                },
                1,
            );
            let state = serde_json::to_string(c).map_err(|e| AppError::Invalid(e.to_string()))?;
            let params: [Value; CASE_COLS] = [
                case_no.clone().into(),
                c.item_code.clone().into(),
                c.item_version.into(),
                c.department.clone().into(),
                c.status.code().into(),
                c.channel.code().into(),
                c.window.clone().into(),
                c.acceptor.clone().into(),
                c.approver.clone().into(),
                ms(c.registered_at).into(),
                c.accepted_at.map(ms).into(),
                c.finished_at.map(ms).into(),
                promised.map(|d| ms(d.due_at)).into(),
                legal.map(|d| ms(d.due_at)).into(),
                promised.is_some_and(|d| d.provisional).into(),
                on_time.into(),
                c.fees_fen.0.into(),
                state.into(),
                self.event_seq.into(),
            ];
            if e.new {
                inserted.extend(params);
                if let Some((code, applicant)) = &e.parties {
                    parties.extend([
                        case_no.clone().into(),
                        code.clone().into(),
                        applicant.clone().into(),
                    ]);
                }
            } else {
                updated.extend(params);
                replaced.push(Value::from(case_no.clone()));
            }
            for d in pack.desired_deadlines(c, &e.item, &cal, hours, now) {
                deadlines.extend([
                    "case".into(),
                    case_no.clone().into(),
                    d.code.into(),
                    d.scope.into(),
                    ms(d.due_at).into(),
                ]);
            }
        }
        // The event rows first (everything below follows them, as it did row by row).
        self.tx.flush()?;
        let tx = &mut *self.tx.inner;
        const CASES: &str = "INSERT INTO cases (case_no, item_code, item_version, department, status, channel, window_id, acceptor, approver, registered_at, accepted_at, finished_at, promised_due_at, legal_due_at, due_provisional, on_time, fees_fen, state, updated_seq)";
        bulk::insert_rows(tx, CASES, CASE_COLS, "", &inserted)?;
        bulk::insert_rows(
            tx,
            "INSERT INTO case_parties (case_no, query_code, applicant)",
            3,
            "",
            &parties,
        )?;
        // A changed case's row exists (it was loaded from it under the write lock): the upsert
        // updates it, one statement for many cases. It sets only what an event can change: the
        // item, department, channel and registration time are fixed by 申请, and leaving them out
        // spares SQLite the rewrite of the indexes on them.
        bulk::insert_rows(
            tx,
            CASES,
            CASE_COLS,
            "ON CONFLICT (case_no) DO UPDATE SET status = excluded.status, window_id = excluded.window_id, acceptor = excluded.acceptor, approver = excluded.approver, accepted_at = excluded.accepted_at, finished_at = excluded.finished_at, promised_due_at = excluded.promised_due_at, legal_due_at = excluded.legal_due_at, due_provisional = excluded.due_provisional, on_time = excluded.on_time, fees_fen = excluded.fees_fen, state = excluded.state, updated_seq = excluded.updated_seq",
            &updated,
        )?;
        bulk::exec_in(tx, &[], &replaced, |n| {
            format!(
                "DELETE FROM deadlines WHERE subject_type = 'case' AND subject_id IN ({})",
                bulk::marks(n)
            )
        })?;
        bulk::insert_rows(
            tx,
            "INSERT INTO deadlines (subject_type, subject_id, code, scope, due_at)",
            5,
            "",
            &deadlines,
        )?;
        self.tally.write(tx)?;
        // The log grows in the same transaction as the events: one batch of leaves.
        crate::log::append(tx, self.log_size, &self.leaves)?;
        if self.counters_dirty {
            tx.exec(
                "INSERT INTO counters (name, value) VALUES ('event_seq', ?), ('finding_id', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                &[self.event_seq.into(), self.finding_id.into()],
            )?;
        }
        Ok(())
    }
}

/// Columns of a case projection row.
const CASE_COLS: usize = 19;

fn finding_row(r: &crate::db::Row) -> FindingRow {
    FindingRow {
        id: r.int(0),
        code: r.text(1),
        scope: r.text(2),
        state: FindingState {
            status: FindingStatus::parse(&r.text(3)).unwrap_or(FindingStatus::Open),
            level: Level::parse(&r.text(4)).unwrap_or(Level::Notice),
            due_at: from_ms(r.int(5)),
            escalations: u32::try_from(r.int(6)).unwrap_or(0),
            answer: r.opt_text(7),
        },
    }
}

/// When the owner of a new finding must have acted: B001's days (5 working days by default).
fn finding_due(app: &App, pack: &RulePack, now: Timestamp, _level: Level) -> Timestamp {
    let cal = app.calendar();
    end_of(
        cal.add_workdays(local_date(now), pack.int("B001", "days").max(1))
            .value,
    )
}

/// Checks the shape of an event before anything is loaded (and before the state machine sees
/// it): the case number, the actor, a time not in the future, the applicant, and the sizes of
/// its texts and lists.
pub fn shape_check(ev: &CaseEvent, now: Timestamp) -> Result<(), String> {
    let no = &ev.case_no;
    if no.is_empty()
        || no.len() > 50
        || !no
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "办件编号 `{}` 须为1–50个字母、数字、`-` 或 `_` (the case number must be 1–50 letters, digits, `-` or `_`)",
            no.chars().take(60).collect::<String>()
        ));
    }
    if ev.actor.id.trim().is_empty() || ev.actor.id.len() > 64 {
        return Err("actor.id 须为1–64个字符 (actor.id must be 1–64 characters)".into());
    }
    if ev.occurred_at > now + jiff::SignedDuration::from_mins(5) {
        return Err(format!(
            "occurred_at `{0}` 晚于当前时间 (occurred_at `{0}` is in the future)",
            ev.occurred_at
        ));
    }
    if let EventBody::Apply {
        applicant,
        item_code,
        ..
    } = &ev.body
    {
        if applicant.name.trim().is_empty() {
            return Err("缺少申请人姓名 applicant.name (applicant.name is required)".into());
        }
        lianzheng_core::catalog::validate_item_code(item_code)?;
    }
    let too_long = |s: &str| s.chars().count() > 2000;
    let text_ok = match &ev.body {
        EventBody::Reject { reason } => !too_long(reason),
        EventBody::Step { opinion, .. } => !opinion.as_deref().is_some_and(too_long),
        EventBody::CorrectionNotice { missing } => {
            missing.len() <= 100 && !missing.iter().any(|m| too_long(m))
        }
        _ => true,
    };
    if !text_ok {
        return Err("文字字段不能超过2000字 (a text field is at most 2000 characters)".into());
    }
    Ok(())
}

impl App {
    /// Submits a batch of events from one principal, in one transaction. Each event gets its
    /// own result; a rejected event changes nothing, the others go on.
    pub fn submit(
        &self,
        principal: &Principal,
        events: Vec<Result<Incoming, String>>,
    ) -> Result<Vec<EventResult>, AppError> {
        if events.len() > self.settings.max_batch {
            return Err(AppError::Invalid(format!(
                "a batch holds at most {} events, got {}",
                self.settings.max_batch,
                events.len()
            )));
        }
        if matches!(
            principal,
            Principal::Public | Principal::Supervisor { .. } | Principal::Auditor { .. }
        ) {
            return Err(AppError::Forbidden(
                "only departments and system keys submit case events".into(),
            ));
        }
        let pack = self.rule_pack();
        let cal = self.calendar();
        let source = principal.source();
        let now = self.now();
        self.db.write(|tx| {
            let mut w = Writer::begin(tx, self, now)?;
            // What the events of the batch will look up, looked up together: stored events with
            // their sender ids, and their cases (with open findings).
            let ok = || events.iter().filter_map(|e| e.as_ref().ok());
            let ids: Vec<&str> = ok()
                .filter_map(|i| i.event_id.as_deref())
                .filter(|id| !id.is_empty() && id.len() <= 128)
                .collect();
            w.prefetch_event_ids(&source, &ids)?;
            let case_nos: Vec<&str> = ok()
                .map(|i| i.event.case_no.as_str())
                .filter(|no| !no.is_empty() && no.len() <= 50)
                .collect();
            w.prefetch_cases(&case_nos)?;
            let mut results = Vec::with_capacity(events.len());
            for (index, incoming) in events.into_iter().enumerate() {
                let incoming = match incoming {
                    Ok(i) => i,
                    Err(msg) => {
                        results.push(EventResult::rejected(index, None, "invalid_input", msg));
                        continue;
                    }
                };
                let r =
                    self.submit_one(&mut w, principal, &source, index, incoming, &pack, &cal)?;
                results.push(r);
            }
            w.finish(self, &pack)?;
            Ok(results)
        })
    }

    #[expect(clippy::too_many_arguments, reason = "the writer and its context")]
    fn submit_one(
        &self,
        w: &mut Writer<'_>,
        principal: &Principal,
        source: &str,
        index: usize,
        incoming: Incoming,
        pack: &RulePack,
        cal: &lianzheng_core::calendar::Calendar,
    ) -> Result<EventResult, AppError> {
        let Incoming { event_id, event } = incoming;
        let reject =
            |code: &str, msg: String| Ok(EventResult::rejected(index, event_id.clone(), code, msg));
        if let Some(id) = &event_id {
            if id.is_empty() || id.len() > 128 {
                return reject("invalid_input", "event_id must be 1–128 characters".into());
            }
            if let Some(seq) = w.existing(source, id)? {
                return Ok(EventResult {
                    index,
                    event_id,
                    status: "duplicate".into(),
                    seq: Some(seq),
                    error: None,
                    findings: Vec::new(),
                    query_code: None,
                });
            }
        }
        if let Err(msg) = shape_check(&event, w.now) {
            return reject("invalid_input", msg);
        }
        let exists = w.load_case(&event.case_no)?;
        let (item_version, item) = if exists {
            let Some(e) = w.cases.get(&event.case_no) else {
                return reject("internal", "case vanished".into());
            };
            (e.case.item_version, e.item.clone())
        } else {
            let EventBody::Apply { item_code, .. } = &event.body else {
                return reject(
                    "case_not_found",
                    format!("case `{}` does not exist", event.case_no),
                );
            };
            match w.item(item_code, None, event.occurred_at)? {
                Some(v) => v,
                None => {
                    return reject(
                        "item_not_found",
                        format!("item `{item_code}` is not in the catalog or is retired"),
                    );
                }
            }
        };
        if !principal.may_act_for(&item.department) {
            return reject(
                "forbidden",
                format!(
                    "this key may not submit events for department `{}`",
                    item.department
                ),
            );
        }
        let ctx = Context {
            calendar: cal,
            hours: &self.settings.hours,
            recorded_at: w.now,
            correction_notice_days: pack.int("P010", "days"),
            max_extension_days: pack.int("S004", "max_days").max(1),
        };
        let before = w.cases.get(&event.case_no).map(|e| e.case.clone());
        let after = match case::apply(before.as_ref(), &event, &item, item_version, &ctx) {
            Ok(c) => c,
            Err(refusal) => {
                let code = match refusal {
                    case::Refusal::NoSuchCase(_) => "case_not_found",
                    case::Refusal::CaseExists(_) => "case_exists",
                    case::Refusal::Invalid(_) => "invalid_input",
                    _ => "invalid_transition",
                };
                return reject(code, refusal.to_string());
            }
        };
        let outcome = pack.evaluate_event(&EventContext {
            before: before.as_ref(),
            after: &after,
            event: &event,
            item: &item,
            recorded_at: w.now,
            calendar: cal,
            hours: &self.settings.hours,
        });
        let payload =
            serde_json::to_string(&event).map_err(|e| AppError::Invalid(e.to_string()))?;
        let seq = w.append(EventRow {
            subject_type: "case",
            subject_id: &event.case_no,
            kind: event.body.kind(),
            department: &item.department,
            actor: &event.actor.id,
            occurred_at: event.occurred_at,
            source,
            source_event_id: event_id.as_deref(),
            payload,
        })?;
        let mut query_code = None;
        let mut parties = None;
        if let EventBody::Apply { applicant, .. } = &event.body {
            let code = self.random_digits(8);
            query_code = Some(code.clone());
            parties = Some((code, serde_json::to_string(applicant).unwrap_or_default()));
        }
        match w.cases.get_mut(&event.case_no) {
            Some(e) => {
                e.case = after;
                e.dirty = true;
            }
            None => {
                w.cases.insert(
                    event.case_no.clone(),
                    CaseEntry {
                        case: after,
                        item,
                        findings: Vec::new(),
                        dirty: true,
                        new: true,
                        parties,
                        before: None,
                    },
                );
            }
        }
        let findings = w.apply_outcome(
            &event.case_no,
            &outcome,
            &event.actor.id,
            source,
            pack,
            self,
        )?;
        Ok(EventResult {
            index,
            event_id,
            status: "accepted".into(),
            seq: Some(seq),
            error: None,
            findings,
            query_code,
        })
    }

    /// Fires every deadline due at `now`, in batches of `batch` per transaction. Returns the
    /// number of findings opened or escalated.
    pub fn sweep(&self, batch: usize) -> Result<SweepReport, AppError> {
        let batch = batch.max(1);
        let now = self.now();
        let pack = self.rule_pack();
        let cal = self.calendar();
        let mut report = SweepReport::default();
        loop {
            let (fired, seen) = self.db.write(|tx| {
                let mut w = Writer::begin(tx, self, now)?;
                let rows = w.tx.query(
                    "SELECT subject_type, subject_id, code, scope FROM deadlines WHERE due_at <= ? ORDER BY due_at LIMIT ?",
                    &[ms(now).into(), (batch as i64).into()],
                )?;
                let mut fired = 0usize;
                for r in &rows {
                    let (st, sid, code, scope) = (r.text(0), r.text(1), r.text(2), r.text(3));
                    w.tx.exec(
                        "DELETE FROM deadlines WHERE subject_type = ? AND subject_id = ? AND code = ? AND scope = ?",
                        &[st.clone().into(), sid.clone().into(), code.clone().into(), scope.clone().into()],
                    )?;
                    if st == "case" {
                        fired += self.fire_case_deadline(&mut w, &sid, &code, &scope, &pack, &cal)?;
                    } else if st == "finding" {
                        fired += self.fire_finding_deadline(&mut w, &sid, &code, &pack)?;
                    } else if st == "complaint" {
                        fired += self.fire_complaint_deadline(&mut w, &sid, &code, &scope, &pack)?;
                    } else if st == "survey_request" {
                        fired += self.fire_survey_deadline(&mut w, &sid, &code, &pack)?;
                    }
                }
                w.finish(self, &pack)?;
                Ok::<_, AppError>((fired, rows.len()))
            })?;
            report.fired += fired;
            report.crossed += seen;
            if seen < batch {
                break;
            }
        }
        Ok(report)
    }

    fn fire_case_deadline(
        &self,
        w: &mut Writer<'_>,
        case_no: &str,
        code: &str,
        scope: &str,
        pack: &RulePack,
        cal: &lianzheng_core::calendar::Calendar,
    ) -> Result<usize, AppError> {
        if !w.load_case(case_no)? {
            return Ok(0);
        }
        let Some(entry) = w.cases.get(case_no) else {
            return Ok(0);
        };
        // Re-check against the case as it is now: a deadline row can be stale.
        let desired =
            pack.desired_deadlines(&entry.case, &entry.item, cal, &self.settings.hours, w.now);
        let Some(d) = desired
            .into_iter()
            .find(|d| d.code == code && d.scope == scope && d.due_at <= w.now)
        else {
            if let Some(e) = w.cases.get_mut(case_no) {
                e.dirty = true;
            }
            return Ok(0);
        };
        let outcome = pack.time_outcome(d.code, &d.scope, &entry.case);
        let owner = entry
            .case
            .steps
            .last()
            .map(|s| s.actor.clone())
            .or_else(|| entry.case.acceptor.clone())
            .unwrap_or_default();
        if let Some(e) = w.cases.get_mut(case_no) {
            e.case.fired.insert((d.code.to_string(), d.scope.clone()));
            e.dirty = true;
        }
        let opened = w.apply_outcome(case_no, &outcome, &owner, "sweep", pack, self)?;
        Ok(opened.len())
    }

    fn fire_finding_deadline(
        &self,
        w: &mut Writer<'_>,
        id: &str,
        code: &str,
        pack: &RulePack,
    ) -> Result<usize, AppError> {
        let Ok(fid) = id.parse::<i64>() else {
            return Ok(0);
        };
        let Some(r) = w.tx.query_opt(
            "SELECT subject_type, subject_id, department, item_code, owner, status, code FROM findings WHERE id = ?",
            &[fid.into()],
        )?
        else {
            return Ok(0);
        };
        let status = FindingStatus::parse(&r.text(5)).unwrap_or(FindingStatus::Closed);
        if !matches!(status, FindingStatus::Open | FindingStatus::Supervised) {
            return Ok(0);
        }
        let reason = match code {
            "R002" => "差评整改未在期限内反馈".to_string(),
            _ => "督办期限届满未反馈整改".to_string(),
        };
        // Escalate, and watch again: another period of B001's days before the next escalation.
        let due = end_of(
            self.calendar()
                .add_workdays(local_date(w.now), pack.int("B001", "days").max(1))
                .value,
        );
        w.act_on_finding(
            fid,
            &FindingAction::Escalate {
                reason: reason.clone(),
            },
            "system",
            "sweep",
        )?;
        w.tx.exec(
            "UPDATE findings SET due_at = ? WHERE id = ?",
            &[ms(due).into(), fid.into()],
        )?;
        w.tx.exec(
            "INSERT INTO deadlines (subject_type, subject_id, code, scope, due_at) VALUES ('finding', ?, ?, '', ?) ON CONFLICT (subject_type, subject_id, code, scope) DO UPDATE SET due_at = excluded.due_at",
            &[id.into(), code.into(), ms(due).into()],
        )?;
        let already = w
            .tx
            .query_opt(
                "SELECT 1 FROM findings WHERE subject_type = 'finding' AND subject_id = ? AND code = ? AND status IN ('open', 'supervised', 'rectified')",
                &[id.into(), code.into()],
            )?
            .is_some();
        if pack.enabled(code) && !already {
            let hit = Hit {
                code: if code == "R002" { "R002" } else { "B001" },
                level: pack.level(code),
                scope: id.to_string(),
                message: reason,
            };
            let item = r.opt_text(3);
            w.open_finding(
                "finding",
                id,
                &r.text(2),
                item.as_deref(),
                &r.text(4),
                &hit,
                due,
                "sweep",
            )?;
            return Ok(1);
        }
        Ok(0)
    }

    /// Acts on a finding (督办, 整改, 摘牌, 升级, 办结) as a principal.
    pub fn act_on_finding(
        &self,
        principal: &Principal,
        id: i64,
        action: FindingAction,
    ) -> Result<FindingState, AppError> {
        let now = self.now();
        let pack = self.rule_pack();
        self.db.write(|tx| {
            let dept = tx
                .query_opt("SELECT department FROM findings WHERE id = ?", &[id.into()])?
                .ok_or_else(|| AppError::NotFound {
                    what: "finding",
                    id: id.to_string(),
                })?
                .text(0);
            let allowed = match &action {
                FindingAction::Rectify { .. } => principal.may_act_for(&dept),
                _ => principal.supervises(),
            };
            if !allowed {
                return Err(AppError::Forbidden(format!(
                    "not allowed to {} this finding",
                    action.name_zh()
                )));
            }
            let mut w = Writer::begin(tx, self, now)?;
            let actor = principal.source();
            let s = w.act_on_finding(id, &action, &actor, &actor)?;
            w.finish(self, &pack)?;
            Ok(s)
        })
    }
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Deadline rows that were due.
    pub crossed: usize,
    /// Findings opened.
    pub fired: usize,
}

impl From<String> for AppError {
    fn from(s: String) -> Self {
        AppError::Invalid(s)
    }
}

/// Appends an event about a non-case subject in its own transaction helper (catalog, keys …).
pub(crate) fn log_admin_event(
    w: &mut Writer<'_>,
    subject_type: &str,
    subject_id: &str,
    kind: &str,
    actor: &str,
    payload: serde_json::Value,
) -> Result<i64, AppError> {
    w.append(EventRow {
        subject_type,
        subject_id,
        kind,
        department: "",
        actor,
        occurred_at: w.now,
        source: actor,
        source_event_id: None,
        payload: payload.to_string(),
    })
}

/// Public access to the writer for other modules of this crate.
pub(crate) fn with_writer<T>(
    app: &App,
    f: impl FnOnce(&mut Writer<'_>) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let now = app.now();
    let pack = app.rule_pack();
    app.db.write(|tx| {
        let mut w = Writer::begin(tx, app, now)?;
        let out = f(&mut w)?;
        w.finish(app, &pack)?;
        Ok(out)
    })
}

/// Rating support: marks a case rated and opens the bad-rating task.
pub(crate) fn record_rating(
    w: &mut Writer<'_>,
    case_no: &str,
    satisfaction: lianzheng_core::codes::Satisfaction,
) -> Result<(), AppError> {
    if w.load_case(case_no)?
        && let Some(e) = w.cases.get_mut(case_no)
    {
        e.case.rating = Some(satisfaction);
        e.dirty = true;
    }
    Ok(())
}

/// Loads a case through the writer (for other modules).
pub(crate) fn writer_case(w: &mut Writer<'_>, case_no: &str) -> Result<Option<Case>, AppError> {
    if !w.load_case(case_no)? {
        return Ok(None);
    }
    Ok(w.cases.get(case_no).map(|e| e.case.clone()))
}

/// Marks a case for rewriting (projection and deadlines) at the end of the transaction.
pub(crate) fn touch_case(w: &mut Writer<'_>, case_no: &str) -> Result<(), AppError> {
    if w.load_case(case_no)?
        && let Some(e) = w.cases.get_mut(case_no)
    {
        e.dirty = true;
    }
    Ok(())
}

/// A registration at a window: the new case and what the applicant must be told.
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    /// 办件编号.
    pub case_no: String,
    /// The applicant's query code.
    pub query_code: String,
    /// Accepted on the spot (all required materials handed in).
    pub accepted: bool,
    /// Required materials missing: the one-time notice (一次性告知) lists them all.
    pub missing: Vec<String>,
    /// Rule codes raised.
    pub findings: Vec<String>,
}

impl App {
    /// Registers an application at a window (一个窗口对外): a new case number, 申请, then 受理 when
    /// every required material is there, or one 补正告知 listing everything missing.
    pub fn register_application(
        &self,
        principal: &Principal,
        actor: case::Actor,
        item_code: &str,
        applicant: case::Applicant,
        materials: Vec<String>,
        window: Option<String>,
    ) -> Result<Registration, AppError> {
        let now = self.now();
        let item = self
            .db
            .read(|tx| {
                let Some(r) = tx.query_opt(
                    "SELECT current_version, department, status FROM items WHERE code = ?",
                    &[item_code.into()],
                )?
                else {
                    return Ok(None);
                };
                let v = u32::try_from(r.int(0)).unwrap_or(0);
                Ok::<_, AppError>(Some((
                    cached_item_body(&self.item_cache, tx, item_code, v)?,
                    r.text(1),
                    r.text(2),
                )))
            })?
            .ok_or_else(|| AppError::NotFound {
                what: "item",
                id: item_code.to_string(),
            })?;
        let (body, department, status) = item;
        if status != "active" {
            return Err(AppError::Conflict(format!("item `{item_code}` is retired")));
        }
        if !principal.may_act_for(&department) {
            return Err(AppError::Forbidden(format!(
                "not allowed to register applications for department `{department}`"
            )));
        }
        let missing: Vec<String> = body
            .required_materials()
            .filter(|m| !materials.iter().any(|x| x == m))
            .map(str::to_string)
            .collect();
        let day = local_date(now);
        let prefix = format!(
            "{:04}{:02}{:02}{}",
            day.year(),
            day.month(),
            day.day(),
            department
        );
        for _ in 0..5 {
            let n = self.db.read(|tx| {
                Ok::<_, AppError>(
                    tx.query_opt(
                        "SELECT COUNT(*) FROM cases WHERE case_no LIKE ?",
                        &[format!("{prefix}%").into()],
                    )?
                    .map_or(0, |r| r.int(0)),
                )
            })?;
            let case_no = format!("{prefix}{:05}", n + 1);
            let mk = |body: EventBody, minutes: i64| {
                Ok(Incoming {
                    event_id: None,
                    event: CaseEvent {
                        case_no: case_no.clone(),
                        occurred_at: now - jiff::SignedDuration::from_secs(minutes),
                        actor: actor.clone(),
                        body,
                    },
                })
            };
            let apply = mk(
                EventBody::Apply {
                    item_code: item_code.to_string(),
                    channel: crate::ingest::WINDOW,
                    applicant: applicant.clone(),
                    materials: materials.clone(),
                    window: window.clone(),
                    project_code: None,
                },
                1,
            );
            let next = if missing.is_empty() {
                mk(
                    EventBody::Accept {
                        document_no: Some(format!("受理〔{}〕{case_no}号", day.year())),
                    },
                    0,
                )
            } else {
                mk(
                    EventBody::CorrectionNotice {
                        missing: missing.clone(),
                    },
                    0,
                )
            };
            let results = self.submit(principal, vec![apply, next])?;
            let first = &results[0];
            if first
                .error
                .as_ref()
                .is_some_and(|e| e.code == "case_exists")
            {
                continue;
            }
            if let Some(e) = results.iter().find_map(|r| r.error.as_ref()) {
                return Err(AppError::Invalid(e.message.clone()));
            }
            return Ok(Registration {
                case_no,
                query_code: first.query_code.clone().unwrap_or_default(),
                accepted: missing.is_empty(),
                missing,
                findings: results.iter().flat_map(|r| r.findings.clone()).collect(),
            });
        }
        Err(AppError::Conflict(
            "could not allocate a case number; retry".into(),
        ))
    }
}

/// The channel of a window registration.
pub(crate) const WINDOW: lianzheng_core::codes::Channel = lianzheng_core::codes::Channel::Window;
