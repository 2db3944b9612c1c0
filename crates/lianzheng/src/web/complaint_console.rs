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
use super::console::{checked, error_page, page, session_or_login};
use super::pages::{esc, url_component};
use super::{AppState, WebError, blocking};

fn failed(e: WebError) -> Result<Response, WebError> {
    match e {
        WebError::Forbidden(m) => Ok(error_page(StatusCode::FORBIDDEN, "无权操作", &m)),
        WebError::NotFound(_) => Ok(error_page(
            StatusCode::NOT_FOUND,
            "未找到",
            "没有该投诉，或不由本单位办理",
        )),
        WebError::BadRequest(m) | WebError::Conflict(m) => {
            Ok(error_page(StatusCode::CONFLICT, "操作未执行", &m))
        }
        e => Err(e),
    }
}

/// The queue's filters.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    department: String,
}

const STATUSES: &[(&str, &str)] = &[
    ("open", "未办结（待分办、待受理、办理中）"),
    ("filed", "待分办"),
    ("assigned", "待受理"),
    ("accepted", "办理中"),
    ("answered", "已答复"),
    ("closed", "已办结"),
    ("declined", "不予受理"),
    ("all", "全部"),
];

/// `GET /console/complaints`: the queue by due date (a department sees its own).
pub async fn list(
    State(s): State<AppState>,
    headers: HeaderMap,
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
    if !STATUSES.iter().any(|(c, _)| *c == status) {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "筛选无效",
            "未知的投诉状态",
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
        Err(e) => return failed(e),
    };
    let name_of = |d: &str| {
        departments
            .iter()
            .find(|(c, _)| c == d)
            .map_or_else(|| d.to_string(), |(_, n)| n.clone())
    };
    let status_options: String = STATUSES
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
            "<label class=\"inline\">承办单位 <select name=\"department\"><option value=\"\">全部</option>{options}</select></label>"
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
            esc(&r.category_zh),
            esc(&r.title),
            esc(&name_of(&r.department)),
            esc(r.assigned_name.as_deref().or(r.assigned.as_deref()).unwrap_or("—")),
            esc(&r.status_zh),
            esc(&local_time(&r.filed_at)),
            if r.overdue && open { "late" } else { "" },
            esc(if open { &due } else { "" }),
            if r.overdue && open { "（已超期）" } else { "" },
            esc(match r.channel.as_str() {
                "hotline" => "热线",
                "web" => "网站",
                "open311" => "Open311",
                other => other,
            }),
        ));
    }
    let intake = if matches!(p, Principal::Public | Principal::Auditor { .. }) {
        ""
    } else {
        "<p><a href=\"/console/complaints/new\">热线投诉登记</a></p>"
    };
    let body = format!(
        "<h1>投诉处理</h1><p>按办理期限排列，最急的在前{}。</p>{intake}\
         <form method=\"get\" action=\"/console/complaints\" class=\"card filters\"><label class=\"inline\">状态 <select name=\"status\">{status_options}</select></label>{dep_filter}<button type=\"submit\">筛选</button></form>\
         <div class=\"scroll\"><table id=\"complaints\"><thead><tr><th scope=\"col\">投诉编号</th><th scope=\"col\">类别</th><th scope=\"col\">标题</th><th scope=\"col\">被投诉单位</th><th scope=\"col\">承办单位</th><th scope=\"col\">状态</th><th scope=\"col\">登记时间</th><th scope=\"col\">期限</th><th scope=\"col\">渠道</th></tr></thead><tbody>{table}</tbody></table></div>",
        if matches!(p, Principal::Department { .. }) {
            "；仅显示转本单位办理的投诉"
        } else {
            ""
        }
    );
    Ok(page("投诉处理", &body).into_response())
}

fn event_detail(ev: &serde_json::Value) -> String {
    let labels = [
        ("department", "单位"),
        ("route", "去向"),
        ("days", "延期工作日"),
        ("reason", "理由"),
        ("outcome", "处理结果"),
        ("text", "答复"),
        ("satisfaction", "评价"),
        ("approver", "批准人"),
        ("fee_flag", "收费核查"),
    ];
    labels
        .iter()
        .filter_map(|(k, l)| {
            let v = &ev[*k];
            let text = match (*k, v) {
                (_, serde_json::Value::Null) => return None,
                ("route", serde_json::Value::String(s)) => {
                    Route::parse(s).map_or(s.clone(), |r| r.label_zh().to_string())
                }
                ("outcome", serde_json::Value::String(s)) => {
                    Finding::parse(s).map_or(s.clone(), |r| r.label_zh().to_string())
                }
                ("satisfaction", serde_json::Value::String(s)) => {
                    lianzheng_core::complaint::Rating::parse(s)
                        .map_or(s.clone(), |r| r.label_zh().to_string())
                }
                ("fee_flag", serde_json::Value::Object(_)) => ev["fee_flag"]
                    .as_object()
                    .and_then(|o| o.keys().next().cloned())
                    .map_or_else(String::new, |k| {
                        if k == "above_standard" {
                            "超标准收费".into()
                        } else {
                            k
                        }
                    }),
                ("fee_flag", serde_json::Value::String(s)) if s == "not_in_catalog" => {
                    "目录外收费".into()
                }
                (_, serde_json::Value::String(s)) => s.clone(),
                (_, other) => other.to_string(),
            };
            Some(format!("{l}：{}", esc(&text)))
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// `GET /console/complaints/{no}`: the complaint, its history, and the forms of what the user
/// may do now. Seeing the complainant's identity is recorded by the use case.
pub async fn view(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
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
        Err(e) => return failed(e),
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
                        r.label_zh()
                    )
                })
                .collect();
            forms.push_str(&form(
                "triage",
                &format!(
                    "<h2>分办</h2><input type=\"hidden\" name=\"action\" value=\"triage\">\
                     <label for=\"route\">转办去向</label><select id=\"route\" name=\"route\">{routes}</select>\
                     <label for=\"t_department\">承办单位（不选则按去向：政务服务中心、被投诉单位或监察局）</label><select id=\"t_department\" name=\"department\"><option value=\"\">按转办去向</option>{options}</select>"
                ),
                "分办",
            ));
        }
        if c.status == Status::Assigned && handles {
            forms.push_str(&form(
                "accept",
                "<h2>受理</h2><input type=\"hidden\" name=\"action\" value=\"accept\"><p>受理后须在答复期限内答复投诉人。</p>",
                "受理",
            ));
        }
        if matches!(c.status, Status::Filed | Status::Assigned) && handles {
            forms.push_str(&form(
                "decline",
                "<h2>不予受理</h2><input type=\"hidden\" name=\"action\" value=\"decline\">\
                 <label for=\"d_reason\">理由（将告知投诉人）</label><textarea id=\"d_reason\" name=\"reason\" rows=\"2\" maxlength=\"2000\" required></textarea>",
                "不予受理",
            ));
        }
        if c.status == Status::Accepted && handles {
            forms.push_str(&form(
                "answer",
                &format!(
                    "<h2>答复</h2><input type=\"hidden\" name=\"action\" value=\"answer\">\
                     <label for=\"outcome\">处理结果</label><select id=\"outcome\" name=\"outcome\">{}</select>\
                     <label for=\"a_text\">答复内容（公开给投诉人，请勿写入个人信息）</label><textarea id=\"a_text\" name=\"text\" rows=\"4\" maxlength=\"4000\" required></textarea>",
                    Finding::ALL
                        .iter()
                        .map(|f| format!("<option value=\"{}\">{}</option>", f.code(), f.label_zh()))
                        .collect::<String>()
                ),
                "答复",
            ));
            if c.extension.is_none() {
                forms.push_str(&form(
                    "extension",
                    "<h2>申请延期</h2><input type=\"hidden\" name=\"action\" value=\"request_extension\">\
                     <label for=\"e_days\">延期工作日</label><input id=\"e_days\" name=\"days\" inputmode=\"numeric\" maxlength=\"3\" required>\
                     <label for=\"e_reason\">理由</label><input id=\"e_reason\" name=\"reason\" maxlength=\"2000\" required>",
                    "申请延期",
                ));
            }
        }
        if c.status == Status::Accepted
            && supervises
            && c.extension.as_ref().is_some_and(|e| !e.approved)
        {
            forms.push_str(&form(
                "approve",
                "<h2>批准延期</h2><input type=\"hidden\" name=\"action\" value=\"approve_extension\">",
                "批准延期",
            ));
        }
        if c.status == Status::Answered && supervises {
            forms.push_str(&form(
                "close",
                "<h2>办结</h2><input type=\"hidden\" name=\"action\" value=\"close\"><p>投诉人未评价时，由监察局办结。</p>\
                 <label for=\"c_reason\">办结理由</label><input id=\"c_reason\" name=\"reason\" maxlength=\"2000\" required>",
                "办结",
            ));
        }
    }
    let who = &v["complainant"];
    let complainant = if who["anonymous"].as_bool().unwrap_or(true) {
        "匿名投诉".to_string()
    } else {
        format!(
            "{}{}，电话 {}{}",
            if who["masked"].as_bool().unwrap_or(false) {
                "（已遮蔽）"
            } else {
                ""
            },
            esc(who["name"].as_str().unwrap_or("")),
            esc(who["phone"].as_str().unwrap_or("")),
            who["id_no"]
                .as_str()
                .filter(|x| !x.is_empty())
                .map_or_else(String::new, |x| format!("，证件 {}", esc(x)))
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
                esc(e["kind_zh"].as_str().unwrap_or("")),
                esc(e["actor"].as_str().unwrap_or("")),
                event_detail(&e["event"])
            )
        })
        .collect();
    let running = match c.status {
        Status::Filed | Status::Assigned => format!("受理期限：{}", esc(&due_day_ts(c.accept_due))),
        Status::Accepted => c.answer_due.map_or_else(String::new, |d| {
            format!("答复期限：{}", esc(&due_day_ts(d)))
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
            "<br>延期：{} 个工作日（{}），{}",
            e.days,
            esc(&e.reason),
            if e.approved { "已批准" } else { "待批准" }
        )
    });
    let identity_note =
        if who["anonymous"].as_bool().unwrap_or(true) || who["masked"].as_bool().unwrap_or(false) {
            ""
        } else {
            "<p class=\"err\">本页含投诉人个人信息，访问已记录。</p>"
        };
    let body = format!(
        "<h1>投诉 {no}</h1>{identity_note}<div class=\"card\"><p>类别：{cat}<br>标题：{title}<br>被投诉单位：{dep}<br>承办单位：{assigned}<br>渠道：{channel}<br>登记时间：{filed}<br>\
         状态：<strong id=\"status\">{status}</strong>{extension}<br><span class=\"{late_class}\">{running}{late_text}</span>{fee}<br>投诉人：{complainant}</p></div>\
         <section class=\"card\"><h2>投诉内容</h2><p id=\"content\" style=\"white-space:pre-wrap\">{content}</p>{answer}</section>\
         {forms}\
         <h2>办理记录</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">时间</th><th scope=\"col\">环节</th><th scope=\"col\">经办</th><th scope=\"col\">内容</th></tr></thead><tbody>{history}</tbody></table></div>\
         <p><a href=\"/console/complaints\">返回投诉处理</a></p>",
        no = esc(&no),
        cat = esc(c.category.label_zh()),
        title = esc(&c.title),
        dep = esc(&name_of(&c.department)),
        assigned = if assigned.is_empty() {
            "（待分办）".to_string()
        } else {
            esc(&name_of(&assigned))
        },
        channel = esc(c.channel.label_zh()),
        filed = esc(&format_local(c.filed_at)),
        status = esc(v["status_zh"].as_str().unwrap_or("")),
        late_class = if late { "late" } else { "" },
        late_text = if late { "（已超期）" } else { "" },
        fee = c.fee_flag.as_ref().map_or_else(String::new, |f| format!(
            "<br>收费核查：<span class=\"warn\">{}</span>",
            f.label_zh()
        )),
        content = esc(v["content"].as_str().unwrap_or("")),
        answer = c.answer.as_ref().map_or_else(String::new, |a| format!(
            "<h2>{}</h2><p id=\"answer\">{}</p>",
            if c.status == Status::Declined {
                "不予受理理由"
            } else {
                "答复"
            },
            esc(a)
        )),
    );
    Ok(page("投诉详情", &body).into_response())
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
    axum::Form(f): axum::Form<ActionForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(sess) => sess,
        Err(res) => return Ok(res),
    };
    let bad = |m: &str| Ok(error_page(StatusCode::BAD_REQUEST, "操作未执行", m));
    let action = match f.action.as_str() {
        "triage" => ComplaintAction::Triage {
            department: (!f.department.is_empty()).then(|| f.department.clone()),
            route: if f.route.is_empty() {
                None
            } else {
                match Route::parse(&f.route) {
                    Ok(r) => Some(r),
                    Err(_) => return bad("未知的转办去向"),
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
            Err(_) => return bad("延期工作日应为整数"),
        },
        "approve_extension" => ComplaintAction::ApproveExtension,
        "answer" => match Finding::parse(&f.outcome) {
            Ok(outcome) => ComplaintAction::Answer {
                text: f.text.trim().to_string(),
                outcome,
            },
            Err(_) => return bad("请选择处理结果"),
        },
        "close" => ComplaintAction::Close {
            reason: f.reason.trim().to_string(),
        },
        _ => return bad("未知的操作"),
    };
    let p = sess.user.principal();
    let n = no.clone();
    match blocking(&s, move |app| app.act_on_complaint(&p, &n, action)).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/console/complaints/{}", url_component(&no))).into_response(),
        ),
        Err(e) => failed(e),
    }
}

fn hotline_form(
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
                c.label_zh()
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
        ("department", "单位本身"),
        ("case", "某件办件"),
        ("fee", "一笔收费"),
        ("person", "工作人员"),
        ("conduct", "违规违纪行为"),
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
        "<h1>热线投诉登记</h1><p>话务员登记电话投诉（受理渠道：热线）。登记后请把投诉编号和查询码告知来电人。</p>{err}\
         <form method=\"post\" action=\"/console/complaints/new\" class=\"card\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"category\">投诉类别</label><select id=\"category\" name=\"category\" required><option value=\"\">请选择</option>{categories}</select>\
         <label for=\"department\">被投诉单位</label><select id=\"department\" name=\"department\" required><option value=\"\">请选择</option>{deps}</select>\
         <label for=\"subject\">投诉对象</label><select id=\"subject\" name=\"subject\">{subjects}</select>\
         <label for=\"case_no\">办件编号</label><input id=\"case_no\" name=\"case_no\" value=\"{case_no}\" maxlength=\"64\">\
         <label for=\"staff\">工作人员姓名或工号</label><input id=\"staff\" name=\"staff\" value=\"{staff}\" maxlength=\"50\">\
         <label for=\"item_code\">收费事项实施编码</label><input id=\"item_code\" name=\"item_code\" value=\"{item_code}\" maxlength=\"64\">\
         <label for=\"fee_code\">收费项目</label><input id=\"fee_code\" name=\"fee_code\" value=\"{fee_code}\" maxlength=\"100\">\
         <label for=\"amount\">实收金额（元）</label><input id=\"amount\" name=\"amount\" value=\"{amount}\" maxlength=\"12\">\
         <label for=\"title\">标题（公开，勿含个人信息）</label><input id=\"title\" name=\"title\" value=\"{title}\" maxlength=\"100\">\
         <label for=\"content\">来电内容</label><textarea id=\"content\" name=\"content\" rows=\"5\" maxlength=\"4000\" required>{content}</textarea>\
         <label for=\"address\">事发地点</label><input id=\"address\" name=\"address\" value=\"{address}\" maxlength=\"200\">\
         <fieldset><legend>来电人</legend><label class=\"inline\"><input type=\"radio\" name=\"identity\" value=\"anonymous\"{anon}> 匿名</label>\
         <label class=\"inline\"><input type=\"radio\" name=\"identity\" value=\"real\"{real}> 实名</label>\
         <label for=\"name\">姓名</label><input id=\"name\" name=\"name\" value=\"{name}\" maxlength=\"100\">\
         <label for=\"phone\">电话</label><input id=\"phone\" name=\"phone\" value=\"{phone}\" maxlength=\"40\"></fieldset>\
         <button type=\"submit\">登记</button></form><p><a href=\"/console/complaints\">返回投诉处理</a></p>",
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
pub async fn new_form(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let departments = blocking(&s, |app| app.complaint_departments()).await?;
    let body = hotline_form(
        &departments,
        &ComplaintFields::default(),
        &esc(&sess.csrf),
        "",
    );
    Ok(page("热线投诉登记", &body).into_response())
}

/// `POST /console/complaints/new`: files a hotline complaint as the signed-in operator.
pub async fn file(
    State(s): State<AppState>,
    headers: HeaderMap,
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
            page(
                "热线投诉登记",
                &hotline_form(&departments, &f, &esc(&sess.csrf), msg),
            ),
        )
            .into_response()
    };
    let input = match complaint_input(&f, ComplaintChannel::Hotline) {
        Ok(i) => i,
        Err(m) => return Ok(again(StatusCode::BAD_REQUEST, m)),
    };
    let p = sess.user.principal();
    match blocking(&s, move |app| app.file_complaint(&p, input)).await {
        Ok(filed) => {
            let body = format!(
                "<h1>热线投诉已登记</h1><div class=\"card\" role=\"status\"><p>投诉编号：<strong id=\"complaint-no\">{no}</strong><br>查询码：<strong id=\"query-code\">{code}</strong>（请告知来电人，仅显示这一次）<br>受理期限：{due}{fee}</p></div>\
                 <p><a href=\"/console/complaints/{no_url}\">查看并分办</a> · <a href=\"/console/complaints/new\">继续登记</a></p>",
                no = esc(&filed.complaint_no),
                code = esc(&filed.query_code),
                due = esc(&due_day(&filed.accept_due)),
                fee = filed
                    .fee_flag
                    .as_deref()
                    .map_or_else(String::new, |f| format!(
                        "<br>收费核查：<span class=\"warn\">{}</span>",
                        esc(f)
                    )),
                no_url = url_component(&filed.complaint_no),
            );
            Ok(page("热线投诉已登记", &body).into_response())
        }
        Err(WebError::BadRequest(m)) => Ok(again(StatusCode::BAD_REQUEST, &m)),
        Err(WebError::NotFound(_)) => Ok(again(
            StatusCode::BAD_REQUEST,
            "未找到所填的单位或事项，请核对",
        )),
        Err(WebError::Forbidden(m)) => Ok(again(StatusCode::FORBIDDEN, &m)),
        Err(e) => Err(e),
    }
}
