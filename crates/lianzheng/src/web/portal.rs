//! Public portal pages rendered from compile-time-checked templates (`templates/`): the catalog
//! (事项目录) with each item's 办事指南 and its version history, statistics with charts and CSV
//! downloads, and the handling of the case page's rating form (好差评).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lianzheng_app::App;
use lianzheng_app::catalog::{Department, ItemSummary};
use lianzheng_app::views::{CacheKind, RatingInput};
use lianzheng_core::catalog::{ItemBody, ItemStatus};
use lianzheng_core::codes::{RatingChannel, Satisfaction};
use serde::Deserialize;

use super::charts;
use super::i18n::Ui;
use super::pages::{esc, layout_ui, url_component};
use super::{AppState, WebError, blocking};

const PAGE: i64 = 50;

fn render(t: &impl Template) -> Result<Html<String>, WebError> {
    t.render().map(Html).map_err(|e| {
        tracing::error!(error = %e, "rendering a template failed");
        WebError::Internal
    })
}

fn render_page(t: &impl Template) -> Result<String, WebError> {
    render(t).map(|h| h.0)
}

#[derive(Template)]
#[template(path = "items.html")]
struct ItemsPage {
    ui: Ui,
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

/// Rendered catalog pages (the list and each 办事指南), kept for a few seconds: the catalog
/// changes a few times a day, and its pages are the most visited after the case query. A save on
/// this server changes [`App::catalog_generation`], which is part of the key, so it shows at
/// once; a save on another server shows when the copy expires.
const CATALOG_PAGES: CacheKind = CacheKind {
    name: "catalog_pages",
    capacity: 1024,
};
const CATALOG_MAX_AGE_SECS: i64 = 5;

/// A catalog page: the copy of the last few seconds if there is one (answered without going to
/// the blocking pool), else rendered by `page` there. The key holds `what` (the page and its
/// normalised filters), the language and the address (for the language switch's link) and the
/// catalog generation.
async fn catalog_page(
    s: &AppState,
    ui: Ui,
    what: String,
    page: impl FnOnce(&App, Ui) -> Result<(StatusCode, String), WebError> + Send + 'static,
) -> Result<Response, WebError> {
    let key = format!(
        "{what}\n{}\n{}",
        ui.switch_href(),
        s.app.catalog_generation()
    );
    let answer =
        match s
            .app
            .cached_fresh::<(StatusCode, String)>(CATALOG_PAGES, &key, CATALOG_MAX_AGE_SECS)
        {
            Some(a) => a,
            None => {
                let app = Arc::clone(&s.app);
                tokio::task::spawn_blocking(move || {
                    let fresh = Arc::new(page(&app, ui)?);
                    app.cache_store(CATALOG_PAGES, &key, &fresh);
                    Ok::<_, WebError>(fresh)
                })
                .await
                .map_err(|_| WebError::Internal)??
            }
        };
    let (status, html) = &*answer;
    Ok((*status, Html(html.clone())).into_response())
}

/// `GET /items`: retained items by department and keyword.
pub async fn items(
    State(s): State<AppState>,
    ui: Ui,
    Query(f): Query<ItemsQuery>,
) -> Result<Response, WebError> {
    let department = f.department.unwrap_or_default();
    let q: String = f.q.unwrap_or_default().chars().take(50).collect();
    let offset = f.offset.unwrap_or(0).max(0);
    let what = format!("items\n{department}\n{q}\n{offset}");
    catalog_page(&s, ui, what, move |app, ui| {
        let departments = app.departments()?;
        let mut items = app.public_items(Some(&department), Some(&q), PAGE + 1, offset)?;
        let more = items.len() as i64 > PAGE;
        items.truncate(usize::try_from(PAGE).unwrap_or(50));
        let html = render_page(&ItemsPage {
            title: ui.t("事项目录"),
            ui,
            departments,
            department: url_component(&department),
            q,
            items,
            offset,
            prev: (offset - PAGE).max(0),
            next: offset + PAGE,
            more,
        })?;
        Ok((StatusCode::OK, html))
    })
    .await
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    ui: Ui,
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
    ui: Ui,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let what = format!("item\n{code}");
    catalog_page(&s, ui, what, move |app, ui| {
        let versions = app.item_versions(&code)?;
        let departments = app.departments()?;
        let Some(current) = versions.last().cloned() else {
            return Ok((
                StatusCode::NOT_FOUND,
                layout_ui(
                    &ui,
                    ui.t("事项目录"),
                    &format!(
                        "<h1>{}</h1><p><a href=\"/items\">{}</a></p>",
                        ui.t("未找到该事项"),
                        ui.t("返回事项目录")
                    ),
                ),
            ));
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
            item_type: ui.pick(
                current.body.item_type.label_zh(),
                current.body.item_type.label_en(),
            ),
            case_kind: ui.pick(
                current.body.case_kind.label_zh(),
                current.body.case_kind.label_en(),
            ),
            window_auth: ui.pick(
                current.body.window_auth.label_zh(),
                current.body.window_auth.label_en(),
            ),
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
            ui,
        };
        Ok((StatusCode::OK, render_page(&page)?))
    })
    .await
}

/// One row of the statistics.
struct StatRow {
    code: String,
    name: String,
    cases: i64,
    finished: i64,
    on_time_rate: String,
    ratings: i64,
    satisfaction_rate: String,
    red: i64,
    yellow: i64,
}

/// One month of the statistics.
struct MonthRow {
    month: String,
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
    ui: Ui,
    title: &'static str,
    departments: Vec<Department>,
    department: String,
    scope_name: String,
    months: Vec<MonthRow>,
    rows: Vec<StatRow>,
    monthly_chart: String,
    cards_chart: String,
    departments_chart: String,
    echarts: &'static str,
}

fn pct(a: i64, b: i64) -> String {
    if b > 0 {
        format!("{:.2}%", a as f64 * 100.0 / b as f64)
    } else {
        "—".into()
    }
}

/// How many months the statistics show.
pub(crate) const MONTHS: u32 = 12;

/// The statistics' filters.
#[derive(Deserialize, Default)]
pub struct StatsQuery {
    department: Option<String>,
    by: Option<String>,
}

/// `GET /stats`: per-department figures, and one department's (or the city's) months, with
/// charts and the same figures as tables.
pub async fn stats(
    State(s): State<AppState>,
    ui: Ui,
    Query(f): Query<StatsQuery>,
) -> Result<Html<String>, WebError> {
    let department = f.department.unwrap_or_default();
    let d = department.clone();
    let (stats, months, departments) = blocking(&s, move |app| {
        let dep = (!d.is_empty()).then_some(d.as_str());
        Ok((
            app.department_stats_cached(60)?,
            app.monthly_stats_cached(dep, MONTHS, 60)?,
            app.departments()?,
        ))
    })
    .await?;
    let scope_name = departments
        .iter()
        .find(|x| x.code == department)
        .map_or_else(|| ui.t("全市").to_string(), |x| x.name.clone());
    let rows = stats
        .iter()
        .map(|d| StatRow {
            code: d.department.clone(),
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
    let month_rows = months
        .iter()
        .map(|m| MonthRow {
            month: m.month.clone(),
            cases: m.cases,
            finished: m.finished,
            on_time_rate: pct(m.on_time, m.finished),
            ratings: m.ratings,
            satisfaction_rate: pct(m.ratings - m.bad_ratings, m.ratings),
            red: m.red,
            yellow: m.yellow,
        })
        .collect();
    render(&StatsPage {
        title: ui.t("统计"),
        monthly_chart: charts::monthly(&ui, &months),
        cards_chart: charts::cards(&ui, &months),
        departments_chart: charts::departments(&ui, &stats),
        echarts: charts::ECHARTS_VERSION,
        ui,
        departments,
        department,
        scope_name,
        months: month_rows,
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

/// `GET /stats.csv`: the per-department figures as CSV (UTF-8 with a byte-order mark, for
/// spreadsheets); `?by=month` (with an optional `department`) the monthly figures.
pub async fn stats_csv(
    State(s): State<AppState>,
    Query(f): Query<StatsQuery>,
) -> Result<Response, WebError> {
    let mut out = String::from("\u{feff}");
    let name;
    if f.by.as_deref() == Some("month") {
        let department = f.department.unwrap_or_default();
        let d = department.clone();
        let months = blocking(&s, move |app| {
            app.monthly_stats_cached((!d.is_empty()).then_some(d.as_str()), MONTHS, 60)
        })
        .await?;
        out.push_str("部门代码,月份,受理办件,办结,按时办结,评价数,差评,红牌,黄牌\n");
        for m in months.iter() {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                csv_field(&department),
                m.month,
                m.cases,
                m.finished,
                m.on_time,
                m.ratings,
                m.bad_ratings,
                m.red,
                m.yellow
            ));
        }
        name = "lianzheng-stats-monthly.csv";
    } else {
        let stats = blocking(&s, |app| app.department_stats_cached(60)).await?;
        out.push_str("部门代码,部门,办件,已办结,按时办结,评价数,差评,在办红牌,在办黄牌\n");
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
        name = "lianzheng-stats.csv";
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        out,
    )
        .into_response())
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

/// `POST /query/rate`: the applicant rates the case, then sees it on the case page.
pub async fn rate(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    let field = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let (csrf, case_no, code) = (field("csrf"), field("case_no"), field("code"));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix("lz_form=").map(str::to_string))
        .unwrap_or_default();
    let back = format!(
        "/query?case_no={}&code={}",
        url_component(&case_no),
        url_component(&code)
    );
    let fail = |status: StatusCode, msg: &str| {
        let body = format!(
            "<h1>{}</h1><p class=\"err\" role=\"alert\">{}</p><p><a href=\"{}\">{}</a></p>",
            ui.t("评价未提交"),
            esc(msg),
            esc(&back),
            ui.t("返回办件")
        );
        (status, Html(layout_ui(&ui, ui.t("评价"), &body))).into_response()
    };
    if cookie.is_empty() || cookie.len() != csrf.len() || cookie != csrf {
        return Ok(fail(
            StatusCode::FORBIDDEN,
            ui.t("页面已过期，请返回办件页面重新提交"),
        ));
    }
    let Ok(satisfaction) = Satisfaction::parse(&field("satisfaction")) else {
        return Ok(fail(StatusCode::BAD_REQUEST, ui.t("请选择满意度")));
    };
    let mut indicators = std::collections::BTreeMap::new();
    for (i, name) in super::pages::portal_indicators().iter().enumerate() {
        let v = field(&format!("ind_{i}"));
        if v.is_empty() {
            continue;
        }
        match Satisfaction::parse(&v) {
            Ok(l) => {
                indicators.insert((*name).to_string(), l.number());
            }
            Err(_) => return Ok(fail(StatusCode::BAD_REQUEST, ui.t("分项评价的取值不正确"))),
        }
    }
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
        indicators,
        comment: field("comment"),
    };
    let (no, code) = (case_no.clone(), code.clone());
    match blocking(&s, move |app| app.rate_case(&no, &code, input)).await {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(WebError::NotFound(_)) => Ok(fail(
            StatusCode::NOT_FOUND,
            ui.t("未找到该办件，或查询码不正确。"),
        )),
        Err(WebError::Conflict(m)) if m.contains("already") => Ok(fail(
            StatusCode::CONFLICT,
            ui.t("本办件已评价，每件只能评价一次。"),
        )),
        Err(WebError::Conflict(_)) => Ok(fail(StatusCode::CONFLICT, ui.t("办件办结后才能评价。"))),
        Err(WebError::BadRequest(m)) => Ok(fail(StatusCode::BAD_REQUEST, &m)),
        Err(e) => Err(e),
    }
}
