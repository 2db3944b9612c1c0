//! The console's enterprise monitoring points (监测点, G4): the points (register, retire), the
//! survey rounds (open with the departments to rate, close), the queue of requests by due date
//! with late ones marked, entering an answer received on paper or by phone, and the results
//! per round. Each form calls one use case of `lianzheng_app::monitoring`.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lianzheng_app::monitoring::{PointInput, RoundInput};
use lianzheng_core::monitoring::{DepartmentRating, INDICATORS, SUPPRESSED_LABEL, Sector};
use serde::Deserialize;

use super::console::{checked, error_in, page_in, session_or_login};
use super::i18n::Ui;
use super::pages::{esc, url_component};
use super::{AppState, WebError, blocking};

const BACK: &str = "/console/monitoring";

fn failed(ui: &Ui, e: WebError) -> Result<Response, WebError> {
    match e {
        WebError::Forbidden(m) => Ok(error_in(ui, StatusCode::FORBIDDEN, ui.t("无权操作"), &m)),
        WebError::BadRequest(m) | WebError::Conflict(m) | WebError::NotFound(m) => Ok(error_in(
            ui,
            StatusCode::BAD_REQUEST,
            ui.t("操作未执行"),
            &m,
        )),
        e => Err(e),
    }
}

fn done(ui: &Ui, r: Result<impl Sized, WebError>) -> Result<Response, WebError> {
    match r {
        Ok(_) => Ok(Redirect::to(BACK).into_response()),
        Err(e) => failed(ui, e),
    }
}

/// `GET /console/monitoring`: points, rounds, the queue and the results.
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
    let p1 = p.clone();
    let (points, rounds, queue, results, departments) = blocking(&s, move |app| {
        Ok((
            app.monitoring_points(&p1),
            app.survey_rounds(&p1),
            app.survey_queue(&p1, None, None),
            app.survey_results(&p1, None)?,
            app.complaint_departments()?,
        ))
    })
    .await?;
    let csrf = esc(&sess.csrf);
    let manages = p.supervises();
    let name_of = |d: &str| {
        departments
            .iter()
            .find(|(c, _)| c == d)
            .map_or_else(|| d.to_string(), |(_, n)| n.clone())
    };
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        ui.t("经济发展环境监测点"),
        ui.t("监测点企业定期评议各部门；每期按期限催办，逾期未反馈的标红；结果按部门汇总公布，评议企业数不足的部门显示“样本不足”。")
    );
    // Department staff may read only their own results.
    let Ok(points) = points else {
        body.push_str(&format!(
            "<p>{}</p>",
            ui.t("监测点和评议期次的管理由监察机关和系统管理员进行；以下是本部门的评议结果。")
        ));
        body.push_str(&results_table(&ui, &results, &name_of, true));
        return Ok(page_in(&ui, ui.t("监测点"), &body).into_response());
    };
    let mut point_rows = String::new();
    for pt in &points {
        let action = if manages && pt.retired_on.is_none() {
            format!(
                "<form method=\"post\" action=\"/console/monitoring/points/{id_url}/retire\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <label class=\"sr\" for=\"r{id}\">{reason}</label><input id=\"r{id}\" name=\"reason\" placeholder=\"{reason}\" required><button type=\"submit\">{retire}</button></form>",
                id_url = url_component(&pt.id),
                id = esc(&pt.id),
                reason = ui.t("撤销原因"),
                retire = ui.t("撤销"),
            )
        } else {
            String::new()
        };
        point_rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            esc(&pt.id),
            esc(&pt.name),
            esc(&pt.credit_code),
            esc(ui.msg(&pt.sector_zh)),
            esc(&pt.contact_person),
            esc(&pt.contact_phone),
            esc(&pt.registered_on),
            esc(pt.retired_on.as_deref().unwrap_or(ui.t("在册"))),
        ));
    }
    let th = |text: &str| format!("<th scope=\"col\">{text}</th>");
    body.push_str(&format!(
        "<section><h2>{}{}{}</h2><div class=\"scroll\"><table id=\"points\"><thead><tr>{}{}{}{}{}{}{}{}</tr></thead><tbody>{point_rows}</tbody></table></div>",
        ui.t("监测点（在册 "),
        points.iter().filter(|p| p.retired_on.is_none()).count(),
        ui.t(" 家）"),
        th(ui.t("编号")),
        th(ui.t("企业名称")),
        th(ui.t("统一社会信用代码")),
        th(ui.t("行业")),
        th(ui.t("联系人")),
        th(ui.t("登记日期")),
        th(ui.t("撤销日期")),
        th(ui.t("操作")),
    ));
    if manages {
        let sectors: String = Sector::ALL
            .iter()
            .map(|x| {
                format!(
                    "<option value=\"{}\">{} {}</option>",
                    x.code(),
                    x.code(),
                    ui.msg(x.label_zh())
                )
            })
            .collect();
        body.push_str(&format!(
            "<details><summary>{}</summary><form method=\"post\" action=\"/console/monitoring/points\" class=\"card\" id=\"register-point\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"p_name\">{}</label><input id=\"p_name\" name=\"name\" maxlength=\"100\" required>\
             <label for=\"p_credit\">{}</label><input id=\"p_credit\" name=\"credit_code\" maxlength=\"18\" required>\
             <label for=\"p_sector\">{}</label><select id=\"p_sector\" name=\"sector\">{sectors}</select>\
             <label for=\"p_person\">{}</label><input id=\"p_person\" name=\"contact_person\" maxlength=\"50\" required>\
             <label for=\"p_phone\">{}</label><input id=\"p_phone\" name=\"contact_phone\" maxlength=\"20\" required>\
             <button type=\"submit\">{}</button></form></details>",
            ui.t("登记监测点"),
            ui.t("企业名称"),
            ui.t("统一社会信用代码"),
            ui.t("行业"),
            ui.t("联系人"),
            ui.t("联系电话"),
            ui.t("登记"),
        ));
    }
    body.push_str("</section>");

    let rounds = rounds.unwrap_or_default();
    let mut round_rows = String::new();
    for r in &rounds {
        let action = if manages && r.status == "open" {
            format!(
                "<form method=\"post\" action=\"/console/monitoring/rounds/{}/close\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">{}</button></form>",
                url_component(&r.round),
                ui.t("结束本期并公布")
            )
        } else {
            String::new()
        };
        round_rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{action}</td></tr>",
            esc(&r.round),
            if r.status == "open" { ui.t("进行中") } else { ui.t("已结束") },
            esc(&r.departments.iter().map(|d| name_of(d)).collect::<Vec<_>>().join(ui.pick("、", ", "))),
            esc(&r.opened_at),
            esc(&r.due_on),
            r.answered,
            r.requests,
        ));
    }
    body.push_str(&format!(
        "<section><h2>{}</h2><div class=\"scroll\"><table id=\"rounds\"><thead><tr>{}{}{}{}{}{}{}</tr></thead><tbody>{round_rows}</tbody></table></div>",
        ui.pick("评议期次", "Survey rounds"),
        th(ui.t("期次")),
        th(ui.t("状态")),
        th(ui.t("评议部门")),
        th(ui.t("开始")),
        th(ui.t("反馈期限")),
        th(ui.t("已反馈/企业数")),
        th(ui.t("操作")),
    ));
    if manages {
        let boxes: String = departments
            .iter()
            .map(|(c, n)| {
                format!(
                    "<label class=\"inline\"><input type=\"checkbox\" name=\"departments\" value=\"{}\"> {}</label>",
                    esc(c),
                    esc(n)
                )
            })
            .collect();
        body.push_str(&format!(
            "<details><summary>{}</summary><form method=\"post\" action=\"/console/monitoring/rounds\" class=\"card\" id=\"open-round\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"period\">{}</label><input id=\"period\" name=\"period\" maxlength=\"7\" required>\
             <label for=\"due_workdays\">{}</label><input id=\"due_workdays\" name=\"due_workdays\" value=\"10\" inputmode=\"numeric\" maxlength=\"2\" required>\
             <fieldset><legend>{}</legend>{boxes}</fieldset>\
             <button type=\"submit\">{}</button></form></details>",
            ui.t("开始新一期评议"),
            ui.t("期次（季度如 2026Q3，或月份如 2026-11）"),
            ui.t("反馈期限（工作日）"),
            ui.t("评议部门（每个在册监测点评议所选部门）"),
            ui.t("开始评议"),
        ));
    }
    body.push_str("</section>");

    let queue = queue.unwrap_or_default();
    let mut queue_rows = String::new();
    for q in &queue {
        let late = q.status == "late" || q.answered_late;
        let action = if manages && q.status != "answered" {
            format!(
                "<a href=\"/console/monitoring/requests/{}\">{}</a>",
                url_component(&q.request),
                ui.t("录入反馈")
            )
        } else {
            String::new()
        };
        queue_rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}{}</td><td class=\"{}\">{}</td><td>{}</td><td>{action}</td></tr>",
            esc(&q.request),
            esc(&q.round),
            esc(&q.point_name),
            if late { "late" } else { "" },
            esc(ui.msg(&q.status_zh)),
            if q.answered_late { ui.t("（逾期反馈）") } else { "" },
            if q.status == "late" { "late" } else { "" },
            esc(&q.due_on),
            q.chased,
        ));
    }
    body.push_str(&format!(
        "<section><h2>{}</h2><div class=\"scroll\"><table id=\"queue\"><thead><tr>{}{}{}{}{}{}{}</tr></thead><tbody>{queue_rows}</tbody></table></div></section>",
        ui.t("反馈情况（按期限）"),
        th(ui.t("请求")),
        th(ui.t("期次")),
        th(ui.t("企业")),
        th(ui.t("状态")),
        th(ui.t("期限")),
        th(ui.t("催办次数")),
        th(ui.t("操作")),
    ));
    body.push_str(&results_table(&ui, &results, &name_of, false));
    Ok(page_in(&ui, ui.t("监测点"), &body).into_response())
}

fn results_table(
    ui: &Ui,
    results: &[lianzheng_app::monitoring::ResultRow],
    name_of: &dyn Fn(&str) -> String,
    own: bool,
) -> String {
    let num = |x: Option<f64>| x.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"));
    let heads: String = INDICATORS
        .iter()
        .map(|k| format!("<th scope=\"col\">{}</th>", ui.t(k)))
        .collect();
    let rows: String = results
        .iter()
        .map(|r| {
            let figures = if r.suppressed {
                format!(
                    "<td colspan=\"{}\" class=\"warn\">{}</td>",
                    INDICATORS.len() + 1,
                    ui.t(SUPPRESSED_LABEL)
                )
            } else {
                let mut t: String = INDICATORS
                    .iter()
                    .map(|k| format!("<td>{}</td>", num(r.indicators.get(*k).copied())))
                    .collect();
                t.push_str(&format!("<td>{}</td>", num(r.overall)));
                t
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td>{figures}<td>{}</td></tr>",
                esc(&r.round),
                esc(&name_of(&r.department)),
                r.n,
                r.comments
                    .iter()
                    .map(|c| esc(c))
                    .collect::<Vec<_>>()
                    .join("<br>")
            )
        })
        .collect();
    format!(
        "<section><h2>{}</h2><div class=\"scroll\"><table id=\"results\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>{heads}<th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>{rows}</tbody></table></div>\
         <p><a href=\"/appraisal\">{}</a></p></section>",
        if own {
            ui.t("本部门评议结果")
        } else {
            ui.t("各期评议结果")
        },
        ui.t("期次"),
        ui.t("部门"),
        ui.t("评议企业数"),
        ui.t("总体评价"),
        ui.t("意见建议"),
        ui.t("公开的民主评议页面"),
    )
}

/// The registration form.
#[derive(Deserialize)]
pub struct PointForm {
    csrf: String,
    name: String,
    credit_code: String,
    sector: String,
    contact_person: String,
    contact_phone: String,
}

/// `POST /console/monitoring/points`.
pub async fn register(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<PointForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(sess) => sess,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    let input = PointInput {
        name: f.name,
        credit_code: f.credit_code.trim().to_uppercase(),
        sector: f.sector,
        contact_person: f.contact_person,
        contact_phone: f.contact_phone,
        registered_on: None,
    };
    done(
        &ui,
        blocking(&s, move |app| app.register_point(&p, input)).await,
    )
}

/// A retirement.
#[derive(Deserialize)]
pub struct RetireForm {
    csrf: String,
    reason: String,
}

/// `POST /console/monitoring/points/{id}/retire`.
pub async fn retire(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ui: Ui,
    axum::Form(f): axum::Form<RetireForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(sess) => sess,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    done(
        &ui,
        blocking(&s, move |app| app.retire_point(&p, &id, &f.reason)).await,
    )
}

/// `POST /console/monitoring/rounds`: opens a round and shows the tokens once.
pub async fn open_round(
    State(s): State<AppState>,
    headers: HeaderMap,
    // Repeated `departments` fields: a list of pairs.
    ui: Ui,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let sess = match checked(&s, &headers, &get("csrf")).await? {
        Ok(sess) => sess,
        Err(res) => return Ok(res),
    };
    let departments: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "departments")
        .map(|(_, v)| v.clone())
        .collect();
    if departments.is_empty() {
        return Ok(error_in(
            &ui,
            StatusCode::BAD_REQUEST,
            ui.t("操作未执行"),
            ui.t("请至少选择一个评议部门"),
        ));
    }
    let Ok(due_workdays) = get("due_workdays").parse::<u32>() else {
        return Ok(error_in(
            &ui,
            StatusCode::BAD_REQUEST,
            ui.t("操作未执行"),
            ui.t("反馈期限应为工作日数"),
        ));
    };
    let input = RoundInput {
        period: get("period"),
        due_workdays,
        departments,
        assignments: BTreeMap::new(),
    };
    let p = sess.user.principal();
    match blocking(&s, move |app| app.open_round(&p, input)).await {
        Ok(opened) => {
            let rows: String = opened
                .requests
                .iter()
                .map(|r| {
                    let link = format!(
                        "/monitoring/respond?request={}&token={}",
                        super::pages::url_component(&r.request),
                        super::pages::url_component(&r.token)
                    );
                    format!(
                        "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><a href=\"{}\">{}</a></td></tr>",
                        esc(&r.request),
                        esc(&r.point),
                        esc(&r.token),
                        esc(&link),
                        esc(&link)
                    )
                })
                .collect();
            let body = format!(
                "<h1>{}{}{}</h1><p>{}{}{}</p>\
                 <div class=\"scroll\"><table id=\"tokens\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>{rows}</tbody></table></div>\
                 <p><a href=\"{BACK}\">{}</a></p>",
                ui.t("评议期次 "),
                esc(&opened.round),
                ui.t(" 已开始"),
                ui.t("反馈期限："),
                esc(&opened.due_on),
                ui.t("。下表的令牌只显示这一次，请把各监测点的答题链接（本站地址加上表中路径）分别告知各企业，企业打开链接在线评议。"),
                ui.t("请求"),
                ui.t("监测点"),
                ui.t("令牌"),
                ui.t("答题链接"),
                ui.t("返回监测点"),
            );
            Ok(page_in(&ui, ui.t("评议已开始"), &body).into_response())
        }
        Err(e) => failed(&ui, e),
    }
}

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /console/monitoring/rounds/{id}/close`: rolls up and publishes.
pub async fn close_round(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ui: Ui,
    axum::Form(f): axum::Form<CsrfOnly>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(sess) => sess,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    done(&ui, blocking(&s, move |app| app.close_round(&p, &id)).await)
}

/// `GET /console/monitoring/requests/{id}`: the form to enter an enterprise's answer.
pub async fn response_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ui: Ui,
) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    let r = id.clone();
    let found = blocking(&s, move |app| {
        let queue = app.survey_queue(&p, None, None)?;
        let Some(q) = queue.into_iter().find(|q| q.request == r) else {
            return Ok(None);
        };
        let round = app
            .survey_rounds(&p)?
            .into_iter()
            .find(|x| x.round == q.round);
        Ok(Some((q, round, app.complaint_departments()?)))
    })
    .await;
    let (q, round, departments) = match found {
        Ok(Some(x)) => x,
        Ok(None) => {
            return Ok(error_in(
                &ui,
                StatusCode::NOT_FOUND,
                ui.t("未找到"),
                ui.t("没有该评议请求"),
            ));
        }
        Err(e) => return failed(&ui, e),
    };
    let asked = round.map(|r| r.departments).unwrap_or_default();
    let name_of = |d: &str| {
        departments
            .iter()
            .find(|(c, _)| c == d)
            .map_or_else(|| d.to_string(), |(_, n)| n.clone())
    };
    let levels = |name: &str, id: &str| {
        let options: String = (1..=5)
            .rev()
            .map(|v| format!("<option value=\"{v}\">{v}</option>"))
            .collect();
        format!(
            "<label class=\"inline\" for=\"{id}\">{name} <select id=\"{id}\" name=\"{id}\" required><option value=\"\">—</option>{options}</select></label>"
        )
    };
    let mut sections = String::new();
    for (i, d) in asked.iter().enumerate() {
        let scores: String = INDICATORS
            .iter()
            .enumerate()
            .map(|(k, name)| levels(ui.t(name), &format!("s_{i}_{k}")))
            .collect();
        sections.push_str(&format!(
            "<fieldset><legend>{}</legend><input type=\"hidden\" name=\"d_{i}\" value=\"{}\">{scores}{}\
             <label for=\"c_{i}\">{}</label><textarea id=\"c_{i}\" name=\"c_{i}\" rows=\"2\" maxlength=\"500\"></textarea></fieldset>",
            esc(&name_of(d)),
            esc(d),
            levels(ui.t("总体评价"), &format!("o_{i}")),
            ui.t("意见建议（选填）"),
        ));
    }
    let body = format!(
        "<h1>{}</h1><p>{} · {}{} · {}{}{}{}{}</p><p>{}</p>\
         <form method=\"post\" action=\"/console/monitoring/requests/{}\" class=\"card\" id=\"response\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">{sections}<button type=\"submit\">{}</button></form>\
         <p><a href=\"{BACK}\">{}</a></p>",
        ui.t("录入评议反馈"),
        esc(&q.point_name),
        ui.t("期次 "),
        esc(&q.round),
        ui.t("期限 "),
        esc(&q.due_on),
        ui.pick("（", " ("),
        esc(ui.msg(&q.status_zh)),
        ui.pick("）", ")"),
        ui.t("录入企业以书面或电话方式提交的评议；每项1至5分，5分最好。"),
        url_component(&q.request),
        esc(&sess.csrf),
        ui.t("提交反馈"),
        ui.t("返回监测点"),
    );
    Ok(page_in(&ui, ui.t("录入评议反馈"), &body).into_response())
}

/// `POST /console/monitoring/requests/{id}`: enters the answer through the use case.
pub async fn enter_response(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ui: Ui,
    axum::Form(f): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let field = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let sess = match checked(&s, &headers, &field("csrf")).await? {
        Ok(sess) => sess,
        Err(res) => return Ok(res),
    };
    let bad = |m: &str| {
        Ok(error_in(
            &ui,
            StatusCode::BAD_REQUEST,
            ui.t("操作未执行"),
            m,
        ))
    };
    let mut ratings = Vec::new();
    for i in 0..100 {
        let department = field(&format!("d_{i}"));
        if department.is_empty() {
            break;
        }
        let mut scores = BTreeMap::new();
        for (k, name) in INDICATORS.iter().enumerate() {
            match field(&format!("s_{i}_{k}")).parse::<u8>() {
                Ok(v) => {
                    scores.insert((*name).to_string(), v);
                }
                Err(_) => return bad(ui.t("每个部门的每项指标都须评分（1至5分）")),
            }
        }
        let Ok(overall) = field(&format!("o_{i}")).parse::<u8>() else {
            return bad(ui.t("每个部门都须给出总体评价（1至5分）"));
        };
        ratings.push(DepartmentRating {
            department,
            scores,
            overall,
            comment: field(&format!("c_{i}")),
        });
    }
    let p = sess.user.principal();
    done(
        &ui,
        blocking(&s, move |app| app.enter_response(&p, &id, ratings)).await,
    )
}
