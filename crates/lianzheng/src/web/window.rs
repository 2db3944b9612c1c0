//! The window (窗口) in the console: register an application with the item's materials
//! checklist, print the acceptance notice or the one-time notice of missing materials
//! (一次性告知书), and record the case's steps, special procedures (特别程序), fees, 办结 and
//! 送达.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lianzheng_app::ingest::Incoming;
use lianzheng_core::case::{Actor, Applicant, CaseEvent, EventBody};
use lianzheng_core::codes::{ActorRole, Fen, FinishResult, ProcedureType, StepAction};
use serde::Deserialize;

use super::console::{checked, error_in, page_in, session_or_login};
use super::i18n::Ui;
use super::pages::{esc, url_component};
use super::{AppState, WebError, blocking};

/// Which item the form is for.
#[derive(Deserialize)]
pub struct RegisterQuery {
    item: Option<String>,
}

fn actor_of(user: &lianzheng_app::auth::User) -> Actor {
    let role = match user.role.as_str() {
        "clerk" => ActorRole::Window,
        "leader" => ActorRole::Leader,
        _ => ActorRole::Officer,
    };
    Actor {
        id: user.username.clone(),
        name: user.display_name.clone(),
        role,
    }
}

/// `GET /console/register[?item=CODE]`: choose an item, then fill in the application.
pub async fn form(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let Some(department) = sess.user.department.clone() else {
        return Ok(error_in(
            &ui,
            StatusCode::FORBIDDEN,
            ui.t("无权操作"),
            ui.t("只有部门窗口人员可以登记申请"),
        ));
    };
    let csrf = esc(&sess.csrf);
    let d = department.clone();
    let items = blocking(&s, move |app| app.public_items(Some(&d), None, 500, 0)).await?;
    let mut options = String::new();
    for i in &items {
        let sel = if q.item.as_deref() == Some(i.code.as_str()) {
            " selected"
        } else {
            ""
        };
        options.push_str(&format!(
            "<option value=\"{}\"{sel}>{}</option>",
            esc(&i.code),
            esc(&i.name)
        ));
    }
    let mut body = format!(
        "<h1>{}</h1><form method=\"get\" action=\"/console/register\" class=\"card\"><label for=\"item\">{}</label>\
         <select id=\"item\" name=\"item\" required>{options}</select><button type=\"submit\">{}</button></form>",
        ui.t("窗口受理登记"),
        ui.t("申请事项"),
        ui.t("选择事项"),
    );
    if let Some(code) = q.item.filter(|c| items.iter().any(|i| &i.code == c)) {
        let c = code.clone();
        let versions = blocking(&s, move |app| app.item_versions(&c)).await?;
        let Some(v) = versions.last() else {
            return Ok(error_in(
                &ui,
                StatusCode::NOT_FOUND,
                ui.t("未找到"),
                ui.t("没有该事项"),
            ));
        };
        let mut checklist = String::new();
        for (i, m) in v.body.materials.iter().enumerate() {
            checklist.push_str(&format!(
                "<label class=\"inline\"><input type=\"checkbox\" name=\"m{i}\" value=\"{}\"> {}{}</label><br>",
                esc(&m.name),
                esc(&m.name),
                if m.required { ui.t("（必备）") } else { "" }
            ));
        }
        body.push_str(&format!(
            "<form method=\"post\" action=\"/console/register\" class=\"card\"><h2>{}</h2><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"item\" value=\"{}\">\
             <label for=\"name\">{}</label><input id=\"name\" name=\"name\" required maxlength=\"100\">\
             <label for=\"id_type\">{}</label><select id=\"id_type\" name=\"id_type\"><option value=\"111\">{}</option><option value=\"001\">{}</option></select>\
             <label for=\"id_no\">{}</label><input id=\"id_no\" name=\"id_no\" maxlength=\"30\">\
             <label for=\"phone\">{}</label><input id=\"phone\" name=\"phone\" maxlength=\"20\" inputmode=\"tel\">\
             <fieldset><legend>{}</legend>{checklist}</fieldset>\
             <button type=\"submit\">{}</button></form>",
            esc(&v.body.name),
            esc(&code),
            ui.t("申请人名称"),
            ui.t("证件类型"),
            ui.t("居民身份证"),
            ui.t("统一社会信用代码"),
            ui.t("证件号码"),
            ui.t("手机"),
            ui.t("收取材料（按办事指南核对）"),
            ui.t("登记"),
        ));
    }
    Ok(page_in(&ui, ui.t("窗口受理登记"), &body).into_response())
}

/// `POST /console/register`: the application, then 受理 or the one-time notice.
pub async fn register(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |k: &str| {
        f.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let sess = match checked(&s, &headers, &get("csrf")).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let materials: Vec<String> = f
        .iter()
        .filter(|(k, _)| k.starts_with('m') && k[1..].parse::<u32>().is_ok())
        .map(|(_, v)| v.clone())
        .collect();
    let applicant = Applicant {
        name: get("name"),
        id_type: get("id_type"),
        id_no: get("id_no"),
        phone: get("phone"),
    };
    if applicant.name.is_empty() {
        return Ok(error_in(
            &ui,
            StatusCode::BAD_REQUEST,
            ui.t("登记未完成"),
            ui.t("请填写申请人名称"),
        ));
    }
    let p = sess.user.principal();
    let actor = actor_of(&sess.user);
    let item = get("item");
    let window = sess
        .user
        .department
        .clone()
        .map(|d| format!("{d}-{}", sess.user.username));
    let r = match blocking(&s, move |app| {
        app.register_application(&p, actor, &item, applicant, materials, window)
    })
    .await
    {
        Ok(r) => r,
        Err(WebError::Forbidden(m)) => {
            return Ok(error_in(&ui, StatusCode::FORBIDDEN, ui.t("无权操作"), &m));
        }
        Err(WebError::BadRequest(m)) | Err(WebError::Conflict(m)) | Err(WebError::NotFound(m)) => {
            return Ok(error_in(
                &ui,
                StatusCode::BAD_REQUEST,
                ui.t("登记未完成"),
                &m,
            ));
        }
        Err(e) => return Err(e),
    };
    let notice = if r.accepted {
        format!(
            "<section class=\"card notice\"><h2>{}</h2><p>{}<strong>{}</strong>{}<strong>{}</strong>{}</p></section>",
            ui.t("受理通知书"),
            ui.t("您申请的事项已于今日受理，办件编号 "),
            esc(&r.case_no),
            ui.t("，查询码 "),
            esc(&r.query_code),
            ui.t("。凭办件编号和查询码可在本平台“办件查询”查看办理进度并在办结后评价。"),
        )
    } else {
        let list: String = r
            .missing
            .iter()
            .map(|m| format!("<li>{}</li>", esc(m)))
            .collect();
        format!(
            "<section class=\"card notice\"><h2>{}</h2><p>{}<strong>{}</strong>{}<strong>{}</strong>{}</p><ol>{list}</ol><p>{}</p></section>",
            ui.t("一次性告知书"),
            ui.t("您的申请（办件编号 "),
            esc(&r.case_no),
            ui.t("，查询码 "),
            esc(&r.query_code),
            ui.t("）材料不齐全。依据《行政许可法》第三十二条，现一次性告知需补正的全部材料："),
            ui.t("补齐后即予受理。"),
        )
    };
    let flags = if r.findings.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"warn\">{}{}</p>",
            ui.t("本次登记触发预警："),
            esc(&r.findings.join(ui.pick("、", ", ")))
        )
    };
    let body = format!(
        "<h1>{}</h1>{notice}{flags}<p><button type=\"button\" data-print>{}</button></p>\
         <p><a href=\"/console/cases/{}\">{}</a> · <a href=\"/console/register\">{}</a> · <a href=\"/console\">{}</a></p>",
        ui.t("登记完成"),
        ui.t("打印告知书"),
        url_component(&r.case_no),
        ui.t("办理该办件"),
        ui.t("继续登记"),
        ui.t("返回工作台"),
    );
    Ok(page_in(&ui, ui.t("登记完成"), &body).into_response())
}

/// A step, 办结 or 送达 recorded from the case page.
#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    kind: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    opinion: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    procedure: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    approver: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    fee_code: String,
    #[serde(default)]
    amount: String,
}

/// Parses an amount in 元 with at most two decimals (`12`, `12.5`, `12.50`) into 分.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('元');
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || int.len() > 9
        || frac.len() > 2
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let yuan: i64 = int.parse().ok()?;
    let fen: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(yuan * 100 + fen)
}

fn nonempty(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|x| !x.is_empty())
}

/// `POST /console/cases/{case_no}/events`.
pub async fn record(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_no): Path<String>,
    ui: Ui,
    axum::Form(f): axum::Form<StepForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let bad = |m: &str| error_in(&ui, StatusCode::BAD_REQUEST, ui.t("未能记录"), m);
    let body = match f.kind.as_str() {
        "accept" => EventBody::Accept { document_no: None },
        "step" => EventBody::Step {
            step: f.step.clone(),
            action: if f.action == "return" {
                StepAction::Return
            } else {
                StepAction::Pass
            },
            opinion: Some(f.opinion.trim().to_string()).filter(|o| !o.is_empty()),
        },
        "finish" => EventBody::Finish {
            result: if f.result == "denied" {
                FinishResult::Denied
            } else {
                FinishResult::Granted
            },
            certificate_no: None,
        },
        "deliver" => EventBody::Deliver {
            method: Some("窗口领取".into()),
        },
        "procedure_start" => {
            let (t, name) = f.procedure.split_once('|').unwrap_or(("", ""));
            let procedure_type = match ProcedureType::parse(t) {
                Ok(t) if !name.trim().is_empty() => t,
                _ => return Ok(bad(ui.t("请选择特别程序种类"))),
            };
            let days = match (procedure_type, f.days.trim()) {
                (ProcedureType::Extension, d) => match d.parse::<u32>() {
                    Ok(n) if (1..=60).contains(&n) => Some(n),
                    _ => return Ok(bad(ui.t("延长审批须填写延长的工作日数（1–60）"))),
                },
                _ => None,
            };
            if f.reason.trim().is_empty() || f.approver.trim().is_empty() {
                return Ok(bad(ui.t("请填写启动理由和批准人")));
            }
            EventBody::ProcedureStart {
                procedure_type,
                name: name.trim().to_string(),
                reason: nonempty(&f.reason),
                basis: nonempty(&f.basis),
                approver: nonempty(&f.approver),
                days,
            }
        }
        "procedure_end" => EventBody::ProcedureEnd {
            result: nonempty(&f.result),
        },
        "fee" => {
            let Some(amount) = parse_yuan(&f.amount).filter(|a| *a > 0) else {
                return Ok(bad(ui.t("收费金额须为正数，最多两位小数（元）")));
            };
            if f.fee_code.trim().is_empty() {
                return Ok(bad(ui.t("请选择收费项目")));
            }
            EventBody::Fee {
                fee_code: f.fee_code.trim().to_string(),
                amount_fen: Fen(amount),
            }
        }
        _ => {
            return Ok(error_in(
                &ui,
                StatusCode::BAD_REQUEST,
                ui.t("操作无效"),
                ui.t("未知的办理动作"),
            ));
        }
    };
    let p = sess.user.principal();
    let actor = actor_of(&sess.user);
    let app = std::sync::Arc::clone(&s.app);
    let event = Incoming {
        event_id: None,
        event: CaseEvent {
            case_no: case_no.clone(),
            occurred_at: app.now(),
            actor,
            body,
        },
    };
    let results = blocking(&s, move |app| app.submit(&p, vec![Ok(event)])).await?;
    match results.first().and_then(|r| r.error.clone()) {
        None => Ok(
            Redirect::to(&format!("/console/cases/{}", url_component(&case_no))).into_response(),
        ),
        Some(e) => Ok(error_in(
            &ui,
            StatusCode::CONFLICT,
            ui.t("未能记录"),
            &e.message,
        )),
    }
}
