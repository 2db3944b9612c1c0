//! The console's complaints (投诉处理): the queue by due date within the user's reach, one
//! complaint with its history and the forms of what the user may do now (分办, 受理, 不予受理,
//! 延期, 答复, 办结), and the hotline intake (热线登记). Authorization is the use case's; the page
//! only hides the forms the use case would refuse.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lianzheng_app::Principal;
use lianzheng_app::complaints::{ComplaintAction, ComplaintFilter};
use lianzheng_core::complaint::{Category, Complaint, ComplaintChannel, Finding, Route, Status};
use lianzheng_core::time::format_local;
use serde::Deserialize;

use super::complaint_pages::{ComplaintFields, complaint_input, due_day, local_time};
use super::console::{checked, error_in, page_in, session_or_login};
use super::i18n::Ui;
use super::pages::{esc, url_component};
use super::{AppState, WebError, blocking};

fn failed(ui: &Ui, e: WebError) -> Result<Response, WebError> {
    match e {
        WebError::Forbidden(m) => Ok(error_in(ui, StatusCode::FORBIDDEN, ui.t("无权操作"), &m)),
        WebError::NotFound(_) => Ok(error_in(
            ui,
            StatusCode::NOT_FOUND,
            ui.t("未找到"),
            ui.t("没有该投诉，或不由本单位办理"),
        )),
        WebError::BadRequest(m) | WebError::Conflict(m) => {
            Ok(error_in(ui, StatusCode::CONFLICT, ui.t("操作未执行"), &m))
        }
        e => Err(e),
    }
}

/// A complaint's status as the queue and the page show it: the use case's richer note
/// (重新办理中, 已延期 …) in Chinese, in English its entry or the status's label.
fn status_label(ui: &Ui, code: &str, zh: &str) -> String {
    let shown = ui.msg(zh);
    if ui.en() && shown == zh {
        Status::parse(code).map_or_else(|_| zh.to_string(), |s| ui.label(zh, s.label_en()))
    } else {
        shown.to_string()
    }
}

/// The queue's filters.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    department: String,
}

/// The queue's status filter: code and label.
fn statuses(ui: &Ui) -> [(&'static str, &'static str); 8] {
    [
        ("open", ui.t("未办结（待分办、待受理、办理中）")),
        ("filed", ui.t("待分办")),
        ("assigned", ui.t("待受理")),
        ("accepted", ui.t("办理中")),
        ("answered", ui.t("已答复")),
        ("closed", ui.t("已办结")),
        ("declined", ui.t("不予受理")),
        ("all", ui.t("全部")),
    ]
}

/// `GET /console/complaints`: the queue by due date (a department sees its own).
pub async fn list(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    let status = if q.status.is_empty() {
        "open".to_string()
    } else {
        q.status.clone()
    };
    if !statuses(&ui).iter().any(|(c, _)| *c == status) {
        return Ok(error_in(
            &ui,
            StatusCode::BAD_REQUEST,
            ui.t("筛选无效"),
            ui.t("未知的投诉状态"),
        ));
    }
    let filter = ComplaintFilter {
        status: (status != "all").then(|| status.clone()),
        department: (!q.department.is_empty()).then(|| q.department.clone()),
        limit: Some(500),
        ..ComplaintFilter::default()
    };
    let p1 = p.clone();
    let (rows, departments) = match blocking(&s, move |app| {
        Ok((
            app.complaint_queue(&p1, &filter)?,
            app.complaint_departments()?,
        ))
    })
    .await
    {
        Ok(x) => x,
        Err(e) => return failed(&ui, e),
    };
    let name_of = |d: &str| {
        departments
            .iter()
            .find(|(c, _)| c == d)
            .map_or_else(|| d.to_string(), |(_, n)| n.clone())
    };
    let status_options: String = statuses(&ui)
        .iter()
        .map(|(c, l)| {
            format!(
                "<option value=\"{c}\"{}>{l}</option>",
                if *c == status { " selected" } else { "" }
            )
        })
        .collect();
    let dep_filter = if matches!(p, Principal::Department { .. }) {
        String::new()
    } else {
        let options: String = departments
            .iter()
            .map(|(c, n)| {
                format!(
                    "<option value=\"{}\"{}>{}</option>",
                    esc(c),
                    if *c == q.department { " selected" } else { "" },
                    esc(n)
                )
            })
            .collect();
        format!(
            "<label class=\"inline\">{} <select name=\"department\"><option value=\"\">{}</option>{options}</select></label>",
            ui.t("承办单位"),
            ui.t("全部")
        )
    };
    let mut table = String::new();
    for r in &rows {
        let due = r.due_at.as_deref().map(due_day).unwrap_or_default();
        let open = Status::parse(&r.status).is_ok_and(|s| !s.is_closed());
        table.push_str(&format!(
            "<tr><td><a href=\"/console/complaints/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}{}</td><td>{}</td></tr>",
            url_component(&r.complaint_no),
            esc(&r.complaint_no),
            esc(&Category::parse(&r.category).map_or_else(|_| r.category_zh.clone(), |c| ui.label(c.label_zh(), c.label_en()))),
            esc(&r.title),
            esc(&name_of(&r.department)),
            esc(r.assigned_name.as_deref().or(r.assigned.as_deref()).unwrap_or("—")),
            esc(&status_label(&ui, &r.status, &r.status_zh)),
            esc(&local_time(&r.filed_at)),
            if r.overdue && open { "late" } else { "" },
            esc(if open { &due } else { "" }),
            if r.overdue && open { ui.pick("（已超期）", " (overdue)") } else { "" },
            esc(match r.channel.as_str() {
                "hotline" => ui.t("热线"),
                "web" => ui.t("网站"),
                "open311" => "Open311",
                other => other,
            }),
        ));
    }
    let intake = if matches!(p, Principal::Public | Principal::Auditor { .. }) {
        String::new()
    } else {
        format!(
            "<p><a href=\"/console/complaints/new\">{}</a></p>",
            ui.t("热线投诉登记")
        )
    };
    let th = |text: &str| format!("<th scope=\"col\">{text}</th>");
    let body = format!(
        "<h1>{}</h1><p>{}{}{}</p>{intake}\
         <form method=\"get\" action=\"/console/complaints\" class=\"card filters\"><label class=\"inline\">{} <select name=\"status\">{status_options}</select></label>{dep_filter}<button type=\"submit\">{}</button></form>\
         <div class=\"scroll\"><table id=\"complaints\"><thead><tr>{}{}{}{}{}{}{}{}{}</tr></thead><tbody>{table}</tbody></table></div>",
        ui.t("投诉处理"),
        ui.t("按办理期限排列，最急的在前"),
        if matches!(p, Principal::Department { .. }) {
            ui.t("；仅显示转本单位办理的投诉")
        } else {
            ""
        },
        ui.pick("。", "."),
        ui.t("状态"),
        ui.t("筛选"),
        th(ui.t("投诉编号")),
        th(ui.t("类别")),
        th(ui.t("标题")),
        th(ui.t("被投诉单位")),
        th(ui.t("承办单位")),
        th(ui.t("状态")),
        th(ui.t("登记时间")),
        th(ui.t("期限")),
        th(ui.t("渠道")),
    );
    Ok(page_in(&ui, ui.t("投诉处理"), &body).into_response())
}

fn event_detail(ui: &Ui, ev: &serde_json::Value) -> String {
    let labels = [
        ("department", ui.t("单位")),
        ("route", ui.t("去向")),
        ("days", ui.t("延期工作日")),
        ("reason", ui.t("理由")),
        ("outcome", ui.t("处理结果")),
        ("text", ui.t("答复")),
        ("satisfaction", ui.t("评价")),
        ("approver", ui.t("批准人")),
        ("fee_flag", ui.t("收费核查")),
    ];
    labels
        .iter()
        .filter_map(|(k, l)| {
            let v = &ev[*k];
            let text = match (*k, v) {
                (_, serde_json::Value::Null) => return None,
                ("route", serde_json::Value::String(s)) => Route::parse(s).map_or(s.clone(), |r| {
                    ui.pick(r.label_zh(), r.label_en()).to_string()
                }),
                ("outcome", serde_json::Value::String(s)) => Finding::parse(s)
                    .map_or(s.clone(), |r| {
                        ui.pick(r.label_zh(), r.label_en()).to_string()
                    }),
                ("satisfaction", serde_json::Value::String(s)) => {
                    lianzheng_core::complaint::Rating::parse(s).map_or(s.clone(), |r| {
                        ui.pick(r.label_zh(), r.label_en()).to_string()
                    })
                }
                ("fee_flag", serde_json::Value::Object(_)) => ev["fee_flag"]
                    .as_object()
                    .and_then(|o| o.keys().next().cloned())
                    .map_or_else(String::new, |k| {
                        if k == "above_standard" {
                            ui.t("超标准收费").into()
                        } else {
                            k
                        }
                    }),
                ("fee_flag", serde_json::Value::String(s)) if s == "not_in_catalog" => {
                    ui.t("目录外收费").into()
                }
                (_, serde_json::Value::String(s)) => s.clone(),
                (_, other) => other.to_string(),
            };
            Some(format!("{l}{}{}", ui.pick("：", ": "), esc(&text)))
        })
        .collect::<Vec<_>>()
        .join(ui.pick("；", "; "))
}

/// `GET /console/complaints/{no}`: the complaint, its history, and the forms of what the user
/// may do now. Seeing the complainant's identity is recorded by the use case.
pub async fn view(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
    ui: Ui,
) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    let (p1, n) = (p.clone(), no.clone());
    let (v, departments) = match blocking(&s, move |app| {
        Ok((app.staff_complaint(&p1, &n)?, app.complaint_departments()?))
    })
    .await
    {
        Ok(x) => x,
        Err(e) => return failed(&ui, e),
    };
    let Ok(c) = serde_json::from_value::<Complaint>(v["complaint"].clone()) else {
        return Err(WebError::Internal);
    };
    let name_of = |d: &str| {
        departments
            .iter()
            .find(|(c, _)| c == d)
            .map_or_else(|| d.to_string(), |(_, n)| n.clone())
    };
    let csrf = esc(&sess.csrf);
    let action_url = format!("/console/complaints/{}/actions", url_component(&no));
    let form = |id: &str, inner: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"{action_url}\" class=\"card\" id=\"{id}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{inner}<button type=\"submit\">{label}</button></form>"
        )
    };
    let assigned = c.assigned.clone().unwrap_or_default();
    let supervises = p.supervises();
    let centre = p.may_act_for(&s.app.settings.complaint_routing.service_centre);
    let handles = supervises || (!assigned.is_empty() && p.may_act_for(&assigned));
    let auditor = matches!(p, Principal::Auditor { .. });
    let mut forms = String::new();
    if !auditor {
        if matches!(c.status, Status::Filed | Status::Assigned) && (supervises || centre) {
            let options: String = departments
                .iter()
                .map(|(code, name)| {
                    format!("<option value=\"{}\">{}</option>", esc(code), esc(name))
                })
                .collect();
            let routes: String = Route::ALL
                .iter()
                .map(|r| {
                    format!(
                        "<option value=\"{}\"{}>{}</option>",
                        r.code(),
                        if *r == c.category.route() {
                            " selected"
                        } else {
                            ""
                        },
                        ui.label(r.label_zh(), r.label_en())
                    )
                })
                .collect();
            forms.push_str(&form(
                "triage",
                &format!(
                    "<h2>{}</h2><input type=\"hidden\" name=\"action\" value=\"triage\">\
                     <label for=\"route\">{}</label><select id=\"route\" name=\"route\">{routes}</select>\
                     <label for=\"t_department\">{}</label><select id=\"t_department\" name=\"department\"><option value=\"\">{}</option>{options}</select>",
                    ui.t("分办"),
                    ui.t("转办去向"),
                    ui.t("承办单位（不选则按去向：政务服务中心、被投诉单位或监察局）"),
                    ui.t("按转办去向"),
                ),
                ui.t("分办"),
            ));
        }
        if c.status == Status::Assigned && handles {
            forms.push_str(&form(
                "accept",
                &format!(
                    "<h2>{}</h2><input type=\"hidden\" name=\"action\" value=\"accept\"><p>{}</p>",
                    ui.t("受理"),
                    ui.t("受理后须在答复期限内答复投诉人。")
                ),
                ui.t("受理"),
            ));
        }
        if matches!(c.status, Status::Filed | Status::Assigned) && handles {
            forms.push_str(&form(
                "decline",
                &format!(
                    "<h2>{}</h2><input type=\"hidden\" name=\"action\" value=\"decline\">\
                     <label for=\"d_reason\">{}</label><textarea id=\"d_reason\" name=\"reason\" rows=\"2\" maxlength=\"2000\" required></textarea>",
                    ui.pick("不予受理", "Decline"),
                    ui.t("理由（将告知投诉人）")
                ),
                ui.pick("不予受理", "Decline"),
            ));
        }
        if c.status == Status::Accepted && handles {
            forms.push_str(&form(
                "answer",
                &format!(
                    "<h2>{}</h2><input type=\"hidden\" name=\"action\" value=\"answer\">\
                     <label for=\"outcome\">{}</label><select id=\"outcome\" name=\"outcome\">{}</select>\
                     <label for=\"a_text\">{}</label><textarea id=\"a_text\" name=\"text\" rows=\"4\" maxlength=\"4000\" required></textarea>",
                    ui.t("答复"),
                    ui.t("处理结果"),
                    Finding::ALL
                        .iter()
                        .map(|f| format!("<option value=\"{}\">{}</option>", f.code(), ui.label(f.label_zh(), f.label_en())))
                        .collect::<String>(),
                    ui.t("答复内容（公开给投诉人，请勿写入个人信息）"),
                ),
                ui.t("答复"),
            ));
            if c.extension.is_none() {
                forms.push_str(&form(
                    "extension",
                    &format!(
                        "<h2>{}</h2><input type=\"hidden\" name=\"action\" value=\"request_extension\">\
                         <label for=\"e_days\">{}</label><input id=\"e_days\" name=\"days\" inputmode=\"numeric\" maxlength=\"3\" required>\
                         <label for=\"e_reason\">{}</label><input id=\"e_reason\" name=\"reason\" maxlength=\"2000\" required>",
                        ui.t("申请延期"),
                        ui.t("延期工作日"),
                        ui.t("理由"),
                    ),
                    ui.t("申请延期"),
                ));
            }
        }
        if c.status == Status::Accepted
            && supervises
            && c.extension.as_ref().is_some_and(|e| !e.approved)
        {
            forms.push_str(&form(
                "approve",
                &format!(
                    "<h2>{}</h2><input type=\"hidden\" name=\"action\" value=\"approve_extension\">",
                    ui.t("批准延期")
                ),
                ui.t("批准延期"),
            ));
        }
        if c.status == Status::Answered && supervises {
            forms.push_str(&form(
                "close",
                &format!(
                    "<h2>{}</h2><input type=\"hidden\" name=\"action\" value=\"close\"><p>{}</p>\
                     <label for=\"c_reason\">{}</label><input id=\"c_reason\" name=\"reason\" maxlength=\"2000\" required>",
                    ui.pick("办结", "Close the complaint"),
                    ui.t("投诉人未评价时，由监察局办结。"),
                    ui.t("办结理由"),
                ),
                ui.pick("办结", "Close"),
            ));
        }
    }
    let who = &v["complainant"];
    let complainant = if who["anonymous"].as_bool().unwrap_or(true) {
        ui.t("匿名投诉").to_string()
    } else {
        format!(
            "{}{}{}{}{}",
            if who["masked"].as_bool().unwrap_or(false) {
                ui.t("（已遮蔽）")
            } else {
                ""
            },
            esc(who["name"].as_str().unwrap_or("")),
            ui.t("，电话 "),
            esc(who["phone"].as_str().unwrap_or("")),
            who["id_no"]
                .as_str()
                .filter(|x| !x.is_empty())
                .map_or_else(String::new, |x| format!("{}{}", ui.t("，证件 "), esc(x)))
        )
    };
    let history: String = v["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(e["recorded_at"].as_str().unwrap_or("")),
                esc(&if ui.en() {
                    e["kind"].as_str().unwrap_or("").replace('_', " ")
                } else {
                    e["kind_zh"].as_str().unwrap_or("").to_string()
                }),
                esc(e["actor"].as_str().unwrap_or("")),
                event_detail(&ui, &e["event"])
            )
        })
        .collect();
    let running = match c.status {
        Status::Filed | Status::Assigned => {
            format!("{}{}", ui.t("受理期限："), esc(&due_day_ts(c.accept_due)))
        }
        Status::Accepted => c.answer_due.map_or_else(String::new, |d| {
            format!("{}{}", ui.t("答复期限："), esc(&due_day_ts(d)))
        }),
        _ => String::new(),
    };
    let late = match c.status {
        Status::Filed | Status::Assigned => s.app.now() > c.accept_due,
        Status::Accepted => c.answer_due.is_some_and(|d| s.app.now() > d),
        _ => false,
    };
    let extension = c.extension.as_ref().map_or_else(String::new, |e| {
        format!(
            "<br>{}{}{}{}{}{}",
            ui.t("延期："),
            e.days,
            ui.t(" 个工作日（"),
            esc(&e.reason),
            ui.t("），"),
            if e.approved {
                ui.t("已批准")
            } else {
                ui.t("待批准")
            }
        )
    });
    let identity_note =
        if who["anonymous"].as_bool().unwrap_or(true) || who["masked"].as_bool().unwrap_or(false) {
            String::new()
        } else {
            format!(
                "<p class=\"err\">{}</p>",
                ui.t("本页含投诉人个人信息，访问已记录。")
            )
        };
    let th = |text: &str| format!("<th scope=\"col\">{text}</th>");
    let body = format!(
        "<h1>{complaint} {no}</h1>{identity_note}<div class=\"card\"><p>{l_cat}{cat}<br>{l_title}{title}<br>{l_dep}{dep}<br>{l_assigned}{assigned}<br>{l_channel}{channel}<br>{l_filed}{filed}<br>\
         {l_status}<strong id=\"status\">{status}</strong>{extension}<br><span class=\"{late_class}\">{running}{late_text}</span>{fee}<br>{l_who}{complainant}</p></div>\
         <section class=\"card\"><h2>{l_content}</h2><p id=\"content\" style=\"white-space:pre-wrap\">{content}</p>{answer}</section>\
         {forms}\
         <h2>{l_history}</h2><div class=\"scroll\"><table><thead><tr>{h_time}{h_step}{h_actor}{h_detail}</tr></thead><tbody>{history}</tbody></table></div>\
         <p><a href=\"/console/complaints\">{back}</a></p>",
        complaint = ui.t("投诉"),
        no = esc(&no),
        l_cat = ui.t("类别："),
        cat = esc(&ui.label(c.category.label_zh(), c.category.label_en())),
        l_title = ui.t("标题："),
        title = esc(&c.title),
        l_dep = ui.t("被投诉单位："),
        dep = esc(&name_of(&c.department)),
        l_assigned = ui.t("承办单位："),
        assigned = if assigned.is_empty() {
            ui.t("（待分办）").to_string()
        } else {
            esc(&name_of(&assigned))
        },
        l_channel = ui.t("渠道："),
        channel = esc(&ui.label(c.channel.label_zh(), c.channel.label_en())),
        l_filed = ui.t("登记时间："),
        filed = esc(&format_local(c.filed_at)),
        l_status = ui.t("状态："),
        status = esc(&status_label(
            &ui,
            c.status.code(),
            v["status_zh"].as_str().unwrap_or("")
        )),
        late_class = if late { "late" } else { "" },
        late_text = if late {
            ui.pick("（已超期）", " (overdue)")
        } else {
            ""
        },
        fee = c.fee_flag.as_ref().map_or_else(String::new, |f| format!(
            "<br>{}<span class=\"warn\">{}</span>",
            ui.t("收费核查："),
            ui.msg(f.label_zh())
        )),
        l_who = ui.t("投诉人："),
        l_content = ui.pick("投诉内容", "The complaint"),
        content = esc(v["content"].as_str().unwrap_or("")),
        answer = c.answer.as_ref().map_or_else(String::new, |a| format!(
            "<h2>{}</h2><p id=\"answer\">{}</p>",
            if c.status == Status::Declined {
                ui.t("不予受理理由")
            } else {
                ui.t("答复")
            },
            esc(a)
        )),
        l_history = ui.t("办理记录"),
        h_time = th(ui.t("时间")),
        h_step = th(ui.t("环节")),
        h_actor = th(ui.t("经办")),
        h_detail = th(ui.t("内容")),
        back = ui.t("返回投诉处理"),
    );
    Ok(page_in(&ui, ui.t("投诉详情"), &body).into_response())
}

fn due_day_ts(t: jiff::Timestamp) -> String {
    lianzheng_core::time::local_date(t - jiff::SignedDuration::from_secs(1)).to_string()
}

/// An action on a complaint.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    action: String,
    department: String,
    route: String,
    reason: String,
    days: String,
    text: String,
    outcome: String,
}

/// `POST /console/complaints/{no}/actions`: one action through the use case, then back to
/// the complaint (or the use case's refusal in a page).
pub async fn act(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
    ui: Ui,
    axum::Form(f): axum::Form<ActionForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
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
    let action = match f.action.as_str() {
        "triage" => ComplaintAction::Triage {
            department: (!f.department.is_empty()).then(|| f.department.clone()),
            route: if f.route.is_empty() {
                None
            } else {
                match Route::parse(&f.route) {
                    Ok(r) => Some(r),
                    Err(_) => return bad(ui.t("未知的转办去向")),
                }
            },
        },
        "accept" => ComplaintAction::Accept,
        "decline" => ComplaintAction::Decline {
            reason: f.reason.trim().to_string(),
        },
        "request_extension" => match f.days.trim().parse::<u32>() {
            Ok(days) => ComplaintAction::RequestExtension {
                days,
                reason: f.reason.trim().to_string(),
            },
            Err(_) => return bad(ui.t("延期工作日应为整数")),
        },
        "approve_extension" => ComplaintAction::ApproveExtension,
        "answer" => match Finding::parse(&f.outcome) {
            Ok(outcome) => ComplaintAction::Answer {
                text: f.text.trim().to_string(),
                outcome,
            },
            Err(_) => return bad(ui.t("请选择处理结果")),
        },
        "close" => ComplaintAction::Close {
            reason: f.reason.trim().to_string(),
        },
        _ => return bad(ui.t("未知的操作")),
    };
    let p = sess.user.principal();
    let n = no.clone();
    match blocking(&s, move |app| app.act_on_complaint(&p, &n, action)).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/console/complaints/{}", url_component(&no))).into_response(),
        ),
        Err(e) => failed(&ui, e),
    }
}

fn hotline_form(
    ui: &Ui,
    departments: &[(String, String)],
    f: &ComplaintFields,
    csrf: &str,
    error: &str,
) -> String {
    let sel = |a: &str, b: &str| if a == b { " selected" } else { "" };
    let categories: String = Category::ALL
        .iter()
        .map(|c| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                c.code(),
                sel(&f.category, c.code()),
                ui.label(c.label_zh(), c.label_en())
            )
        })
        .collect();
    let deps: String = departments
        .iter()
        .map(|(c, n)| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(c),
                sel(&f.department, c),
                esc(n)
            )
        })
        .collect();
    let subjects: String = [
        ("department", ui.t("单位本身")),
        ("case", ui.t("某件办件")),
        ("fee", ui.t("一笔收费")),
        ("person", ui.t("工作人员")),
        ("conduct", ui.t("违规违纪行为")),
    ]
    .iter()
    .map(|(c, l)| format!("<option value=\"{c}\"{}>{l}</option>", sel(&f.subject, c)))
    .collect();
    let err = if error.is_empty() {
        String::new()
    } else {
        format!("<p class=\"err\" role=\"alert\">{}</p>", esc(error))
    };
    format!(
        "<h1>{h}</h1><p>{intro}</p>{err}\
         <form method=\"post\" action=\"/console/complaints/new\" class=\"card\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"category\">{l_category}</label><select id=\"category\" name=\"category\" required><option value=\"\">{choose}</option>{categories}</select>\
         <label for=\"department\">{l_department}</label><select id=\"department\" name=\"department\" required><option value=\"\">{choose}</option>{deps}</select>\
         <label for=\"subject\">{l_subject}</label><select id=\"subject\" name=\"subject\">{subjects}</select>\
         <label for=\"case_no\">{l_case_no}</label><input id=\"case_no\" name=\"case_no\" value=\"{case_no}\" maxlength=\"64\">\
         <label for=\"staff\">{l_staff}</label><input id=\"staff\" name=\"staff\" value=\"{staff}\" maxlength=\"50\">\
         <label for=\"item_code\">{l_item_code}</label><input id=\"item_code\" name=\"item_code\" value=\"{item_code}\" maxlength=\"64\">\
         <label for=\"fee_code\">{l_fee_code}</label><input id=\"fee_code\" name=\"fee_code\" value=\"{fee_code}\" maxlength=\"100\">\
         <label for=\"amount\">{l_amount}</label><input id=\"amount\" name=\"amount\" value=\"{amount}\" maxlength=\"12\">\
         <label for=\"title\">{l_title}</label><input id=\"title\" name=\"title\" value=\"{title}\" maxlength=\"100\">\
         <label for=\"content\">{l_content}</label><textarea id=\"content\" name=\"content\" rows=\"5\" maxlength=\"4000\" required>{content}</textarea>\
         <label for=\"address\">{l_address}</label><input id=\"address\" name=\"address\" value=\"{address}\" maxlength=\"200\">\
         <fieldset><legend>{l_caller}</legend><label class=\"inline\"><input type=\"radio\" name=\"identity\" value=\"anonymous\"{anon}> {l_anon}</label>\
         <label class=\"inline\"><input type=\"radio\" name=\"identity\" value=\"real\"{real}> {l_real}</label>\
         <label for=\"name\">{l_name}</label><input id=\"name\" name=\"name\" value=\"{name}\" maxlength=\"100\">\
         <label for=\"phone\">{l_phone}</label><input id=\"phone\" name=\"phone\" value=\"{phone}\" maxlength=\"40\"></fieldset>\
         <button type=\"submit\">{l_register}</button></form><p><a href=\"/console/complaints\">{back}</a></p>",
        h = ui.t("热线投诉登记"),
        intro =
            ui.t("话务员登记电话投诉（受理渠道：热线）。登记后请把投诉编号和查询码告知来电人。"),
        l_category = ui.t("投诉类别"),
        choose = ui.t("请选择"),
        l_department = ui.t("被投诉单位"),
        l_subject = ui.t("投诉对象"),
        l_case_no = ui.t("办件编号"),
        l_staff = ui.t("工作人员姓名或工号"),
        l_item_code = ui.t("收费事项实施编码"),
        l_fee_code = ui.t("收费项目"),
        l_amount = ui.t("实收金额（元）"),
        l_title = ui.t("标题（公开，勿含个人信息）"),
        l_content = ui.t("来电内容"),
        l_address = ui.t("事发地点"),
        l_caller = ui.t("来电人"),
        l_anon = ui.t("匿名"),
        l_real = ui.pick("实名", "Under a name"),
        l_name = ui.t("姓名"),
        l_phone = ui.t("电话"),
        l_register = ui.t("登记"),
        back = ui.t("返回投诉处理"),
        case_no = esc(&f.case_no),
        staff = esc(&f.staff),
        item_code = esc(&f.item_code),
        fee_code = esc(&f.fee_code),
        amount = esc(&f.amount),
        title = esc(&f.title),
        content = esc(&f.content),
        address = esc(&f.address),
        anon = if f.identity == "real" { "" } else { " checked" },
        real = if f.identity == "real" { " checked" } else { "" },
        name = esc(&f.name),
        phone = esc(&f.phone),
    )
}

/// `GET /console/complaints/new`: the hotline intake form.
pub async fn new_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let departments = blocking(&s, |app| app.complaint_departments()).await?;
    let body = hotline_form(
        &ui,
        &departments,
        &ComplaintFields::default(),
        &esc(&sess.csrf),
        "",
    );
    Ok(page_in(&ui, ui.t("热线投诉登记"), &body).into_response())
}

/// `POST /console/complaints/new`: files a hotline complaint as the signed-in operator.
pub async fn file(
    State(s): State<AppState>,
    headers: HeaderMap,
    ui: Ui,
    axum::Form(f): axum::Form<ComplaintFields>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(sess) => sess,
        Err(res) => return Ok(res),
    };
    let departments = blocking(&s, |app| app.complaint_departments()).await?;
    let again = |status: StatusCode, msg: &str| {
        (
            status,
            page_in(
                &ui,
                ui.t("热线投诉登记"),
                &hotline_form(&ui, &departments, &f, &esc(&sess.csrf), ui.msg(msg)),
            ),
        )
            .into_response()
    };
    let input = match complaint_input(&f, ComplaintChannel::Hotline) {
        Ok(i) => i,
        Err(m) => return Ok(again(StatusCode::BAD_REQUEST, ui.t(m))),
    };
    let p = sess.user.principal();
    match blocking(&s, move |app| app.file_complaint(&p, input)).await {
        Ok(filed) => {
            let body = format!(
                "<h1>{h}</h1><div class=\"card\" role=\"status\"><p>{l_no}<strong id=\"complaint-no\">{no}</strong><br>{l_code}<strong id=\"query-code\">{code}</strong>{l_once}<br>{l_due}{due}{fee}</p></div>\
                 <p><a href=\"/console/complaints/{no_url}\">{view}</a> · <a href=\"/console/complaints/new\">{more}</a></p>",
                h = ui.t("热线投诉已登记"),
                l_no = ui.t("投诉编号："),
                no = esc(&filed.complaint_no),
                l_code = ui.t("查询码："),
                code = esc(&filed.query_code),
                l_once = ui.t("（请告知来电人，仅显示这一次）"),
                l_due = ui.t("受理期限："),
                due = esc(&due_day(&filed.accept_due)),
                fee = filed
                    .fee_flag
                    .as_deref()
                    .map_or_else(String::new, |f| format!(
                        "<br>{}<span class=\"warn\">{}</span>",
                        ui.t("收费核查："),
                        esc(ui.msg(f))
                    )),
                no_url = url_component(&filed.complaint_no),
                view = ui.t("查看并分办"),
                more = ui.t("继续登记"),
            );
            Ok(page_in(&ui, ui.t("热线投诉已登记"), &body).into_response())
        }
        Err(WebError::BadRequest(m)) => Ok(again(StatusCode::BAD_REQUEST, &m)),
        Err(WebError::NotFound(_)) => Ok(again(
            StatusCode::BAD_REQUEST,
            ui.t("未找到所填的单位或事项，请核对"),
        )),
        Err(WebError::Forbidden(m)) => Ok(again(StatusCode::FORBIDDEN, &m)),
        Err(e) => Err(e),
    }
}
