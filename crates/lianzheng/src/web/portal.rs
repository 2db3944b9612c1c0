//! Public portal pages rendered from compile-time-checked templates (`templates/`): the catalog
//! (事项目录) with each item's 办事指南 and its version history, statistics with a CSV download,
//! and the rating form (好差评) of the case page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lianzheng_app::catalog::{Department, ItemSummary};
use lianzheng_app::views::RatingInput;
use lianzheng_core::catalog::{ItemBody, ItemStatus};
use lianzheng_core::codes::{RatingChannel, Satisfaction};
use serde::Deserialize;

use super::pages::{esc, layout, url_component};
use super::{AppState, WebError, blocking};

const PAGE: i64 = 50;

fn render(t: &impl Template) -> Result<Html<String>, WebError> {
    t.render().map(Html).map_err(|e| {
        tracing::error!(error = %e, "rendering a template failed");
        WebError::Internal
    })
}

#[derive(Template)]
#[template(path = "items.html")]
struct ItemsPage {
    title: &'static str,
    departments: Vec<Department>,
    department: String,
    q: String,
    items: Vec<ItemSummary>,
    offset: i64,
    prev: i64,
    next: i64,
    more: bool,
}

/// The catalog's filters.
#[derive(Deserialize)]
pub struct ItemsQuery {
    department: Option<String>,
    q: Option<String>,
    offset: Option<i64>,
}

/// `GET /items`: retained items by department and keyword.
pub async fn items(
    State(s): State<AppState>,
    Query(f): Query<ItemsQuery>,
) -> Result<Html<String>, WebError> {
    let department = f.department.unwrap_or_default();
    let q: String = f.q.unwrap_or_default().chars().take(50).collect();
    let offset = f.offset.unwrap_or(0).max(0);
    let (d, k) = (department.clone(), q.clone());
    let (departments, mut items) = blocking(&s, move |app| {
        let deps = app.departments()?;
        let items = app.public_items(Some(&d), Some(&k), PAGE + 1, offset)?;
        Ok((deps, items))
    })
    .await?;
    let more = items.len() as i64 > PAGE;
    items.truncate(usize::try_from(PAGE).unwrap_or(50));
    render(&ItemsPage {
        title: "事项目录",
        departments,
        department: url_component(&department),
        q,
        items,
        offset,
        prev: (offset - PAGE).max(0),
        next: offset + PAGE,
        more,
    })
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    title: String,
    code: String,
    version: u32,
    effective_date: String,
    retired: bool,
    department: String,
    item_type: &'static str,
    case_kind: &'static str,
    window_auth: &'static str,
    body: ItemBody,
    versions: Vec<(u32, String, String, &'static str)>,
}

/// `GET /items/{code}`: an item's 办事指南 and its version history.
pub async fn item(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let c = code.clone();
    let (versions, departments) = blocking(&s, move |app| {
        Ok((app.item_versions(&c)?, app.departments()?))
    })
    .await?;
    let Some(current) = versions.last().cloned() else {
        return Ok((
            StatusCode::NOT_FOUND,
            Html(layout(
                "事项目录",
                "<h1>未找到该事项</h1><p><a href=\"/items\">返回事项目录</a></p>",
            )),
        )
            .into_response());
    };
    let department = departments
        .iter()
        .find(|d| d.code == current.body.department)
        .map_or_else(|| current.body.department.clone(), |d| d.name.clone());
    let page = ItemPage {
        title: current.body.name.clone(),
        code,
        version: current.version,
        effective_date: current.effective_date.to_string(),
        retired: current.status == ItemStatus::Retired,
        department,
        item_type: current.body.item_type.label_zh(),
        case_kind: current.body.case_kind.label_zh(),
        window_auth: current.body.window_auth.label_zh(),
        versions: versions
            .iter()
            .rev()
            .map(|v| {
                (
                    v.version,
                    v.effective_date.to_string(),
                    v.reason.clone(),
                    if v.status == ItemStatus::Retired {
                        "已取消"
                    } else {
                        "在用"
                    },
                )
            })
            .collect(),
        body: current.body,
    };
    Ok(render(&page)?.into_response())
}

/// One row of the statistics.
struct StatRow {
    name: String,
    cases: i64,
    finished: i64,
    on_time_rate: String,
    ratings: i64,
    satisfaction_rate: String,
    red: i64,
    yellow: i64,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    title: &'static str,
    rows: Vec<StatRow>,
}

fn pct(a: i64, b: i64) -> String {
    if b > 0 {
        format!("{:.2}%", a as f64 * 100.0 / b as f64)
    } else {
        "—".into()
    }
}

/// `GET /stats`: per-department figures.
pub async fn stats(State(s): State<AppState>) -> Result<Html<String>, WebError> {
    let stats = blocking(&s, |app| app.department_stats_cached(60)).await?;
    let rows = stats
        .iter()
        .map(|d| StatRow {
            name: d.name.clone(),
            cases: d.cases,
            finished: d.finished,
            on_time_rate: pct(d.on_time, d.finished),
            ratings: d.ratings,
            satisfaction_rate: pct(d.ratings - d.bad_ratings, d.ratings),
            red: d.red_open,
            yellow: d.yellow_open,
        })
        .collect();
    render(&StatsPage {
        title: "统计",
        rows,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `GET /stats.csv`: the same figures as CSV (UTF-8 with a byte-order mark, for spreadsheets).
pub async fn stats_csv(State(s): State<AppState>) -> Result<Response, WebError> {
    let stats = blocking(&s, |app| app.department_stats_cached(60)).await?;
    let mut out =
        String::from("\u{feff}部门代码,部门,办件,已办结,按时办结,评价数,差评,在办红牌,在办黄牌\n");
    for d in stats.iter() {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            csv_field(&d.department),
            csv_field(&d.name),
            d.cases,
            d.finished,
            d.on_time,
            d.ratings,
            d.bad_ratings,
            d.red_open,
            d.yellow_open
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"lianzheng-stats.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// The rating form on the case page. The query code proves it is the applicant; a double-submit
/// token (cookie and field) keeps other sites from posting it.
pub fn rating_form(case_no: &str, query_code: &str, token: &str) -> String {
    let mut levels = String::new();
    for s in Satisfaction::ALL {
        levels.push_str(&format!(
            "<label class=\"inline\"><input type=\"radio\" name=\"satisfaction\" value=\"{}\" required> {}</label>",
            s.code(),
            s.label_zh()
        ));
    }
    format!(
        "<form method=\"post\" action=\"/query/rate\" class=\"card\"><h2>评价本次办理（好差评）</h2>\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"case_no\" value=\"{}\"><input type=\"hidden\" name=\"code\" value=\"{}\">\
         <fieldset><legend>满意度</legend>{levels}</fieldset>\
         <label for=\"comment\">意见和建议（选填）</label><textarea id=\"comment\" name=\"comment\" rows=\"3\" maxlength=\"500\"></textarea>\
         <button type=\"submit\">提交评价</button><p>“不满意”“非常不满意”的评价，承办部门须在5个工作日内整改答复，答复将在本页显示。</p></form>",
        esc(token),
        esc(case_no),
        esc(query_code)
    )
}

/// The cookie that carries the rating form's token.
pub const FORM_COOKIE: &str = "lz_form";

/// A fresh form token.
pub fn new_token() -> String {
    use lianzheng_app::Entropy;
    let mut b = [0u8; 16];
    lianzheng_app::OsEntropy.fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A `Set-Cookie` value for the form token.
pub fn form_cookie(token: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{FORM_COOKIE}={token}; Path=/query; HttpOnly; SameSite=Strict; Max-Age=3600"
    ))
    .ok()
}

/// The rating form's fields.
#[derive(Deserialize)]
pub struct RateForm {
    csrf: String,
    case_no: String,
    code: String,
    satisfaction: String,
    #[serde(default)]
    comment: String,
}

/// `POST /query/rate`: the applicant rates the case, then sees it on the case page.
pub async fn rate(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::Form(f): axum::Form<RateForm>,
) -> Result<Response, WebError> {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix("lz_form=").map(str::to_string))
        .unwrap_or_default();
    let back = format!(
        "/query?case_no={}&code={}",
        url_component(&f.case_no),
        url_component(&f.code)
    );
    let fail = |status: StatusCode, msg: &str| {
        (status, Html(layout("评价", &format!("<h1>评价未提交</h1><p class=\"err\" role=\"alert\">{}</p><p><a href=\"{}\">返回办件</a></p>", esc(msg), esc(&back)))))
            .into_response()
    };
    if cookie.is_empty() || cookie.len() != f.csrf.len() || cookie != f.csrf {
        return Ok(fail(
            StatusCode::FORBIDDEN,
            "页面已过期，请返回办件页面重新提交",
        ));
    }
    let Ok(satisfaction) = Satisfaction::parse(&f.satisfaction) else {
        return Ok(fail(StatusCode::BAD_REQUEST, "请选择满意度"));
    };
    let mobile = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("Mobile"));
    let input = RatingInput {
        satisfaction,
        channel: if mobile {
            RatingChannel::Mobile
        } else {
            RatingChannel::Pc
        },
        indicators: Default::default(),
        comment: f.comment.trim().to_string(),
    };
    let (no, code) = (f.case_no.clone(), f.code.clone());
    match blocking(&s, move |app| app.rate_case(&no, &code, input)).await {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(WebError::NotFound(_)) => Ok(fail(
            StatusCode::NOT_FOUND,
            "未找到该办件，或查询码不正确。",
        )),
        Err(WebError::Conflict(m)) if m.contains("already") => Ok(fail(
            StatusCode::CONFLICT,
            "本办件已评价，每件只能评价一次。",
        )),
        Err(WebError::Conflict(_)) => Ok(fail(StatusCode::CONFLICT, "办件办结后才能评价。")),
        Err(WebError::BadRequest(m)) => Ok(fail(StatusCode::BAD_REQUEST, &m)),
        Err(e) => Err(e),
    }
}
