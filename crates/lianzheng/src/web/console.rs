//! The staff console (登录后): the supervision board (findings by level, department and age, with
//! 督办, 整改反馈, 摘牌, 升级, 办结), bad ratings awaiting answers, a case with its applicant's data
//! (each view recorded), and the record of personal-data access for auditors.
//!
//! Sessions live in an `HttpOnly`, `SameSite=Strict` cookie; every form carries the session's
//! CSRF token (the login form a double-submit token), checked before anything is done.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lianzheng_app::auth::Session;
use lianzheng_core::finding::FindingAction;
use lianzheng_core::time::{end_of, format_local, local_date};
use serde::Deserialize;

use super::i18n::Ui;
use super::pages::{esc, layout, layout_ui};
use super::{AppState, WebError, blocking};

const SESSION_COOKIE: &str = "lz_session";
const LOGIN_CSRF_COOKIE: &str = "lz_login_csrf";

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

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn session(s: &AppState, headers: &HeaderMap) -> Result<Option<Session>, WebError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    blocking(s, move |app| app.session(&token)).await
}

fn to_login() -> Response {
    Redirect::to("/console/login").into_response()
}

/// The console's layout (`templates/console.html`): the staff navigation and a wider page.
#[derive(askama::Template)]
#[template(path = "console.html")]
struct ConsolePage<'a> {
    ui: super::i18n::Ui,
    title: &'a str,
    body: &'a str,
}

/// A console page in the reader's language, with the language switch.
pub(super) fn page_in(ui: &Ui, title: &str, body: &str) -> Html<String> {
    use askama::Template;
    Html(
        ConsolePage {
            ui: ui.clone(),
            title,
            body,
        }
        .render()
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "rendering the console layout failed");
            if ui.en() {
                layout_ui(ui, title, body)
            } else {
                layout(title, body)
            }
        }),
    )
}

/// An error page in the reader's language: `title` already translated, `msg` a use case's
/// message (translated here when it can be).
pub(super) fn error_in(ui: &Ui, status: StatusCode, title: &str, msg: &str) -> Response {
    (
        status,
        page_in(
            ui,
            title,
            &format!(
                "<h1>{}</h1><p class=\"err\" role=\"alert\">{}</p><p><a href=\"/console\">{}</a></p>",
                esc(title),
                esc(ui.msg(msg)),
                ui.t("返回工作台")
            ),
        ),
    )
        .into_response()
}

/// `GET /console/login`.
pub async fn login_form(headers: HeaderMap, ui: Ui) -> Response {
    login_page(&ui, &headers, "", StatusCode::OK)
}

fn login_page(ui: &Ui, headers: &HeaderMap, error: &str, status: StatusCode) -> Response {
    // Double-submit token for the login form: a random value in a cookie and in the form.
    let token = cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 32)
        .unwrap_or_else(|| {
            use lianzheng_app::Entropy;
            let mut b = [0u8; 16];
            lianzheng_app::OsEntropy.fill(&mut b);
            b.iter().map(|x| format!("{x:02x}")).collect()
        });
    let err = if error.is_empty() {
        String::new()
    } else {
        format!("<p class=\"err\" role=\"alert\">{}</p>", esc(ui.msg(error)))
    };
    let body = format!(
        "<h1>{title}</h1>{err}<form method=\"post\" action=\"/console/login\" class=\"card\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <label for=\"username\">{user}</label><input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
         <label for=\"password\">{pass}</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">{login}</button></form>",
        title = ui.t("工作人员登录"),
        user = ui.t("用户名"),
        pass = ui.t("密码"),
        login = ui.t("登录"),
    );
    let mut res = (status, page_in(ui, ui.t("工作人员登录"), &body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=3600"
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

/// `POST /console/login`.
pub async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_eq(&expected, &f.csrf) {
        return login_page(
            &ui,
            &headers,
            ui.t("页面已过期，请重新登录"),
            StatusCode::FORBIDDEN,
        );
    }
    let (user, pass) = (f.username.trim().to_string(), f.password);
    match blocking(&s, move |app| app.login(&user, &pass)).await {
        Ok(session) => {
            let mut res = Redirect::to("/console").into_response();
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                session.token,
                lianzheng_app::auth::SESSION_HOURS * 3600,
                if s.secure_cookies { "; Secure" } else { "" }
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(WebError::Forbidden(msg)) => login_page(&ui, &headers, &msg, StatusCode::FORBIDDEN),
        Err(e) => e.into_response(),
    }
}

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

impl CsrfForm {
    /// The token.
    pub(super) fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /console/logout`.
pub async fn logout(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::Form(f): axum::Form<CsrfForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(sess) => sess,
        Err(res) => return Ok(res),
    };
    let token = sess.token.clone();
    blocking(&s, move |app| app.logout(&token)).await?;
    let mut res = Redirect::to("/console/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("lz_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(res)
}

fn level_class(level: &str) -> &'static str {
    match level {
        "3" => "late",
        "2" => "warn",
        _ => "",
    }
}

/// The board's filters.
#[derive(Deserialize, Default)]
pub struct BoardQuery {
    level: Option<String>,
    department: Option<String>,
    min_age_days: Option<i64>,
    sort: Option<String>,
}

fn board_filters(
    ui: &Ui,
    q: &BoardQuery,
    departments: &[lianzheng_app::catalog::Department],
    all_departments: bool,
) -> String {
    let sel = |a: Option<&str>, b: &str| if a == Some(b) { " selected" } else { "" };
    let level = q.level.as_deref();
    let levels: String = [
        ("", ui.t("全部级别")),
        ("3", ui.t("红牌报警")),
        ("2", ui.t("黄牌预警")),
        ("1", ui.t("提醒")),
    ]
    .iter()
    .map(|(v, l)| {
        format!(
            "<option value=\"{v}\"{}>{l}</option>",
            sel(level.or(Some("")), v)
        )
    })
    .collect();
    let dep = if all_departments {
        let options: String = departments
            .iter()
            .map(|d| {
                format!(
                    "<option value=\"{}\"{}>{}</option>",
                    esc(&d.code),
                    sel(q.department.as_deref(), &d.code),
                    esc(&d.name)
                )
            })
            .collect();
        format!(
            "<label class=\"inline\">{} <select name=\"department\"><option value=\"\">{}</option>{options}</select></label>",
            ui.t("部门"),
            ui.t("全部部门")
        )
    } else {
        String::new()
    };
    let ages: String = [
        (0, ui.t("不限")),
        (3, ui.t("3天以上")),
        (7, ui.t("7天以上")),
        (30, ui.t("30天以上")),
    ]
    .iter()
    .map(|(d, l)| {
        let s = if q.min_age_days.unwrap_or(0) == *d {
            " selected"
        } else {
            ""
        };
        format!("<option value=\"{d}\"{s}>{l}</option>")
    })
    .collect();
    let oldest = sel(q.sort.as_deref(), "oldest");
    format!(
        "<form method=\"get\" action=\"/console\" class=\"card filters\"><label class=\"inline\">{} <select name=\"level\">{levels}</select></label>{dep}\
         <label class=\"inline\">{} <select name=\"min_age_days\">{ages}</select></label>\
         <label class=\"inline\">{} <select name=\"sort\"><option value=\"\">{}</option><option value=\"oldest\"{oldest}>{}</option></select></label>\
         <button type=\"submit\">{}</button></form>",
        ui.t("级别"),
        ui.t("已开具"),
        ui.t("排序"),
        ui.t("最新在前"),
        ui.t("最久在前"),
        ui.t("筛选")
    )
}

/// `GET /console`: the board for the signed-in role.
pub async fn board(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    Query(q): Query<BoardQuery>,
) -> Result<Response, WebError> {
    let Some(sess) = session(&s, &headers).await? else {
        return Ok(to_login());
    };
    let p = sess.user.principal();
    let (p1, p2, p3) = (p.clone(), p.clone(), p.clone());
    let nonempty = |v: &Option<String>| v.clone().filter(|x| !x.is_empty());
    let filter = lianzheng_app::views::FindingFilter {
        limit: Some(300),
        open: Some(true),
        level: nonempty(&q.level),
        department: nonempty(&q.department),
        min_age_days: q.min_age_days,
        sort: nonempty(&q.sort),
        ..Default::default()
    };
    let departments = blocking(&s, |app| app.departments()).await?;
    let filters = board_filters(&ui, &q, &departments, p.supervises());
    let findings = blocking(&s, move |app| app.findings(&p1, &filter)).await?;
    let pending = blocking(&s, move |app| app.pending_bad_ratings(&p2))
        .await
        .unwrap_or_default();
    let access = blocking(&s, move |app| app.personal_data_access(&p3, 50))
        .await
        .ok();
    let csrf = esc(&sess.csrf);
    let supervises = p.supervises();
    let mut rows = String::new();
    for f in findings
        .iter()
        .filter(|f| matches!(f.status.as_str(), "open" | "supervised" | "rectified"))
    {
        let mut actions = String::new();
        if supervises {
            actions.push_str(&format!(
                "<form method=\"post\" action=\"/console/findings/{id}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <label class=\"sr\" for=\"a{id}\">{op}</label><select id=\"a{id}\" name=\"action\"><option value=\"supervise\">{supervise}</option><option value=\"withdraw\">{withdraw}</option>\
                 <option value=\"escalate\">{escalate}</option><option value=\"close\">{close}</option></select>\
                 <label class=\"sr\" for=\"t{id}\">{note}</label><input id=\"t{id}\" name=\"text\" placeholder=\"{hint}\" required>\
                 <button type=\"submit\">{submit}</button></form>",
                id = f.id,
                op = ui.t("操作"),
                supervise = ui.t("督办"),
                withdraw = ui.t("摘牌"),
                escalate = ui.t("升级"),
                close = ui.pick("办结", "Close"),
                note = ui.t("说明"),
                hint = ui.t("督办要求/理由/结论"),
                submit = ui.t("提交"),
            ));
        } else if p.may_act_for(&f.department) && matches!(f.status.as_str(), "open" | "supervised")
        {
            actions.push_str(&format!(
                "<form method=\"post\" action=\"/console/findings/{id}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"action\" value=\"rectify\"><label class=\"sr\" for=\"t{id}\">{done}</label>\
                 <input id=\"t{id}\" name=\"text\" placeholder=\"{done}\" required><button type=\"submit\">{report}</button></form>",
                id = f.id,
                done = ui.t("整改情况"),
                report = ui.t("整改反馈"),
            ));
        }
        let subject = if f.subject_type == "case" {
            format!("<a href=\"/console/cases/{0}\">{0}</a>", esc(&f.subject_id))
        } else {
            format!("{} {}", esc(&f.subject_type), esc(&f.subject_id))
        };
        rows.push_str(&format!(
            "<tr><td class=\"{}\">{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            level_class(&f.level),
            esc(ui.msg(&f.level_zh)),
            esc(&f.code),
            esc(lianzheng_core::rules::meta(&f.code).map_or(f.rule.as_str(), |m| ui.pick(m.name_zh, m.name_en))),
            subject,
            esc(&f.department),
            esc(&f.message),
            esc(lianzheng_core::finding::FindingStatus::parse(&f.status).map_or("", |x| ui.msg(x.label_zh()))),
            esc(&f.opened_at),
            esc(&f.due_at),
            actions
        ));
    }
    let mut ratings = String::new();
    for r in &pending {
        let answer = if p.may_act_for(&r.department) {
            format!(
                "<form method=\"post\" action=\"/console/ratings/{no}/answer\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <label class=\"sr\" for=\"r{no}\">{answer}</label><input id=\"r{no}\" name=\"answer\" placeholder=\"{hint}\" required><button type=\"submit\">{answer}</button></form>",
                no = esc(&r.case_no),
                answer = ui.t("答复"),
                hint = ui.t("整改答复"),
            )
        } else {
            String::new()
        };
        ratings.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{answer}</td></tr>",
            esc(&r.case_no),
            esc(&r.department),
            esc(&r.comment),
            esc(&r.rated_at),
            esc(&r.due_at)
        ));
    }
    let access_section = match access {
        Some(rows) => {
            let mut t = String::new();
            for (seq, case, actor, at) in rows {
                t.push_str(&format!(
                    "<tr><td>{seq}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&case),
                    esc(&actor),
                    esc(&format_local(at))
                ));
            }
            format!(
                "<section><h2>{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>{t}</tbody></table></section>",
                ui.t("个人信息访问记录"),
                ui.t("记录号"),
                ui.pick("办件", "Case"),
                ui.t("访问人"),
                ui.t("时间")
            )
        }
        None => String::new(),
    };
    let th = |text: &str| format!("<th scope=\"col\">{text}</th>");
    let body = format!(
        "<h1>{}</h1><p>{}{}{}{}{}</p>\
         {}<form method=\"post\" action=\"/console/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">{}</button></form>\
         <section><h2>{}{}{}{}</h2>{filters}<div class=\"scroll\"><table><thead><tr>{}{}{}{}{}{}{}{}{}</tr></thead><tbody>{rows}</tbody></table></div></section>\
         <section><h2>{}{}{}{}</h2><table><thead><tr>{}{}{}{}{}{}</tr></thead><tbody>{ratings}</tbody></table></section>{access_section}",
        ui.t("工作台"),
        esc(&sess.user.display_name),
        ui.pick("（", " ("),
        ui.msg(sess.user.role_zh()),
        sess.user
            .department
            .as_deref()
            .map_or_else(String::new, |d| format!(
                "{}{}",
                ui.pick("，", ", "),
                esc(d)
            )),
        ui.pick("）", ")"),
        if sess.user.department.is_some() {
            format!(
                "<p><a href=\"/console/register\">{}</a></p>",
                ui.t("窗口受理登记")
            )
        } else {
            String::new()
        },
        ui.t("退出登录"),
        ui.t("预警与报警"),
        ui.pick("（", " ("),
        rows.matches("<tr>").count(),
        ui.pick("）", ")"),
        th(ui.t("级别")),
        th(ui.t("规则")),
        th(ui.t("对象")),
        th(ui.t("部门")),
        th(ui.t("内容")),
        th(ui.t("状态")),
        th(ui.t("开具时间")),
        th(ui.t("期限")),
        th(ui.t("操作")),
        ui.t("待答复差评"),
        ui.pick("（", " ("),
        pending.len(),
        ui.pick("）", ")"),
        th(ui.pick("办件", "Case")),
        th(ui.t("部门")),
        th(ui.t("评价内容")),
        th(ui.t("评价时间")),
        th(ui.t("整改期限")),
        th(ui.t("答复")),
    );
    Ok(page_in(&ui, ui.t("工作台"), &body).into_response())
}

/// The session of a page view; otherwise the redirect to the login page.
pub(super) async fn session_or_login(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<Result<Session, Response>, WebError> {
    Ok(session(s, headers).await?.ok_or_else(to_login))
}

/// The session of a form post, if its CSRF token matches; otherwise the response to send.
pub(super) async fn checked(
    s: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Result<Session, Response>, WebError> {
    let Some(sess) = session(s, headers).await? else {
        return Ok(Err(to_login()));
    };
    if !constant_eq(&sess.csrf, csrf) {
        let ui = Ui::from_headers(headers);
        return Ok(Err(error_in(
            &ui,
            StatusCode::FORBIDDEN,
            ui.t("操作被拒绝"),
            ui.t("页面已过期，请刷新后重试"),
        )));
    }
    Ok(Ok(sess))
}

/// The page after an action: back to the board, or the refusal in the reader's language.
fn after_action<T>(ui: &Ui, r: Result<T, WebError>) -> Result<Response, WebError> {
    match r {
        Ok(_) => Ok(Redirect::to("/console").into_response()),
        Err(WebError::Forbidden(m)) => {
            Ok(error_in(ui, StatusCode::FORBIDDEN, ui.t("无权操作"), &m))
        }
        Err(WebError::Conflict(m)) | Err(WebError::BadRequest(m)) => {
            Ok(error_in(ui, StatusCode::CONFLICT, ui.t("操作未执行"), &m))
        }
        Err(WebError::NotFound(m)) => Ok(error_in(ui, StatusCode::NOT_FOUND, ui.t("未找到"), &m)),
        Err(e) => Err(e),
    }
}

/// An action form.
#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    action: String,
    text: String,
}

/// `POST /console/findings/{id}`.
pub async fn act(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ui: Ui,
    axum::Form(f): axum::Form<ActionForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(sess) => sess,
        Err(res) => return Ok(res),
    };
    let text = f.text.trim().to_string();
    let p = sess.user.principal();
    let app = std::sync::Arc::clone(&s.app);
    let action = match f.action.as_str() {
        "supervise" => {
            // A 督办 gives the department B001's working days by default.
            let cal = app.calendar();
            let days = app.rule_pack().int("B001", "days").max(1);
            FindingAction::Supervise {
                order: text,
                due_at: end_of(cal.add_workdays(local_date(app.now()), days).value),
            }
        }
        "rectify" => FindingAction::Rectify { text },
        "withdraw" => FindingAction::Withdraw { reason: text },
        "escalate" => FindingAction::Escalate { reason: text },
        "close" => FindingAction::Close { conclusion: text },
        _ => {
            return Ok(error_in(
                &ui,
                StatusCode::BAD_REQUEST,
                ui.t("操作无效"),
                ui.t("未知的操作"),
            ));
        }
    };
    after_action(
        &ui,
        blocking(&s, move |app| app.act_on_finding(&p, id, action)).await,
    )
}

/// An answer form.
#[derive(Deserialize)]
pub struct AnswerForm {
    csrf: String,
    answer: String,
}

/// `POST /console/ratings/{case_no}/answer`.
pub async fn answer(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_no): Path<String>,
    ui: Ui,
    axum::Form(f): axum::Form<AnswerForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(sess) => sess,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    after_action(
        &ui,
        blocking(&s, move |app| app.answer_rating(&p, &case_no, &f.answer)).await,
    )
}

/// The forms of a special procedure (特别程序, 行政许可法第四十五条): start one of the item's
/// kinds or an extension (延长审批) with its approval, or end the running one.
fn special_forms(
    ui: &Ui,
    c: &serde_json::Value,
    v: &serde_json::Value,
    form: &dyn Fn(&str, &str) -> String,
) -> String {
    let running = c["procedures"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["procedure_type"] == "2" && p["end"].is_null());
    if let Some(p) = running {
        return form(
            &format!(
                "<h2>{}</h2><p>{}{}{}</p><input type=\"hidden\" name=\"kind\" value=\"procedure_end\">\
                 <label for=\"proc_result\">{}</label><input id=\"proc_result\" name=\"result\" maxlength=\"200\" required>",
                ui.t("特别程序"),
                ui.t("进行中："),
                esc(p["name"].as_str().unwrap_or("")),
                ui.t("（计时暂停）"),
                ui.t("特别程序结果"),
            ),
            ui.t("结束特别程序"),
        );
    }
    // The value names the procedure as recorded (data); the label is in the reader's language.
    let mut kinds = format!(
        "<option value=\"1|延长审批\">{}</option>",
        ui.t("延长审批（须经批准）")
    );
    for k in v["special_procedures"].as_array().into_iter().flatten() {
        let k = esc(k.as_str().unwrap_or(""));
        kinds.push_str(&format!(
            "<option value=\"2|{k}\">{k}{}</option>",
            ui.t("（计时暂停）")
        ));
    }
    form(
        &format!(
            "<h2>{}</h2><input type=\"hidden\" name=\"kind\" value=\"procedure_start\">\
             <label for=\"procedure\">{}</label><select id=\"procedure\" name=\"procedure\">{kinds}</select>\
             <label for=\"proc_reason\">{}</label><input id=\"proc_reason\" name=\"reason\" maxlength=\"200\" required>\
             <label for=\"proc_basis\">{}</label><input id=\"proc_basis\" name=\"basis\" maxlength=\"200\" required placeholder=\"{}\">\
             <label for=\"proc_approver\">{}</label><input id=\"proc_approver\" name=\"approver\" maxlength=\"50\" required>\
             <label for=\"proc_days\">{}</label><input id=\"proc_days\" name=\"days\" inputmode=\"numeric\" maxlength=\"3\">",
            ui.t("特别程序"),
            ui.t("种类"),
            ui.t("启动理由"),
            ui.t("依据"),
            ui.t("如：《行政许可法》第四十二条"),
            ui.t("批准人"),
            ui.t("延长工作日（仅延长审批）"),
        ),
        ui.t("启动特别程序"),
    )
}

/// The form of a fee charged (收费), against the item's fee catalog.
fn fee_form(ui: &Ui, v: &serde_json::Value, form: &dyn Fn(&str, &str) -> String) -> String {
    let mut options = String::new();
    for f in v["fees"].as_array().into_iter().flatten() {
        let standard = f["standard_fen"].as_i64().unwrap_or(0);
        options.push_str(&format!(
            "<option value=\"{}\">{}{}{}.{:02}{}</option>",
            esc(f["code"].as_str().unwrap_or("")),
            esc(f["name"].as_str().unwrap_or("")),
            ui.t("（标准 "),
            standard / 100,
            standard % 100,
            ui.t(" 元）")
        ));
    }
    options.push_str(&format!(
        "<option value=\"other\">{}</option>",
        ui.t("目录外收费")
    ));
    form(
        &format!(
            "<h2>{}</h2><input type=\"hidden\" name=\"kind\" value=\"fee\">\
             <label for=\"fee_code\">{}</label><select id=\"fee_code\" name=\"fee_code\">{options}</select>\
             <label for=\"amount\">{}</label><input id=\"amount\" name=\"amount\" required inputmode=\"decimal\" maxlength=\"12\">",
            ui.t("收费"),
            ui.t("收费项目"),
            ui.t("金额（元）"),
        ),
        ui.t("记录收费"),
    )
}

/// `GET /console/cases/{case_no}`: the case with the applicant's data; the view is recorded.
pub async fn case(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_no): Path<String>,
    ui: Ui,
) -> Result<Response, WebError> {
    let Some(sess) = session(&s, &headers).await? else {
        return Ok(to_login());
    };
    let p = sess.user.principal();
    let no = case_no.clone();
    let v = match blocking(&s, move |app| app.staff_case(&p, &no)).await {
        Ok(v) => v,
        Err(WebError::NotFound(_)) => {
            return Ok(error_in(
                &ui,
                StatusCode::NOT_FOUND,
                ui.t("未找到"),
                ui.t("没有该办件，或不属于本部门"),
            ));
        }
        Err(e) => return Err(e),
    };
    let applicant = &v["applicant"];
    let c = &v["case"];
    let csrf = esc(&sess.csrf);
    let status = c["status"].as_str().unwrap_or("");
    let mut forms = String::new();
    let form = |inner: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"/console/cases/{}/events\" class=\"card\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{inner}<button type=\"submit\">{label}</button></form>",
            super::pages::url_component(&case_no)
        )
    };
    if sess
        .user
        .principal()
        .may_act_for(c["department"].as_str().unwrap_or(""))
    {
        match status {
            "registered" | "awaiting_correction" => forms.push_str(&form(
                "<input type=\"hidden\" name=\"kind\" value=\"accept\">",
                ui.t("受理"),
            )),
            "accepted" | "in_progress" => {
                let next = usize::try_from(c["next_step"].as_u64().unwrap_or(0)).unwrap_or(0);
                let mut options = String::new();
                for (i, st) in v["steps"].as_array().into_iter().flatten().enumerate() {
                    let name = st.as_str().unwrap_or("");
                    let sel = if i == next { " selected" } else { "" };
                    options.push_str(&format!(
                        "<option value=\"{0}\"{sel}>{0}</option>",
                        esc(name)
                    ));
                }
                forms.push_str(&form(
                    &format!(
                        "<h2>{}</h2><input type=\"hidden\" name=\"kind\" value=\"step\"><label for=\"step\">{}</label><select id=\"step\" name=\"step\">{options}</select>\
                         <label for=\"action\">{}</label><select id=\"action\" name=\"action\"><option value=\"pass\">{}</option><option value=\"return\">{}</option></select>\
                         <label for=\"opinion\">{}</label><input id=\"opinion\" name=\"opinion\" maxlength=\"500\">",
                        ui.t("办理环节"),
                        ui.t("环节"),
                        ui.t("业务动作"),
                        ui.t("通过"),
                        ui.t("退回"),
                        ui.t("处理意见"),
                    ),
                    ui.t("记录环节"),
                ));
                forms.push_str(&form(
                    &format!(
                        "<h2>{}</h2><input type=\"hidden\" name=\"kind\" value=\"finish\"><label for=\"result\">{}</label><select id=\"result\" name=\"result\"><option value=\"granted\">{}</option><option value=\"denied\">{}</option></select>",
                        ui.pick("办结", "Finish the case"),
                        ui.t("办结结果"),
                        ui.t("准予"),
                        ui.t("不予"),
                    ),
                    ui.pick("办结", "Finish"),
                ));
            }
            "finished" => forms.push_str(&form(
                "<input type=\"hidden\" name=\"kind\" value=\"deliver\">",
                ui.t("送达"),
            )),
            _ => {}
        }
        if matches!(status, "accepted" | "in_progress" | "suspended") {
            forms.push_str(&special_forms(&ui, c, &v, &form));
        }
        if matches!(
            status,
            "accepted" | "in_progress" | "suspended" | "finished"
        ) {
            forms.push_str(&fee_form(&ui, &v, &form));
        }
    }
    let zh = v["status_zh"].as_str().unwrap_or(status);
    let status_label =
        serde_json::from_value::<lianzheng_core::case::CaseStatus>(c["status"].clone())
            .map_or_else(|_| zh.to_string(), |x| ui.label(zh, x.label_en()));
    let body = format!(
        "<h1>{} {}</h1><p class=\"err\">{}</p><div class=\"card\"><p>{}{}<br>{}{}<br>{}{}<br>{}{}<br>{}{}<br>{}<span id=\"status\">{}</span></p></div>\
         {forms}<details><summary>{}</summary><pre>{}</pre></details><p><a href=\"/console\">{}</a></p>",
        ui.pick("办件", "Case"),
        esc(&case_no),
        ui.t("本页含个人信息，访问已记录。"),
        ui.t("申请人："),
        esc(applicant["name"].as_str().unwrap_or("")),
        ui.t("证件号码："),
        esc(applicant["id_no"].as_str().unwrap_or("")),
        ui.t("手机："),
        esc(applicant["phone"].as_str().unwrap_or("")),
        ui.t("事项："),
        esc(v["item_name"].as_str().unwrap_or("")),
        ui.t("部门："),
        esc(c["department"].as_str().unwrap_or("")),
        ui.t("状态："),
        esc(&status_label),
        ui.t("办件状态数据"),
        esc(&serde_json::to_string_pretty(c).unwrap_or_default()),
        ui.t("返回工作台"),
    );
    Ok(page_in(&ui, ui.t("办件详情"), &body).into_response())
}
