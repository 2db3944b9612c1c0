//! The portal's complaint pages (issue #5): 投诉举报 (file a complaint, with a double-submit
//! token), 投诉查询 (number + query code: the steps, the answer, the deadlines and the rating
//! form) and 民主评议 (complaint figures per department and month, and the published results of
//! the enterprise monitoring points, with charts and CSV). They work without JavaScript.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lianzheng_app::Principal;
use lianzheng_app::complaints::{Complainant, ComplaintInput, ComplaintStats, Location};
use lianzheng_app::monitoring::ResultRow;
use lianzheng_core::codes::Fen;
use lianzheng_core::complaint::{Category, ComplaintChannel, Rating, Status, Subject};
use lianzheng_core::monitoring::INDICATORS;
use serde::Deserialize;

use super::appraisal_charts;
use super::charts;
use super::i18n::Ui;
use super::pages::url_component;
use super::{AppState, WebError, blocking};

/// The cookie that carries the complaint forms' token (filing and rating).
pub const COMPLAINT_COOKIE: &str = "lz_cform";

fn render(t: &impl Template, status: StatusCode) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a template failed");
            WebError::Internal.into_response()
        }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
}

/// The form token: the reader's current one, or a fresh one.
fn form_token(headers: &HeaderMap) -> String {
    cookie(headers, COMPLAINT_COOKIE)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(super::portal::new_token)
}

fn with_token(mut res: Response, token: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COMPLAINT_COOKIE}={token}; Path=/complaints; HttpOnly; SameSite=Strict; Max-Age=3600"
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Whether the posted token matches the cookie (compared in constant time).
fn token_ok(headers: &HeaderMap, posted: &str) -> bool {
    let expected = cookie(headers, COMPLAINT_COOKIE).unwrap_or_default();
    !expected.is_empty()
        && expected.len() == posted.len()
        && expected
            .bytes()
            .zip(posted.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The fields of a complaint form (the portal's and the hotline's).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ComplaintFields {
    /// The form token.
    pub csrf: String,
    /// 投诉类别 code.
    pub category: String,
    /// Department complained about.
    pub department: String,
    /// `department`, `case`, `fee`, `person` or `conduct`.
    pub subject: String,
    /// 办件编号 (subject `case`).
    pub case_no: String,
    /// 实施编码 (subject `fee`).
    pub item_code: String,
    /// 收费项目 (subject `fee`).
    pub fee_code: String,
    /// Amount in yuan (subject `fee`).
    pub amount: String,
    /// Staff name or number (subject `person`).
    pub staff: String,
    /// Summary.
    pub title: String,
    /// The complaint.
    pub content: String,
    /// `anonymous` or `real`.
    pub identity: String,
    /// Name (real-name complaints).
    pub name: String,
    /// Phone (real-name complaints).
    pub phone: String,
    /// Address of the matter.
    pub address: String,
}

/// The complaint a form describes, or what is wrong with it (a text for `Ui::t`).
pub fn complaint_input(
    f: &ComplaintFields,
    channel: ComplaintChannel,
) -> Result<ComplaintInput, &'static str> {
    let Ok(category) = Category::parse(&f.category) else {
        return Err("请选择投诉类别");
    };
    let department = f.department.trim().to_string();
    if department.is_empty() {
        return Err("请选择被投诉单位");
    }
    let subject = match f.subject.as_str() {
        "" | "department" => Subject::Department,
        "conduct" => Subject::Conduct,
        "case" => {
            let case_no = f.case_no.trim();
            if case_no.is_empty() {
                return Err("请填写办件编号");
            }
            Subject::Case {
                case_no: case_no.to_string(),
            }
        }
        "person" => {
            let staff = f.staff.trim();
            if staff.is_empty() {
                return Err("请填写工作人员姓名或工号");
            }
            Subject::Person {
                staff: staff.to_string(),
            }
        }
        "fee" => {
            let (item, fee) = (f.item_code.trim(), f.fee_code.trim());
            if item.is_empty() || fee.is_empty() {
                return Err("请填写收费事项的实施编码和收费项目");
            }
            let Some(fen) = super::window::parse_yuan(&f.amount).filter(|v| *v > 0) else {
                return Err("收费金额格式不正确（如 120 或 120.50）");
            };
            Subject::Fee {
                item_code: item.to_string(),
                fee_code: fee.to_string(),
                amount_fen: Fen(fen),
            }
        }
        _ => return Err("请选择投诉对象"),
    };
    let content = f.content.trim().to_string();
    if content.is_empty() {
        return Err("请填写投诉内容");
    }
    let complainant = match f.identity.as_str() {
        "anonymous" => None,
        "real" => {
            if f.name.trim().is_empty() || f.phone.trim().is_empty() {
                return Err("实名投诉请填写姓名和联系电话");
            }
            Some(Complainant {
                name: f.name.trim().to_string(),
                phone: f.phone.trim().to_string(),
                ..Complainant::default()
            })
        }
        _ => return Err("请选择实名或匿名投诉"),
    };
    let address = f.address.trim();
    let title = f.title.trim();
    Ok(ComplaintInput {
        category,
        channel,
        department,
        subject,
        title: (!title.is_empty()).then(|| title.to_string()),
        content,
        complainant,
        location: Location {
            address: (!address.is_empty()).then(|| address.to_string()),
            ..Location::default()
        },
        media_url: None,
    })
}

/// What the complainant is told once.
pub struct Filed {
    complaint_no: String,
    query_code: String,
    token: String,
    accept_due: String,
    fee_flag: String,
}

#[derive(Template)]
#[template(path = "complaint_new.html")]
struct NewPage {
    ui: Ui,
    title: &'static str,
    token: String,
    error: String,
    categories: Vec<(&'static str, &'static str)>,
    departments: Vec<(String, String)>,
    f: ComplaintFields,
    filed: Option<Filed>,
}

impl NewPage {
    fn new(ui: Ui, token: String, departments: Vec<(String, String)>) -> NewPage {
        NewPage {
            title: ui.t("投诉举报"),
            categories: Category::ALL
                .iter()
                .map(|c| (c.code(), ui.pick(c.label_zh(), c.label_en())))
                .collect(),
            ui,
            token,
            error: String::new(),
            departments,
            f: ComplaintFields {
                identity: "anonymous".into(),
                subject: "department".into(),
                ..ComplaintFields::default()
            },
            filed: None,
        }
    }
}

/// The last day of a deadline given as RFC 3339 (deadlines end at the next midnight).
pub fn due_day(rfc3339: &str) -> String {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| {
            lianzheng_core::time::local_date(t - jiff::SignedDuration::from_secs(1)).to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// A local time `YYYY-MM-DD HH:MM` of an RFC 3339 instant.
pub fn local_time(rfc3339: &str) -> String {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(lianzheng_core::time::format_local)
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// `GET /complaints/new`: the complaint form.
pub async fn new_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
) -> Result<Response, WebError> {
    let departments = blocking(&s, |app| app.complaint_departments()).await?;
    let token = form_token(&headers);
    let page = NewPage::new(ui, token.clone(), departments);
    Ok(with_token(render(&page, StatusCode::OK), &token))
}

/// `POST /complaints/new`: files the complaint; bad input shows the form again, nothing stored.
pub async fn file(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<ComplaintFields>,
) -> Result<Response, WebError> {
    let departments = blocking(&s, |app| app.complaint_departments()).await?;
    let token = form_token(&headers);
    let mut page = NewPage::new(ui, token.clone(), departments);
    page.f = f.clone();
    let fail = |mut page: NewPage, status: StatusCode, msg: String| {
        page.error = msg;
        with_token(render(&page, status), &token)
    };
    if !token_ok(&headers, &f.csrf) {
        let msg = page.ui.t("页面已过期，请重新提交").to_string();
        return Ok(fail(page, StatusCode::FORBIDDEN, msg));
    }
    let input = match complaint_input(&f, ComplaintChannel::Portal) {
        Ok(i) => i,
        Err(m) => {
            let msg = page.ui.t(m).to_string();
            return Ok(fail(page, StatusCode::BAD_REQUEST, msg));
        }
    };
    match blocking(&s, move |app| app.file_complaint(&Principal::Public, input)).await {
        Ok(filed) => {
            page.filed = Some(Filed {
                accept_due: due_day(&filed.accept_due),
                fee_flag: filed.fee_flag.unwrap_or_default(),
                complaint_no: filed.complaint_no,
                query_code: filed.query_code,
                token: filed.token,
            });
            page.title = page.ui.t("投诉已受理登记");
            Ok(with_token(render(&page, StatusCode::OK), &token))
        }
        Err(WebError::BadRequest(m)) => Ok(fail(page, StatusCode::BAD_REQUEST, m)),
        Err(WebError::NotFound(_)) => {
            let msg = page
                .ui
                .t("未找到所填的单位或事项，请核对后重新提交")
                .to_string();
            Ok(fail(page, StatusCode::BAD_REQUEST, msg))
        }
        Err(e) => Err(e),
    }
}

/// One step of a complaint as the complainant sees it.
struct Step {
    at: String,
    kind: &'static str,
}

/// The complainant's view.
struct View {
    complaint_no: String,
    category: &'static str,
    title: String,
    department: String,
    assigned: String,
    status: String,
    filed_at: String,
    due_label: &'static str,
    due: String,
    overdue: bool,
    answer: String,
    fee_flag: String,
    can_rate: bool,
    steps: Vec<Step>,
}

#[derive(Template)]
#[template(path = "complaint_query.html")]
struct QueryPage {
    ui: Ui,
    title: &'static str,
    no: String,
    code: String,
    not_found: bool,
    error: String,
    token: String,
    levels: Vec<(&'static str, &'static str)>,
    view: Option<View>,
}

/// The query's fields.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueryForm {
    no: String,
    code: String,
}

fn kind_label(ui: &Ui, kind: &str) -> &'static str {
    let zh = lianzheng_core::complaint::kind_zh(kind);
    ui.pick(
        zh,
        match kind {
            "filed" => "filed",
            "triaged" => "assigned",
            "accepted" => "accepted",
            "declined" => "declined",
            "extension_requested" => "extension requested",
            "extension_approved" => "extension approved",
            "answered" => "answered",
            "rated" => "rated",
            "reopened" => "reopened",
            "closed" => "closed",
            _ => "other",
        },
    )
}

fn view_of(ui: &Ui, v: &serde_json::Value, departments: &[(String, String)]) -> View {
    let c = &v["complaint"];
    let text = |k: &str| c[k].as_str().unwrap_or("").to_string();
    let code = text("status");
    let status = Status::parse(&code).ok();
    let name_of = |d: &str| {
        departments
            .iter()
            .find(|(c, _)| c == d)
            .map_or_else(|| d.to_string(), |(_, n)| n.clone())
    };
    let due = c["due_at"].as_str().map(due_day).unwrap_or_default();
    View {
        complaint_no: text("complaint_no"),
        category: Category::parse(&text("category"))
            .map_or("", |c| ui.pick(c.label_zh(), c.label_en())),
        title: text("title"),
        department: name_of(&text("department")),
        assigned: c["assigned_name"]
            .as_str()
            .map(str::to_string)
            .or_else(|| c["assigned"].as_str().map(name_of))
            .unwrap_or_default(),
        status: if ui.en() {
            status.map_or(code.clone(), |s| s.label_en().to_string())
        } else {
            text("status_zh")
        },
        filed_at: local_time(&text("filed_at")),
        due_label: match status {
            Some(Status::Filed | Status::Assigned) => ui.t("受理期限"),
            Some(Status::Accepted) => ui.t("答复期限"),
            _ => "",
        },
        due: if status.is_some_and(Status::is_closed) {
            String::new()
        } else {
            due
        },
        overdue: c["overdue"].as_bool().unwrap_or(false) && !status.is_some_and(Status::is_closed),
        answer: text("answer"),
        fee_flag: text("fee_flag"),
        can_rate: status == Some(Status::Answered),
        steps: v["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| Step {
                at: s["at"].as_str().unwrap_or("").to_string(),
                kind: kind_label(ui, s["kind"].as_str().unwrap_or("")),
            })
            .collect(),
    }
}

impl QueryPage {
    fn new(ui: Ui, token: String) -> QueryPage {
        QueryPage {
            title: ui.t("投诉查询"),
            levels: Rating::ALL
                .iter()
                .map(|r| (r.code(), ui.pick(r.label_zh(), r.label_en())))
                .collect(),
            ui,
            no: String::new(),
            code: String::new(),
            not_found: false,
            error: String::new(),
            token,
            view: None,
        }
    }
}

async fn query_page(
    s: &AppState,
    headers: &HeaderMap,
    ui: Ui,
    no: String,
    code: String,
    error: String,
    status: StatusCode,
) -> Result<Response, WebError> {
    let token = form_token(headers);
    let mut page = QueryPage::new(ui, token.clone());
    page.error = error;
    if no.is_empty() || code.is_empty() {
        page.no = no;
        return Ok(with_token(render(&page, status), &token));
    }
    page.no = no.clone();
    page.code = code.clone();
    match blocking(s, move |app| {
        Ok((
            app.public_complaint(&no, &code)?,
            app.complaint_departments()?,
        ))
    })
    .await
    {
        Ok((v, deps)) => {
            page.view = Some(view_of(&page.ui, &v, &deps));
            Ok(with_token(render(&page, status), &token))
        }
        Err(WebError::NotFound(_)) => {
            page.not_found = true;
            page.code = String::new();
            Ok(with_token(render(&page, StatusCode::NOT_FOUND), &token))
        }
        Err(e) => Err(e),
    }
}

/// `GET /complaints/query?no=…&code=…`: the complainant's view; a wrong code answers exactly
/// like an unknown number.
pub async fn query(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    Query(q): Query<QueryForm>,
) -> Result<Response, WebError> {
    query_page(
        &s,
        &headers,
        ui,
        q.no.trim().to_string(),
        q.code.trim().to_string(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// The rating form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RateForm {
    csrf: String,
    no: String,
    code: String,
    satisfaction: String,
}

/// `POST /complaints/rate`: 满意 / 基本满意 / 不满意 (the first 不满意 reopens the complaint).
pub async fn rate(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<RateForm>,
) -> Result<Response, WebError> {
    let (no, code) = (f.no.trim().to_string(), f.code.trim().to_string());
    let again = |ui: Ui, msg: &'static str, status: StatusCode| {
        let msg = ui.t(msg).to_string();
        query_page(&s, &headers, ui, no.clone(), code.clone(), msg, status)
    };
    if !token_ok(&headers, &f.csrf) {
        return again(ui, "页面已过期，请重新提交", StatusCode::FORBIDDEN).await;
    }
    let Ok(rating) = Rating::parse(&f.satisfaction) else {
        return again(ui, "请选择满意度", StatusCode::BAD_REQUEST).await;
    };
    let (n, c) = (no.clone(), code.clone());
    match blocking(&s, move |app| app.rate_complaint(&n, &c, rating)).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/complaints/query?no={}&code={}",
            url_component(&no),
            url_component(&code)
        ))
        .into_response()),
        Err(WebError::NotFound(_)) => {
            query_page(
                &s,
                &headers,
                ui,
                no.clone(),
                code.clone(),
                String::new(),
                StatusCode::NOT_FOUND,
            )
            .await
        }
        Err(WebError::Conflict(_)) => {
            again(
                ui,
                "该投诉现在不能评价（尚未答复或已评价）",
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// One department-month of complaint figures.
struct StatRow {
    month: String,
    department: String,
    name: String,
    received: i64,
    accepted_in_time: i64,
    answered: i64,
    answered_in_time: i64,
    open_overdue: i64,
    on_time: String,
    rated: i64,
    satisfaction: String,
    fee_confirmed: i64,
}

fn pct(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_string(), |r| format!("{r:.1}%"))
}

/// One department's monitoring results in one round.
struct ResultLine {
    round: String,
    name: String,
    n: u32,
    suppressed: bool,
    scores: Vec<String>,
    overall: String,
}

#[derive(Template)]
#[template(path = "appraisal.html")]
struct AppraisalPage {
    ui: Ui,
    title: &'static str,
    months: Vec<String>,
    month: String,
    rows: Vec<StatRow>,
    indicators: Vec<&'static str>,
    results: Vec<ResultLine>,
    department_chart: String,
    monthly_chart: String,
    monitoring_chart: String,
    department_height: usize,
    monitoring_height: usize,
    latest_round: String,
    echarts: &'static str,
}

/// The appraisal's filter.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MonthQuery {
    month: String,
}

fn valid_month(m: &str) -> bool {
    m.len() == 7
        && m.bytes().enumerate().all(|(i, b)| {
            if i == 4 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

/// How old the figures of `/appraisal` and its CSV may be (they are computed once per this
/// many seconds, whatever the month shown): a new complaint, an answer or a published round
/// shows within it.
pub const APPRAISAL_MAX_AGE_SECS: i64 = 30;

/// `GET /appraisal`: 民主评议 — complaint figures per department and month, and the published
/// monitoring results, with charts and the same figures in tables.
pub async fn appraisal(
    State(s): State<AppState>,
    ui: Ui,
    Query(q): Query<MonthQuery>,
) -> Result<Response, WebError> {
    let month = if valid_month(q.month.trim()) {
        q.month.trim().to_string()
    } else {
        String::new()
    };
    let data = blocking(&s, |app| app.appraisal_cached(APPRAISAL_MAX_AGE_SECS)).await?;
    let (stats, results) = (&data.complaints, &data.monitoring);
    let mut months: Vec<String> = stats.iter().map(|r| r.month.clone()).collect();
    months.sort();
    months.dedup();
    let shown: Vec<&ComplaintStats> = stats
        .iter()
        .filter(|r| month.is_empty() || r.month == month)
        .collect();
    let rows = shown
        .iter()
        .map(|r| StatRow {
            month: r.month.clone(),
            department: r.department.clone(),
            name: if r.name.is_empty() {
                r.department.clone()
            } else {
                r.name.clone()
            },
            received: r.received,
            accepted_in_time: r.accepted_in_time,
            answered: r.answered,
            answered_in_time: r.answered_in_time,
            open_overdue: r.open_overdue,
            on_time: pct(charts::rate(
                r.answered_in_time,
                r.answered + r.open_overdue,
            )),
            rated: r.rated,
            satisfaction: pct(charts::rate(r.satisfied, r.rated)),
            fee_confirmed: r.fee_confirmed,
        })
        .collect();
    let latest_round = results.first().map(|r| r.round.clone()).unwrap_or_default();
    let latest: Vec<&ResultRow> = results.iter().filter(|r| r.round == latest_round).collect();
    let num = |x: Option<f64>| x.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"));
    let result_lines = results
        .iter()
        .map(|r| ResultLine {
            round: r.round.clone(),
            name: if r.department_name.is_empty() {
                r.department.clone()
            } else {
                r.department_name.clone()
            },
            n: r.n,
            suppressed: r.suppressed,
            scores: INDICATORS
                .iter()
                .map(|k| num(r.indicators.get(*k).copied()))
                .collect(),
            overall: num(r.overall),
        })
        .collect();
    let mut shown_departments: Vec<&str> = shown.iter().map(|r| r.department.as_str()).collect();
    shown_departments.sort_unstable();
    shown_departments.dedup();
    let page = AppraisalPage {
        title: ui.t("民主评议"),
        department_height: appraisal_charts::height(shown_departments.len()),
        monitoring_height: appraisal_charts::height(latest.len()),
        department_chart: appraisal_charts::departments(&ui, &shown),
        monthly_chart: appraisal_charts::monthly(&ui, stats),
        monitoring_chart: appraisal_charts::monitoring(&ui, &latest),
        indicators: INDICATORS.iter().map(|k| ui.t(k)).collect(),
        echarts: charts::ECHARTS_VERSION,
        ui,
        months,
        month,
        rows,
        results: result_lines,
        latest_round,
    };
    Ok(render(&page, StatusCode::OK))
}

fn csv_field(s: &str) -> String {
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

/// `GET /appraisal.csv?month=YYYY-MM`: the complaint figures as CSV (UTF-8 with a byte-order
/// mark, for spreadsheets).
pub async fn appraisal_csv(
    State(s): State<AppState>,
    Query(q): Query<MonthQuery>,
) -> Result<Response, WebError> {
    let month = q.month.trim().to_string();
    let month = valid_month(&month).then_some(month);
    let data = blocking(&s, |app| app.appraisal_cached(APPRAISAL_MAX_AGE_SECS)).await?;
    let stats = data
        .complaints
        .iter()
        .filter(|r| month.as_ref().is_none_or(|m| r.month == *m));
    let mut out = String::from(
        "\u{feff}月份,部门代码,部门,收到投诉,按时受理,已答复,按时答复,超期未答复,按时答复率,评价数,满意和基本满意,满意率,乱收费查实\n",
    );
    for r in stats {
        let rate = |x: Option<f64>| x.map_or_else(String::new, |v| format!("{v:.1}"));
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            csv_field(&r.month),
            csv_field(&r.department),
            csv_field(&r.name),
            r.received,
            r.accepted_in_time,
            r.answered,
            r.answered_in_time,
            r.open_overdue,
            rate(charts::rate(
                r.answered_in_time,
                r.answered + r.open_overdue
            )),
            r.rated,
            r.satisfied,
            rate(charts::rate(r.satisfied, r.rated)),
            r.fee_confirmed
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"lianzheng-appraisal.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}
