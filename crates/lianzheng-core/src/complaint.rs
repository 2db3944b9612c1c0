//! Complaints (投诉受理, 政风行风热线; 焦作市廉政建设意见二(二)1–2): their events, the pure state
//! machine, triage routing, the fee check against the catalog (乱收费) and the complaint rules
//! G001–G004 (deadlines to accept and to answer, 乱收费, 不满意).
//!
//! A complaint is filed (网站, 热线, API, Open311), triaged to a 承办单位, accepted or declined
//! within `G001.accept_days` working days of filing, answered within `G002.answer_days` working
//! days of acceptance (plus an extension approved before that deadline), rated by the
//! complainant, and reopened once when the rating is 不满意.
//!
//! Personal data of the complainant never enters these events: it is stored apart by the
//! application (`complaint_parties`), so the log holds none.

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::calendar::Calendar;
use crate::catalog::ItemBody;
use crate::codes::{Fen, code_enum};
use crate::error::ParseError;
use crate::rules::{DeadlineEntry, Hit, Outcome, RulePack};
use crate::time::{end_of, local_date};

code_enum! {
    any_case
    /// 投诉类别, with the stable codes the hotline and Open311 (`service_code`) use.
    Category, "投诉类别" {
        Efficiency = "XL", "办事效率", "efficiency";
        Attitude = "TD", "服务态度", "attitude";
        Fee = "SF", "乱收费", "illegal fees";
        Business = "YS", "营商环境", "business environment";
        Misconduct = "WJ", "吃拿卡要/违纪", "misconduct";
        Other = "QT", "其他", "other";
    }
}

impl Category {
    /// Where a complaint of this category goes by default.
    pub fn route(self) -> Route {
        match self {
            Category::Efficiency | Category::Attitude => Route::ServiceCentre,
            Category::Fee | Category::Business | Category::Other => Route::Responsible,
            Category::Misconduct => Route::Supervision,
        }
    }

    /// A one-line description for service lists.
    pub fn description_zh(self) -> &'static str {
        match self {
            Category::Efficiency => "办事拖拉、推诿扯皮、超时办理等办事效率问题",
            Category::Attitude => "门难进、脸难看、话难听等服务态度问题",
            Category::Fee => "目录外收费、超标准收费等乱收费问题",
            Category::Business => "影响营商环境的审批、检查、涉企服务问题",
            Category::Misconduct => "吃拿卡要、以权谋私等违规违纪问题",
            Category::Other => "其他政风行风问题",
        }
    }
}

code_enum! {
    any_case
    /// How a complaint came in (受理渠道).
    ComplaintChannel, "受理渠道" {
        Portal = "web", "网站", "portal";
        Hotline = "hotline", "热线", "hotline";
        Api = "api", "API", "API";
        Open311 = "open311", "Open311", "Open311";
    }
}

code_enum! {
    any_case
    /// Where triage sends a complaint.
    Route, "转办去向" {
        ServiceCentre = "centre", "政务服务中心", "service centre";
        Responsible = "responsible", "责任单位", "responsible department";
        Supervision = "supervision", "监察局", "supervision bureau";
    }
}

code_enum! {
    any_case
    /// The complainant's rating of the answer (满意度).
    Rating, "满意度" {
        Satisfied = "1", "满意", "satisfied";
        Fair = "2", "基本满意", "fairly satisfied";
        Dissatisfied = "3", "不满意", "dissatisfied";
    }
}

code_enum! {
    any_case
    /// What the investigation found (处理结果).
    Finding, "处理结果" {
        Sustained = "sustained", "属实", "sustained";
        Partly = "partly", "部分属实", "partly sustained";
        Unfounded = "unfounded", "不属实", "unfounded";
    }
}

code_enum! {
    any_case
    /// Status of a complaint.
    Status, "投诉状态" {
        Filed = "filed", "已登记", "filed";
        Assigned = "assigned", "已转办", "assigned";
        Accepted = "accepted", "办理中", "being handled";
        Declined = "declined", "不予受理", "declined";
        Answered = "answered", "已答复", "answered";
        Closed = "closed", "已办结", "closed";
    }
}

impl Status {
    /// Whether nothing more is expected of the department (Open311 `closed`).
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Declined | Status::Answered | Status::Closed)
    }
}

/// Triage routing: which department takes which route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    /// The 政务服务中心's department code (efficiency and attitude).
    pub service_centre: String,
    /// The 监察局's department code (serious breaches).
    pub supervision: String,
}

impl Default for Routing {
    fn default() -> Self {
        // XZSP is 市行政审批局 (which runs the 政务服务中心) in the demo city; the 监察局 is JCJ.
        Routing {
            service_centre: "XZSP".into(),
            supervision: "JCJ".into(),
        }
    }
}

impl Routing {
    /// The department a route leads to, for a complaint about `named`.
    pub fn department(&self, route: Route, named: &str) -> String {
        match route {
            Route::ServiceCentre => self.service_centre.clone(),
            Route::Responsible => named.to_string(),
            Route::Supervision => self.supervision.clone(),
        }
    }
}

/// What a complaint is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    /// The department as such.
    Department,
    /// A member of staff, by name or staff number (public staff data).
    Person {
        /// 工作人员姓名或工号.
        staff: String,
    },
    /// An approval case.
    Case {
        /// 办件编号.
        case_no: String,
    },
    /// A fee charged.
    Fee {
        /// 实施编码 of the item.
        item_code: String,
        /// The fee's code or name as charged.
        fee_code: String,
        /// The amount charged, in fen.
        amount_fen: Fen,
    },
    /// Conduct (吃拿卡要 and the like).
    Conduct,
}

/// Why a fee is 乱收费.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeFlag {
    /// 目录外收费: not in the item's catalog, or the item charges nothing.
    NotInCatalog,
    /// 超标准收费.
    AboveStandard {
        /// The standard.
        standard_fen: Fen,
    },
}

impl FeeFlag {
    /// The label in Chinese.
    pub fn label_zh(&self) -> &'static str {
        match self {
            FeeFlag::NotInCatalog => "目录外收费",
            FeeFlag::AboveStandard { .. } => "超标准收费",
        }
    }
}

/// Checks a fee against an item's catalog, as rules F001/F002 check a case's fees:
/// not in the catalog (or the item charges nothing) ⇒ 目录外收费; above the standard by more
/// than `tolerance_percent` ⇒ 超标准收费; otherwise `None`.
pub fn check_fee(
    item: &ItemBody,
    fee_code: &str,
    amount: Fen,
    tolerance_percent: u32,
) -> Option<FeeFlag> {
    match item.fee(fee_code) {
        None => (amount.0 > 0).then_some(FeeFlag::NotInCatalog),
        Some(f) => {
            let tol = i64::from(tolerance_percent);
            (amount.0 * 100 > f.standard_fen.0 * (100 + tol)).then_some(FeeFlag::AboveStandard {
                standard_fen: f.standard_fen,
            })
        }
    }
}

/// What happened, by kind. The JSON tag `kind` names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ComplaintBody {
    /// 登记: the complaint is filed.
    Filed {
        /// 投诉类别.
        category: Category,
        /// 受理渠道.
        channel: ComplaintChannel,
        /// The department complained about.
        department: String,
        /// What it is about.
        subject: Subject,
        /// A short public summary (no personal data).
        title: String,
        /// Whether the complainant gave a name (实名) and is to be told the outcome.
        real_name: bool,
        /// The fee check's verdict, for a fee complaint.
        #[serde(default)]
        fee_flag: Option<FeeFlag>,
    },
    /// 分办: assigned to a 承办单位 by a route.
    Triaged {
        /// 承办单位.
        department: String,
        /// The route taken.
        route: Route,
    },
    /// 受理.
    Accepted,
    /// 不予受理, with the reason told to the complainant.
    Declined {
        /// The reason.
        reason: String,
    },
    /// 申请延期.
    ExtensionRequested {
        /// Working days asked for.
        days: u32,
        /// Why.
        reason: String,
    },
    /// 批准延期 (only before the running deadline).
    ExtensionApproved {
        /// Who approved it.
        approver: String,
    },
    /// 答复.
    Answered {
        /// The answer, told to the complainant.
        text: String,
        /// What the investigation found.
        outcome: Finding,
    },
    /// 评价 by the complainant.
    Rated {
        /// 满意 / 基本满意 / 不满意.
        satisfaction: Rating,
    },
    /// 重新办理: automatically, once, after 不满意.
    Reopened {
        /// Why.
        reason: String,
    },
    /// 办结 without a rating (e.g. by the supervision bureau).
    Closed {
        /// Why.
        reason: String,
    },
}

impl ComplaintBody {
    /// The kind as stored in `events.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ComplaintBody::Filed { .. } => "filed",
            ComplaintBody::Triaged { .. } => "triaged",
            ComplaintBody::Accepted => "accepted",
            ComplaintBody::Declined { .. } => "declined",
            ComplaintBody::ExtensionRequested { .. } => "extension_requested",
            ComplaintBody::ExtensionApproved { .. } => "extension_approved",
            ComplaintBody::Answered { .. } => "answered",
            ComplaintBody::Rated { .. } => "rated",
            ComplaintBody::Reopened { .. } => "reopened",
            ComplaintBody::Closed { .. } => "closed",
        }
    }

    /// The kind in Chinese.
    pub fn kind_zh(&self) -> &'static str {
        kind_zh(self.kind())
    }
}

/// The Chinese name of a complaint event kind.
pub fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "filed" => "登记",
        "triaged" => "分办",
        "accepted" => "受理",
        "declined" => "不予受理",
        "extension_requested" => "申请延期",
        "extension_approved" => "批准延期",
        "answered" => "答复",
        "rated" => "评价",
        "reopened" => "重新办理",
        "closed" => "办结",
        _ => "其他",
    }
}

/// One complaint event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplaintEvent {
    /// 投诉编号.
    pub complaint_no: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Who did it (staff id, `public`, `system`).
    pub actor: String,
    /// What happened.
    #[serde(flatten)]
    pub body: ComplaintBody,
}

/// A pending or approved extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Working days.
    pub days: u32,
    /// Why.
    pub reason: String,
    /// Whether approved.
    pub approved: bool,
}

/// The state of a complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Complaint {
    /// 投诉编号.
    pub complaint_no: String,
    /// 投诉类别.
    pub category: Category,
    /// 受理渠道.
    pub channel: ComplaintChannel,
    /// The department complained about.
    pub department: String,
    /// What it is about.
    pub subject: Subject,
    /// Public summary.
    pub title: String,
    /// 实名.
    pub real_name: bool,
    /// The fee check's verdict.
    pub fee_flag: Option<FeeFlag>,
    /// Status.
    pub status: Status,
    /// 承办单位, once triaged.
    pub assigned: Option<String>,
    /// Route taken.
    pub route: Option<Route>,
    /// When filed.
    pub filed_at: Timestamp,
    /// When accepted (the latest acceptance or reopening).
    pub accepted_at: Option<Timestamp>,
    /// When answered.
    pub answered_at: Option<Timestamp>,
    /// When closed.
    pub closed_at: Option<Timestamp>,
    /// When anything last happened.
    pub updated_at: Timestamp,
    /// Deadline to accept or decline.
    pub accept_due: Timestamp,
    /// Deadline to answer, once accepted (extension included).
    pub answer_due: Option<Timestamp>,
    /// Whether it was accepted or declined in time.
    pub accepted_in_time: Option<bool>,
    /// Whether it was answered in time (the last answer).
    pub answered_in_time: Option<bool>,
    /// Extension asked for or approved in the current round.
    pub extension: Option<Extension>,
    /// The answer.
    pub answer: Option<String>,
    /// What the investigation found.
    pub outcome: Option<Finding>,
    /// The complainant's rating (the last one).
    pub rating: Option<Rating>,
    /// Times reopened (at most once).
    pub reopened: u32,
    /// Time rules already fired, as `(code, scope)`.
    pub fired: BTreeSet<(String, String)>,
}

impl Complaint {
    /// The round of handling: `0` before a reopening, `1` after. Scopes answer deadlines.
    pub fn round(&self) -> String {
        self.reopened.to_string()
    }

    /// Whether 乱收费 is confirmed: a flagged fee or a 乱收费 complaint found (partly) sustained.
    pub fn fee_confirmed(&self) -> bool {
        (self.fee_flag.is_some() || self.category == Category::Fee)
            && matches!(self.outcome, Some(Finding::Sustained | Finding::Partly))
    }

    /// The rich status as the public reads it (Open311 `status_notes`).
    pub fn status_note_zh(&self) -> String {
        match self.status {
            Status::Accepted if self.reopened > 0 => "重新办理中".to_string(),
            Status::Accepted if self.extension.as_ref().is_some_and(|e| e.approved) => {
                "办理中（已延期）".to_string()
            }
            Status::Answered if self.rating.is_some() => "已答复，已评价".to_string(),
            s => s.label_zh().to_string(),
        }
    }
}

/// What the state machine needs besides the state and the event.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    /// The working-day calendar.
    pub calendar: &'a Calendar,
    /// Working days to accept or decline (G001).
    pub accept_days: u32,
    /// Working days to answer once accepted (G002).
    pub answer_days: u32,
    /// Most working days an extension may add.
    pub max_extension_days: u32,
    /// When Lianzheng records the event (deadline checks use it, not the sender's time).
    pub now: Timestamp,
}

impl<'a> Limits<'a> {
    /// The limits of a rule pack.
    pub fn from_pack(pack: &RulePack, calendar: &'a Calendar, now: Timestamp) -> Limits<'a> {
        Limits {
            calendar,
            accept_days: pack.int("G001", "accept_days").max(1),
            answer_days: pack.int("G002", "answer_days").max(1),
            max_extension_days: pack.int("G002", "max_extension_days").max(1),
            now,
        }
    }

    fn due(&self, from: Timestamp, days: u32) -> Timestamp {
        end_of(self.calendar.add_workdays(local_date(from), days).value)
    }
}

/// Why an event was refused. Each message says it in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// Any event but 登记 on an unknown complaint.
    #[error("投诉 `{0}` 不存在 (complaint `{0}` does not exist)")]
    NoSuchComplaint(String),
    /// 登记 of a number that exists.
    #[error("投诉 `{0}` 已存在 (complaint `{0}` already exists)")]
    Exists(String),
    /// Not allowed in this status.
    #[error(
        "投诉{status}时不能{kind} (`{kind_en}` is not allowed while the complaint is {status_en})"
    )]
    NotAllowed {
        /// Event kind in Chinese.
        kind: &'static str,
        /// Event kind in English.
        kind_en: &'static str,
        /// Status in Chinese.
        status: &'static str,
        /// Status in English.
        status_en: &'static str,
    },
    /// Extension approved after the deadline it would extend.
    #[error(
        "答复期限已于 {0} 届满，不能再批准延期 (the answer deadline passed at {0}; an extension must be approved before it)"
    )]
    DeadlinePassed(String),
    /// No extension was asked for.
    #[error("没有待批准的延期申请 (no extension is waiting for approval)")]
    NoExtension,
    /// Reopened more than once, or without a 不满意 rating.
    #[error(
        "只能在答复不满意后重新办理一次 (a complaint is reopened once, after a dissatisfied rating)"
    )]
    NoReopen,
    /// Malformed input.
    #[error("{0}")]
    Invalid(String),
}

fn not_allowed(ev: &ComplaintBody, s: Status) -> Refusal {
    Refusal::NotAllowed {
        kind: ev.kind_zh(),
        kind_en: ev.kind(),
        status: s.label_zh(),
        status_en: s.label_en(),
    }
}

/// A required text of at most `max` characters, named in Chinese and English for the refusal.
fn text_ok((zh, en): (&str, &str), s: &str, max: usize) -> Result<(), Refusal> {
    if s.trim().is_empty() {
        return Err(Refusal::Invalid(format!("{zh}不能为空 ({en} is required)")));
    }
    if s.chars().count() > max {
        return Err(Refusal::Invalid(format!(
            "{zh}不能超过{max}字 ({en} is longer than {max} characters)"
        )));
    }
    Ok(())
}

/// Applies one event: the new state, or a refusal that changes nothing.
pub fn apply(
    state: Option<&Complaint>,
    ev: &ComplaintEvent,
    limits: &Limits<'_>,
) -> Result<Complaint, Refusal> {
    let at = ev.occurred_at;
    let Some(c) = state else {
        let ComplaintBody::Filed {
            category,
            channel,
            department,
            subject,
            title,
            real_name,
            fee_flag,
        } = &ev.body
        else {
            return Err(Refusal::NoSuchComplaint(ev.complaint_no.clone()));
        };
        text_ok(("投诉摘要", "the summary"), title, 200)?;
        if department.trim().is_empty() {
            return Err(Refusal::Invalid(
                "被投诉单位不能为空 (the department complained about is required)".into(),
            ));
        }
        return Ok(Complaint {
            complaint_no: ev.complaint_no.clone(),
            category: *category,
            channel: *channel,
            department: department.clone(),
            subject: subject.clone(),
            title: title.clone(),
            real_name: *real_name,
            fee_flag: fee_flag.clone(),
            status: Status::Filed,
            assigned: None,
            route: None,
            filed_at: at,
            accepted_at: None,
            answered_at: None,
            closed_at: None,
            updated_at: at,
            accept_due: limits.due(at, limits.accept_days),
            answer_due: None,
            accepted_in_time: None,
            answered_in_time: None,
            extension: None,
            answer: None,
            outcome: None,
            rating: None,
            reopened: 0,
            fired: BTreeSet::new(),
        });
    };
    let mut n = c.clone();
    n.updated_at = at;
    let s = c.status;
    match &ev.body {
        ComplaintBody::Filed { .. } => return Err(Refusal::Exists(c.complaint_no.clone())),
        ComplaintBody::Triaged { department, route } => {
            if !matches!(s, Status::Filed | Status::Assigned) {
                return Err(not_allowed(&ev.body, s));
            }
            if department.trim().is_empty() {
                return Err(Refusal::Invalid(
                    "承办单位不能为空 (the department to handle it is required)".into(),
                ));
            }
            n.assigned = Some(department.clone());
            n.route = Some(*route);
            n.status = Status::Assigned;
        }
        ComplaintBody::Accepted => {
            if s != Status::Assigned {
                return Err(not_allowed(&ev.body, s));
            }
            n.status = Status::Accepted;
            n.accepted_at = Some(at);
            n.accepted_in_time = Some(limits.now <= c.accept_due);
            n.answer_due = Some(limits.due(at, limits.answer_days));
        }
        ComplaintBody::Declined { reason } => {
            if !matches!(s, Status::Filed | Status::Assigned) {
                return Err(not_allowed(&ev.body, s));
            }
            text_ok(("不予受理理由", "the reason for declining"), reason, 2000)?;
            n.status = Status::Declined;
            n.accepted_in_time = Some(limits.now <= c.accept_due);
            n.answer = Some(reason.clone());
            n.closed_at = Some(at);
        }
        ComplaintBody::ExtensionRequested { days, reason } => {
            if s != Status::Accepted || c.extension.is_some() {
                return Err(not_allowed(&ev.body, s));
            }
            text_ok(("延期理由", "the reason for the extension"), reason, 2000)?;
            if *days == 0 || *days > limits.max_extension_days {
                return Err(Refusal::Invalid(format!(
                    "延期天数须为1至{}个工作日 (an extension is 1 to {} working days)",
                    limits.max_extension_days, limits.max_extension_days
                )));
            }
            n.extension = Some(Extension {
                days: *days,
                reason: reason.clone(),
                approved: false,
            });
        }
        ComplaintBody::ExtensionApproved { approver } => {
            if s != Status::Accepted {
                return Err(not_allowed(&ev.body, s));
            }
            let Some(ext) = c.extension.as_ref().filter(|e| !e.approved) else {
                return Err(Refusal::NoExtension);
            };
            text_ok(("批准人", "the approver"), approver, 64)?;
            let due = c.answer_due.unwrap_or(c.accept_due);
            if limits.now > due {
                return Err(Refusal::DeadlinePassed(crate::time::format_local(due)));
            }
            n.answer_due = Some(end_of(
                limits
                    .calendar
                    .add_workdays(
                        local_date(due - jiff::SignedDuration::from_secs(1)),
                        ext.days,
                    )
                    .value,
            ));
            n.extension = Some(Extension {
                approved: true,
                ..ext.clone()
            });
        }
        ComplaintBody::Answered { text, outcome } => {
            if s != Status::Accepted {
                return Err(not_allowed(&ev.body, s));
            }
            text_ok(("答复内容", "the answer"), text, 4000)?;
            n.status = Status::Answered;
            n.answer = Some(text.clone());
            n.outcome = Some(*outcome);
            n.answered_at = Some(at);
            n.answered_in_time = Some(c.answer_due.is_none_or(|d| limits.now <= d));
            n.rating = None;
        }
        ComplaintBody::Rated { satisfaction } => {
            if s != Status::Answered || c.rating.is_some() {
                return Err(not_allowed(&ev.body, s));
            }
            n.rating = Some(*satisfaction);
            // A 不满意 the first time waits for its reopening; anything else closes it.
            if !(*satisfaction == Rating::Dissatisfied && c.reopened == 0) {
                n.status = Status::Closed;
                n.closed_at = Some(at);
            }
        }
        ComplaintBody::Reopened { reason } => {
            if s != Status::Answered {
                return Err(not_allowed(&ev.body, s));
            }
            if c.reopened > 0 || c.rating != Some(Rating::Dissatisfied) {
                return Err(Refusal::NoReopen);
            }
            text_ok(("重新办理理由", "the reason for reopening"), reason, 2000)?;
            n.reopened += 1;
            n.status = Status::Accepted;
            n.accepted_at = Some(at);
            n.answer_due = Some(limits.due(at, limits.answer_days));
            n.extension = None;
        }
        ComplaintBody::Closed { reason } => {
            if !matches!(s, Status::Answered) {
                return Err(not_allowed(&ev.body, s));
            }
            text_ok(("办结理由", "the reason for closing"), reason, 2000)?;
            n.status = Status::Closed;
            n.closed_at = Some(at);
        }
    }
    Ok(n)
}

/// The complaint time rules pending now: G001 until accepted or declined, G002 (scoped by the
/// round, so that a reopening re-arms it) while being handled.
pub fn desired_deadlines(pack: &RulePack, c: &Complaint) -> Vec<DeadlineEntry> {
    let mut out = Vec::new();
    let mut push = |code: &'static str, scope: String, due_at: Timestamp| {
        if pack.enabled(code) && !c.fired.contains(&(code.to_string(), scope.clone())) {
            out.push(DeadlineEntry {
                code,
                scope,
                due_at,
            });
        }
    };
    match c.status {
        Status::Filed | Status::Assigned => push("G001", String::new(), c.accept_due),
        Status::Accepted => {
            if let Some(d) = c.answer_due {
                push("G002", c.round(), d);
            }
        }
        _ => {}
    }
    out
}

/// The finding a fired complaint time rule opens.
pub fn time_outcome(pack: &RulePack, code: &'static str, scope: &str, c: &Complaint) -> Outcome {
    let mut out = Outcome::default();
    let message = match code {
        "G001" => format!(
            "投诉{}超过{}个工作日未受理或不予受理",
            c.complaint_no,
            pack.int("G001", "accept_days")
        ),
        "G002" => format!(
            "投诉{}超过答复期限未答复{}",
            c.complaint_no,
            if c.extension.as_ref().is_some_and(|e| e.approved) {
                "（含已批准延期）"
            } else {
                ""
            }
        ),
        _ => return out,
    };
    hit(pack, &mut out, code, scope, message);
    out
}

fn hit(pack: &RulePack, out: &mut Outcome, code: &'static str, scope: &str, message: String) {
    if pack.enabled(code) {
        out.hits.push(Hit {
            code,
            level: pack.level(code),
            scope: scope.to_string(),
            message,
        });
    }
}

/// The complaint event rules: G003 on a flagged fee at filing, G004 on a 不满意 rating.
pub fn evaluate_event(pack: &RulePack, after: &Complaint, ev: &ComplaintEvent) -> Outcome {
    let mut out = Outcome::default();
    match &ev.body {
        ComplaintBody::Filed {
            fee_flag: Some(flag),
            subject,
            ..
        } => {
            let detail = match (subject, flag) {
                (
                    Subject::Fee {
                        fee_code,
                        amount_fen,
                        ..
                    },
                    FeeFlag::AboveStandard { standard_fen },
                ) => format!("`{fee_code}` 收取{amount_fen}元，标准为{standard_fen}元"),
                (
                    Subject::Fee {
                        fee_code,
                        amount_fen,
                        ..
                    },
                    FeeFlag::NotInCatalog,
                ) => format!("`{fee_code}` 收取{amount_fen}元，不在收费目录中"),
                _ => String::new(),
            };
            let scope = match subject {
                Subject::Fee { fee_code, .. } => fee_code.clone(),
                _ => String::new(),
            };
            hit(
                pack,
                &mut out,
                "G003",
                &scope,
                format!("乱收费投诉（{}）：{detail}", flag.label_zh()),
            );
        }
        ComplaintBody::Rated {
            satisfaction: Rating::Dissatisfied,
        } => hit(
            pack,
            &mut out,
            "G004",
            &after.round(),
            format!(
                "投诉{}答复不满意{}",
                after.complaint_no,
                if after.reopened == 0 {
                    "，已重新办理"
                } else {
                    "（重新办理后仍不满意）"
                }
            ),
        ),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_route_and_parse() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.code()), Ok(*c));
            assert_eq!(Category::parse(c.label_zh()), Ok(*c));
        }
        assert_eq!(Category::parse("sf"), Ok(Category::Fee));
        assert_eq!(Category::Attitude.route(), Route::ServiceCentre);
        assert_eq!(Category::Misconduct.route(), Route::Supervision);
        let r = Routing::default();
        assert_eq!(r.department(Route::Responsible, "SCJG"), "SCJG");
        assert_eq!(r.department(Route::ServiceCentre, "SCJG"), "XZSP");
    }
}
