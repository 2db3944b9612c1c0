//! Read use cases and the public ones: the public case query (A7), ratings (A6), findings lists
//! and statistics. The public sees only public fields, with personal data masked.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use lianzheng_core::calendar::Calendar;
use lianzheng_core::case::{Case, CaseEvent, CaseStatus, EventBody, kind_zh};
use lianzheng_core::codes::{Level, RatingChannel, Satisfaction};
use lianzheng_core::finding::FindingAction;
use lianzheng_core::mask;
use lianzheng_core::rules::{Hit, RulePack};
use lianzheng_core::time::{end_of, format_local, local_date};
use serde::{Deserialize, Serialize};

use crate::bulk;
use crate::complaints::ComplaintStats;
use crate::db::Value;
use crate::ingest::{Writer, log_admin_event, record_rating, with_writer, writer_case};
use crate::monitoring::ResultRow;
use crate::{App, AppError, Principal, from_ms, ms};

/// One step of the public timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// Sequence number in the record.
    pub seq: i64,
    /// Kind (stable).
    pub kind: String,
    /// Kind in Chinese.
    pub kind_zh: String,
    /// Detail (step name and action, special procedure …).
    pub detail: String,
    /// When it happened (local time).
    pub at: String,
    /// Who, masked.
    pub actor: String,
}

/// What anyone with the case number and query code sees.
#[derive(Debug, Clone, Serialize)]
pub struct PublicCase {
    /// 办件编号.
    pub case_no: String,
    /// Item name.
    pub item_name: String,
    /// Department name.
    pub department: String,
    /// Applicant, masked.
    pub applicant: String,
    /// Status code.
    pub status: String,
    /// Status in Chinese.
    pub status_zh: String,
    /// 承诺办结时限.
    pub promised_limit: String,
    /// 法定办结时限.
    pub legal_limit: String,
    /// The promised deadline's last day.
    pub promised_due: Option<String>,
    /// The legal deadline's last day.
    pub legal_due: Option<String>,
    /// Whether the deadline rests on a year whose holiday notice is not loaded yet.
    pub due_provisional: bool,
    /// Whether the clock is stopped by a special procedure.
    pub clock_stopped: bool,
    /// 正常 / 临近 / 超时 / 按时办结 / 超时办结 / 未受理.
    pub deadline_status: String,
    /// The timeline.
    pub timeline: Vec<TimelineEntry>,
    /// The rating, if given.
    pub rating: Option<PublicRating>,
    /// Whether the applicant may rate now.
    pub can_rate: bool,
    /// 监督电话.
    pub supervision_phone: String,
}

/// A rating as the public sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicRating {
    /// GB/T 39046 code 1..5.
    pub satisfaction: u8,
    /// Label.
    pub satisfaction_zh: String,
    /// Comment.
    pub comment: String,
    /// When.
    pub rated_at: String,
    /// The department's answer to a bad rating.
    pub answer: Option<String>,
}

/// A rating as submitted.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RatingInput {
    /// 满意度 (1 best … 5 worst).
    pub satisfaction: Satisfaction,
    /// 评价渠道.
    pub channel: RatingChannel,
    /// Indicator scores (1..5), keyed by the national indicator names.
    #[serde(default)]
    pub indicators: BTreeMap<String, u8>,
    /// Comment.
    #[serde(default)]
    pub comment: String,
}

/// A rating of a case by its applicant, who gives the case's query code.
#[derive(Debug, Clone)]
pub struct CaseRating {
    /// 办件编号.
    pub case_no: String,
    /// The case's query code, from the applicant's receipt.
    pub query_code: String,
    /// The rating.
    pub input: RatingInput,
}

/// The national indicators (国办发〔2019〕51号): online and offline sets.
pub const ONLINE_INDICATORS: &[&str] = &[
    "整体满意度",
    "办事效率",
    "办事指南精确度",
    "办事便捷度",
    "平台操作性",
];
/// Offline set.
pub const OFFLINE_INDICATORS: &[&str] = &["整体满意度", "服务效率", "服务水平", "服务态度"];

/// A finding in a list.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    /// Id.
    pub id: i64,
    /// Rule code.
    pub code: String,
    /// Rule name.
    pub rule: String,
    /// Level code.
    pub level: String,
    /// Level in Chinese.
    pub level_zh: String,
    /// Subject type.
    pub subject_type: String,
    /// Subject id.
    pub subject_id: String,
    /// Scope.
    pub scope: String,
    /// Department.
    pub department: String,
    /// Owner.
    pub owner: String,
    /// Message.
    pub message: String,
    /// Status.
    pub status: String,
    /// Opened.
    pub opened_at: String,
    /// Due.
    pub due_at: String,
    /// Escalations.
    pub escalations: i64,
    /// Latest answer.
    pub answer: Option<String>,
}

/// Filters of a findings list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FindingFilter {
    /// Department.
    pub department: Option<String>,
    /// Level code.
    pub level: Option<String>,
    /// Status code.
    pub status: Option<String>,
    /// Rule code.
    pub code: Option<String>,
    /// Most rows (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Only findings still open (open, supervised or rectified).
    pub open: Option<bool>,
    /// Only findings opened at least this many days ago.
    pub min_age_days: Option<i64>,
    /// `oldest` lists the oldest first (default: newest first).
    pub sort: Option<String>,
}

/// A rating roll-up row.
#[derive(Debug, Clone, Serialize)]
pub struct RatingRollup {
    /// The key (staff id, window, department or item code).
    pub key: String,
    /// Ratings.
    pub count: i64,
    /// 差评 (levels 4–5).
    pub bad: i64,
    /// Share satisfied (levels 1–3).
    pub satisfaction_rate: f64,
    /// Mean code (1 best).
    pub mean: f64,
}

/// Per-department figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepartmentStats {
    /// Code.
    pub department: String,
    /// Name.
    pub name: String,
    /// Cases registered.
    pub cases: i64,
    /// Cases finished.
    pub finished: i64,
    /// Finished within the promised deadline.
    pub on_time: i64,
    /// Open red cards.
    pub red_open: i64,
    /// Open yellow cards.
    pub yellow_open: i64,
    /// Ratings.
    pub ratings: i64,
    /// Bad ratings.
    pub bad_ratings: i64,
}

/// Figures of one month (see [`App::monthly_stats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonthStats {
    /// `YYYY-MM`.
    pub month: String,
    /// Cases registered in the month.
    pub cases: i64,
    /// Cases finished in the month.
    pub finished: i64,
    /// Of those, finished within the promised deadline.
    pub on_time: i64,
    /// Ratings given in the month.
    pub ratings: i64,
    /// Of those, 差评 (不满意 or 非常不满意).
    pub bad_ratings: i64,
    /// Red cards raised in the month.
    pub red: i64,
    /// Yellow cards raised in the month.
    pub yellow: i64,
}

/// What 民主评议 publishes (see [`App::appraisal`]): public aggregates only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Appraisal {
    /// Complaint figures per department and month, newest month first (as
    /// [`App::complaint_stats`] gives them for all months).
    pub complaints: Vec<ComplaintStats>,
    /// Results of the closed monitoring rounds as the public sees them: suppressed under
    /// `min_publish`, no comments (as [`App::survey_results`] gives them to the public).
    pub monitoring: Vec<ResultRow>,
}

/// A kind of cached view (see [`App::cached`]): the name its keys live under, and how many keys
/// it keeps at most. Past that the least recently used key goes, so a crawler asking for ever
/// new filters can neither fill memory nor push out the hot entries of another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheKind {
    /// Unique among kinds.
    pub name: &'static str,
    /// Most keys kept (at least one).
    pub capacity: usize,
}

/// [`App::department_stats_cached`]: a single key.
pub const DEPARTMENT_STATS: CacheKind = CacheKind {
    name: "department_stats",
    capacity: 1,
};

/// [`App::monthly_stats_cached`]: one key per department filter and number of months.
pub const MONTHLY_STATS: CacheKind = CacheKind {
    name: "monthly_stats",
    capacity: 256,
};

/// [`App::appraisal_cached`]: a single key (the page filters the months it shows itself).
pub const APPRAISAL: CacheKind = CacheKind {
    name: "appraisal",
    capacity: 1,
};

/// A cached value of any type (each kind stores one type).
type Shared = Arc<dyn std::any::Any + Send + Sync>;

/// One key: its last value and when that was computed, the lock held while it is computed, and
/// when it was last used (a tick of [`Slots::tick`]).
struct Slot {
    value: Option<(Timestamp, Shared)>,
    flight: Arc<Mutex<()>>,
    used: u64,
}

#[derive(Default)]
struct Slots {
    kinds: HashMap<&'static str, HashMap<String, Slot>>,
    tick: u64,
}

/// Short-lived copies of public views (statistics, 民主评议, the Open311 list) by kind and
/// normalised query, each computed at most once per expiry: see [`App::cached`].
#[derive(Default)]
pub struct ViewCache(Mutex<Slots>);

impl std::fmt::Debug for ViewCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = self.lock();
        f.debug_map()
            .entries(g.kinds.iter().map(|(kind, slots)| (kind, slots.len())))
            .finish()
    }
}

/// Whether a value computed at `at` may still be served at `now`: younger than `max_age_secs`
/// (a clock that went back makes it stale rather than fresh for longer).
fn fresh(at: Timestamp, now: Timestamp, max_age_secs: i64) -> bool {
    let age = now.duration_since(at);
    !age.is_negative() && age.as_secs() < max_age_secs
}

/// Drops the least recently used keys until at most `keep` are left.
fn evict(slots: &mut HashMap<String, Slot>, keep: usize) {
    while slots.len() > keep {
        let Some(oldest) = slots
            .iter()
            .min_by_key(|(_, s)| s.used)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        slots.remove(&oldest);
    }
}

impl ViewCache {
    /// The slots (a panic elsewhere cannot leave them inconsistent: each change is one step).
    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value of `key` if it is still fresh at `now` (and of type `T`); marks it used.
    fn get<T: Send + Sync + 'static>(
        &self,
        kind: CacheKind,
        key: &str,
        now: Timestamp,
        max_age_secs: i64,
    ) -> Option<Arc<T>> {
        let mut g = self.lock();
        let Slots { kinds, tick } = &mut *g;
        let slot = kinds.get_mut(kind.name)?.get_mut(key)?;
        let (at, v) = slot.value.as_ref()?;
        if !fresh(*at, now, max_age_secs) {
            return None;
        }
        let v = Arc::clone(v).downcast::<T>().ok()?;
        *tick += 1;
        slot.used = *tick;
        Some(v)
    }

    /// The lock that computing `key` holds, made (with an empty slot) if the key is new.
    fn flight(&self, kind: CacheKind, key: &str) -> Arc<Mutex<()>> {
        let mut g = self.lock();
        let Slots { kinds, tick } = &mut *g;
        *tick += 1;
        let slots = kinds.entry(kind.name).or_default();
        if let Some(s) = slots.get_mut(key) {
            s.used = *tick;
            return Arc::clone(&s.flight);
        }
        evict(slots, kind.capacity.max(1) - 1);
        let flight = Arc::default();
        slots.insert(
            key.to_string(),
            Slot {
                value: None,
                flight: Arc::clone(&flight),
                used: *tick,
            },
        );
        flight
    }

    /// Stores the value of `key` computed at `at` (again, if it was evicted meanwhile).
    fn put<T: Send + Sync + 'static>(&self, kind: CacheKind, key: &str, at: Timestamp, v: &Arc<T>) {
        let mut g = self.lock();
        let Slots { kinds, tick } = &mut *g;
        *tick += 1;
        let value: Shared = Arc::clone(v) as Shared;
        let slots = kinds.entry(kind.name).or_default();
        if let Some(s) = slots.get_mut(key) {
            s.value = Some((at, value));
            s.used = *tick;
            return;
        }
        evict(slots, kind.capacity.max(1) - 1);
        slots.insert(
            key.to_string(),
            Slot {
                value: Some((at, value)),
                flight: Arc::default(),
                used: *tick,
            },
        );
    }

    /// How many keys of `kind` are held (computed or being computed).
    fn len(&self, kind: &str) -> usize {
        self.lock().kinds.get(kind).map_or(0, HashMap::len)
    }
}

fn detail(ev: &CaseEvent) -> String {
    match &ev.body {
        EventBody::Step { step, action, .. } => format!("{step}（{}）", action.label_zh()),
        EventBody::ProcedureStart {
            name,
            procedure_type,
            days,
            ..
        } => match days {
            Some(d) if procedure_type.code() == "1" => format!("{name}（延长{d}个工作日）"),
            _ => name.clone(),
        },
        EventBody::CorrectionNotice { missing } => format!("需补正：{}", missing.join("、")),
        EventBody::Reject { reason } => reason.clone(),
        EventBody::Finish { result, .. } => result.label_zh().to_string(),
        EventBody::Fee { amount_fen, .. } => format!("{amount_fen}元"),
        _ => String::new(),
    }
}

impl App {
    /// The public case query: case number and query code. A wrong code answers exactly like an
    /// unknown case, so codes cannot be probed case by case.
    pub fn public_case(&self, case_no: &str, query_code: &str) -> Result<PublicCase, AppError> {
        let not_found = || AppError::NotFound {
            what: "case",
            id: case_no.to_string(),
        };
        let cal = self.calendar();
        let now = self.now();
        self.db.read(|tx| {
            // The parties, the case, its department's name and its rating in one statement (a
            // round trip each on PostgreSQL); a case has at most one rating (its key).
            let Some(p) = tx.query_opt(
                "SELECT p.query_code, p.applicant, c.state, d.name, r.satisfaction, r.comment, r.rated_at, r.answer FROM case_parties p LEFT JOIN cases c ON c.case_no = p.case_no LEFT JOIN departments d ON d.code = c.department LEFT JOIN ratings r ON r.case_no = p.case_no WHERE p.case_no = ?",
                &[case_no.into()],
            )? else {
                return Err(not_found());
            };
            if !constant_time_eq(p.text(0).as_bytes(), query_code.trim().as_bytes()) {
                return Err(not_found());
            }
            let applicant: lianzheng_core::case::Applicant = serde_json::from_str(&p.text(1)).map_err(|e| AppError::Invalid(e.to_string()))?;
            let state = p.opt_text(2).ok_or_else(not_found)?;
            let case: Case = serde_json::from_str(&state).map_err(|e| AppError::Invalid(e.to_string()))?;
            let item = crate::ingest::cached_item_body(&self.item_cache, tx, &case.item_code, case.item_version)?;
            let dept = p.opt_text(3).unwrap_or_else(|| case.department.clone());
            let events = tx.query("SELECT seq, payload FROM events WHERE subject_type = 'case' AND subject_id = ? ORDER BY seq", &[case_no.into()])?;
            let mut timeline = Vec::new();
            for e in &events {
                let Ok(ev) = serde_json::from_str::<CaseEvent>(&e.text(1)) else { continue };
                timeline.push(TimelineEntry {
                    seq: e.int(0),
                    kind: ev.body.kind().to_string(),
                    kind_zh: ev.body.kind_zh().to_string(),
                    detail: detail(&ev),
                    at: format_local(ev.occurred_at),
                    // The public sees who acted by role, and a masked name when there is one.
                    actor: if ev.actor.name.is_empty() {
                        ev.actor.role.label_zh().to_string()
                    } else {
                        format!("{} {}", ev.actor.role.label_zh(), mask::name(&ev.actor.name))
                    },
                });
            }
            let rating = p.opt_int(4).map(|satisfaction| {
                let s = Satisfaction::parse(&satisfaction.to_string()).unwrap_or(Satisfaction::Fair);
                PublicRating {
                    satisfaction: s.number(),
                    satisfaction_zh: s.label_zh().to_string(),
                    comment: p.text(5),
                    rated_at: format_local(from_ms(p.int(6))),
                    answer: p.opt_text(7),
                }
            });
            let hours = &self.settings.hours;
            let promised = case.promised_deadline(&cal, hours, now);
            let legal = case.legal_deadline(&cal, hours, now);
            let warn = case.promised_warning(&cal, hours, now, 0.8, 1);
            let deadline_status = match (case.accepted_at, case.finished_at, promised) {
                (None, None, _) => "未受理",
                (None, Some(_), _) => "不予受理",
                (Some(_), Some(_), _) if case.finished_on_time(&cal, hours) == Some(true) => "按时办结",
                (Some(_), Some(_), _) => "超时办结",
                (Some(_), None, Some(d)) if now >= d.due_at => "已超时",
                (Some(_), None, _) if warn.is_some_and(|w| now >= w) => "临近时限",
                _ => "正常",
            };
            Ok(PublicCase {
                case_no: case.case_no.clone(),
                item_name: item.name.clone(),
                department: dept,
                applicant: applicant.public_name(),
                status: case.status.code().to_string(),
                status_zh: case.status.label_zh().to_string(),
                promised_limit: case.promised_limit.to_string(),
                legal_limit: case.legal_limit.to_string(),
                promised_due: promised.map(|d| d.due_date.to_string()),
                legal_due: legal.map(|d| d.due_date.to_string()),
                due_provisional: promised.is_some_and(|d| d.provisional),
                clock_stopped: promised.is_some_and(|d| d.stopped),
                deadline_status: deadline_status.to_string(),
                timeline,
                can_rate: rating.is_none() && matches!(case.status.code(), "finished" | "delivered"),
                rating,
                supervision_phone: item.supervision_phone.clone(),
            })
        })
    }

    /// The applicant rates a finished case, once. A 差评 opens a rectification task for the
    /// responsible department (R001) with a deadline watched by R002.
    pub fn rate_case(
        &self,
        case_no: &str,
        query_code: &str,
        input: RatingInput,
    ) -> Result<Option<i64>, AppError> {
        check_rating(&input)?;
        let pack = self.rule_pack();
        let cal = self.calendar();
        with_writer(self, |w| {
            let code = stored_query_code(w, case_no)?;
            let case = rated_case(w, case_no, code.as_deref(), query_code)?;
            let mut rows = Vec::with_capacity(RATING_COLS);
            let finding = write_rating(w, &pack, &cal, &case, &input, &mut rows)?;
            insert_ratings(w, &rows)?;
            Ok(finding)
        })
    }

    /// Many ratings in one transaction (the demo generator's ratings of a push period): each is
    /// checked and refused on its own, as [`App::rate_case`] would, and a refused one writes
    /// nothing; a storage error fails them all. The results are in the order given.
    pub fn rate_cases(
        &self,
        ratings: &[CaseRating],
    ) -> Result<Vec<Result<Option<i64>, AppError>>, AppError> {
        let pack = self.rule_pack();
        let cal = self.calendar();
        with_writer(self, |w| {
            // What the checks read is read for all the ratings at once, a few statements for
            // the batch (on PostgreSQL each statement is a round trip): the query codes, then
            // the cases with their open findings. The rating rows are inserted together at
            // the end, so the events they log are written in multi-row statements too.
            let case_nos: Vec<&str> = ratings.iter().map(|r| r.case_no.as_str()).collect();
            let keys: Vec<Value> = case_nos.iter().map(|c| Value::from(*c)).collect();
            let codes: HashMap<String, String> = bulk::query_in(&mut w.tx, &[], &keys, |n| {
                format!(
                    "SELECT case_no, query_code FROM case_parties WHERE case_no IN ({})",
                    bulk::marks(n)
                )
            })?
            .iter()
            .map(|r| (r.text(0), r.text(1)))
            .collect();
            w.prefetch_cases(&case_nos)?;
            let mut out = Vec::with_capacity(ratings.len());
            let mut rows = Vec::new();
            for r in ratings {
                // A refusal is found before anything is written; an error in the writing
                // fails the whole transaction.
                let code = codes.get(&r.case_no).map(String::as_str);
                match check_rating(&r.input)
                    .and_then(|()| rated_case(w, &r.case_no, code, &r.query_code))
                {
                    Err(AppError::Db(e)) => return Err(AppError::Db(e)),
                    Err(refused) => out.push(Err(refused)),
                    Ok(case) => out.push(Ok(write_rating(
                        w, &pack, &cal, &case, &r.input, &mut rows,
                    )?)),
                }
            }
            insert_ratings(w, &rows)?;
            Ok(out)
        })
    }

    /// The responsible department answers a bad rating; the applicant sees the answer.
    pub fn answer_rating(
        &self,
        principal: &Principal,
        case_no: &str,
        answer: &str,
    ) -> Result<(), AppError> {
        if answer.trim().is_empty() || answer.chars().count() > 2000 {
            return Err(AppError::Invalid("answer must be 1–2000 characters".into()));
        }
        let row = self.db.read(|tx| {
            Ok::<_, AppError>(tx.query_opt(
                "SELECT department, finding_id, answer FROM ratings WHERE case_no = ?",
                &[case_no.into()],
            )?)
        })?;
        let row = row.ok_or_else(|| AppError::NotFound {
            what: "rating",
            id: case_no.to_string(),
        })?;
        if !principal.may_act_for(&row.text(0)) {
            return Err(AppError::Forbidden(
                "only the responsible department answers a rating".into(),
            ));
        }
        let Some(fid) = row.opt_int(1) else {
            return Err(AppError::Conflict(
                "only a bad rating (不满意, 非常不满意) needs an answer".into(),
            ));
        };
        if row.opt_text(2).is_some() {
            return Err(AppError::Conflict(
                "this rating has already been answered".into(),
            ));
        }
        let actor = principal.source();
        with_writer(self, |w| {
            w.act_on_finding(
                fid,
                &FindingAction::Rectify {
                    text: answer.to_string(),
                },
                &actor,
                &actor,
            )?;
            w.tx.exec(
                "UPDATE ratings SET answer = ?, answered_at = ? WHERE case_no = ?",
                &[answer.into(), ms(w.now).into(), case_no.into()],
            )?;
            log_admin_event(
                w,
                "rating",
                case_no,
                "answered",
                &actor,
                serde_json::json!({"answer": answer}),
            )?;
            Ok(())
        })
    }

    /// Findings visible to a principal, newest first.
    pub fn findings(
        &self,
        principal: &Principal,
        filter: &FindingFilter,
    ) -> Result<Vec<FindingView>, AppError> {
        let mut sql = String::from(
            "SELECT id, code, level, subject_type, subject_id, scope, department, owner, message, status, opened_at, due_at, escalations, answer FROM findings WHERE 1 = 1",
        );
        let mut params: Vec<crate::db::Value> = Vec::new();
        let department = match principal {
            Principal::Department { department, .. } => Some(department.clone()),
            Principal::Public => return Err(AppError::Forbidden("findings are for staff".into())),
            _ => filter.department.clone(),
        };
        for (col, val) in [
            ("department", department),
            ("level", filter.level.clone()),
            ("status", filter.status.clone()),
            ("code", filter.code.clone()),
        ] {
            if let Some(v) = val {
                sql.push_str(&format!(" AND {col} = ?"));
                params.push(v.into());
            }
        }
        if filter.open == Some(true) {
            sql.push_str(" AND status IN ('open', 'supervised', 'rectified')");
        }
        if let Some(days) = filter.min_age_days.filter(|d| *d > 0) {
            sql.push_str(" AND opened_at <= ?");
            params.push((ms(self.now()) - days.min(36_500) * 86_400_000).into());
        }
        if filter.sort.as_deref() == Some("oldest") {
            sql.push_str(" ORDER BY opened_at ASC, id ASC LIMIT ? OFFSET ?");
        } else {
            sql.push_str(" ORDER BY opened_at DESC, id DESC LIMIT ? OFFSET ?");
        }
        params.push(filter.limit.unwrap_or(100).clamp(1, 1000).into());
        params.push(filter.offset.unwrap_or(0).max(0).into());
        self.db.read(|tx| {
            Ok(tx
                .query(&sql, &params)?
                .iter()
                .map(|r| {
                    let level = Level::parse(&r.text(2)).unwrap_or(Level::Notice);
                    let code = r.text(1);
                    FindingView {
                        id: r.int(0),
                        rule: lianzheng_core::rules::meta(&code)
                            .map_or_else(String::new, |m| m.name_zh.to_string()),
                        code,
                        level: level.code().to_string(),
                        level_zh: level.label_zh().to_string(),
                        subject_type: r.text(3),
                        subject_id: r.text(4),
                        scope: r.text(5),
                        department: r.text(6),
                        owner: r.text(7),
                        message: r.text(8),
                        status: r.text(9),
                        opened_at: format_local(from_ms(r.int(10))),
                        due_at: format_local(from_ms(r.int(11))),
                        escalations: r.int(12),
                        answer: r.opt_text(13),
                    }
                })
                .collect())
        })
    }

    /// Rating roll-up by `staff`, `window`, `department` or `item`.
    pub fn rating_rollup(
        &self,
        principal: &Principal,
        by: &str,
    ) -> Result<Vec<RatingRollup>, AppError> {
        let col = match by {
            "staff" => "staff",
            "window" => "window_id",
            "department" => "department",
            "item" => "item_code",
            other => {
                return Err(AppError::Invalid(format!(
                    "`{other}` must be staff, window, department or item"
                )));
            }
        };
        let (filter, params): (&str, Vec<crate::db::Value>) = match principal {
            Principal::Department { department, .. } => {
                (" WHERE department = ?", vec![department.clone().into()])
            }
            Principal::Public if by != "department" && by != "item" => {
                return Err(AppError::Forbidden(
                    "the public sees ratings by department and item".into(),
                ));
            }
            _ => ("", Vec::new()),
        };
        let sql = format!(
            "SELECT COALESCE({col}, ''), COUNT(*), CAST(SUM(CASE WHEN satisfaction >= 4 THEN 1 ELSE 0 END) AS BIGINT), CAST(AVG(satisfaction) AS DOUBLE PRECISION) FROM ratings{filter} GROUP BY COALESCE({col}, '') ORDER BY 2 DESC"
        );
        self.db.read(|tx| {
            Ok(tx
                .query(&sql, &params)?
                .iter()
                .map(|r| {
                    let (count, bad) = (r.int(1), r.int(2));
                    RatingRollup {
                        key: r.text(0),
                        count,
                        bad,
                        satisfaction_rate: if count > 0 {
                            (count - bad) as f64 / count as f64
                        } else {
                            0.0
                        },
                        mean: r.float(3),
                    }
                })
                .collect())
        })
    }

    /// Per-department figures, at most `max_age_secs` old (by the application clock): the
    /// aggregates scan every case, so the home page reads a copy refreshed in the background of
    /// its requests rather than recomputing them per visitor.
    pub fn department_stats_cached(
        &self,
        max_age_secs: i64,
    ) -> Result<Arc<Vec<DepartmentStats>>, AppError> {
        self.cached(DEPARTMENT_STATS, "", max_age_secs, App::department_stats)
    }

    /// A public view computed at most once per `max_age_secs` (by the application clock) for
    /// each `key` of `kind`: the value of the last computation while it is younger than that,
    /// else computed anew by one caller while the others are served the previous value (or wait
    /// for the first one: a single flight, so a burst of requests on an expired entry computes
    /// it once). Each kind keeps at most its
    /// capacity of keys, the least recently used going first. A failed computation stores
    /// nothing.
    ///
    /// The value is shared by every caller that names the same key: only public data (no
    /// personal data, nothing that depends on who asks) may go in, and the key must hold
    /// everything the value depends on except the time.
    pub fn cached<T: Send + Sync + 'static>(
        &self,
        kind: CacheKind,
        key: &str,
        max_age_secs: i64,
        compute: impl FnOnce(&App) -> Result<T, AppError>,
    ) -> Result<Arc<T>, AppError> {
        let cache = &self.view_cache;
        if let Some(v) = cache.get::<T>(kind, key, self.now(), max_age_secs) {
            return Ok(v);
        }
        // A single flight: one caller at a time holds the key's lock, looks again (whoever
        // waited finds the value the one before computed) and only then computes and stores.
        // While one computes, the others are served the previous value however old (only the
        // very first computation is waited for), so a view that takes seconds on a large
        // database stalls one request per expiry, not all of them.
        let flight = cache.flight(kind, key);
        let _computing = match flight.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::WouldBlock) => {
                if let Some(stale) = cache.get::<T>(kind, key, self.now(), i64::MAX) {
                    return Ok(stale);
                }
                flight
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            }
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        };
        // The time after the wait: the value computed meanwhile is not older than it.
        let now = self.now();
        if let Some(v) = cache.get::<T>(kind, key, now, max_age_secs) {
            return Ok(v);
        }
        let fresh = Arc::new(compute(self)?);
        cache.put(kind, key, now, &fresh);
        Ok(fresh)
    }

    /// The value [`App::cached`] holds for `key` of `kind` if it is younger than `max_age_secs`,
    /// without computing anything: for callers that answer a hit without going to the blocking
    /// pool.
    pub fn cached_fresh<T: Send + Sync + 'static>(
        &self,
        kind: CacheKind,
        key: &str,
        max_age_secs: i64,
    ) -> Option<Arc<T>> {
        self.view_cache
            .get::<T>(kind, key, self.now(), max_age_secs)
    }

    /// Stores `value` as the value of `key` of `kind`, computed now: for a caller that computes
    /// it itself (and stores nothing when that fails).
    pub fn cache_store<T: Send + Sync + 'static>(
        &self,
        kind: CacheKind,
        key: &str,
        value: &Arc<T>,
    ) {
        self.view_cache.put(kind, key, self.now(), value);
    }

    /// How many keys of the cached kind named `kind` are held (see [`App::cached`]).
    pub fn cached_keys(&self, kind: &str) -> usize {
        self.view_cache.len(kind)
    }

    /// Monthly figures of one department (or of the city when `department` is `None`) for the
    /// last `months` months up to today, oldest first. Cached for `max_age_secs`, because each
    /// call scans the period's cases.
    pub fn monthly_stats_cached(
        &self,
        department: Option<&str>,
        months: u32,
        max_age_secs: i64,
    ) -> Result<Arc<Vec<MonthStats>>, AppError> {
        let key = match department {
            Some(d) => format!("{months} {d}"),
            None => months.to_string(),
        };
        self.cached(MONTHLY_STATS, &key, max_age_secs, |app| {
            app.monthly_stats(department, months)
        })
    }

    /// 民主评议: the complaint figures per department and month and the published monitoring
    /// results, as the public sees them.
    pub fn appraisal(&self) -> Result<Appraisal, AppError> {
        Ok(Appraisal {
            complaints: self.complaint_stats(None)?,
            monitoring: self.survey_results(&Principal::Public, None)?,
        })
    }

    /// [`App::appraisal`] at most `max_age_secs` old: a new complaint, an answer or a published
    /// round shows within that.
    pub fn appraisal_cached(&self, max_age_secs: i64) -> Result<Arc<Appraisal>, AppError> {
        self.cached(APPRAISAL, "", max_age_secs, App::appraisal)
    }

    /// Monthly figures (public: aggregates). Cases count in the month they were registered,
    /// completions and on-time completions in the month they finished, ratings in the month
    /// they were given, red and yellow cards in the month they were raised.
    pub fn monthly_stats(
        &self,
        department: Option<&str>,
        months: u32,
    ) -> Result<Vec<MonthStats>, AppError> {
        let months = months.clamp(1, 120);
        let today = local_date(self.now());
        // The first day of the earliest month shown.
        let (mut y, mut m) = (i32::from(today.year()), i32::from(today.month()));
        m -= i32::try_from(months).unwrap_or(12) - 1;
        while m < 1 {
            m += 12;
            y -= 1;
        }
        let first = jiff::civil::Date::new(
            i16::try_from(y).unwrap_or(2000),
            i8::try_from(m).unwrap_or(1),
            1,
        )
        .map_err(|e| AppError::Invalid(e.to_string()))?;
        let since = ms(lianzheng_core::time::start_of(first));
        let mut out: Vec<MonthStats> = (0..months)
            .map(|i| {
                let k = m - 1 + i32::try_from(i).unwrap_or(0);
                MonthStats {
                    month: format!("{:04}-{:02}", y + k / 12, k % 12 + 1),
                    ..MonthStats::default()
                }
            })
            .collect();
        // Local day numbers (UTC+8) so that a month's boundary is Beijing midnight: the running
        // totals are kept per department and day (`tally.rs`).
        let mut params: Vec<crate::db::Value> = vec![crate::tally::day(since).into()];
        let filter = match department {
            Some(d) => {
                params.push(d.into());
                " AND department = ?"
            }
            None => "",
        };
        let days = self.db.read(|tx| {
            tx.query(
                &format!("SELECT day, CAST(SUM(registered) AS BIGINT), CAST(SUM(finished) AS BIGINT), CAST(SUM(on_time) AS BIGINT), CAST(SUM(ratings) AS BIGINT), CAST(SUM(bad_ratings) AS BIGINT), CAST(SUM(red_opened) AS BIGINT), CAST(SUM(yellow_opened) AS BIGINT) FROM stats_days WHERE day >= ?{filter} GROUP BY day"),
                &params,
            )
        })?;
        let index = |day: i64| -> Option<usize> {
            let d = lianzheng_core::time::civil_from_days(day);
            let k = (i32::from(d.year()) - y) * 12 + i32::from(d.month()) - m;
            usize::try_from(k).ok().filter(|k| *k < out_len(months))
        };
        fn out_len(months: u32) -> usize {
            usize::try_from(months).unwrap_or(0)
        }
        for r in &days {
            if let Some(i) = index(r.int(0)) {
                let month = &mut out[i];
                month.cases += r.int(1);
                month.finished += r.int(2);
                month.on_time += r.int(3);
                month.ratings += r.int(4);
                month.bad_ratings += r.int(5);
                month.red += r.int(6);
                month.yellow += r.int(7);
            }
        }
        Ok(out)
    }

    /// Open findings (open, supervised, rectified) per level code, for monitoring.
    pub fn open_findings_by_level(&self) -> Result<Vec<(String, i64)>, AppError> {
        self.db.read(|tx| {
            Ok(tx
                .query(
                    "SELECT level, CAST(SUM(open_findings) AS BIGINT) FROM stats_open GROUP BY level HAVING SUM(open_findings) <> 0 ORDER BY level",
                    &[],
                )?
                .iter()
                .map(|r| (r.text(0), r.int(1)))
                .collect())
        })
    }

    /// Per-department figures (public: they are aggregates).
    pub fn department_stats(&self) -> Result<Vec<DepartmentStats>, AppError> {
        self.db.read(|tx| {
            let deps = tx.query("SELECT code, name FROM departments ORDER BY code", &[])?;
            // From the running totals (`tally.rs`): one row per department and day.
            let sums = tx.query(
                "SELECT department, CAST(SUM(registered) AS BIGINT), CAST(SUM(finished_accepted) AS BIGINT), CAST(SUM(on_time) AS BIGINT), CAST(SUM(ratings) AS BIGINT), CAST(SUM(bad_ratings) AS BIGINT) FROM stats_days GROUP BY department",
                &[],
            )?;
            let findings = tx.query(
                "SELECT department, level, open_findings FROM stats_open",
                &[],
            )?;
            let mut out: Vec<DepartmentStats> = deps
                .iter()
                .map(|d| DepartmentStats {
                    department: d.text(0),
                    name: d.text(1),
                    cases: 0,
                    finished: 0,
                    on_time: 0,
                    red_open: 0,
                    yellow_open: 0,
                    ratings: 0,
                    bad_ratings: 0,
                })
                .collect();
            for s in &mut out {
                if let Some(r) = sums.iter().find(|r| r.text(0) == s.department) {
                    (s.cases, s.finished, s.on_time) = (r.int(1), r.int(2), r.int(3));
                    (s.ratings, s.bad_ratings) = (r.int(4), r.int(5));
                }
                for f in findings.iter().filter(|r| r.text(0) == s.department) {
                    match f.text(1).as_str() {
                        "3" => s.red_open += f.int(2),
                        "2" => s.yellow_open += f.int(2),
                        _ => {}
                    }
                }
            }
            Ok(out)
        })
    }

    /// A case with its events, for staff of its department (or supervisors). Viewing personal
    /// data is itself recorded.
    pub fn staff_case(
        &self,
        principal: &Principal,
        case_no: &str,
    ) -> Result<serde_json::Value, AppError> {
        let (state, applicant) = self.db.read(|tx| {
            let s = tx.query_opt(
                "SELECT state FROM cases WHERE case_no = ?",
                &[case_no.into()],
            )?;
            let a = tx.query_opt(
                "SELECT applicant FROM case_parties WHERE case_no = ?",
                &[case_no.into()],
            )?;
            Ok::<_, AppError>((s, a))
        })?;
        let state = state.ok_or_else(|| AppError::NotFound {
            what: "case",
            id: case_no.to_string(),
        })?;
        let case: Case =
            serde_json::from_str(&state.text(0)).map_err(|e| AppError::Invalid(e.to_string()))?;
        if !principal.may_read(&case.department) {
            return Err(AppError::NotFound {
                what: "case",
                id: case_no.to_string(),
            });
        }
        let actor = principal.source();
        with_writer(self, |w| {
            log_admin_event(
                w,
                "personal_data",
                case_no,
                "viewed",
                &actor,
                serde_json::json!({"what": "applicant", "case_no": case_no}),
            )?;
            Ok(())
        })?;
        let applicant: serde_json::Value = applicant
            .map(|r| serde_json::from_str(&r.text(0)).unwrap_or_default())
            .unwrap_or_default();
        let item = self.db.read(|tx| {
            crate::ingest::cached_item_body(
                &self.item_cache,
                tx,
                &case.item_code,
                case.item_version,
            )
        })?;
        let steps: Vec<&str> = item.steps.iter().map(|s| s.name.as_str()).collect();
        Ok(
            serde_json::json!({"case": case, "applicant": applicant, "item_name": item.name, "steps": steps, "status_zh": case.status.label_zh(), "fees": item.fees, "special_procedures": item.special_procedures}),
        )
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Chinese names of event kinds (re-exported for pages).
pub fn event_kind_zh(kind: &str) -> &'static str {
    kind_zh(kind)
}

/// A bad rating waiting for its department's answer.
#[derive(Debug, Clone, Serialize)]
pub struct PendingRating {
    /// 办件编号.
    pub case_no: String,
    /// Department.
    pub department: String,
    /// 满意度 code.
    pub satisfaction: i64,
    /// Comment.
    pub comment: String,
    /// When rated.
    pub rated_at: String,
    /// The rectification deadline.
    pub due_at: String,
}

impl App {
    /// Bad ratings without an answer, oldest first, within the principal's reach.
    pub fn pending_bad_ratings(
        &self,
        principal: &Principal,
    ) -> Result<Vec<PendingRating>, AppError> {
        let (filter, params): (&str, Vec<crate::db::Value>) = match principal {
            Principal::Department { department, .. } => {
                (" AND r.department = ?", vec![department.clone().into()])
            }
            Principal::Public => {
                return Err(AppError::Forbidden(
                    "ratings to answer are for staff".into(),
                ));
            }
            _ => ("", Vec::new()),
        };
        let sql = format!(
            "SELECT r.case_no, r.department, r.satisfaction, r.comment, r.rated_at, f.due_at FROM ratings r JOIN findings f ON f.id = r.finding_id WHERE r.answer IS NULL{filter} ORDER BY r.rated_at LIMIT 200"
        );
        self.db.read(|tx| {
            Ok(tx
                .query(&sql, &params)?
                .iter()
                .map(|r| PendingRating {
                    case_no: r.text(0),
                    department: r.text(1),
                    satisfaction: r.int(2),
                    comment: r.text(3),
                    rated_at: format_local(from_ms(r.int(4))),
                    due_at: format_local(from_ms(r.int(5))),
                })
                .collect())
        })
    }
}

/// A rating's own checks: its comment's length and its indicators for its channel.
fn check_rating(input: &RatingInput) -> Result<(), AppError> {
    if input.comment.chars().count() > 500 {
        return Err(AppError::Invalid(
            "comment must be at most 500 characters".into(),
        ));
    }
    let allowed = if input.channel.is_online() {
        ONLINE_INDICATORS
    } else {
        OFFLINE_INDICATORS
    };
    for (k, v) in &input.indicators {
        if !allowed.contains(&k.as_str()) {
            return Err(AppError::Invalid(format!(
                "indicator `{k}` is not one of {}",
                allowed.join("、")
            )));
        }
        if !(1..=5).contains(v) {
            return Err(AppError::Invalid(format!("indicator `{k}` must be 1–5")));
        }
    }
    Ok(())
}

/// The query code stored for a case, if the case exists.
fn stored_query_code(w: &mut Writer<'_>, case_no: &str) -> Result<Option<String>, AppError> {
    Ok(w.tx
        .query_opt(
            "SELECT query_code FROM case_parties WHERE case_no = ?",
            &[case_no.into()],
        )?
        .map(|r| r.text(0)))
}

/// The case a rating is for, once the rating is known to be allowed: the right query code
/// (`stored` is the case's, `None` when there is no such case; a wrong one answers exactly like
/// an unknown case), not rated yet, finished. Writes nothing.
fn rated_case(
    w: &mut Writer<'_>,
    case_no: &str,
    stored: Option<&str>,
    query_code: &str,
) -> Result<Case, AppError> {
    let not_found = || AppError::NotFound {
        what: "case",
        id: case_no.to_string(),
    };
    let code = stored.ok_or_else(not_found)?;
    if !constant_time_eq(code.as_bytes(), query_code.trim().as_bytes()) {
        return Err(not_found());
    }
    let case = writer_case(w, case_no)?.ok_or_else(not_found)?;
    if case.rating.is_some() {
        return Err(AppError::Conflict(
            "this case has already been rated".into(),
        ));
    }
    if !matches!(case.status, CaseStatus::Finished | CaseStatus::Delivered) {
        return Err(AppError::Conflict(
            "only a finished case can be rated".into(),
        ));
    }
    Ok(case)
}

/// Columns of a row of `ratings`.
const RATING_COLS: usize = 12;

/// Inserts the rating rows `write_rating` gathered.
fn insert_ratings(w: &mut Writer<'_>, rows: &[Value]) -> Result<(), AppError> {
    Ok(bulk::insert_rows(
        &mut w.tx,
        "INSERT INTO ratings (case_no, satisfaction, channel, online, indicators, comment, rated_at, department, item_code, window_id, staff, finding_id)",
        RATING_COLS,
        "",
        rows,
    )?)
}

/// Logs a rating of `case` (see [`rated_case`]) and adds its row to `rows`, for
/// [`insert_ratings`]; a 差评 opens R001.
fn write_rating(
    w: &mut Writer<'_>,
    pack: &RulePack,
    cal: &Calendar,
    case: &Case,
    input: &RatingInput,
    rows: &mut Vec<Value>,
) -> Result<Option<i64>, AppError> {
    let case_no = case.case_no.as_str();
    let staff = case
        .steps
        .last()
        .map(|s| s.actor.clone())
        .or_else(|| case.acceptor.clone());
    let now = w.now;
    let payload = serde_json::json!({"satisfaction": input.satisfaction.number(), "channel": input.channel.code(), "indicators": input.indicators, "comment": input.comment});
    w.append(crate::ingest::EventRow {
        subject_type: "case",
        subject_id: case_no,
        kind: "rate",
        department: &case.department,
        actor: "applicant",
        occurred_at: now,
        source: "public",
        source_event_id: None,
        payload: payload.to_string(),
    })?;
    let mut finding_id = None;
    if input.satisfaction.is_bad() && pack.enabled("R001") {
        let due = end_of(
            cal.add_workdays(local_date(now), pack.int("R001", "days").max(1))
                .value,
        );
        let hit = Hit {
            code: "R001",
            level: pack.level("R001"),
            scope: String::new(),
            message: format!(
                "办件收到差评（{}）：{}",
                input.satisfaction.label_zh(),
                input.comment
            ),
        };
        let id = w.open_finding(
            "rating",
            case_no,
            &case.department,
            Some(&case.item_code),
            staff.as_deref().unwrap_or(""),
            &hit,
            due,
            "public",
        )?;
        w.tx.exec(
            "INSERT INTO deadlines (subject_type, subject_id, code, scope, due_at) VALUES ('finding', ?, 'R002', '', ?)",
            &[id.to_string().into(), ms(due).into()],
        )?;
        finding_id = Some(id);
    }
    rows.extend::<[Value; RATING_COLS]>([
        case_no.into(),
        i64::from(input.satisfaction.number()).into(),
        input.channel.code().into(),
        input.channel.is_online().into(),
        serde_json::to_string(&input.indicators)
            .unwrap_or_default()
            .into(),
        input.comment.clone().into(),
        ms(now).into(),
        case.department.clone().into(),
        case.item_code.clone().into(),
        case.window.clone().into(),
        staff.into(),
        finding_id.into(),
    ]);
    w.tally
        .add(&case.department, ms(now), crate::tally::RATINGS, 1);
    if input.satisfaction.number() >= 4 {
        w.tally
            .add(&case.department, ms(now), crate::tally::BAD_RATINGS, 1);
    }
    record_rating(w, case_no, input.satisfaction)?;
    Ok(finding_id)
}
