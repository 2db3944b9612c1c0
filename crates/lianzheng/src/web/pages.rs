//! The portal's own pages: the home page, the public case query (A7) with a receipt per step
//! and the rating form (A6), and receipt verification. Templates in `templates/` are checked at
//! compile time; they work without JavaScript, in Chinese or in English (see `i18n`).

use askama::Template;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use lianzheng_app::views::{ONLINE_INDICATORS, PublicCase};
use lianzheng_core::codes::Satisfaction;
use serde::Deserialize;

use super::i18n::Ui;
use super::{AppState, WebError, blocking};

/// Percent-encodes a URL path or query component.
pub fn url_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The page layout (`templates/base.html`), checked at compile time.
#[derive(Template)]
#[template(path = "raw.html")]
struct RawPage<'a> {
    ui: &'a Ui,
    title: &'a str,
    body: &'a str,
}

/// Wraps a body (already escaped HTML) in the Chinese page layout.
pub fn layout(title: &str, body: &str) -> String {
    layout_ui(&Ui::zh(), title, body)
}

/// Wraps a body (already escaped HTML) in the page layout in the reader's language.
pub fn layout_ui(ui: &Ui, title: &str, body: &str) -> String {
    RawPage { ui, title, body }.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "rendering the layout failed");
        String::from("<!doctype html><title>error</title><p>internal error</p>")
    })
}

fn render(t: &impl Template) -> Result<String, WebError> {
    t.render().map_err(|e| {
        tracing::error!(error = %e, "rendering a template failed");
        WebError::Internal
    })
}

/// `GET /assets/app.css`: the style sheet, embedded in the binary.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/app.css"),
    )
        .into_response()
}

fn pct(a: i64, b: i64) -> String {
    if b > 0 {
        format!("{:.2}%", a as f64 * 100.0 / b as f64)
    } else {
        "—".into()
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ui: Ui,
    title: &'static str,
    month_cases: i64,
    month_on_time: String,
    month_satisfaction: String,
    red: i64,
    yellow: i64,
    cases: i64,
    on_time: String,
    satisfaction: String,
    rows: Vec<(String, i64, String, String, i64, i64)>,
}

/// `GET /`: what the platform is, this month's figures of the city, and links to everything.
pub async fn home(State(s): State<AppState>, ui: Ui) -> Result<Html<String>, WebError> {
    let (stats, months) = blocking(&s, |app| {
        Ok((
            app.department_stats_cached(60)?,
            app.monthly_stats_cached(None, 1, 60)?,
        ))
    })
    .await?;
    let sum =
        |f: fn(&lianzheng_app::views::DepartmentStats) -> i64| stats.iter().map(f).sum::<i64>();
    let month = months.last().cloned().unwrap_or_default();
    let page = HomePage {
        title: ui.t("首页"),
        month_cases: month.cases,
        month_on_time: pct(month.on_time, month.finished),
        month_satisfaction: pct(month.ratings - month.bad_ratings, month.ratings),
        red: sum(|d| d.red_open),
        yellow: sum(|d| d.yellow_open),
        cases: sum(|d| d.cases),
        on_time: pct(sum(|d| d.on_time), sum(|d| d.finished)),
        satisfaction: pct(sum(|d| d.ratings - d.bad_ratings), sum(|d| d.ratings)),
        rows: stats
            .iter()
            .filter(|d| d.cases > 0)
            .map(|d| {
                (
                    d.name.clone(),
                    d.cases,
                    pct(d.on_time, d.finished),
                    pct(d.ratings - d.bad_ratings, d.ratings),
                    d.red_open,
                    d.yellow_open,
                )
            })
            .collect(),
        ui,
    };
    Ok(Html(render(&page)?))
}

/// The query form's fields.
#[derive(Deserialize)]
pub struct QueryForm {
    case_no: Option<String>,
    code: Option<String>,
}

#[derive(Template)]
#[template(path = "query.html")]
struct QueryPage {
    ui: Ui,
    title: &'static str,
    case: Option<PublicCase>,
    not_found: bool,
    case_no: String,
    query_code: String,
    form_token: String,
    /// (code, label) of the five levels.
    levels: Vec<(&'static str, &'static str)>,
    /// (field suffix, label) of the indicators.
    indicators: Vec<(usize, &'static str)>,
}

/// The rating indicators offered on the portal (an online channel: the online set).
pub fn portal_indicators() -> &'static [&'static str] {
    ONLINE_INDICATORS
}

/// `GET /query`: the form, or a case's timeline, deadline and status, with a receipt per step
/// and the rating form once the case is finished.
pub async fn query(State(s): State<AppState>, ui: Ui, Query(q): Query<QueryForm>) -> Response {
    let mut page = QueryPage {
        title: ui.t("办件查询"),
        case: None,
        not_found: false,
        case_no: String::new(),
        query_code: String::new(),
        form_token: String::new(),
        levels: Satisfaction::ALL
            .iter()
            .map(|l| (l.code(), ui.pick(l.label_zh(), l.label_en())))
            .collect(),
        indicators: portal_indicators()
            .iter()
            .enumerate()
            .map(|(i, name)| (i, ui.t(name)))
            .collect(),
        ui,
    };
    let (Some(case_no), Some(code)) = (
        q.case_no.filter(|c| !c.trim().is_empty()),
        q.code.filter(|c| !c.trim().is_empty()),
    ) else {
        return page_response(StatusCode::OK, &page);
    };
    let no = case_no.trim().to_string();
    let query_code = code.trim().to_string();
    page.case_no = no.clone();
    page.query_code = query_code.clone();
    match blocking(&s, move |app| app.public_case(&no, &query_code)).await {
        Ok(v) => {
            page.form_token = super::portal::new_token();
            page.case = Some(v);
            let mut res = page_response(StatusCode::OK, &page);
            if let Some(c) = super::portal::form_cookie(&page.form_token) {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res
        }
        Err(WebError::NotFound(_)) => {
            page.not_found = true;
            page_response(StatusCode::NOT_FOUND, &page)
        }
        Err(e) => e.into_response(),
    }
}

fn page_response(status: StatusCode, page: &impl Template) -> Response {
    match render(page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A verified receipt: (record number, log origin, log size, leaf schema, readable record).
type Verified = (u64, String, u64, String, String);

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    ui: Ui,
    title: &'static str,
    /// The verified record, or why not.
    outcome: Option<Result<Verified, String>>,
    receipt: String,
}

/// The committed record of a receipt as a citizen can read it: the event's own fields with the
/// payload unfolded, pretty-printed, and personal data (applicant name, ID number, phone)
/// masked — the receipt holder has the full text in the file; the page need not repeat it.
fn readable_record(bytes: &[u8]) -> String {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return String::from_utf8_lossy(bytes).into_owned();
    };
    if let Some(text) = v
        .get("payload")
        .and_then(|p| p.as_str())
        .map(str::to_string)
        && let Ok(mut inner) = serde_json::from_str::<serde_json::Value>(&text)
    {
        if let Some(a) = inner.get_mut("applicant").and_then(|a| a.as_object_mut()) {
            let org = a
                .get("id_type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.starts_with('0'));
            for (key, masked) in [("name", !org), ("id_no", true), ("phone", true)] {
                if let Some(serde_json::Value::String(x)) = a.get_mut(key)
                    && masked
                {
                    *x = if key == "name" {
                        lianzheng_core::mask::name(x)
                    } else {
                        lianzheng_core::mask::number(x)
                    };
                }
            }
        }
        v["payload"] = inner;
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// `GET /favicon.ico`: no icon; answering 204 keeps browsers from logging a 404 on every page.
pub async fn favicon() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// `GET /verify`: paste or upload a receipt.
pub async fn verify_form(ui: Ui) -> Response {
    let page = VerifyPage {
        title: ui.t("回执验证"),
        outcome: None,
        receipt: String::new(),
        ui,
    };
    page_response(StatusCode::OK, &page)
}

/// The form of `/verify` when posted as `application/x-www-form-urlencoded`.
#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    receipt: String,
}

/// Reads the receipt from either form encoding: the text box, or an uploaded file (which wins
/// when it is not empty).
async fn receipt_text(req: Request) -> Result<String, String> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        return axum::Form::<VerifyForm>::from_request(req, &())
            .await
            .map(|f| f.0.receipt)
            .map_err(|e| e.body_text());
    }
    let mut m = Multipart::from_request(req, &())
        .await
        .map_err(|e| e.body_text())?;
    let (mut text, mut file) = (String::new(), String::new());
    while let Some(field) = m.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(|e| e.body_text())?;
        if bytes.len() > 1 << 20 {
            return Err("回执过大（超过 1 MiB）".into());
        }
        let value =
            String::from_utf8(bytes.to_vec()).map_err(|_| "回执不是 UTF-8 文本".to_string())?;
        match name.as_str() {
            "receipt" => text = value,
            "file" => file = value,
            _ => {}
        }
    }
    Ok(if file.trim().is_empty() { text } else { file })
}

/// `POST /verify`: verifies a pasted or uploaded receipt against this log's key. Changes
/// nothing.
pub async fn verify_submit(State(s): State<AppState>, ui: Ui, req: Request) -> Response {
    let mut page = VerifyPage {
        title: ui.t("回执验证"),
        outcome: None,
        receipt: String::new(),
        ui,
    };
    let text = match receipt_text(req).await {
        Ok(t) => t.replace("\r\n", "\n"),
        Err(e) => {
            page.outcome = Some(Err(format!("{}：{e}", page.ui.t("无法读取回执"))));
            return page_response(StatusCode::BAD_REQUEST, &page);
        }
    };
    page.receipt = text.clone();
    let Some(vkey) = s.vkey.clone() else {
        page.outcome = Some(Err(page.ui.t("本服务器未配置日志密钥。").into()));
        return page_response(StatusCode::SERVICE_UNAVAILABLE, &page);
    };
    let result = match lianzheng_tlog::receipt::Receipt::parse(&text) {
        Err(e) => Err(format!("{}：{e}", page.ui.t("回执格式不正确"))),
        Ok(r) => r
            .verify_self_contained(&vkey)
            .map_err(|e| format!("{}：{e}", page.ui.t("验证失败")))
            .map(|rec| (r.index, rec)),
    };
    let status = match result {
        Ok((index, rec)) => {
            page.outcome = Some(Ok((
                index + 1,
                rec.checkpoint.origin.clone(),
                rec.checkpoint.size,
                rec.leaf.schema.clone(),
                readable_record(&rec.payload),
            )));
            StatusCode::OK
        }
        Err(e) => {
            page.outcome = Some(Err(e));
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    page_response(status, &page)
}
