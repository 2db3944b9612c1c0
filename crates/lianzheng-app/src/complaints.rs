//! Complaints (投诉受理, 政风行风热线; G1/G2): filing, triage, acceptance, extensions, answers,
//! the complainant's rating, queues for the console, public views and statistics.
//!
//! Every change is a `complaint` event appended through the writer (so it is in the log), in
//! the same transaction as the projection (`complaints`), the deadline rows (G001/G002) and the
//! findings the rules open. The complainant's identity and the full text are kept apart in
//! `complaint_parties`; they never enter an event or a public answer.

use jiff::Timestamp;
use lianzheng_core::codes::Fen;
use lianzheng_core::complaint::{
    self, Category, Complaint, ComplaintBody, ComplaintChannel, ComplaintEvent, FeeFlag, Finding,
    Limits, Rating, Refusal, Route, Status, Subject,
};
use lianzheng_core::rules::{Outcome, RulePack};
use lianzheng_core::time::{end_of, format_local, format_rfc3339, local_date};
use serde::{Deserialize, Serialize};

use crate::db::Value;
use crate::ingest::{EventRow, Writer, log_admin_event, with_writer};
use crate::{App, AppError, Principal, from_ms, ms};

/// The complainant (personal data: never logged, never public).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complainant {
    /// 姓名或单位名称.
    pub name: String,
    /// 电话.
    #[serde(default)]
    pub phone: String,
    /// 证件号码.
    #[serde(default)]
    pub id_no: String,
    /// Other contact (email, address).
    #[serde(default)]
    pub contact: String,
}

/// Where the matter happened (public: the place, not the person).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Address.
    #[serde(default)]
    pub address: Option<String>,
    /// WGS84 latitude.
    #[serde(default)]
    pub lat: Option<f64>,
    /// WGS84 longitude.
    #[serde(default)]
    pub long: Option<f64>,
}

/// A complaint as filed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplaintInput {
    /// 投诉类别.
    pub category: Category,
    /// 受理渠道.
    pub channel: ComplaintChannel,
    /// The department complained about.
    pub department: String,
    /// What it is about.
    #[serde(default = "department_subject")]
    pub subject: Subject,
    /// A short public summary; by default the start of the text.
    #[serde(default)]
    pub title: Option<String>,
    /// The complaint in full (may hold personal data; kept apart).
    pub content: String,
    /// The complainant; `None` files anonymously.
    #[serde(default)]
    pub complainant: Option<Complainant>,
    /// Where it happened.
    #[serde(default)]
    pub location: Location,
    /// A photo or document.
    #[serde(default)]
    pub media_url: Option<String>,
}

fn department_subject() -> Subject {
    Subject::Department
}

/// What the complainant is told once, at filing.
#[derive(Debug, Clone, Serialize)]
pub struct FiledComplaint {
    /// 投诉编号, e.g. `TS20261127000123`.
    pub complaint_no: String,
    /// A public token (Open311 `token`).
    pub token: String,
    /// The private query code for following and rating the complaint.
    pub query_code: String,
    /// The fee check's verdict, if any (目录外收费 / 超标准收费).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_flag: Option<String>,
    /// Rule codes raised.
    pub findings: Vec<String>,
    /// When it must be accepted or declined.
    pub accept_due: String,
}

/// What staff do to a complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ComplaintAction {
    /// 分办: to a department, by default the category's route.
    Triage {
        /// 承办单位 (default: by the route).
        #[serde(default)]
        department: Option<String>,
        /// Route (default: the category's).
        #[serde(default)]
        route: Option<Route>,
    },
    /// 受理.
    Accept,
    /// 不予受理.
    Decline {
        /// Reason told to the complainant.
        reason: String,
    },
    /// 申请延期.
    RequestExtension {
        /// Working days.
        days: u32,
        /// Why.
        reason: String,
    },
    /// 批准延期 (supervisors, before the deadline).
    ApproveExtension,
    /// 答复.
    Answer {
        /// The answer.
        text: String,
        /// 属实 / 部分属实 / 不属实.
        outcome: Finding,
    },
    /// 办结 without a rating (supervisors).
    Close {
        /// Why.
        reason: String,
    },
}

/// One complaint in a staff queue or in public lists (no personal data).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplaintRow {
    /// 投诉编号.
    pub complaint_no: String,
    /// Public token.
    pub token: String,
    /// Category code.
    pub category: String,
    /// Category in Chinese.
    pub category_zh: String,
    /// Channel code.
    pub channel: String,
    /// Department complained about.
    pub department: String,
    /// 承办单位.
    pub assigned: Option<String>,
    /// 承办单位 name.
    pub assigned_name: Option<String>,
    /// Status code.
    pub status: String,
    /// Rich status in Chinese.
    pub status_zh: String,
    /// Summary.
    pub title: String,
    /// 乱收费 flag, if any.
    pub fee_flag: Option<String>,
    /// Filed (RFC 3339, +08:00).
    pub filed_at: String,
    /// Last change.
    pub updated_at: String,
    /// The running deadline (to accept, or to answer).
    pub due_at: Option<String>,
    /// Whether the running deadline has passed.
    pub overdue: bool,
    /// Address of the matter.
    pub address: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub long: Option<f64>,
    /// Media.
    pub media_url: Option<String>,
    /// The answer (public once given; no personal data is asked of it).
    pub answer: Option<String>,
}

/// Filters of complaint lists.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ComplaintFilter {
    /// 承办单位 (staff of a department see only theirs anyway).
    #[serde(default)]
    pub department: Option<String>,
    /// Status code(s), comma-separated; `open` and `closed` as Open311 means them.
    #[serde(default)]
    pub status: Option<String>,
    /// Category code(s), comma-separated.
    #[serde(default)]
    pub category: Option<String>,
    /// Complaint numbers, comma-separated (overrides the rest).
    #[serde(default)]
    pub ids: Option<String>,
    /// Filed at or after.
    #[serde(default)]
    pub start: Option<Timestamp>,
    /// Filed at or before.
    #[serde(default)]
    pub end: Option<Timestamp>,
    /// Only those whose running deadline is before this.
    #[serde(default)]
    pub due_before: Option<Timestamp>,
    /// Page size (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Offset.
    #[serde(default)]
    pub offset: Option<i64>,
}

/// Monthly figures of a department (民主评议 publication).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplaintStats {
    /// Department complained about.
    pub department: String,
    /// Its name.
    pub name: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Received.
    pub received: i64,
    /// Accepted or declined in time.
    pub accepted_in_time: i64,
    /// Answered.
    pub answered: i64,
    /// Answered in time.
    pub answered_in_time: i64,
    /// Still being handled past the answer deadline.
    pub open_overdue: i64,
    /// On-time rate: answered in time / (answered + open overdue).
    pub on_time_rate: f64,
    /// Rated.
    pub rated: i64,
    /// 满意 or 基本满意.
    pub satisfied: i64,
    /// 乱收费 confirmed.
    pub fee_confirmed: i64,
}

const ROW_COLS: &str = "c.complaint_no, c.token, c.category, c.channel, c.department, c.assigned, d.name, c.status, c.title, c.fee_flag, c.filed_at, c.updated_at, c.due_at, c.address, c.lat, c.lon, c.media_url, c.state";

fn opt_float(r: &crate::db::Row, i: usize) -> Option<f64> {
    match r.0.get(i) {
        Some(Value::Null) | None => None,
        _ => Some(r.float(i)),
    }
}

fn row_of(r: &crate::db::Row, now: Timestamp) -> ComplaintRow {
    let state: Option<Complaint> = serde_json::from_str(&r.text(17)).ok();
    let category = Category::parse(&r.text(2)).unwrap_or(Category::Other);
    let due = r.opt_int(12).map(from_ms);
    ComplaintRow {
        complaint_no: r.text(0),
        token: r.text(1),
        category: category.code().to_string(),
        category_zh: category.label_zh().to_string(),
        channel: r.text(3),
        department: r.text(4),
        assigned: r.opt_text(5),
        assigned_name: r.opt_text(6),
        status: r.text(7),
        status_zh: state
            .as_ref()
            .map_or_else(|| r.text(7), Complaint::status_note_zh),
        title: r.text(8),
        fee_flag: r.opt_text(9),
        filed_at: format_rfc3339(from_ms(r.int(10))),
        updated_at: format_rfc3339(from_ms(r.int(11))),
        due_at: due.map(format_rfc3339),
        overdue: due.is_some_and(|d| d < now),
        address: r.opt_text(13),
        lat: opt_float(r, 14),
        long: opt_float(r, 15),
        media_url: r.opt_text(16),
        answer: state.and_then(|c| c.answer),
    }
}

fn refusal(r: Refusal) -> AppError {
    match r {
        Refusal::NoSuchComplaint(no) => AppError::NotFound {
            what: "complaint",
            id: no,
        },
        Refusal::Invalid(m) => AppError::Invalid(m),
        other => AppError::Conflict(other.to_string()),
    }
}

/// The running deadline: to accept while filed or assigned, to answer while handled.
fn running_due(c: &Complaint) -> Option<Timestamp> {
    match c.status {
        Status::Filed | Status::Assigned => Some(c.accept_due),
        Status::Accepted => c.answer_due,
        _ => None,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Loads a stored complaint in the writer's transaction.
fn load(w: &mut Writer<'_>, no: &str) -> Result<Option<Complaint>, AppError> {
    let Some(r) = w.tx.query_opt(
        "SELECT state FROM complaints WHERE complaint_no = ?",
        &[no.into()],
    )?
    else {
        return Ok(None);
    };
    serde_json::from_str(&r.text(0))
        .map(Some)
        .map_err(|e| AppError::Invalid(format!("stored complaint `{no}` is unreadable: {e}")))
}

/// Writes the projection and the deadline rows of a complaint that exists.
fn store(w: &mut Writer<'_>, c: &Complaint, pack: &RulePack, seq: i64) -> Result<(), AppError> {
    let state = serde_json::to_string(c).map_err(|e| AppError::Invalid(e.to_string()))?;
    w.tx.exec(
        "UPDATE complaints SET assigned = ?, route = ?, status = ?, fee_confirmed = ?, accepted_at = ?, answered_at = ?, closed_at = ?, updated_at = ?, answer_due_at = ?, due_at = ?, accepted_in_time = ?, answered_in_time = ?, rating = ?, reopened = ?, state = ?, updated_seq = ? WHERE complaint_no = ?",
        &[
            c.assigned.clone().into(),
            c.route.map(|r| r.code()).into(),
            c.status.code().into(),
            c.fee_confirmed().into(),
            c.accepted_at.map(ms).into(),
            c.answered_at.map(ms).into(),
            c.closed_at.map(ms).into(),
            ms(c.updated_at).into(),
            c.answer_due.map(ms).into(),
            running_due(c).map(ms).into(),
            c.accepted_in_time.into(),
            c.answered_in_time.into(),
            c.rating.map(|r| r.code()).into(),
            i64::from(c.reopened).into(),
            state.into(),
            seq.into(),
            c.complaint_no.clone().into(),
        ],
    )?;
    w.tx.exec(
        "DELETE FROM deadlines WHERE subject_type = 'complaint' AND subject_id = ?",
        &[c.complaint_no.clone().into()],
    )?;
    for d in complaint::desired_deadlines(pack, c) {
        w.tx.exec(
            "INSERT INTO deadlines (subject_type, subject_id, code, scope, due_at) VALUES ('complaint', ?, ?, ?, ?)",
            &[c.complaint_no.clone().into(), d.code.into(), d.scope.into(), ms(d.due_at).into()],
        )?;
    }
    Ok(())
}

/// Opens the findings of an outcome on a complaint (once per rule and scope).
fn open_findings(
    w: &mut Writer<'_>,
    app: &App,
    pack: &RulePack,
    c: &Complaint,
    out: &Outcome,
    source: &str,
) -> Result<Vec<String>, AppError> {
    let mut opened = Vec::new();
    let due = end_of(
        app.calendar()
            .add_workdays(local_date(w.now), pack.int("B001", "days").max(1))
            .value,
    );
    for hit in &out.hits {
        let exists = w.tx.query_opt(
            "SELECT 1 FROM findings WHERE subject_type = 'complaint' AND subject_id = ? AND code = ? AND scope = ? AND status IN ('open', 'supervised', 'rectified')",
            &[c.complaint_no.clone().into(), hit.code.into(), hit.scope.clone().into()],
        )?;
        if exists.is_some() {
            continue;
        }
        // 乱收费 belongs to the department that charged; deadlines to the one handling it.
        let department = if hit.code == "G003" {
            c.department.clone()
        } else {
            c.assigned.clone().unwrap_or_else(|| c.department.clone())
        };
        let item = match &c.subject {
            Subject::Fee { item_code, .. } => Some(item_code.clone()),
            _ => None,
        };
        w.open_finding(
            "complaint",
            &c.complaint_no,
            &department,
            item.as_deref(),
            &department,
            hit,
            due,
            source,
        )?;
        opened.push(hit.code.to_string());
    }
    Ok(opened)
}

/// Applies one event in the writer: state machine, event row, rules, projection, deadlines.
fn step(
    w: &mut Writer<'_>,
    app: &App,
    pack: &RulePack,
    before: &Complaint,
    body: ComplaintBody,
    actor: &str,
    source: &str,
) -> Result<(Complaint, Vec<String>), AppError> {
    let ev = ComplaintEvent {
        complaint_no: before.complaint_no.clone(),
        occurred_at: w.now,
        actor: actor.to_string(),
        body,
    };
    let cal = app.calendar();
    let limits = Limits::from_pack(pack, &cal, w.now);
    let after = complaint::apply(Some(before), &ev, &limits).map_err(refusal)?;
    let department = after
        .assigned
        .clone()
        .unwrap_or_else(|| after.department.clone());
    let seq = w.append(EventRow {
        subject_type: "complaint",
        subject_id: &after.complaint_no,
        kind: ev.body.kind(),
        department: &department,
        actor,
        occurred_at: ev.occurred_at,
        source,
        source_event_id: None,
        payload: serde_json::to_string(&ev).map_err(|e| AppError::Invalid(e.to_string()))?,
    })?;
    let out = complaint::evaluate_event(pack, &after, &ev);
    let opened = open_findings(w, app, pack, &after, &out, source)?;
    store(w, &after, pack, seq)?;
    Ok((after, opened))
}

/// Refuses a text longer than `max` characters; `what` names the field in Chinese and English.
fn validate_text(what: (&str, &str), s: &str, max: usize) -> Result<(), AppError> {
    if s.chars().count() > max {
        let (zh, en) = what;
        return Err(AppError::Invalid(format!(
            "{zh}不能超过{max}字 ({en} is longer than {max} characters)"
        )));
    }
    Ok(())
}

impl App {
    /// Files a complaint: a new number (`TS` + date + six digits), a public token and the
    /// complainant's query code. A fee complaint is checked against the item's catalog at once:
    /// a fee outside the catalog or above its standard is flagged 乱收费 (G003).
    pub fn file_complaint(
        &self,
        principal: &Principal,
        input: ComplaintInput,
    ) -> Result<FiledComplaint, AppError> {
        if input.channel == ComplaintChannel::Hotline && matches!(principal, Principal::Public) {
            return Err(AppError::Forbidden("热线投诉由话务员登记".into()));
        }
        if matches!(principal, Principal::Auditor { .. }) {
            return Err(AppError::Forbidden("审计人员只能查阅".into()));
        }
        let content = input.content.trim().to_string();
        if content.is_empty() {
            return Err(AppError::Invalid("投诉内容不能为空".into()));
        }
        validate_text(("投诉内容", "the complaint"), &content, 4000)?;
        if let Some(p) = &input.complainant {
            if p.name.trim().is_empty() {
                return Err(AppError::Invalid("实名投诉须填写姓名".into()));
            }
            validate_text(("姓名", "the name"), &p.name, 100)?;
            validate_text(("电话", "the phone"), &p.phone, 40)?;
            validate_text(("证件号码", "the ID number"), &p.id_no, 40)?;
            validate_text(("联系方式", "the contact"), &p.contact, 200)?;
        }
        if let Some(u) = &input.media_url {
            validate_text(("media_url", "media_url"), u, 1000)?;
        }
        // The title is public (portal, Open311 `description`); without one the complainant
        // wrote for publication, the category stands in — never a cut of the text, which may
        // name people.
        let title = match input.title.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => format!("{}投诉", input.category.label_zh()),
        };
        validate_text(("投诉摘要", "the title"), &title, 200)?;
        let pack = self.rule_pack();
        let now = self.now();
        let cal = self.calendar();
        let mut code = self.random_digits(8);
        let token = self.random_digits(12);
        if code.is_empty() {
            code = "0".into();
        }
        let actor = principal.source();
        let filed = with_writer(self, |w| {
            if w.tx
                .query_opt(
                    "SELECT 1 FROM departments WHERE code = ?",
                    &[input.department.clone().into()],
                )?
                .is_none()
            {
                return Err(AppError::NotFound {
                    what: "department",
                    id: input.department.clone(),
                });
            }
            let fee_flag = match &input.subject {
                Subject::Fee {
                    item_code,
                    fee_code,
                    amount_fen,
                } => Some(self.fee_flag(w, item_code, fee_code, *amount_fen, &pack)?),
                _ => None,
            }
            .flatten();
            let day = local_date(now);
            let prefix = format!("TS{:04}{:02}{:02}", day.year(), day.month(), day.day());
            let n =
                w.tx.query_opt(
                    "SELECT COUNT(*) FROM complaints WHERE complaint_no LIKE ?",
                    &[format!("{prefix}%").into()],
                )?
                .map_or(0, |r| r.int(0));
            let no = format!("{prefix}{:06}", n + 1);
            let ev = ComplaintEvent {
                complaint_no: no.clone(),
                occurred_at: now,
                actor: actor.clone(),
                body: ComplaintBody::Filed {
                    category: input.category,
                    channel: input.channel,
                    department: input.department.clone(),
                    subject: input.subject.clone(),
                    title: title.clone(),
                    real_name: input.complainant.is_some(),
                    fee_flag: fee_flag.clone(),
                },
            };
            let limits = Limits::from_pack(&pack, &cal, now);
            let c = complaint::apply(None, &ev, &limits).map_err(refusal)?;
            let seq = w.append(EventRow {
                subject_type: "complaint",
                subject_id: &no,
                kind: "filed",
                department: &c.department,
                actor: &actor,
                occurred_at: now,
                source: &actor,
                source_event_id: None,
                payload: serde_json::to_string(&ev)
                    .map_err(|e| AppError::Invalid(e.to_string()))?,
            })?;
            let state = serde_json::to_string(&c).map_err(|e| AppError::Invalid(e.to_string()))?;
            w.tx.exec(
                "INSERT INTO complaints (complaint_no, token, category, channel, department, status, title, real_name, fee_flag, filed_at, month, updated_at, accept_due_at, due_at, address, lat, lon, media_url, state, updated_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    no.clone().into(),
                    token.clone().into(),
                    c.category.code().into(),
                    c.channel.code().into(),
                    c.department.clone().into(),
                    c.status.code().into(),
                    c.title.clone().into(),
                    c.real_name.into(),
                    c.fee_flag.as_ref().map(FeeFlag::label_zh).into(),
                    ms(now).into(),
                    format!("{:04}-{:02}", day.year(), day.month()).into(),
                    ms(now).into(),
                    ms(c.accept_due).into(),
                    ms(c.accept_due).into(),
                    input.location.address.clone().into(),
                    input.location.lat.map_or(Value::Null, Value::Float),
                    input.location.long.map_or(Value::Null, Value::Float),
                    input.media_url.clone().into(),
                    state.into(),
                    seq.into(),
                ],
            )?;
            let p = input.complainant.clone().unwrap_or_default();
            w.tx.exec(
                "INSERT INTO complaint_parties (complaint_no, query_code, name, phone, id_no, contact, content) VALUES (?, ?, ?, ?, ?, ?, ?)",
                &[no.clone().into(), code.clone().into(), p.name.into(), p.phone.into(), p.id_no.into(), p.contact.into(), content.clone().into()],
            )?;
            let out = complaint::evaluate_event(&pack, &c, &ev);
            let findings = open_findings(w, self, &pack, &c, &out, &actor)?;
            store(w, &c, &pack, seq)?;
            Ok(FiledComplaint {
                complaint_no: no,
                token: token.clone(),
                query_code: code.clone(),
                fee_flag: c.fee_flag.as_ref().map(|f| f.label_zh().to_string()),
                findings,
                accept_due: format_rfc3339(c.accept_due),
            })
        })?;
        Ok(filed)
    }

    fn fee_flag(
        &self,
        w: &mut Writer<'_>,
        item_code: &str,
        fee_code: &str,
        amount: Fen,
        pack: &RulePack,
    ) -> Result<Option<FeeFlag>, AppError> {
        if amount.0 <= 0 {
            return Err(AppError::Invalid("收费金额须大于0".into()));
        }
        let Some((_, body)) = w.item(item_code, None, w.now)? else {
            return Err(AppError::NotFound {
                what: "item",
                id: item_code.to_string(),
            });
        };
        Ok(complaint::check_fee(
            &body,
            fee_code,
            amount,
            pack.int("F001", "tolerance_percent"),
        ))
    }

    /// Acts on a complaint. Triage: supervisors or the 政务服务中心; accept, decline, ask for an
    /// extension, answer: the 承办单位 (or supervisors); approve an extension and close:
    /// supervisors. Auditors and the public act on nothing.
    pub fn act_on_complaint(
        &self,
        principal: &Principal,
        no: &str,
        action: ComplaintAction,
    ) -> Result<ComplaintRow, AppError> {
        let pack = self.rule_pack();
        let routing = self.settings.complaint_routing.clone();
        let actor = principal.source();
        with_writer(self, |w| {
            let c = load(w, no)?.ok_or_else(|| AppError::NotFound {
                what: "complaint",
                id: no.to_string(),
            })?;
            let assigned = c.assigned.clone().unwrap_or_default();
            let handles = principal.supervises()
                || (!assigned.is_empty() && principal.may_act_for(&assigned));
            // A department never learns of complaints it is not handling.
            let visible = principal.supervises()
                || matches!(principal, Principal::Auditor { .. })
                || (!assigned.is_empty() && principal.may_read(&assigned))
                || principal.may_act_for(&routing.service_centre);
            if !visible {
                return Err(AppError::NotFound {
                    what: "complaint",
                    id: no.to_string(),
                });
            }
            let body = match action {
                ComplaintAction::Triage { department, route } => {
                    if !(principal.supervises() || principal.may_act_for(&routing.service_centre)) {
                        return Err(AppError::Forbidden("分办由监察局或政务服务中心进行".into()));
                    }
                    let route = route.unwrap_or_else(|| c.category.route());
                    let department =
                        department.unwrap_or_else(|| routing.department(route, &c.department));
                    if route != Route::Supervision
                        && w.tx
                            .query_opt(
                                "SELECT 1 FROM departments WHERE code = ?",
                                &[department.clone().into()],
                            )?
                            .is_none()
                    {
                        return Err(AppError::NotFound {
                            what: "department",
                            id: department,
                        });
                    }
                    ComplaintBody::Triaged { department, route }
                }
                ComplaintAction::ApproveExtension | ComplaintAction::Close { .. }
                    if !principal.supervises() =>
                {
                    return Err(AppError::Forbidden("延期审批和办结由监察局进行".into()));
                }
                ComplaintAction::ApproveExtension => ComplaintBody::ExtensionApproved {
                    approver: actor.clone(),
                },
                ComplaintAction::Close { reason } => ComplaintBody::Closed { reason },
                _ if !handles => {
                    return Err(AppError::Forbidden("只有承办单位可以办理此投诉".into()));
                }
                ComplaintAction::Accept => ComplaintBody::Accepted,
                ComplaintAction::Decline { reason } => ComplaintBody::Declined { reason },
                ComplaintAction::RequestExtension { days, reason } => {
                    ComplaintBody::ExtensionRequested { days, reason }
                }
                ComplaintAction::Answer { text, outcome } => {
                    ComplaintBody::Answered { text, outcome }
                }
            };
            step(w, self, &pack, &c, body, &actor, &actor)?;
            Ok(())
        })?;
        self.complaint_row(no)
    }

    fn complaint_row(&self, no: &str) -> Result<ComplaintRow, AppError> {
        let now = self.now();
        self.db.read(|tx| {
            tx.query_opt(
                &format!("SELECT {ROW_COLS} FROM complaints c LEFT JOIN departments d ON d.code = c.assigned WHERE c.complaint_no = ?"),
                &[no.into()],
            )?
            .map(|r| row_of(&r, now))
            .ok_or_else(|| AppError::NotFound {
                what: "complaint",
                id: no.to_string(),
            })
        })
    }

    /// The complainant rates the answer with the query code. 不满意 the first time reopens the
    /// complaint at once (G004); a wrong code answers exactly like an unknown complaint.
    pub fn rate_complaint(
        &self,
        no: &str,
        query_code: &str,
        satisfaction: Rating,
    ) -> Result<ComplaintRow, AppError> {
        let pack = self.rule_pack();
        with_writer(self, |w| {
            let unknown = || AppError::NotFound {
                what: "complaint",
                id: no.to_string(),
            };
            let code =
                w.tx.query_opt(
                    "SELECT query_code FROM complaint_parties WHERE complaint_no = ?",
                    &[no.into()],
                )?
                .ok_or_else(unknown)?
                .text(0);
            if !constant_time_eq(code.as_bytes(), query_code.trim().as_bytes()) {
                return Err(unknown());
            }
            let c = load(w, no)?.ok_or_else(unknown)?;
            let (after, _) = step(
                w,
                self,
                &pack,
                &c,
                ComplaintBody::Rated { satisfaction },
                "public",
                "public",
            )?;
            if after.status == Status::Answered && after.rating == Some(Rating::Dissatisfied) {
                step(
                    w,
                    self,
                    &pack,
                    &after,
                    ComplaintBody::Reopened {
                        reason: "投诉人对答复不满意，重新办理".into(),
                    },
                    "system",
                    "system",
                )?;
            }
            Ok(())
        })?;
        self.complaint_row(no)
    }

    /// Fires a complaint deadline from the sweep (G001, G002), re-checked against the complaint
    /// as it is now. Returns the findings opened.
    pub(crate) fn fire_complaint_deadline(
        &self,
        w: &mut Writer<'_>,
        no: &str,
        code: &str,
        scope: &str,
        pack: &RulePack,
    ) -> Result<usize, AppError> {
        let Some(mut c) = load(w, no)? else {
            return Ok(0);
        };
        let seq =
            w.tx.query_opt(
                "SELECT updated_seq FROM complaints WHERE complaint_no = ?",
                &[no.into()],
            )?
            .map_or(0, |r| r.int(0));
        let Some(d) = complaint::desired_deadlines(pack, &c)
            .into_iter()
            .find(|d| d.code == code && d.scope == scope && d.due_at <= w.now)
        else {
            // A stale row: put back what is pending.
            store(w, &c, pack, seq)?;
            return Ok(0);
        };
        let out = complaint::time_outcome(pack, d.code, &d.scope, &c);
        c.fired.insert((d.code.to_string(), d.scope.clone()));
        let opened = open_findings(w, self, pack, &c, &out, "sweep")?;
        store(w, &c, pack, seq)?;
        Ok(opened.len())
    }

    /// Complaints within a principal's reach, the most urgent first: department staff see only
    /// those assigned to them; supervisors, administrators and auditors see all.
    pub fn complaint_queue(
        &self,
        principal: &Principal,
        filter: &ComplaintFilter,
    ) -> Result<Vec<ComplaintRow>, AppError> {
        let department = match principal {
            Principal::Public => {
                return Err(AppError::Forbidden("投诉队列仅供工作人员查看".into()));
            }
            Principal::Department { department, .. } => Some(department.clone()),
            _ => filter.department.clone(),
        };
        self.list_complaints(department, filter, "c.due_at IS NULL, c.due_at, c.filed_at")
    }

    /// Complaints as the public sees them (Open311 `requests`): no personal data; newest first.
    pub fn public_complaints(
        &self,
        filter: &ComplaintFilter,
    ) -> Result<Vec<ComplaintRow>, AppError> {
        self.list_complaints(
            filter.department.clone(),
            filter,
            "c.filed_at DESC, c.complaint_no DESC",
        )
    }

    fn list_complaints(
        &self,
        department: Option<String>,
        filter: &ComplaintFilter,
        order: &str,
    ) -> Result<Vec<ComplaintRow>, AppError> {
        let now = self.now();
        let mut sql = format!(
            "SELECT {ROW_COLS} FROM complaints c LEFT JOIN departments d ON d.code = c.assigned WHERE 1 = 1"
        );
        let mut params: Vec<Value> = Vec::new();
        let list = |s: &Option<String>| -> Vec<String> {
            s.as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .take(200)
                .collect()
        };
        if let Some(d) = department {
            sql.push_str(" AND c.assigned = ?");
            params.push(d.into());
        }
        let ids = list(&filter.ids);
        if !ids.is_empty() {
            sql.push_str(&format!(
                " AND c.complaint_no IN ({})",
                crate::bulk::marks(ids.len())
            ));
            params.extend(ids.into_iter().map(Value::from));
        } else {
            let mut statuses: Vec<String> = Vec::new();
            for s in list(&filter.status) {
                match s.as_str() {
                    "open" => statuses.extend(["filed", "assigned", "accepted"].map(String::from)),
                    "closed" => {
                        statuses.extend(["declined", "answered", "closed"].map(String::from))
                    }
                    other => statuses.push(
                        Status::parse(other)
                            .map_err(|e| AppError::Invalid(e.to_string()))?
                            .code()
                            .to_string(),
                    ),
                }
            }
            if !statuses.is_empty() {
                sql.push_str(&format!(
                    " AND c.status IN ({})",
                    crate::bulk::marks(statuses.len())
                ));
                params.extend(statuses.into_iter().map(Value::from));
            }
            let cats = list(&filter.category);
            if !cats.is_empty() {
                let mut codes = Vec::new();
                for c in cats {
                    codes.push(
                        Category::parse(&c)
                            .map_err(|_| AppError::NotFound {
                                what: "service",
                                id: c.clone(),
                            })?
                            .code()
                            .to_string(),
                    );
                }
                sql.push_str(&format!(
                    " AND c.category IN ({})",
                    crate::bulk::marks(codes.len())
                ));
                params.extend(codes.into_iter().map(Value::from));
            }
            if let Some(t) = filter.start {
                sql.push_str(" AND c.filed_at >= ?");
                params.push(ms(t).into());
            }
            if let Some(t) = filter.end {
                sql.push_str(" AND c.filed_at <= ?");
                params.push(ms(t).into());
            }
            if let Some(t) = filter.due_before {
                sql.push_str(" AND c.due_at < ?");
                params.push(ms(t).into());
            }
        }
        sql.push_str(&format!(" ORDER BY {order} LIMIT ? OFFSET ?"));
        params.push(filter.limit.unwrap_or(100).clamp(1, 1000).into());
        params.push(filter.offset.unwrap_or(0).max(0).into());
        self.db.read(|tx| {
            Ok(tx
                .query(&sql, &params)?
                .iter()
                .map(|r| row_of(r, now))
                .collect())
        })
    }

    /// The complaint number of a public token (Open311 `tokens/{token}`).
    pub fn complaint_by_token(&self, token: &str) -> Result<Option<String>, AppError> {
        self.db.read(|tx| {
            Ok(tx
                .query_opt(
                    "SELECT complaint_no FROM complaints WHERE token = ?",
                    &[token.into()],
                )?
                .map(|r| r.text(0)))
        })
    }

    /// One complaint for staff: the state, the events, the text, and the complainant — in full
    /// for supervisors, administrators and the handling department (not when routed to the
    /// supervision bureau), masked for others. Seeing the identity is itself recorded.
    pub fn staff_complaint(
        &self,
        principal: &Principal,
        no: &str,
    ) -> Result<serde_json::Value, AppError> {
        let unknown = || AppError::NotFound {
            what: "complaint",
            id: no.to_string(),
        };
        let (state, party, events) = self.db.read(|tx| {
            let s = tx.query_opt(
                "SELECT state FROM complaints WHERE complaint_no = ?",
                &[no.into()],
            )?;
            let p = tx.query_opt(
                "SELECT name, phone, id_no, contact, content FROM complaint_parties WHERE complaint_no = ?",
                &[no.into()],
            )?;
            let e = tx.query(
                "SELECT seq, kind, actor, recorded_at, payload FROM events WHERE subject_type = 'complaint' AND subject_id = ? ORDER BY seq",
                &[no.into()],
            )?;
            Ok::<_, AppError>((s, p, e))
        })?;
        let c: Complaint = serde_json::from_str(&state.ok_or_else(unknown)?.text(0))
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        let assigned = c.assigned.clone().unwrap_or_default();
        let may_read = match principal {
            Principal::Public => false,
            Principal::Department { .. } => !assigned.is_empty() && principal.may_read(&assigned),
            _ => true,
        };
        if !may_read {
            return Err(unknown());
        }
        let full = principal.supervises()
            || (matches!(principal, Principal::Department { .. })
                && c.route != Some(Route::Supervision));
        let party = party.ok_or_else(unknown)?;
        let (name, phone, id_no, contact, content) = (
            party.text(0),
            party.text(1),
            party.text(2),
            party.text(3),
            party.text(4),
        );
        let complainant = if !c.real_name {
            serde_json::json!({"anonymous": true})
        } else if full {
            let actor = principal.source();
            with_writer(self, |w| {
                log_admin_event(
                    w,
                    "personal_data",
                    no,
                    "viewed",
                    &actor,
                    serde_json::json!({"what": "complainant", "complaint_no": no}),
                )?;
                Ok(())
            })?;
            serde_json::json!({"anonymous": false, "name": name, "phone": phone, "id_no": id_no, "contact": contact})
        } else {
            serde_json::json!({"anonymous": false, "masked": true,
                "name": lianzheng_core::mask::name(&name),
                "phone": lianzheng_core::mask::number(&phone),
                "id_no": lianzheng_core::mask::number(&id_no)})
        };
        let events: Vec<serde_json::Value> = events
            .iter()
            .map(|r| {
                serde_json::json!({
                    "seq": r.int(0), "kind": r.text(1), "kind_zh": complaint::kind_zh(&r.text(1)),
                    "actor": r.text(2), "recorded_at": format_local(from_ms(r.int(3))),
                    "event": serde_json::from_str::<serde_json::Value>(&r.text(4)).unwrap_or_default(),
                })
            })
            .collect();
        Ok(serde_json::json!({
            "complaint": c, "status_zh": c.status_note_zh(), "category_zh": c.category.label_zh(),
            "content": content, "complainant": complainant, "events": events,
        }))
    }

    /// One complaint for its complainant, with the query code: public fields only, the
    /// steps and the answer. A wrong code answers exactly like an unknown complaint.
    pub fn public_complaint(
        &self,
        no: &str,
        query_code: &str,
    ) -> Result<serde_json::Value, AppError> {
        let unknown = || AppError::NotFound {
            what: "complaint",
            id: no.to_string(),
        };
        let code = self
            .db
            .read(|tx| {
                Ok::<_, AppError>(tx.query_opt(
                    "SELECT query_code FROM complaint_parties WHERE complaint_no = ?",
                    &[no.into()],
                )?)
            })?
            .ok_or_else(unknown)?
            .text(0);
        if !constant_time_eq(code.as_bytes(), query_code.trim().as_bytes()) {
            return Err(unknown());
        }
        let row = self.complaint_row(no)?;
        let steps = self.db.read(|tx| {
            Ok::<_, AppError>(
                tx.query(
                    "SELECT kind, recorded_at FROM events WHERE subject_type = 'complaint' AND subject_id = ? ORDER BY seq",
                    &[no.into()],
                )?
                .iter()
                .map(|r| serde_json::json!({"kind": r.text(0), "kind_zh": complaint::kind_zh(&r.text(0)), "at": format_local(from_ms(r.int(1)))}))
                .collect::<Vec<_>>(),
            )
        })?;
        Ok(serde_json::json!({"complaint": row, "steps": steps}))
    }

    /// Departments that complaints may name, as `(code, name)`.
    pub fn complaint_departments(&self) -> Result<Vec<(String, String)>, AppError> {
        self.db.read(|tx| {
            Ok(tx
                .query("SELECT code, name FROM departments ORDER BY code", &[])?
                .iter()
                .map(|r| (r.text(0), r.text(1)))
                .collect())
        })
    }

    /// Public figures per department and month (民主评议): received, handled in time, answered
    /// in time against answered plus open overdue, satisfaction, 乱收费 confirmed.
    pub fn complaint_stats(&self, month: Option<&str>) -> Result<Vec<ComplaintStats>, AppError> {
        let now = ms(self.now());
        let (filter, mut params): (&str, Vec<Value>) = match month {
            Some(m) => (" WHERE c.month = ?", vec![m.into()]),
            None => ("", Vec::new()),
        };
        let sql = format!(
            "SELECT c.department, COALESCE(d.name, ''), c.month, COUNT(*), \
             CAST(SUM(CASE WHEN c.accepted_in_time = 1 THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN c.answered_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN c.answered_in_time = 1 THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN c.status = 'accepted' AND c.due_at < ? THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN c.rating IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN c.rating IN ('1', '2') THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(c.fee_confirmed) AS BIGINT) \
             FROM complaints c LEFT JOIN departments d ON d.code = c.department{filter} \
             GROUP BY c.department, d.name, c.month ORDER BY c.month DESC, c.department"
        );
        params.insert(0, now.into());
        self.db.read(|tx| {
            Ok(tx
                .query(&sql, &params)?
                .iter()
                .map(|r| {
                    let (answered, in_time, overdue) = (r.int(5), r.int(6), r.int(7));
                    let base = answered + overdue;
                    ComplaintStats {
                        department: r.text(0),
                        name: r.text(1),
                        month: r.text(2),
                        received: r.int(3),
                        accepted_in_time: r.int(4),
                        answered,
                        answered_in_time: in_time,
                        open_overdue: overdue,
                        on_time_rate: if base > 0 {
                            in_time as f64 / base as f64
                        } else {
                            0.0
                        },
                        rated: r.int(8),
                        satisfied: r.int(9),
                        fee_confirmed: r.int(10),
                    }
                })
                .collect())
        })
    }
}
