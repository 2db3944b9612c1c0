//! Plain server-rendered pages (zh-CN): the home page and the public case query (A7). They work
//! without JavaScript. Everything user-supplied is escaped.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

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
#[derive(askama::Template)]
#[template(path = "raw.html")]
struct RawPage<'a> {
    title: &'a str,
    body: &'a str,
}

/// Wraps a body (already escaped HTML) in the page layout.
pub fn layout(title: &str, body: &str) -> String {
    use askama::Template;
    RawPage { title, body }.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "rendering the layout failed");
        String::from("<!doctype html><title>error</title><p>internal error</p>")
    })
}

/// `GET /assets/app.css`: the style sheet, embedded in the binary.
pub async fn stylesheet() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/app.css"),
    )
        .into_response()
}

/// `GET /`: what the platform is and key figures.
pub async fn home(State(s): State<AppState>) -> Result<Html<String>, WebError> {
    let stats = blocking(&s, |app| app.department_stats_cached(60)).await?;
    let cases: i64 = stats.iter().map(|d| d.cases).sum();
    let finished: i64 = stats.iter().map(|d| d.finished).sum();
    let on_time: i64 = stats.iter().map(|d| d.on_time).sum();
    let red: i64 = stats.iter().map(|d| d.red_open).sum();
    let yellow: i64 = stats.iter().map(|d| d.yellow_open).sum();
    let ratings: i64 = stats.iter().map(|d| d.ratings).sum();
    let bad: i64 = stats.iter().map(|d| d.bad_ratings).sum();
    let pct = |a: i64, b: i64| {
        if b > 0 {
            format!("{:.2}%", a as f64 * 100.0 / b as f64)
        } else {
            "—".into()
        }
    };
    let mut rows = String::new();
    for d in stats.iter().filter(|d| d.cases > 0) {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.name),
            d.cases,
            pct(d.on_time, d.finished),
            pct(d.ratings - d.bad_ratings, d.ratings),
            d.red_open,
            d.yellow_open
        ));
    }
    let body = format!(
        "<h1>行政审批电子监察平台</h1><p>每一个办件的每一个环节都有记录、有时限、可查询；超时亮黄牌、红牌，违规收费、体外循环等异常自动预警，\
         每一项预警都有责任单位、期限和结果。</p>\
         <section aria-labelledby=\"figs\"><h2 id=\"figs\">全市数据</h2><div class=\"figs\">\
         <div class=\"fig\">办件总数<b>{cases}</b></div><div class=\"fig\">按时办结率<b>{}</b></div><div class=\"fig\">满意率<b>{}</b></div>\
         <div class=\"fig\">在办红牌<b>{red}</b></div><div class=\"fig\">在办黄牌<b>{yellow}</b></div></div></section>\
         <section class=\"card\"><h2>办件查询</h2><form action=\"/query\" method=\"get\"><label for=\"case_no\">办件编号</label><input id=\"case_no\" name=\"case_no\" required>\
         <label for=\"code\">查询码</label><input id=\"code\" name=\"code\" required inputmode=\"numeric\"><button type=\"submit\">查询</button></form></section>\
         <section><h2>各部门情况</h2><table><thead><tr><th scope=\"col\">部门</th><th scope=\"col\">办件</th><th scope=\"col\">按时办结率</th><th scope=\"col\">满意率</th><th scope=\"col\">红牌</th><th scope=\"col\">黄牌</th></tr></thead><tbody>{rows}</tbody></table></section>",
        pct(on_time, finished),
        pct(ratings - bad, ratings),
    );
    Ok(Html(layout("首页", &body)))
}

/// The query form's fields.
#[derive(Deserialize)]
pub struct QueryForm {
    case_no: Option<String>,
    code: Option<String>,
}

/// `GET /query`: the form, or a case's timeline, deadline and status.
pub async fn query(State(s): State<AppState>, Query(q): Query<QueryForm>) -> Response {
    let form = |case_no: &str, msg: &str| {
        format!(
            "<h1>办件查询</h1>{msg}<form method=\"get\" action=\"/query\"><label for=\"case_no\">办件编号</label><input id=\"case_no\" name=\"case_no\" value=\"{}\" required>\
             <label for=\"code\">查询码</label><input id=\"code\" name=\"code\" required inputmode=\"numeric\"><button type=\"submit\">查询</button></form>",
            esc(case_no)
        )
    };
    let (Some(case_no), Some(code)) = (
        q.case_no.filter(|c| !c.trim().is_empty()),
        q.code.filter(|c| !c.trim().is_empty()),
    ) else {
        return Html(layout(
            "办件查询",
            &form("", "<p>请输入受理时告知您的办件编号和查询码。</p>"),
        ))
        .into_response();
    };
    let no = case_no.trim().to_string();
    let query_code = code.trim().to_string();
    let form_token = super::portal::new_token();
    let result = blocking(&s, move |app| app.public_case(&no, &code)).await;
    match result {
        Ok(v) => {
            let mut rows = String::new();
            for e in &v.timeline {
                // Each step's receipt: the record, its inclusion proof and a signed checkpoint,
                // verifiable offline with `lianzheng verify receipt`.
                let receipt = format!(
                    "/api/v1/public/cases/{}/receipts/{}?query_code={}",
                    url_component(&v.case_no),
                    e.seq,
                    url_component(&query_code)
                );
                rows.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\" download>下载回执</a></td></tr>",
                    esc(&e.at),
                    esc(&e.kind_zh),
                    esc(&e.detail),
                    esc(&e.actor),
                    esc(&receipt)
                ));
            }
            let due = v
                .promised_due
                .as_deref()
                .map_or_else(|| "（受理后计算）".to_string(), esc);
            let provisional = if v.due_provisional {
                "（暂定：所涉年度放假安排尚未公布）"
            } else {
                ""
            };
            let stopped = if v.clock_stopped {
                "（特别程序中，计时暂停）"
            } else {
                ""
            };
            let cls = if v.deadline_status.contains("超时") {
                "late"
            } else {
                "ok"
            };
            let rating = match &v.rating {
                Some(r) => format!(
                    "<p>评价：{}（{}） {}</p>{}",
                    esc(&r.satisfaction_zh),
                    esc(&r.rated_at),
                    esc(&r.comment),
                    r.answer
                        .as_deref()
                        .map_or_else(String::new, |a| format!("<p>部门答复：{}</p>", esc(a)))
                ),
                None if v.can_rate => {
                    super::portal::rating_form(&v.case_no, &query_code, &form_token)
                }
                None => String::new(),
            };
            let body = format!(
                "<h1>办件 {}</h1><div class=\"card\"><p>事项：{}<br>实施部门：{}<br>申请人：{}<br>状态：{}<br>\
                 承诺时限：{}，法定时限：{}<br>承诺办结日期：{due}{provisional}{stopped}<br>时限状态：<span class=\"{cls}\">{}</span><br>监督电话：{}</p>{rating}</div>\
                 <h2>办理过程</h2><table><thead><tr><th scope=\"col\">时间</th><th scope=\"col\">环节</th><th scope=\"col\">内容</th><th scope=\"col\">经办人</th><th scope=\"col\">存证回执</th></tr></thead><tbody>{rows}</tbody></table>\
                 <p>回执可用 <code>lianzheng verify receipt 文件 --vkey 公钥</code> 离线验证；日志公钥见 <a href=\"/log/vkey\">/log/vkey</a>。</p>",
                esc(&v.case_no),
                esc(&v.item_name),
                esc(&v.department),
                esc(&v.applicant),
                esc(&v.status_zh),
                esc(&v.promised_limit),
                esc(&v.legal_limit),
                esc(&v.deadline_status),
                esc(&v.supervision_phone),
            );
            let mut res = Html(layout("办件查询", &body)).into_response();
            if let Some(c) = super::portal::form_cookie(&form_token) {
                res.headers_mut().append(axum::http::header::SET_COOKIE, c);
            }
            res
        }
        Err(WebError::NotFound(_)) => (
            StatusCode::NOT_FOUND,
            Html(layout(
                "办件查询",
                &form(
                    &case_no,
                    "<p class=\"err\" role=\"alert\">未找到该办件，或查询码不正确。</p>",
                ),
            )),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// The form of `/verify`.
#[derive(Deserialize)]
pub struct VerifyForm {
    receipt: String,
}

fn verify_page(result: &str, receipt: &str) -> String {
    format!(
        "<h1>回执验证</h1><p>粘贴办件查询页下载的存证回执（.tlog-proof），用本平台日志公钥验证签名、包含证明和记录承诺。\
         也可离线验证：<code>lianzheng verify receipt 文件 --vkey 公钥</code>（公钥见 <a href=\"/log/vkey\">/log/vkey</a>）。</p>{result}\
         <form method=\"post\" action=\"/verify\"><label for=\"receipt\">回执内容</label>\
         <textarea id=\"receipt\" name=\"receipt\" rows=\"12\" style=\"width:100%;font-family:monospace\" required>{}</textarea>\
         <button type=\"submit\">验证</button></form>",
        esc(receipt)
    )
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

/// `GET /verify`: paste a receipt.
pub async fn verify_form() -> Html<String> {
    Html(layout("回执验证", &verify_page("", "")))
}

/// `POST /verify`: verifies a pasted receipt against this log's key. Changes nothing.
pub async fn verify_submit(
    State(s): State<AppState>,
    axum::Form(f): axum::Form<VerifyForm>,
) -> Response {
    let Some(vkey) = s.vkey.clone() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(layout(
                "回执验证",
                &verify_page(
                    "<p class=\"err\" role=\"alert\">本服务器未配置日志密钥。</p>",
                    &f.receipt,
                ),
            )),
        )
            .into_response();
    };
    let text = f.receipt.replace("\r\n", "\n");
    let result = match lianzheng_tlog::receipt::Receipt::parse(&text) {
        Err(e) => Err(format!("回执格式不正确：{e}")),
        Ok(r) => r
            .verify_self_contained(&vkey)
            .map_err(|e| format!("验证失败：{e}"))
            .map(|rec| (r.index, rec)),
    };
    match result {
        Ok((index, rec)) => {
            let payload = readable_record(&rec.payload);
            let body = format!(
                "<div class=\"card\" role=\"status\"><p class=\"ok\"><strong>验证通过</strong>：第 {} 条记录包含在日志 {}（规模 {}）中，签名有效，记录内容与承诺一致。</p>\
                 <p>记录类型：{}</p><pre style=\"white-space:pre-wrap\">{}</pre></div>",
                index + 1,
                esc(&rec.checkpoint.origin),
                rec.checkpoint.size,
                esc(&rec.leaf.schema),
                esc(&payload)
            );
            Html(layout("回执验证", &verify_page(&body, &f.receipt))).into_response()
        }
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(layout(
                "回执验证",
                &verify_page(
                    &format!("<p class=\"err\" role=\"alert\">{}</p>", esc(&e)),
                    &f.receipt,
                ),
            )),
        )
            .into_response(),
    }
}
