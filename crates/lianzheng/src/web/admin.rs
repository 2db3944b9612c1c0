//! The console's administration (系统管理): users and roles, API keys, the rule pack and the
//! holiday calendar; and the record of personal-data access (个人信息访问记录) for auditors.
//! Every change goes through a use case that checks the role and writes an event to the log.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lianzheng_app::admin::ROLES;
use lianzheng_core::time::format_local;
use serde::Deserialize;

use super::console::{checked, error_in, page_in, session_or_login};
use super::i18n::Ui;
use super::pages::esc;
use super::{AppState, WebError, blocking};

fn role_zh(role: &str) -> &'static str {
    lianzheng_app::auth::User {
        username: String::new(),
        display_name: String::new(),
        role: role.to_string(),
        department: None,
    }
    .role_zh()
}

/// What a failed administrative action shows: the use case's message, in a page.
fn failed(ui: &Ui, e: WebError) -> Result<Response, WebError> {
    match e {
        WebError::Forbidden(m) => Ok(error_in(ui, StatusCode::FORBIDDEN, ui.t("无权操作"), &m)),
        WebError::BadRequest(m) | WebError::Conflict(m) | WebError::NotFound(m) => {
            Ok(error_in(ui, StatusCode::BAD_REQUEST, ui.t("未能保存"), &m))
        }
        e => Err(e),
    }
}

fn done(ui: &Ui, r: Result<impl Sized, WebError>, back: &str) -> Result<Response, WebError> {
    match r {
        Ok(_) => Ok(Redirect::to(back).into_response()),
        Err(e) => failed(ui, e),
    }
}

/// `GET /console/admin`: users, keys, the rule pack and the calendar (administrators).
pub async fn index(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    let data = blocking(&s, move |app| {
        Ok((
            app.users(&p)?,
            app.api_keys(&p)?,
            app.rule_pack_versions()?,
            app.calendar_years()?,
            app.rule_pack().to_toml(),
            app.departments()?,
        ))
    })
    .await;
    let (users, keys, packs, years, pack, departments) = match data {
        Ok(d) => d,
        Err(e) => return failed(&ui, e),
    };
    let csrf = esc(&sess.csrf);
    let hidden = format!("<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">");
    let mut user_rows = String::new();
    for u in &users {
        let locked = u
            .locked_until
            .map(|t| format!("{}{}", ui.t("锁定至 "), format_local(t)))
            .unwrap_or_default();
        let unlock = if u.locked_until.is_some() || u.failed_logins > 0 {
            format!(
                "<form method=\"post\" action=\"/console/admin/users/{0}/unlock\">{hidden}<button type=\"submit\">{1}</button></form>",
                esc(&u.username),
                ui.t("解除锁定")
            )
        } else {
            String::new()
        };
        user_rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {locked}</td><td>{unlock}</td></tr>",
            esc(&u.username),
            esc(&u.display_name),
            ui.msg(role_zh(&u.role)),
            esc(u.department.as_deref().unwrap_or("—")),
            format_local(u.created_at),
            u.failed_logins,
        ));
    }
    let role_options: String = ROLES
        .iter()
        .map(|r| format!("<option value=\"{r}\">{}</option>", ui.msg(role_zh(r))))
        .collect();
    let dep_options: String = std::iter::once(format!(
        "<option value=\"\">{}</option>",
        ui.t("（不属于部门）")
    ))
    .chain(departments.iter().map(|d| {
        format!(
            "<option value=\"{}\">{}</option>",
            esc(&d.code),
            esc(&d.name)
        )
    }))
    .collect();
    let mut key_rows = String::new();
    for k in &keys {
        let action = if k.revoked_at.is_none() {
            format!(
                "<form method=\"post\" action=\"/console/admin/keys/{}/revoke\">{hidden}<button type=\"submit\">{}</button></form>",
                k.id,
                ui.t("吊销")
            )
        } else {
            String::new()
        };
        key_rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            k.id,
            esc(&k.name),
            esc(k.department.as_deref().unwrap_or(ui.t("全部部门"))),
            format_local(k.created_at),
            k.revoked_at.map_or_else(
                || ui.t("有效").to_string(),
                |t| format!("{}{}", ui.t("已吊销 "), format_local(t))
            ),
        ));
    }
    let pack_rows: String = packs
        .iter()
        .map(|(v, reason, at, by)| {
            format!(
                "<tr><td>{v}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(reason),
                format_local(*at),
                esc(by)
            )
        })
        .collect();
    let year_rows: String = years
        .iter()
        .map(|(y, at, by)| {
            format!(
                "<tr><td>{y}</td><td>{}</td><td>{}</td></tr>",
                format_local(*at),
                esc(by)
            )
        })
        .collect();
    let th = |text: &str| format!("<th scope=\"col\">{text}</th>");
    let body = format!(
        "<h1>{}</h1><p>{}</p>\
         <section><h2>{}</h2><div class=\"scroll\"><table><thead><tr>{}{}{}{}{}{}{}</tr></thead><tbody>{user_rows}</tbody></table></div>\
         <form method=\"post\" action=\"/console/admin/users\" class=\"card\"><h3>{}</h3>{hidden}\
         <label for=\"nu_username\">{}</label><input id=\"nu_username\" name=\"username\" required maxlength=\"64\" pattern=\"[A-Za-z0-9_.\\-]+\">\
         <label for=\"nu_display\">{}</label><input id=\"nu_display\" name=\"display_name\" required maxlength=\"50\">\
         <label for=\"nu_role\">{}</label><select id=\"nu_role\" name=\"role\">{role_options}</select>\
         <label for=\"nu_dep\">{}</label><select id=\"nu_dep\" name=\"department\">{dep_options}</select>\
         <label for=\"nu_password\">{}</label><input id=\"nu_password\" name=\"password\" type=\"password\" required minlength=\"10\" autocomplete=\"new-password\">\
         <button type=\"submit\">{}</button></form></section>\
         <section><h2>{}</h2><div class=\"scroll\"><table><thead><tr>{}{}{}{}{}{}</tr></thead><tbody>{key_rows}</tbody></table></div>\
         <form method=\"post\" action=\"/console/admin/keys\" class=\"card\"><h3>{}</h3>{hidden}\
         <label for=\"nk_name\">{}</label><input id=\"nk_name\" name=\"name\" required maxlength=\"64\">\
         <label for=\"nk_dep\">{}</label><select id=\"nk_dep\" name=\"department\">{dep_options}</select>\
         <button type=\"submit\">{}</button></form></section>\
         <section><h2>{}</h2><p>{}</p>\
         <form method=\"post\" action=\"/console/admin/rules\" class=\"card\">{hidden}<label for=\"rp_body\">{}</label>\
         <textarea id=\"rp_body\" name=\"body\" rows=\"16\" style=\"font-family:monospace\" required>{}</textarea>\
         <label for=\"rp_reason\">{}</label><input id=\"rp_reason\" name=\"reason\" required maxlength=\"200\"><button type=\"submit\">{}</button></form>\
         <table><thead><tr>{}{}{}{}</tr></thead><tbody>{pack_rows}</tbody></table></section>\
         <section><h2>{}</h2><p>{}</p>\
         <table><thead><tr>{}{}{}</tr></thead><tbody>{year_rows}</tbody></table>\
         <form method=\"post\" action=\"/console/admin/calendar\" class=\"card\"><h3>{}</h3>{hidden}\
         <label for=\"cy_year\">{}</label><input id=\"cy_year\" name=\"year\" required inputmode=\"numeric\" maxlength=\"4\">\
         <label for=\"cy_rows\">{}</label>\
         <textarea id=\"cy_rows\" name=\"rows\" rows=\"8\" style=\"font-family:monospace\" placeholder=\"2027-01-01,holiday,元旦,国务院办公厅关于2027年部分节假日安排的通知\"></textarea>\
         <button type=\"submit\">{}</button></form></section>",
        ui.t("系统管理"),
        ui.t("每一项变更都写入不可篡改的记录，注明操作人。"),
        ui.t("用户与角色"),
        th(ui.t("用户名")),
        th(ui.t("姓名")),
        th(ui.t("角色")),
        th(ui.t("部门")),
        th(ui.t("创建时间")),
        th(ui.t("连续登录失败")),
        th(ui.t("操作")),
        ui.t("新增用户"),
        ui.t("用户名"),
        ui.t("姓名"),
        ui.t("角色"),
        ui.t("所属部门（窗口人员、承办人员、部门负责人必填）"),
        ui.t("初始密码（至少10位）"),
        ui.t("新增用户"),
        ui.t("API 密钥"),
        th(ui.t("编号")),
        th(ui.t("名称")),
        th(ui.t("限定部门")),
        th(ui.t("创建时间")),
        th(ui.t("状态")),
        th(ui.t("操作")),
        ui.t("创建密钥"),
        ui.t("名称"),
        ui.t("限定部门（不选则可提交全部部门的数据）"),
        ui.t("创建密钥"),
        ui.t("规则包"),
        ui.t("规则代码、级别、参数和依据；保存即生效，适用于此后的事件。"),
        ui.t("规则包（TOML）"),
        esc(&pack),
        ui.t("变更原因"),
        ui.t("保存规则包"),
        th(ui.t("版本")),
        th(ui.t("变更原因")),
        th(ui.t("时间")),
        th(ui.t("操作人")),
        ui.t("节假日安排"),
        ui.t("内置2005–2026年国务院办公厅通知；以后年度按法定节日推算并标为“暂定”，载入当年通知后重算在办办件的期限。"),
        th(ui.t("年度")),
        th(ui.t("载入时间")),
        th(ui.t("操作人")),
        ui.t("载入年度通知"),
        ui.t("年度"),
        ui.t("调休安排（CSV：date,kind,name,notice；kind 为 holiday 或 workday）"),
        ui.t("载入"),
    );
    Ok(page_in(&ui, ui.t("系统管理"), &body).into_response())
}

/// A new user.
#[derive(Deserialize)]
pub struct UserForm {
    csrf: String,
    username: String,
    display_name: String,
    role: String,
    #[serde(default)]
    department: String,
    password: String,
}

/// `POST /console/admin/users`.
pub async fn add_user(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<UserForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    let r = blocking(&s, move |app| {
        let dep = Some(f.department.trim()).filter(|d| !d.is_empty());
        app.add_user_by(
            &p,
            f.username.trim(),
            f.display_name.trim(),
            &f.role,
            dep,
            &f.password,
        )
    })
    .await;
    done(&ui, r, "/console/admin")
}

/// `POST /console/admin/users/{username}/unlock`.
pub async fn unlock_user(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
    ui: Ui,
    axum::Form(f): axum::Form<super::console::CsrfForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, f.csrf()).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    done(
        &ui,
        blocking(&s, move |app| app.unlock_user(&p, &username)).await,
        "/console/admin",
    )
}

/// A new key.
#[derive(Deserialize)]
pub struct KeyForm {
    csrf: String,
    name: String,
    #[serde(default)]
    department: String,
}

/// `POST /console/admin/keys`: creates a key and shows its secret once.
pub async fn create_key(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<KeyForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    let r = blocking(&s, move |app| {
        let dep = Some(f.department.trim()).filter(|d| !d.is_empty());
        app.create_api_key_by(&p, f.name.trim(), dep)
    })
    .await;
    match r {
        Ok(k) => {
            let body = format!(
                "<h1>{}</h1><div class=\"card\"><p>{}{}<br>{}{}</p>\
                 <p>{}</p><pre id=\"new-key\">{}</pre></div><p><a href=\"/console/admin\">{}</a></p>",
                ui.t("密钥已创建"),
                ui.t("名称："),
                esc(&k.name),
                ui.t("限定部门："),
                esc(k.department.as_deref().unwrap_or(ui.t("全部部门"))),
                ui.t("密钥只显示这一次，请立即妥善保存；平台只保存其摘要。"),
                esc(&k.key),
                ui.t("返回系统管理"),
            );
            let mut res = page_in(&ui, ui.t("密钥已创建"), &body).into_response();
            res.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(res)
        }
        Err(e) => failed(&ui, e),
    }
}

/// `POST /console/admin/keys/{id}/revoke`.
pub async fn revoke_key(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ui: Ui,
    axum::Form(f): axum::Form<super::console::CsrfForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, f.csrf()).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    done(
        &ui,
        blocking(&s, move |app| app.revoke_api_key(&p, id)).await,
        "/console/admin",
    )
}

/// A rule pack edit.
#[derive(Deserialize)]
pub struct RulesForm {
    csrf: String,
    body: String,
    reason: String,
}

/// `POST /console/admin/rules`.
pub async fn save_rules(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<RulesForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    let text = f.body.replace("\r\n", "\n");
    done(
        &ui,
        blocking(&s, move |app| {
            app.set_rule_pack_text(&p, &text, f.reason.trim())
        })
        .await,
        "/console/admin",
    )
}

/// A calendar year.
#[derive(Deserialize)]
pub struct CalendarForm {
    csrf: String,
    year: String,
    #[serde(default)]
    rows: String,
}

/// `POST /console/admin/calendar`: loads a year's notice and recomputes provisional deadlines.
pub async fn load_year(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<CalendarForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let Ok(year) = f.year.trim().parse::<i16>() else {
        return Ok(error_in(
            &ui,
            StatusCode::BAD_REQUEST,
            ui.t("未能保存"),
            ui.t("年度须为四位数字"),
        ));
    };
    let rows = match lianzheng_core::calendar::parse_holidays_csv(&f.rows) {
        Ok(r) => r,
        Err(e) => {
            return Ok(error_in(
                &ui,
                StatusCode::BAD_REQUEST,
                ui.t("未能保存"),
                &format!("{}{e}", ui.t("调休安排格式不正确：")),
            ));
        }
    };
    let p = sess.user.principal();
    done(
        &ui,
        blocking(&s, move |app| app.set_calendar_year(&p, year, rows)).await,
        "/console/admin",
    )
}

/// `GET /console/audit`: who viewed whose personal data, newest first (auditors, administrators).
pub async fn audit(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    let rows = match blocking(&s, move |app| app.personal_data_access(&p, 1000)).await {
        Ok(r) => r,
        Err(e) => return failed(&ui, e),
    };
    let t: String = rows
        .iter()
        .map(|(seq, subject, actor, at)| {
            format!(
                "<tr><td>{seq}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(subject),
                esc(actor),
                format_local(*at)
            )
        })
        .collect();
    let th = |text: &str| format!("<th scope=\"col\">{text}</th>");
    let body = format!(
        "<h1>{}</h1><p>{}{}{}</p>\
         <div class=\"scroll\"><table><thead><tr>{}{}{}{}</tr></thead><tbody>{t}</tbody></table></div>",
        ui.t("个人信息访问记录"),
        ui.t("工作人员每次查看申请人、投诉人等个人信息都记入不可篡改的记录（最近 "),
        rows.len(),
        ui.t(" 条）。记录号可在日志中核验。"),
        th(ui.t("记录号")),
        th(ui.t("对象")),
        th(ui.t("访问人")),
        th(ui.t("时间")),
    );
    Ok(page_in(&ui, ui.t("个人信息访问记录"), &body).into_response())
}
