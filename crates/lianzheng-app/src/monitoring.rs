//! Enterprise monitoring points (经济发展环境监测点, 百家企业评议; mission G4): use cases.
//!
//! Registered enterprises (at most `max_points`, 100 by default) rate the departments they deal
//! with in survey rounds. Each point gets a request per round with a private token; a request not
//! answered by its due date is chased by the sweep (E002: reminder, then escalation at a second
//! deadline). Closing a round rolls the answers up per department, publishes them (suppressed
//! as 样本不足 under `min_publish` answers) and raises E001 on departments scoring low.
//!
//! Anonymity: a stored answer (`survey_responses`) holds the round, the department and the scores
//! under a random id, but neither the point nor a time, so neither the tables the pages read nor
//! the public output can tie an answer to an enterprise. Contacts are personal data, kept in
//! their own table, masked in lists, and every unmasked read is recorded.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use lianzheng_core::finding::FindingAction;
use lianzheng_core::mask;
use lianzheng_core::monitoring::{
    self as core, Chase, CreditCode, DEFAULT_MAX_POINTS, DEFAULT_MIN_PUBLISH, DepartmentRating,
    DepartmentRollup, INDICATORS, RequestStatus, Sector,
};
use lianzheng_core::rules::RulePack;
use lianzheng_core::time::{end_of, format_local, local_date};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ingest::{Writer, log_admin_event, with_writer};
use crate::{App, AppError, Principal, from_ms, ms};

/// Who owns the E002 findings: the office that runs the monitoring points.
pub const MONITORING_OFFICE: &str = "经济发展环境监测办公室";

/// Settings of the monitoring points, stored in the database and changed by administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitoringSettings {
    /// Active points at most.
    pub max_points: u32,
    /// Answers a department needs before its results are shown.
    pub min_publish: u32,
}

impl Default for MonitoringSettings {
    fn default() -> Self {
        MonitoringSettings {
            max_points: DEFAULT_MAX_POINTS,
            min_publish: DEFAULT_MIN_PUBLISH,
        }
    }
}

/// A point to register.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointInput {
    /// Enterprise name.
    pub name: String,
    /// 统一社会信用代码.
    pub credit_code: String,
    /// Sector code or label.
    pub sector: String,
    /// Contact person (personal data).
    pub contact_person: String,
    /// Contact phone (personal data).
    pub contact_phone: String,
    /// Registration date (default: today).
    #[serde(default)]
    pub registered_on: Option<Date>,
}

/// A point as staff lists show it: the contact masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PointView {
    /// Id (`JC001` …).
    pub id: String,
    /// Enterprise name.
    pub name: String,
    /// 统一社会信用代码.
    pub credit_code: String,
    /// Sector code.
    pub sector: String,
    /// Sector label.
    pub sector_zh: String,
    /// Contact person, masked.
    pub contact_person: String,
    /// Contact phone, masked.
    pub contact_phone: String,
    /// Registered on.
    pub registered_on: String,
    /// Retired on.
    pub retired_on: Option<String>,
}

/// A point's contact, unmasked (its reading is recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// Point id.
    pub point: String,
    /// Person.
    pub person: String,
    /// Phone.
    pub phone: String,
}

/// A round to open.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundInput {
    /// Period, `2026Q3` or `2026-11`; also the round's id.
    pub period: String,
    /// Working days from today to the due date (1–60; default 10).
    #[serde(default = "default_due_workdays")]
    pub due_workdays: u32,
    /// Departments every active point rates (when `assignments` is empty).
    #[serde(default)]
    pub departments: Vec<String>,
    /// Or: which departments each point rates.
    #[serde(default)]
    pub assignments: BTreeMap<String, Vec<String>>,
}

fn default_due_workdays() -> u32 {
    10
}

/// A request issued to a point: the token is shown once, to be handed to the enterprise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedRequest {
    /// Request id (`ROUND-POINT`).
    pub request: String,
    /// Point id.
    pub point: String,
    /// The point's private token for answering.
    pub token: String,
}

/// An opened round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenedRound {
    /// Round id.
    pub round: String,
    /// The last day to answer.
    pub due_on: String,
    /// Requests issued.
    pub requests: Vec<IssuedRequest>,
}

/// What an answer did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseReceipt {
    /// Request id.
    pub request: String,
    /// Departments rated.
    pub departments: usize,
    /// Answered after the due date.
    pub late: bool,
}

/// A closed round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosedRound {
    /// Round id.
    pub round: String,
    /// The roll-up per department.
    pub rollups: Vec<DepartmentRollup>,
    /// E001 findings opened: `(department, finding id)`.
    pub findings: Vec<(String, i64)>,
}

/// A line of the console queue: one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueRow {
    /// Request id.
    pub request: String,
    /// Round id.
    pub round: String,
    /// Point id.
    pub point: String,
    /// Enterprise name.
    pub point_name: String,
    /// `pending`, `answered` or `late`.
    pub status: String,
    /// Label.
    pub status_zh: String,
    /// Reminders sent.
    pub chased: i64,
    /// The last day to answer.
    pub due_on: String,
    /// Answered after the due date.
    pub answered_late: bool,
}

/// What a monitoring point sees on its answer page, given its request's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PointRequest {
    /// Request id.
    pub request: String,
    /// The round's period (`2026Q3`, `2026-11`).
    pub period: String,
    /// The last day to answer.
    pub due_on: String,
    /// Already answered (an answer is taken once).
    pub answered: bool,
    /// The round still takes answers.
    pub round_open: bool,
    /// The departments to rate: code and name, in the order asked.
    pub departments: Vec<(String, String)>,
}

/// A round as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoundView {
    /// Id.
    pub round: String,
    /// Period.
    pub period: String,
    /// `open` or `closed`.
    pub status: String,
    /// Departments rated.
    pub departments: Vec<String>,
    /// Opened (local time).
    pub opened_at: String,
    /// The last day to answer.
    pub due_on: String,
    /// Requests issued.
    pub requests: i64,
    /// Requests answered.
    pub answered: i64,
}

/// One department's published results in one round (flat, for tables and CSV).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultRow {
    /// Round id.
    pub round: String,
    /// Department code.
    pub department: String,
    /// Department name.
    pub department_name: String,
    /// Answers.
    pub n: u32,
    /// Too few answers to show numbers.
    pub suppressed: bool,
    /// 样本不足 when suppressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    /// Indicator means.
    pub indicators: BTreeMap<String, f64>,
    /// Overall mean.
    pub overall: Option<f64>,
    /// Comments, in random order, for the department itself and supervisors; never public.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<String>,
}

fn manages(p: &Principal) -> Result<(), AppError> {
    if p.supervises() {
        Ok(())
    } else {
        Err(AppError::Forbidden("仅管理员和监察机关可管理监测点".into()))
    }
}

fn staff_reads(p: &Principal) -> Result<(), AppError> {
    match p {
        Principal::Admin { .. } | Principal::Supervisor { .. } | Principal::Auditor { .. } => {
            Ok(())
        }
        _ => Err(AppError::Forbidden(
            "仅管理员、监察和审计机关可查看监测点".into(),
        )),
    }
}

fn invalid(e: core::MonitoringError) -> AppError {
    AppError::Invalid(e.0)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl App {
    /// The monitoring settings in force.
    pub fn monitoring_settings(&self) -> Result<MonitoringSettings, AppError> {
        self.db.read(|tx| {
            let mut s = MonitoringSettings::default();
            for r in tx.query("SELECT name, value FROM monitoring_settings", &[])? {
                let v = u32::try_from(r.int(1)).unwrap_or(0);
                match r.text(0).as_str() {
                    "max_points" => s.max_points = v,
                    "min_publish" => s.min_publish = v,
                    _ => {}
                }
            }
            Ok(s)
        })
    }

    /// Changes the monitoring settings (administrators; logged).
    pub fn set_monitoring_settings(
        &self,
        principal: &Principal,
        s: MonitoringSettings,
    ) -> Result<(), AppError> {
        if !matches!(principal, Principal::Admin { .. }) {
            return Err(AppError::Forbidden("仅管理员可修改监测点设置".into()));
        }
        if !(1..=10_000).contains(&s.max_points) || !(1..=100).contains(&s.min_publish) {
            return Err(AppError::Invalid(
                "监测点上限应为1至10000家，公布所需最少评议数应为1至100".into(),
            ));
        }
        let actor = principal.source();
        with_writer(self, |w| {
            for (name, v) in [("max_points", s.max_points), ("min_publish", s.min_publish)] {
                w.tx.exec(
                    "INSERT INTO monitoring_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    &[name.into(), v.into()],
                )?;
            }
            log_admin_event(
                w,
                "monitoring_point",
                "*",
                "settings_changed",
                &actor,
                serde_json::json!(s),
            )?;
            Ok(())
        })
    }

    /// Registers a monitoring point; refused beyond `max_points` active points.
    pub fn register_point(
        &self,
        principal: &Principal,
        input: PointInput,
    ) -> Result<PointView, AppError> {
        manages(principal)?;
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::Invalid("企业名称应为1至100字".into()));
        }
        let credit = CreditCode::parse(&input.credit_code).map_err(invalid)?;
        let sector = Sector::parse(&input.sector).map_err(invalid)?;
        let person = input.contact_person.trim().to_string();
        if person.is_empty() || person.chars().count() > 50 {
            return Err(AppError::Invalid("联系人应为1至50字".into()));
        }
        let phone = input.contact_phone.trim().to_string();
        if !(5..=20).contains(&phone.len())
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
        {
            return Err(AppError::Invalid(format!(
                "联系电话 `{0}` 应为5至20位数字 (the contact phone `{0}` must be 5 to 20 digits)",
                phone.chars().take(30).collect::<String>()
            )));
        }
        let settings = self.monitoring_settings()?;
        let registered_on = input
            .registered_on
            .unwrap_or_else(|| local_date(self.now()));
        let actor = principal.source();
        with_writer(self, |w| {
            let active =
                w.tx.query_opt(
                    "SELECT COUNT(*) FROM monitoring_points WHERE retired_on IS NULL",
                    &[],
                )?
                .map_or(0, |r| r.int(0));
            if active >= i64::from(settings.max_points) {
                return Err(AppError::Conflict(format!(
                    "监测点已达上限{0}家，请先撤销后再登记 (the {0} monitoring points allowed are all registered: retire one first)",
                    settings.max_points
                )));
            }
            if w.tx
                .query_opt(
                    "SELECT id FROM monitoring_points WHERE credit_code = ? AND retired_on IS NULL",
                    &[credit.as_str().into()],
                )?
                .is_some()
            {
                return Err(AppError::Conflict(format!(
                    "统一社会信用代码 `{0}` 的企业已是监测点 (the enterprise with the credit code `{0}` is already a monitoring point)",
                    credit.as_str()
                )));
            }
            let n =
                w.tx.query_opt("SELECT COUNT(*) FROM monitoring_points", &[])?
                    .map_or(0, |r| r.int(0));
            let id = format!("JC{:03}", n + 1);
            w.tx.exec(
                "INSERT INTO monitoring_points (id, name, credit_code, sector, registered_on, retired_on, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                &[
                    id.clone().into(),
                    name.clone().into(),
                    credit.as_str().into(),
                    sector.code().into(),
                    registered_on.to_string().into(),
                    ms(w.now).into(),
                ],
            )?;
            w.tx.exec(
                "INSERT INTO monitoring_contacts (point_id, person, phone) VALUES (?, ?, ?)",
                &[
                    id.clone().into(),
                    person.clone().into(),
                    phone.clone().into(),
                ],
            )?;
            // The record says who registered which enterprise; the contact only masked.
            log_admin_event(
                w,
                "monitoring_point",
                &id,
                "registered",
                &actor,
                serde_json::json!({
                    "name": name, "credit_code": credit.as_str(), "sector": sector.code(),
                    "registered_on": registered_on.to_string(),
                    "contact": {"person": mask::name(&person), "phone": mask::number(&phone)},
                }),
            )?;
            Ok(PointView {
                id,
                name,
                credit_code: credit.as_str().to_string(),
                sector: sector.code().to_string(),
                sector_zh: sector.label_zh().to_string(),
                contact_person: mask::name(&person),
                contact_phone: mask::number(&phone),
                registered_on: registered_on.to_string(),
                retired_on: None,
            })
        })
    }

    /// Retires a point: it is asked in no new round and no longer counts toward the cap.
    pub fn retire_point(
        &self,
        principal: &Principal,
        id: &str,
        reason: &str,
    ) -> Result<(), AppError> {
        manages(principal)?;
        if reason.trim().is_empty() {
            return Err(AppError::Invalid("请填写撤销原因".into()));
        }
        let actor = principal.source();
        let today = local_date(self.now()).to_string();
        with_writer(self, |w| {
            let r =
                w.tx.query_opt(
                    "SELECT retired_on FROM monitoring_points WHERE id = ?",
                    &[id.into()],
                )?
                .ok_or_else(|| AppError::NotFound {
                    what: "monitoring point",
                    id: id.to_string(),
                })?;
            if r.opt_text(0).is_some() {
                return Err(AppError::Conflict(format!(
                    "监测点 `{id}` 已撤销 (monitoring point `{id}` is already retired)"
                )));
            }
            w.tx.exec(
                "UPDATE monitoring_points SET retired_on = ? WHERE id = ?",
                &[today.clone().into(), id.into()],
            )?;
            log_admin_event(
                w,
                "monitoring_point",
                id,
                "retired",
                &actor,
                serde_json::json!({"retired_on": today, "reason": reason.trim()}),
            )?;
            Ok(())
        })
    }

    /// Every point, contacts masked (staff).
    pub fn monitoring_points(&self, principal: &Principal) -> Result<Vec<PointView>, AppError> {
        staff_reads(principal)?;
        self.db.read(|tx| {
            Ok(tx
                .query(
                    "SELECT p.id, p.name, p.credit_code, p.sector, p.registered_on, p.retired_on, c.person, c.phone FROM monitoring_points p LEFT JOIN monitoring_contacts c ON c.point_id = p.id ORDER BY p.id",
                    &[],
                )?
                .iter()
                .map(|r| {
                    let sector = Sector::parse(&r.text(3)).unwrap_or(Sector::Other);
                    PointView {
                        id: r.text(0),
                        name: r.text(1),
                        credit_code: r.text(2),
                        sector: sector.code().to_string(),
                        sector_zh: sector.label_zh().to_string(),
                        registered_on: r.text(4),
                        retired_on: r.opt_text(5),
                        contact_person: mask::name(&r.text(6)),
                        contact_phone: mask::number(&r.text(7)),
                    }
                })
                .collect())
        })
    }

    /// A point's contact, unmasked; the reading is recorded as a personal-data access.
    pub fn point_contact(&self, principal: &Principal, id: &str) -> Result<Contact, AppError> {
        staff_reads(principal)?;
        let row = self.db.read(|tx| {
            Ok::<_, AppError>(tx.query_opt(
                "SELECT person, phone FROM monitoring_contacts WHERE point_id = ?",
                &[id.into()],
            )?)
        })?;
        let row = row.ok_or_else(|| AppError::NotFound {
            what: "monitoring point",
            id: id.to_string(),
        })?;
        let actor = principal.source();
        with_writer(self, |w| {
            log_admin_event(
                w,
                "personal_data",
                id,
                "viewed",
                &actor,
                serde_json::json!({"what": "monitoring_contact", "point": id}),
            )?;
            Ok(())
        })?;
        Ok(Contact {
            point: id.to_string(),
            person: row.text(0),
            phone: row.text(1),
        })
    }

    /// Opens a survey round: a request with a private token for every point asked, due after
    /// `due_workdays` working days (watched by E002 through the deadline index).
    pub fn open_round(
        &self,
        principal: &Principal,
        input: RoundInput,
    ) -> Result<OpenedRound, AppError> {
        manages(principal)?;
        let period = input.period.trim().to_string();
        core::validate_period(&period).map_err(invalid)?;
        if !(1..=60).contains(&input.due_workdays) {
            return Err(AppError::Invalid("反馈期限应为1至60个工作日".into()));
        }
        let now = self.now();
        let due_day = self
            .calendar()
            .add_workdays(local_date(now), input.due_workdays)
            .value;
        let due = end_of(due_day);
        let actor = principal.source();
        let mut tokens = Vec::new();
        with_writer(self, |w| {
            if w.tx
                .query_opt(
                    "SELECT 1 FROM survey_rounds WHERE id = ?",
                    &[period.clone().into()],
                )?
                .is_some()
            {
                return Err(AppError::Conflict(format!(
                    "评议期次 `{period}` 已存在 (survey round `{period}` already exists)"
                )));
            }
            let active: Vec<String> =
                w.tx.query(
                    "SELECT id FROM monitoring_points WHERE retired_on IS NULL ORDER BY id",
                    &[],
                )?
                .iter()
                .map(|r| r.text(0))
                .collect();
            let assignments: Vec<(String, Vec<String>)> = if input.assignments.is_empty() {
                active
                    .iter()
                    .map(|p| (p.clone(), input.departments.clone()))
                    .collect()
            } else {
                input.assignments.clone().into_iter().collect()
            };
            if assignments.is_empty() {
                return Err(AppError::Invalid("没有在册的监测点可参加评议".into()));
            }
            let mut all_departments = BTreeSet::new();
            for (point, deps) in &assignments {
                if !active.contains(point) {
                    return Err(AppError::Invalid(format!(
                        "监测点 `{point}` 不存在或已撤销 (monitoring point `{point}` does not exist or is retired)"
                    )));
                }
                if deps.is_empty() {
                    return Err(AppError::Invalid(format!(
                        "监测点 `{point}` 没有指定评议部门 (monitoring point `{point}` has no department to rate)"
                    )));
                }
                all_departments.extend(deps.iter().cloned());
            }
            for d in &all_departments {
                if w.tx
                    .query_opt("SELECT 1 FROM departments WHERE code = ?", &[d.into()])?
                    .is_none()
                {
                    return Err(AppError::Invalid(format!(
                        "部门 `{d}` 不存在 (department `{d}` does not exist)"
                    )));
                }
            }
            let deps: Vec<&String> = all_departments.iter().collect();
            let deps_json = serde_json::to_string(&deps).unwrap_or_default();
            w.tx.exec(
                "INSERT INTO survey_rounds (id, period, status, departments, opened_at, due_at, closed_at) VALUES (?, ?, 'open', ?, ?, ?, NULL)",
                &[period.clone().into(), period.clone().into(), deps_json.into(), ms(now).into(), ms(due).into()],
            )?;
            for (point, deps) in &assignments {
                let request = format!("{period}-{point}");
                let mut raw = [0u8; 16];
                self.random(&mut raw);
                let token = hex::encode(raw);
                w.tx.exec(
                    "INSERT INTO survey_requests (id, round_id, point_id, departments, status, chased, due_at, token_hash, answered_at, answered_late) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, NULL, 0)",
                    &[
                        request.clone().into(),
                        period.clone().into(),
                        point.clone().into(),
                        serde_json::to_string(deps).unwrap_or_default().into(),
                        ms(due).into(),
                        token_hash(&token).into(),
                    ],
                )?;
                w.tx.exec(
                    "INSERT INTO deadlines (subject_type, subject_id, code, scope, due_at) VALUES ('survey_request', ?, 'E002', '1', ?)",
                    &[request.clone().into(), ms(due).into()],
                )?;
                tokens.push(IssuedRequest {
                    request,
                    point: point.clone(),
                    token,
                });
            }
            let points: Vec<&String> = assignments.iter().map(|(p, _)| p).collect();
            log_admin_event(
                w,
                "survey_round",
                &period,
                "opened",
                &actor,
                serde_json::json!({
                    "period": period, "due_at": due.to_string(), "departments": deps,
                    "points": points,
                }),
            )?;
            Ok(())
        })?;
        Ok(OpenedRound {
            round: period,
            due_on: due_day.to_string(),
            requests: tokens,
        })
    }

    /// An enterprise answers with its request's private token.
    pub fn respond_with_token(
        &self,
        request: &str,
        token: &str,
        ratings: Vec<DepartmentRating>,
    ) -> Result<ResponseReceipt, AppError> {
        self.db.read(|tx| request_with_token(tx, request, token))?;
        self.record_response(request, ratings, &format!("point:{request}"))
    }

    /// The request a point answers, shown to whoever holds its token: a wrong token answers
    /// exactly like an unknown request. Nothing about the point itself is shown.
    pub fn point_request(&self, request: &str, token: &str) -> Result<PointRequest, AppError> {
        let (r, names) = self.db.read(|tx| {
            let r = request_with_token(tx, request, token)?;
            let names = tx.query("SELECT code, name FROM departments", &[])?;
            Ok::<_, AppError>((r, names))
        })?;
        let names: BTreeMap<String, String> =
            names.iter().map(|n| (n.text(0), n.text(1))).collect();
        Ok(PointRequest {
            request: request.to_string(),
            period: r.text(4),
            due_on: due_day(r.int(3)),
            answered: r.text(2) == "answered",
            round_open: r.text(5) == "open",
            departments: json_list(&r.text(1))
                .into_iter()
                .map(|code| {
                    let name = names.get(&code).cloned().unwrap_or_else(|| code.clone());
                    (code, name)
                })
                .collect(),
        })
    }

    /// Staff enter an answer received on paper or by phone.
    pub fn enter_response(
        &self,
        principal: &Principal,
        request: &str,
        ratings: Vec<DepartmentRating>,
    ) -> Result<ResponseReceipt, AppError> {
        manages(principal)?;
        self.record_response(request, ratings, &principal.source())
    }

    fn record_response(
        &self,
        request: &str,
        ratings: Vec<DepartmentRating>,
        actor: &str,
    ) -> Result<ResponseReceipt, AppError> {
        with_writer(self, |w| {
            let r = w
                .tx
                .query_opt(
                    "SELECT q.round_id, q.point_id, q.departments, q.status, s.status, q.due_at FROM survey_requests q JOIN survey_rounds s ON s.id = q.round_id WHERE q.id = ?",
                    &[request.into()],
                )?
                .ok_or_else(|| AppError::NotFound {
                    what: "survey request",
                    id: request.to_string(),
                })?;
            let (round, point) = (r.text(0), r.text(1));
            if r.text(4) != "open" {
                return Err(AppError::Conflict(format!(
                    "评议期次 `{round}` 已结束 (survey round `{round}` is closed)"
                )));
            }
            let status = RequestStatus::parse(&r.text(3)).map_err(invalid)?;
            if status == RequestStatus::Answered {
                return Err(AppError::Conflict(format!(
                    "请求 `{request}` 已反馈，不能重复评议 (request `{request}` is already answered: it cannot be answered twice)"
                )));
            }
            let asked = json_list(&r.text(2));
            core::validate_response(&asked, &ratings).map_err(invalid)?;
            let late = w.now > from_ms(r.int(5));
            for rating in &ratings {
                // A random id orders the answers, so neither order nor id says who answered.
                let mut raw = [0u8; 16];
                self.random(&mut raw);
                let scores = serde_json::to_string(&rating.scores).unwrap_or_default();
                w.tx.exec(
                    "INSERT INTO survey_responses (id, round_id, department, scores, overall, comment) VALUES (?, ?, ?, ?, ?, ?)",
                    &[
                        hex::encode(raw).into(),
                        round.clone().into(),
                        rating.department.clone().into(),
                        scores.into(),
                        i64::from(rating.overall).into(),
                        rating.comment.trim().to_string().into(),
                    ],
                )?;
            }
            w.tx.exec(
                "UPDATE survey_requests SET status = 'answered', answered_at = ?, answered_late = ? WHERE id = ?",
                &[ms(w.now).into(), late.into(), request.into()],
            )?;
            w.tx.exec(
                "DELETE FROM deadlines WHERE subject_type = 'survey_request' AND subject_id = ?",
                &[request.into()],
            )?;
            // The record says that the point answered and which departments it rated, not how.
            log_admin_event(
                w,
                "survey_round",
                &round,
                "answered",
                actor,
                serde_json::json!({"request": request, "point": point, "late": late, "departments": asked}),
            )?;
            // A late answer ends the chase: its E002 finding is withdrawn (摘牌).
            let open = w.tx.query(
                "SELECT id FROM findings WHERE subject_type = 'survey_request' AND subject_id = ? AND code = 'E002' AND status IN ('open', 'supervised', 'rectified')",
                &[request.into()],
            )?;
            for f in open {
                w.act_on_finding(
                    f.int(0),
                    &FindingAction::Withdraw {
                        reason: "监测点已补报评议".into(),
                    },
                    "system",
                    actor,
                )?;
            }
            Ok(ResponseReceipt {
                request: request.to_string(),
                departments: ratings.len(),
                late,
            })
        })
    }

    /// Closes a round: rolls the answers up, publishes them, raises E001 on low departments and
    /// stops the chase of requests still unanswered.
    pub fn close_round(&self, principal: &Principal, round: &str) -> Result<ClosedRound, AppError> {
        manages(principal)?;
        let settings = self.monitoring_settings()?;
        let pack = self.rule_pack();
        let actor = principal.source();
        let due = end_of(
            self.calendar()
                .add_workdays(local_date(self.now()), pack.int("B001", "days").max(1))
                .value,
        );
        with_writer(self, |w| {
            let r =
                w.tx.query_opt(
                    "SELECT status FROM survey_rounds WHERE id = ?",
                    &[round.into()],
                )?
                .ok_or_else(|| AppError::NotFound {
                    what: "survey round",
                    id: round.to_string(),
                })?;
            if r.text(0) != "open" {
                return Err(AppError::Conflict(format!(
                    "评议期次 `{round}` 已结束 (survey round `{round}` is closed)"
                )));
            }
            let ratings = load_ratings(&mut w.tx, round)?;
            let rollups = core::roll_up(ratings.iter().map(|(r, _)| r), settings.min_publish);
            w.tx.exec(
                "UPDATE survey_rounds SET status = 'closed', closed_at = ? WHERE id = ?",
                &[ms(w.now).into(), round.into()],
            )?;
            w.tx.exec(
                "DELETE FROM deadlines WHERE subject_type = 'survey_request' AND subject_id IN (SELECT id FROM survey_requests WHERE round_id = ?)",
                &[round.into()],
            )?;
            log_admin_event(
                w,
                "survey_round",
                round,
                "closed",
                &actor,
                serde_json::json!({"rollups": rollups}),
            )?;
            let mut findings = Vec::new();
            for (department, hit) in core::low_scores(&pack, round, &rollups) {
                let id = w.open_finding(
                    "department",
                    &department,
                    &department,
                    None,
                    &department,
                    &hit,
                    due,
                    &actor,
                )?;
                findings.push((department, id));
            }
            Ok(ClosedRound {
                round: round.to_string(),
                rollups,
                findings,
            })
        })
    }

    /// The console queue: requests by due date (staff), optionally of one round or status.
    pub fn survey_queue(
        &self,
        principal: &Principal,
        round: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<QueueRow>, AppError> {
        staff_reads(principal)?;
        if let Some(s) = status {
            RequestStatus::parse(s).map_err(invalid)?;
        }
        let mut sql = String::from(
            "SELECT q.id, q.round_id, q.point_id, p.name, q.status, q.chased, q.due_at, q.answered_late FROM survey_requests q JOIN monitoring_points p ON p.id = q.point_id WHERE 1 = 1",
        );
        let mut params: Vec<crate::db::Value> = Vec::new();
        if let Some(r) = round {
            sql.push_str(" AND q.round_id = ?");
            params.push(r.into());
        }
        if let Some(s) = status {
            sql.push_str(" AND q.status = ?");
            params.push(s.into());
        }
        sql.push_str(" ORDER BY q.due_at, q.id LIMIT 1000");
        self.db.read(|tx| {
            Ok(tx
                .query(&sql, &params)?
                .iter()
                .map(|r| {
                    let status = RequestStatus::parse(&r.text(4)).unwrap_or(RequestStatus::Pending);
                    QueueRow {
                        request: r.text(0),
                        round: r.text(1),
                        point: r.text(2),
                        point_name: r.text(3),
                        status: status.code().to_string(),
                        status_zh: status.label_zh().to_string(),
                        chased: r.int(5),
                        due_on: due_day(r.int(6)),
                        answered_late: r.int(7) != 0,
                    }
                })
                .collect())
        })
    }

    /// Rounds, newest first (staff).
    pub fn survey_rounds(&self, principal: &Principal) -> Result<Vec<RoundView>, AppError> {
        staff_reads(principal)?;
        self.db.read(|tx| {
            Ok(tx
                .query(
                    "SELECT s.id, s.period, s.status, s.departments, s.opened_at, s.due_at, (SELECT COUNT(*) FROM survey_requests q WHERE q.round_id = s.id), (SELECT COUNT(*) FROM survey_requests q WHERE q.round_id = s.id AND q.status = 'answered') FROM survey_rounds s ORDER BY s.opened_at DESC, s.id",
                    &[],
                )?
                .iter()
                .map(|r| RoundView {
                    round: r.text(0),
                    period: r.text(1),
                    status: r.text(2),
                    departments: json_list(&r.text(3)),
                    opened_at: format_local(from_ms(r.int(4))),
                    due_on: due_day(r.int(5)),
                    requests: r.int(6),
                    answered: r.int(7),
                })
                .collect())
        })
    }

    /// Results of closed rounds per department. The public sees every department's published
    /// numbers (suppressed under `min_publish`) and no comments; a department sees only its own
    /// rows, with comments when not suppressed; supervisors, auditors and administrators see all.
    pub fn survey_results(
        &self,
        principal: &Principal,
        round: Option<&str>,
    ) -> Result<Vec<ResultRow>, AppError> {
        let settings = self.monitoring_settings()?;
        let own = match principal {
            Principal::Department { department, .. } => Some(department.clone()),
            _ => None,
        };
        let comments_allowed = !matches!(principal, Principal::Public);
        self.db.read(|tx| {
            let mut sql = String::from("SELECT id FROM survey_rounds WHERE status = 'closed'");
            let mut params: Vec<crate::db::Value> = Vec::new();
            if let Some(r) = round {
                sql.push_str(" AND id = ?");
                params.push(r.into());
            }
            sql.push_str(" ORDER BY opened_at DESC, id");
            let rounds: Vec<String> = tx.query(&sql, &params)?.iter().map(|r| r.text(0)).collect();
            let names: BTreeMap<String, String> = tx
                .query("SELECT code, name FROM departments", &[])?
                .iter()
                .map(|r| (r.text(0), r.text(1)))
                .collect();
            let mut out = Vec::new();
            for round in rounds {
                let ratings = load_ratings(tx, &round)?;
                for d in core::roll_up(ratings.iter().map(|(r, _)| r), settings.min_publish) {
                    if own.as_ref().is_some_and(|o| *o != d.department) {
                        continue;
                    }
                    let comments = if comments_allowed && !d.suppressed {
                        ratings
                            .iter()
                            .filter(|(r, _)| r.department == d.department && !r.comment.is_empty())
                            .map(|(r, _)| r.comment.clone())
                            .collect()
                    } else {
                        Vec::new()
                    };
                    out.push(ResultRow {
                        round: round.clone(),
                        department_name: names.get(&d.department).cloned().unwrap_or_default(),
                        department: d.department,
                        n: d.n,
                        suppressed: d.suppressed,
                        note: d.note,
                        indicators: d.indicators,
                        overall: d.overall,
                        comments,
                    });
                }
            }
            Ok(out)
        })
    }

    /// E002 from the sweep: a survey request's deadline has passed. The first deadline marks the
    /// request late, reminds the point (an event) and opens the finding for the monitoring
    /// office; the second, `grace_days` working days later, escalates it.
    pub(crate) fn fire_survey_deadline(
        &self,
        w: &mut Writer<'_>,
        request: &str,
        code: &str,
        pack: &RulePack,
    ) -> Result<usize, AppError> {
        if code != "E002" {
            return Ok(0);
        }
        let Some(r) = w.tx.query_opt(
            "SELECT q.round_id, q.point_id, q.status, q.chased, p.name, s.status FROM survey_requests q JOIN monitoring_points p ON p.id = q.point_id JOIN survey_rounds s ON s.id = q.round_id WHERE q.id = ?",
            &[request.into()],
        )?
        else {
            return Ok(0);
        };
        if r.text(5) != "open" {
            return Ok(0);
        }
        let (round, point, name) = (r.text(0), r.text(1), r.text(4));
        let status = RequestStatus::parse(&r.text(2)).unwrap_or(RequestStatus::Answered);
        let chased = u32::try_from(r.int(3)).unwrap_or(u32::MAX);
        match core::chase(pack, request, &name, status, chased) {
            Chase::Nothing => Ok(0),
            Chase::Remind { hit, grace_days } => {
                let due = end_of(
                    self.calendar()
                        .add_workdays(local_date(w.now), grace_days)
                        .value,
                );
                w.tx.exec(
                    "UPDATE survey_requests SET status = 'late', chased = 1 WHERE id = ?",
                    &[request.into()],
                )?;
                log_admin_event(
                    w,
                    "survey_round",
                    &round,
                    "reminded",
                    "system",
                    serde_json::json!({"request": request, "point": point, "chased": 1, "next_due_at": due.to_string()}),
                )?;
                w.open_finding(
                    "survey_request",
                    request,
                    "",
                    None,
                    MONITORING_OFFICE,
                    &hit,
                    due,
                    "sweep",
                )?;
                w.tx.exec(
                    "INSERT INTO deadlines (subject_type, subject_id, code, scope, due_at) VALUES ('survey_request', ?, 'E002', '2', ?) ON CONFLICT (subject_type, subject_id, code, scope) DO UPDATE SET due_at = excluded.due_at",
                    &[request.into(), ms(due).into()],
                )?;
                Ok(1)
            }
            Chase::Escalate { reason } => {
                w.tx.exec(
                    "UPDATE survey_requests SET chased = 2 WHERE id = ?",
                    &[request.into()],
                )?;
                log_admin_event(
                    w,
                    "survey_round",
                    &round,
                    "reminded",
                    "system",
                    serde_json::json!({"request": request, "point": point, "chased": 2, "escalated": true}),
                )?;
                let open = w.tx.query(
                    "SELECT id FROM findings WHERE subject_type = 'survey_request' AND subject_id = ? AND code = 'E002' AND status IN ('open', 'supervised')",
                    &[request.into()],
                )?;
                let mut n = 0;
                for f in open {
                    w.act_on_finding(
                        f.int(0),
                        &FindingAction::Escalate {
                            reason: reason.clone(),
                        },
                        "system",
                        "sweep",
                    )?;
                    n += 1;
                }
                Ok(n)
            }
        }
    }
}

/// The answers of a round, in the random order of their ids.
fn load_ratings(
    tx: &mut dyn crate::db::Tx,
    round: &str,
) -> Result<Vec<(DepartmentRating, String)>, AppError> {
    Ok(tx
        .query(
            "SELECT department, scores, overall, comment, id FROM survey_responses WHERE round_id = ? ORDER BY id",
            &[round.into()],
        )?
        .iter()
        .map(|r| {
            (
                DepartmentRating {
                    department: r.text(0),
                    scores: serde_json::from_str(&r.text(1)).unwrap_or_default(),
                    overall: u8::try_from(r.int(2)).unwrap_or(0),
                    comment: r.text(3),
                },
                r.text(4),
            )
        })
        .collect())
}

/// Results as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese).
pub fn results_csv(rows: &[ResultRow]) -> String {
    let mut out = String::from("\u{feff}评议期次,部门代码,部门名称,评议企业数");
    for name in INDICATORS {
        out.push(',');
        out.push_str(name);
    }
    out.push_str(",总体评价,备注\n");
    let num = |x: Option<f64>| x.map_or_else(String::new, |v| format!("{v:.2}"));
    for r in rows {
        let mut fields = vec![
            r.round.clone(),
            r.department.clone(),
            r.department_name.clone(),
            r.n.to_string(),
        ];
        for name in INDICATORS {
            fields.push(num(r.indicators.get(name).copied()));
        }
        fields.push(num(r.overall));
        fields.push(r.note.unwrap_or_default().to_string());
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    // Quote what needs it, and defuse spreadsheet formulas in text fields.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The last day of a deadline stored as the end of that day (the next midnight, exclusive).
fn due_day(stored_ms: i64) -> String {
    local_date(from_ms(stored_ms - 1)).to_string()
}

/// The request's row (`token_hash, departments, status, due_at`, the round's `period, status`)
/// when `token` is its token; a wrong token answers exactly like an unknown request.
fn request_with_token(
    tx: &mut dyn crate::db::Tx,
    request: &str,
    token: &str,
) -> Result<crate::db::Row, AppError> {
    tx.query_opt(
        "SELECT q.token_hash, q.departments, q.status, q.due_at, s.period, s.status FROM survey_requests q JOIN survey_rounds s ON s.id = q.round_id WHERE q.id = ?",
        &[request.into()],
    )?
    .filter(|r| constant_time_eq(r.text(0).as_bytes(), token_hash(token).as_bytes()))
    .ok_or_else(|| AppError::NotFound {
        what: "survey request",
        id: request.to_string(),
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
