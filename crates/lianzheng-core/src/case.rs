//! The approval case (办件): its events and its state machine.
//!
//! `apply(state, event) -> new state` or a refusal with a clear reason. A refusal changes
//! nothing. An event that is legal but suspicious is applied; the rules in [`crate::rules`]
//! then raise findings about it.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::calendar::Calendar;
use crate::catalog::ItemBody;
use crate::codes::{
    ActorRole, CaseKind, Channel, Fen, FinishResult, ProcedureType, Satisfaction, StepAction,
    WindowAuth,
};
use crate::deadline::{self, BusinessHours, Deadline, DeadlineInput, Pause, TimeLimit};

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Staff number or system id.
    pub id: String,
    /// Name (personal data for applicants; public for staff, masked on public pages).
    #[serde(default)]
    pub name: String,
    /// Role in this event.
    pub role: ActorRole,
}

/// The applicant (申请者). Personal data: stored privately, masked on public pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    /// 申请者名称.
    pub name: String,
    /// 证件类型代码 (GA/T 2000.156), e.g. 111 居民身份证, 001 统一社会信用代码.
    #[serde(default)]
    pub id_type: String,
    /// 证件号码.
    #[serde(default)]
    pub id_no: String,
    /// 手机.
    #[serde(default)]
    pub phone: String,
}

impl Applicant {
    /// Whether the applicant is an organisation (its name is not personal data). Organisations
    /// are identified by a 统一社会信用代码 or organisation code: 证件类型 codes starting with `0`
    /// (`001` 统一社会信用代码); natural persons by identity documents (`111` 居民身份证 …).
    pub fn is_organisation(&self) -> bool {
        self.id_type.starts_with('0')
    }

    /// The name as the public may see it: organisations in full, persons masked.
    pub fn public_name(&self) -> String {
        if self.is_organisation() {
            self.name.clone()
        } else {
            crate::mask::name(&self.name)
        }
    }
}

/// What happened, by kind. The JSON tag `kind` names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// 申请: registers the case.
    Apply {
        /// 实施编码 of the item.
        item_code: String,
        /// 申报来源.
        channel: Channel,
        /// The applicant.
        applicant: Applicant,
        /// Materials handed in.
        #[serde(default)]
        materials: Vec<String>,
        /// The window that took it, if any.
        #[serde(default)]
        window: Option<String>,
        /// 投资项目编号.
        #[serde(default)]
        project_code: Option<String>,
    },
    /// 补正告知 (一次性告知): the full list of missing materials.
    CorrectionNotice {
        /// Every missing material, told once.
        missing: Vec<String>,
    },
    /// Materials handed in after a 补正告知.
    CorrectionSubmitted {
        /// Materials handed in.
        materials: Vec<String>,
    },
    /// 受理.
    Accept {
        /// 受理文书编号.
        #[serde(default)]
        document_no: Option<String>,
    },
    /// 不予受理.
    Reject {
        /// The reason, told to the applicant.
        reason: String,
    },
    /// A step (环节): 承办, 审核, 批准 … passed or returned.
    Step {
        /// 环节名称.
        step: String,
        /// 通过 or 退回.
        action: StepAction,
        /// 处理意见.
        #[serde(default)]
        opinion: Option<String>,
    },
    /// 特别程序开始: type 1 extends the limit, type 2 stops the clock.
    ProcedureStart {
        /// 特别程序种类.
        procedure_type: ProcedureType,
        /// The kind, e.g. 专家评审, 听证, 延长审批.
        name: String,
        /// 启动理由.
        #[serde(default)]
        reason: Option<String>,
        /// Legal basis.
        #[serde(default)]
        basis: Option<String>,
        /// Who approved it.
        #[serde(default)]
        approver: Option<String>,
        /// Working days of an extension (type 1).
        #[serde(default)]
        days: Option<u32>,
    },
    /// 特别程序结束.
    ProcedureEnd {
        /// 特别程序结果.
        #[serde(default)]
        result: Option<String>,
    },
    /// A fee charged.
    Fee {
        /// Fee item code (or name) from the catalog.
        fee_code: String,
        /// Amount charged, in fen.
        amount_fen: Fen,
    },
    /// 办结.
    Finish {
        /// 准予 or 不予.
        result: FinishResult,
        /// 结果证照编号.
        #[serde(default)]
        certificate_no: Option<String>,
    },
    /// 送达.
    Deliver {
        /// How it was served.
        #[serde(default)]
        method: Option<String>,
    },
}

impl EventBody {
    /// The stable kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Apply { .. } => "apply",
            EventBody::CorrectionNotice { .. } => "correction_notice",
            EventBody::CorrectionSubmitted { .. } => "correction_submitted",
            EventBody::Accept { .. } => "accept",
            EventBody::Reject { .. } => "reject",
            EventBody::Step { .. } => "step",
            EventBody::ProcedureStart { .. } => "procedure_start",
            EventBody::ProcedureEnd { .. } => "procedure_end",
            EventBody::Fee { .. } => "fee",
            EventBody::Finish { .. } => "finish",
            EventBody::Deliver { .. } => "deliver",
        }
    }

    /// The Chinese name of the kind.
    pub fn kind_zh(&self) -> &'static str {
        kind_zh(self.kind())
    }
}

/// The Chinese name of an event kind.
pub fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "apply" => "申请",
        "correction_notice" => "补正告知",
        "correction_submitted" => "补正提交",
        "accept" => "受理",
        "reject" => "不予受理",
        "step" => "环节办理",
        "procedure_start" => "特别程序开始",
        "procedure_end" => "特别程序结束",
        "fee" => "收费",
        "finish" => "办结",
        "deliver" => "送达",
        "rate" => "评价",
        _ => "其他",
    }
}

/// One event about one case, as a department system or the console sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEvent {
    /// 办件编号.
    pub case_no: String,
    /// When it happened, as the source says.
    pub occurred_at: Timestamp,
    /// Who did it.
    pub actor: Actor,
    /// What happened.
    #[serde(flatten)]
    pub body: EventBody,
}

/// The status of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// 已申请.
    Registered,
    /// 待补正.
    AwaitingCorrection,
    /// 已受理.
    Accepted,
    /// 办理中.
    InProgress,
    /// 特别程序中 (clock stopped).
    Suspended,
    /// 已办结.
    Finished,
    /// 已送达.
    Delivered,
    /// 不予受理.
    Rejected,
}

impl CaseStatus {
    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseStatus::Registered => "已申请",
            CaseStatus::AwaitingCorrection => "待补正",
            CaseStatus::Accepted => "已受理",
            CaseStatus::InProgress => "办理中",
            CaseStatus::Suspended => "特别程序中",
            CaseStatus::Finished => "已办结",
            CaseStatus::Delivered => "已送达",
            CaseStatus::Rejected => "不予受理",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            CaseStatus::Registered => "registered",
            CaseStatus::AwaitingCorrection => "awaiting materials",
            CaseStatus::Accepted => "accepted",
            CaseStatus::InProgress => "in progress",
            CaseStatus::Suspended => "special procedure",
            CaseStatus::Finished => "finished",
            CaseStatus::Delivered => "delivered",
            CaseStatus::Rejected => "not accepted",
        }
    }

    /// The stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            CaseStatus::Registered => "registered",
            CaseStatus::AwaitingCorrection => "awaiting_correction",
            CaseStatus::Accepted => "accepted",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Suspended => "suspended",
            CaseStatus::Finished => "finished",
            CaseStatus::Delivered => "delivered",
            CaseStatus::Rejected => "rejected",
        }
    }

    /// Whether the clock is running (accepted, not stopped, not finished).
    pub fn clock_running(self) -> bool {
        matches!(self, CaseStatus::Accepted | CaseStatus::InProgress)
    }

    /// Whether the case is over.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            CaseStatus::Finished | CaseStatus::Delivered | CaseStatus::Rejected
        )
    }
}

/// A special procedure as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    /// Type 1 or 2.
    pub procedure_type: ProcedureType,
    /// Kind name.
    pub name: String,
    /// Start, as the source says.
    pub start: Timestamp,
    /// When Lianzheng recorded the start.
    pub recorded_at: Timestamp,
    /// End (type 2), when over.
    pub end: Option<Timestamp>,
    /// Approver.
    pub approver: Option<String>,
    /// Legal basis.
    pub basis: Option<String>,
    /// Extension days (type 1).
    pub days: u32,
    /// Whether an extension counts (approved before the deadline, first one, within the maximum).
    pub counts: bool,
}

/// A step as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 环节名称.
    pub name: String,
    /// 通过 or 退回.
    pub action: StepAction,
    /// Who.
    pub actor: String,
    /// When.
    pub at: Timestamp,
}

/// The state of a case, as the state machine and the rules see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// 办件编号.
    pub case_no: String,
    /// 实施编码.
    pub item_code: String,
    /// Catalog version the case is under.
    pub item_version: u32,
    /// Department code.
    pub department: String,
    /// Status.
    pub status: CaseStatus,
    /// 办件类型 of the item.
    pub case_kind: CaseKind,
    /// How it came in.
    pub channel: Channel,
    /// The window that took it.
    pub window: Option<String>,
    /// 申请时间 (as the source says).
    pub registered_at: Timestamp,
    /// When Lianzheng recorded the registration.
    pub registered_recorded_at: Timestamp,
    /// Materials handed in so far.
    pub materials: BTreeSet<String>,
    /// Number of 补正告知 before acceptance.
    pub corrections: u32,
    /// Number of 补正告知 after acceptance.
    pub corrections_after_accept: u32,
    /// When the first 补正告知 was given.
    pub first_correction_at: Option<Timestamp>,
    /// 受理时间.
    pub accepted_at: Option<Timestamp>,
    /// 受理人员.
    pub acceptor: Option<String>,
    /// The instant the clock started: 受理时间, or receipt when the Art. 32 notice was late.
    pub clock_start: Option<Timestamp>,
    /// Index of the next expected step.
    pub next_step: usize,
    /// When the current step started.
    pub step_started_at: Option<Timestamp>,
    /// Steps so far.
    pub steps: Vec<StepRecord>,
    /// Number of 退回.
    pub returns: u32,
    /// Special procedures.
    pub procedures: Vec<Procedure>,
    /// Fees charged, in fen.
    pub fees_fen: Fen,
    /// 办结时间.
    pub finished_at: Option<Timestamp>,
    /// 办结结果.
    pub result: Option<FinishResult>,
    /// Who decided (the actor of the last step passed, or of 办结).
    pub approver: Option<String>,
    /// 送达时间.
    pub delivered_at: Option<Timestamp>,
    /// Latest `occurred_at` of any event.
    pub last_event_at: Timestamp,
    /// 法定办结时限.
    pub legal_limit: TimeLimit,
    /// 承诺办结时限.
    pub promised_limit: TimeLimit,
    /// Rating, once given.
    pub rating: Option<Satisfaction>,
    /// Time rules already fired for this case, as `(code, scope)`.
    pub fired: BTreeSet<(String, String)>,
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// The case does not exist (any event but 申请).
    #[error("case `{0}` does not exist")]
    NoSuchCase(String),
    /// 申请 for a case that exists.
    #[error("case `{0}` already exists")]
    CaseExists(String),
    /// The event is not allowed in the case's status.
    #[error("`{kind}` is not allowed while the case is {status}")]
    NotAllowed {
        /// Event kind (Chinese).
        kind: &'static str,
        /// Status (Chinese).
        status: &'static str,
    },
    /// A step that the item does not have.
    #[error("step `{0}` is not a step of this item")]
    UnknownStep(String),
    /// No special procedure is running.
    #[error("no special procedure is running")]
    NoProcedure,
    /// A field is malformed.
    #[error("{0}")]
    Invalid(String),
}

/// What the state machine needs besides the state and the event.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The working-day calendar.
    pub calendar: &'a Calendar,
    /// Business hours.
    pub hours: &'a BusinessHours,
    /// When Lianzheng records the event (its own clock).
    pub recorded_at: Timestamp,
    /// Art. 32: days after receipt within which the 补正告知 must be given.
    pub correction_notice_days: u32,
    /// The most extension days that count.
    pub max_extension_days: u32,
}

impl Case {
    /// Clock stops of type 2.
    pub fn pauses(&self) -> Vec<Pause> {
        self.procedures
            .iter()
            .filter(|p| p.procedure_type == ProcedureType::ClockStop)
            .map(|p| Pause {
                start: p.start,
                end: p.end,
            })
            .collect()
    }

    /// Extension days that count.
    pub fn extension_days(&self) -> u32 {
        self.procedures
            .iter()
            .filter(|p| p.procedure_type == ProcedureType::Extension && p.counts)
            .map(|p| p.days)
            .sum()
    }

    fn deadline_for(
        &self,
        limit: TimeLimit,
        cal: &Calendar,
        hours: &BusinessHours,
        now: Timestamp,
    ) -> Option<Deadline> {
        let start = self.clock_start?;
        let pauses = self.pauses();
        let input = DeadlineInput {
            start,
            limit,
            pauses: &pauses,
            extension: self.extension_days(),
            now,
        };
        Some(deadline::compute(cal, hours, &input))
    }

    /// The deadline of the promised limit (承诺时限), once accepted.
    pub fn promised_deadline(
        &self,
        cal: &Calendar,
        hours: &BusinessHours,
        now: Timestamp,
    ) -> Option<Deadline> {
        self.deadline_for(self.promised_limit, cal, hours, now)
    }

    /// The deadline of the legal limit (法定时限), once accepted.
    pub fn legal_deadline(
        &self,
        cal: &Calendar,
        hours: &BusinessHours,
        now: Timestamp,
    ) -> Option<Deadline> {
        self.deadline_for(self.legal_limit, cal, hours, now)
    }

    /// The early-warning instant of the promised limit.
    pub fn promised_warning(
        &self,
        cal: &Calendar,
        hours: &BusinessHours,
        now: Timestamp,
        fraction: f64,
        days_before: u32,
    ) -> Option<Timestamp> {
        let start = self.clock_start?;
        let pauses = self.pauses();
        let input = DeadlineInput {
            start,
            limit: self.promised_limit,
            pauses: &pauses,
            extension: self.extension_days(),
            now,
        };
        deadline::warning_at(cal, hours, &input, fraction, days_before)
    }

    /// The step the case waits for, if any.
    pub fn current_step<'i>(&self, item: &'i ItemBody) -> Option<&'i crate::catalog::StepDef> {
        if !self.status.clock_running() {
            return None;
        }
        item.steps.get(self.next_step)
    }

    /// Whether the case was finished within its promised deadline.
    pub fn finished_on_time(&self, cal: &Calendar, hours: &BusinessHours) -> Option<bool> {
        let fin = self.finished_at?;
        let d = self.promised_deadline(cal, hours, fin)?;
        Some(fin < d.due_at)
    }

    /// Materials still missing of the item's required ones.
    pub fn missing_materials(&self, item: &ItemBody) -> Vec<String> {
        item.required_materials()
            .filter(|m| !self.materials.contains(*m))
            .map(str::to_string)
            .collect()
    }
}

fn not_allowed(event: &EventBody, status: CaseStatus) -> Refusal {
    Refusal::NotAllowed {
        kind: event.kind_zh(),
        status: status.label_zh(),
    }
}

/// Applies an event to a case. `item` is the catalog version the case is (or will be) under;
/// `item_version` is its number, used by 申请.
pub fn apply(
    case: Option<&Case>,
    event: &CaseEvent,
    item: &ItemBody,
    item_version: u32,
    ctx: &Context<'_>,
) -> Result<Case, Refusal> {
    let at = event.occurred_at;
    let Some(before) = case else {
        let EventBody::Apply {
            item_code,
            channel,
            materials,
            window,
            ..
        } = &event.body
        else {
            return Err(Refusal::NoSuchCase(event.case_no.clone()));
        };
        return Ok(Case {
            case_no: event.case_no.clone(),
            item_code: item_code.clone(),
            item_version,
            department: item.department.clone(),
            status: CaseStatus::Registered,
            case_kind: item.case_kind,
            channel: *channel,
            window: window.clone(),
            registered_at: at,
            registered_recorded_at: ctx.recorded_at,
            materials: materials.iter().cloned().collect(),
            corrections: 0,
            corrections_after_accept: 0,
            first_correction_at: None,
            accepted_at: None,
            acceptor: None,
            clock_start: None,
            next_step: 0,
            step_started_at: None,
            steps: Vec::new(),
            returns: 0,
            procedures: Vec::new(),
            fees_fen: Fen(0),
            finished_at: None,
            result: None,
            approver: None,
            delivered_at: None,
            last_event_at: at,
            legal_limit: item.legal_limit,
            promised_limit: item.promised_limit,
            rating: None,
            fired: BTreeSet::new(),
        });
    };
    let mut c = before.clone();
    c.last_event_at = c.last_event_at.max(at);
    let status = before.status;
    match &event.body {
        EventBody::Apply { .. } => return Err(Refusal::CaseExists(event.case_no.clone())),
        EventBody::CorrectionNotice { missing } => {
            if missing.is_empty() {
                return Err(Refusal::Invalid(
                    "a 补正告知 must list the missing materials".into(),
                ));
            }
            match status {
                CaseStatus::Registered | CaseStatus::AwaitingCorrection => {
                    c.corrections += 1;
                    c.first_correction_at.get_or_insert(at);
                    c.status = CaseStatus::AwaitingCorrection;
                }
                // 补正 after 受理: accepted, and the rules raise it.
                CaseStatus::Accepted | CaseStatus::InProgress | CaseStatus::Suspended => {
                    c.corrections_after_accept += 1
                }
                CaseStatus::Finished | CaseStatus::Delivered => {}
                CaseStatus::Rejected => return Err(not_allowed(&event.body, status)),
            }
        }
        EventBody::CorrectionSubmitted { materials } => {
            if status == CaseStatus::Rejected || status.is_closed() {
                return Err(not_allowed(&event.body, status));
            }
            c.materials.extend(materials.iter().cloned());
            if status == CaseStatus::AwaitingCorrection {
                c.status = CaseStatus::Registered;
            }
        }
        EventBody::Accept { .. } => {
            if !matches!(
                status,
                CaseStatus::Registered | CaseStatus::AwaitingCorrection
            ) {
                return Err(not_allowed(&event.body, status));
            }
            c.status = CaseStatus::Accepted;
            c.accepted_at = Some(at);
            c.acceptor = Some(event.actor.id.clone());
            // Art. 32: a 补正告知 given later than allowed, or none at all while materials were
            // incomplete, means the application counts as accepted on the day of receipt.
            let late_notice = c.first_correction_at.is_some_and(|n| {
                let limit = ctx.calendar.add_workdays(
                    crate::time::local_date(c.registered_at),
                    ctx.correction_notice_days,
                );
                n >= crate::time::end_of(limit.value)
            });
            c.clock_start = Some(if late_notice {
                c.registered_at.min(at)
            } else {
                at
            });
            c.step_started_at = Some(at);
        }
        EventBody::Reject { reason } => {
            if reason.trim().is_empty() {
                return Err(Refusal::Invalid("不予受理 needs a reason".into()));
            }
            if !matches!(
                status,
                CaseStatus::Registered | CaseStatus::AwaitingCorrection
            ) {
                return Err(not_allowed(&event.body, status));
            }
            c.status = CaseStatus::Rejected;
            c.finished_at = Some(at);
        }
        EventBody::Step { step, action, .. } => {
            let Some(idx) = item.steps.iter().position(|s| &s.name == step) else {
                return Err(Refusal::UnknownStep(step.clone()));
            };
            match status {
                CaseStatus::Accepted | CaseStatus::InProgress => {
                    c.status = CaseStatus::InProgress;
                    match action {
                        StepAction::Pass => {
                            c.next_step = idx + 1;
                            if idx + 1 == item.steps.len() {
                                c.approver = Some(event.actor.id.clone());
                            }
                        }
                        StepAction::Return => {
                            c.returns += 1;
                            c.next_step = idx.saturating_sub(1);
                        }
                    }
                    c.step_started_at = Some(at);
                }
                // After 办结: accepted and raised by the rules (体外循环).
                CaseStatus::Finished | CaseStatus::Delivered => {}
                _ => return Err(not_allowed(&event.body, status)),
            }
            c.steps.push(StepRecord {
                name: step.clone(),
                action: *action,
                actor: event.actor.id.clone(),
                at,
            });
        }
        EventBody::ProcedureStart {
            procedure_type,
            name,
            approver,
            basis,
            days,
            ..
        } => {
            if !status.clock_running() {
                return Err(not_allowed(&event.body, status));
            }
            if name.trim().is_empty() {
                return Err(Refusal::Invalid("a 特别程序 needs its kind (name)".into()));
            }
            let mut p = Procedure {
                procedure_type: *procedure_type,
                name: name.clone(),
                start: at,
                recorded_at: ctx.recorded_at,
                end: None,
                approver: approver.clone().filter(|a| !a.trim().is_empty()),
                basis: basis.clone().filter(|b| !b.trim().is_empty()),
                days: 0,
                counts: false,
            };
            match procedure_type {
                ProcedureType::Extension => {
                    let d = days.unwrap_or(0);
                    if d == 0 {
                        return Err(Refusal::Invalid(
                            "an extension (延长审批) needs `days` above 0".into(),
                        ));
                    }
                    let due = before.promised_deadline(ctx.calendar, ctx.hours, at);
                    let first = !before
                        .procedures
                        .iter()
                        .any(|x| x.procedure_type == ProcedureType::Extension && x.counts);
                    let in_time = due.is_some_and(|d| at < d.due_at);
                    p.days = d.min(ctx.max_extension_days);
                    p.counts = first && in_time && p.approver.is_some();
                    p.end = Some(at);
                    if p.counts {
                        // The warnings re-arm against the extended deadline.
                        c.fired.retain(|(code, _)| code != "A003" && code != "A007");
                    }
                }
                ProcedureType::ClockStop => {
                    c.status = CaseStatus::Suspended;
                }
            }
            c.procedures.push(p);
        }
        EventBody::ProcedureEnd { .. } => {
            if status != CaseStatus::Suspended {
                return Err(Refusal::NoProcedure);
            }
            let Some(p) = c.procedures.iter_mut().rev().find(|p| p.end.is_none()) else {
                return Err(Refusal::NoProcedure);
            };
            if at < p.start {
                return Err(Refusal::Invalid(
                    "a 特别程序 cannot end before it starts".into(),
                ));
            }
            p.end = Some(at);
            c.status = if c.steps.is_empty() {
                CaseStatus::Accepted
            } else {
                CaseStatus::InProgress
            };
        }
        EventBody::Fee {
            amount_fen,
            fee_code,
        } => {
            if amount_fen.0 <= 0 {
                return Err(Refusal::Invalid(format!(
                    "fee amount `{}` must be positive",
                    amount_fen.0
                )));
            }
            if fee_code.trim().is_empty() {
                return Err(Refusal::Invalid("a fee needs its fee item code".into()));
            }
            if status == CaseStatus::Rejected {
                return Err(not_allowed(&event.body, status));
            }
            c.fees_fen = Fen(c.fees_fen.0.saturating_add(amount_fen.0));
        }
        EventBody::Finish { .. } => {
            if !status.clock_running() {
                return Err(not_allowed(&event.body, status));
            }
            c.status = CaseStatus::Finished;
            c.finished_at = Some(at);
            if let EventBody::Finish { result, .. } = &event.body {
                c.result = Some(*result);
            }
            if c.approver.is_none() {
                c.approver = Some(event.actor.id.clone());
            }
        }
        EventBody::Deliver { .. } => {
            if status != CaseStatus::Finished {
                return Err(not_allowed(&event.body, status));
            }
            c.status = CaseStatus::Delivered;
            c.delivered_at = Some(at);
        }
    }
    Ok(c)
}

/// Whether an actor acted beyond a window's authorization: a window clerk handling (a step or
/// 办结) an item whose windows may only accept.
pub fn beyond_window_authorization(item: &ItemBody, event: &CaseEvent) -> bool {
    item.window_auth == WindowAuth::AcceptOnly
        && event.actor.role == ActorRole::Window
        && matches!(
            event.body,
            EventBody::Step { .. } | EventBody::Finish { .. }
        )
}
