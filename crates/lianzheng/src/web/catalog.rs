//! The console's catalog (事项管理): a department edits its items; each save is a new version
//! with a reason and an effective date (动态管理), validated like an import, all or nothing.
//! Cases keep the version they were accepted under.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lianzheng_app::catalog::ItemChange;
use lianzheng_core::catalog::{FeeItem, ItemBody, ItemStatus, Material, StepDef};
use lianzheng_core::codes::{Fen, TimeUnit};
use lianzheng_core::deadline::TimeLimit;
use serde::Deserialize;

use super::console::{checked, error_page, page, session_or_login};
use super::pages::{esc, url_component};
use super::window::parse_yuan;
use super::{AppState, WebError, blocking};

/// The list's filter.
#[derive(Deserialize)]
pub struct ListQuery {
    department: Option<String>,
    q: Option<String>,
}

/// `GET /console/catalog`: the items the user may edit.
pub async fn list(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(f): Query<ListQuery>,
) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let p = sess.user.principal();
    // A department's staff see their department; administrators choose.
    let department = sess
        .user
        .department
        .clone()
        .or(f.department.filter(|d| !d.is_empty()));
    if department.is_none() && !matches!(p, lianzheng_app::Principal::Admin { .. }) {
        return Ok(error_page(
            StatusCode::FORBIDDEN,
            "无权操作",
            "只有部门人员和系统管理员可以维护事项",
        ));
    }
    let q: String = f.q.unwrap_or_default().chars().take(50).collect();
    let (d, k) = (department.clone(), q.clone());
    let (items, departments) = blocking(&s, move |app| {
        Ok((
            app.public_items(d.as_deref(), Some(&k), 500, 0)?,
            app.departments()?,
        ))
    })
    .await?;
    let dep_select = if sess.user.department.is_none() {
        let options: String = departments
            .iter()
            .map(|x| {
                let sel = if department.as_deref() == Some(x.code.as_str()) {
                    " selected"
                } else {
                    ""
                };
                format!(
                    "<option value=\"{}\"{sel}>{}</option>",
                    esc(&x.code),
                    esc(&x.name)
                )
            })
            .collect();
        format!(
            "<label for=\"department\">部门</label><select id=\"department\" name=\"department\"><option value=\"\">全部部门</option>{options}</select>"
        )
    } else {
        String::new()
    };
    let rows: String = items
        .iter()
        .map(|i| {
            format!(
                "<tr><td>{}</td><td><a href=\"/console/catalog/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&i.code),
                url_component(&i.code),
                esc(&i.name),
                esc(&i.department_name),
                esc(&i.legal_limit),
                esc(&i.promised_limit)
            )
        })
        .collect();
    let body = format!(
        "<h1>事项管理</h1><p>修改事项即生成新版本，须注明变更原因和施行日期；已受理的办件仍按受理时的版本办理。</p>\
         <form method=\"get\" action=\"/console/catalog\" class=\"card\">{dep_select}<label for=\"q\">事项名称关键词</label><input id=\"q\" name=\"q\" value=\"{}\"><button type=\"submit\">查找</button></form>\
         <div class=\"scroll\"><table><thead><tr><th scope=\"col\">实施编码</th><th scope=\"col\">事项名称</th><th scope=\"col\">部门</th><th scope=\"col\">法定时限</th><th scope=\"col\">承诺时限</th></tr></thead><tbody>{rows}</tbody></table></div>",
        esc(&q)
    );
    Ok(page("事项管理", &body).into_response())
}

fn unit_options(selected: TimeUnit) -> String {
    TimeUnit::ALL
        .iter()
        .map(|u| {
            let sel = if *u == selected { " selected" } else { "" };
            format!(
                "<option value=\"{}\"{sel}>{}</option>",
                u.code(),
                u.label_zh()
            )
        })
        .collect()
}

fn yuan(f: Fen) -> String {
    format!("{}.{:02}", f.0 / 100, f.0 % 100)
}

/// `GET /console/catalog/{code}`: the current version in an edit form, with the history.
pub async fn edit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let c = code.clone();
    let versions = blocking(&s, move |app| app.item_versions(&c)).await?;
    let Some(v) = versions.last() else {
        return Ok(error_page(StatusCode::NOT_FOUND, "未找到", "没有该事项"));
    };
    if !sess.user.principal().may_act_for(&v.body.department) {
        return Ok(error_page(
            StatusCode::FORBIDDEN,
            "无权操作",
            "只能维护本部门的事项",
        ));
    }
    let b = &v.body;
    let materials: Vec<String> = b
        .materials
        .iter()
        .map(|m| {
            format!(
                "{}|{}|{}|{}",
                m.name,
                if m.required { "必备" } else { "非必备" },
                m.original_copies,
                m.copy_copies
            )
        })
        .collect();
    let fees: Vec<String> = b
        .fees
        .iter()
        .map(|f| format!("{}|{}|{}|{}", f.code, f.name, yuan(f.standard_fen), f.basis))
        .collect();
    let steps: Vec<String> = b
        .steps
        .iter()
        .map(|st| format!("{}|{}", st.name, st.limit_days))
        .collect();
    let history: String = versions
        .iter()
        .rev()
        .map(|x| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                x.version,
                x.effective_date,
                esc(&x.reason),
                if x.status == ItemStatus::Retired {
                    "已取消"
                } else {
                    "在用"
                }
            )
        })
        .collect();
    let today = lianzheng_core::time::local_date(s.app.now());
    let body = format!(
        "<h1>修改事项：{name}</h1><p>实施编码 {code} · 当前第 {ver} 版（{eff} 起施行）· 事项类型 {itype} · 部门 {dep}</p>\
         <form method=\"post\" action=\"/console/catalog/{code_url}\" class=\"card\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"name\">事项名称</label><input id=\"name\" name=\"name\" value=\"{name}\" required maxlength=\"200\">\
         <label for=\"legal_basis\">设定依据</label><textarea id=\"legal_basis\" name=\"legal_basis\" rows=\"2\">{basis}</textarea>\
         <label for=\"conditions\">受理条件</label><textarea id=\"conditions\" name=\"conditions\" rows=\"2\">{conditions}</textarea>\
         <fieldset><legend>法定办结时限</legend><label class=\"inline\" for=\"legal_amount\">数量</label><input id=\"legal_amount\" name=\"legal_amount\" value=\"{la}\" inputmode=\"numeric\" required>\
         <label class=\"inline\" for=\"legal_unit\">单位</label><select id=\"legal_unit\" name=\"legal_unit\">{lu}</select></fieldset>\
         <fieldset><legend>承诺办结时限</legend><label class=\"inline\" for=\"promised_amount\">数量</label><input id=\"promised_amount\" name=\"promised_amount\" value=\"{pa}\" inputmode=\"numeric\" required>\
         <label class=\"inline\" for=\"promised_unit\">单位</label><select id=\"promised_unit\" name=\"promised_unit\">{pu}</select></fieldset>\
         <label for=\"materials\">申请材料（每行：名称|必备或非必备|原件份数|复印件份数）</label><textarea id=\"materials\" name=\"materials\" rows=\"5\">{materials}</textarea>\
         <label for=\"fees\">收费（每行：代码|名称|标准（元）|依据；不收费则留空）</label><textarea id=\"fees\" name=\"fees\" rows=\"3\">{fees}</textarea>\
         <label for=\"steps\">办理环节（每行：名称|时限工作日；最后一环为批准）</label><textarea id=\"steps\" name=\"steps\" rows=\"4\">{steps}</textarea>\
         <label for=\"special\">特别程序（每行一种，如 听证、专家评审）</label><textarea id=\"special\" name=\"special\" rows=\"2\">{special}</textarea>\
         <label for=\"phone\">监督电话</label><input id=\"phone\" name=\"supervision_phone\" value=\"{phone}\" maxlength=\"30\">\
         <label for=\"status\">状态</label><select id=\"status\" name=\"status\"><option value=\"active\">在用</option><option value=\"retired\"{retired}>取消（不再受理新办件）</option></select>\
         <label for=\"effective_date\">施行日期</label><input id=\"effective_date\" name=\"effective_date\" type=\"date\" value=\"{today}\" required>\
         <label for=\"reason\">变更原因</label><input id=\"reason\" name=\"reason\" required maxlength=\"200\">\
         <button type=\"submit\">保存为新版本</button></form>\
         <h2>变更记录</h2><table><thead><tr><th scope=\"col\">版本</th><th scope=\"col\">施行日期</th><th scope=\"col\">变更原因</th><th scope=\"col\">状态</th></tr></thead><tbody>{history}</tbody></table>\
         <p><a href=\"/items/{code_url}\">公众看到的办事指南</a> · <a href=\"/console/catalog\">返回事项管理</a></p>",
        name = esc(&b.name),
        code = esc(&code),
        code_url = url_component(&code),
        ver = v.version,
        eff = v.effective_date,
        itype = b.item_type.label_zh(),
        dep = esc(&b.department),
        csrf = esc(&sess.csrf),
        basis = esc(&b.legal_basis),
        conditions = esc(&b.conditions),
        la = b.legal_limit.amount,
        lu = unit_options(b.legal_limit.unit),
        pa = b.promised_limit.amount,
        pu = unit_options(b.promised_limit.unit),
        materials = esc(&materials.join("\n")),
        fees = esc(&fees.join("\n")),
        steps = esc(&steps.join("\n")),
        special = esc(&b.special_procedures.join("\n")),
        phone = esc(&b.supervision_phone),
        retired = if v.status == ItemStatus::Retired {
            " selected"
        } else {
            ""
        },
    );
    Ok(page("修改事项", &body).into_response())
}

/// The edit form.
#[derive(Deserialize)]
pub struct EditForm {
    csrf: String,
    name: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    conditions: String,
    legal_amount: String,
    legal_unit: String,
    promised_amount: String,
    promised_unit: String,
    #[serde(default)]
    materials: String,
    #[serde(default)]
    fees: String,
    #[serde(default)]
    steps: String,
    #[serde(default)]
    special: String,
    #[serde(default)]
    supervision_phone: String,
    status: String,
    effective_date: String,
    reason: String,
}

fn lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| (i + 1, l.split('|').map(str::trim).collect()))
}

fn limit(amount: &str, unit: &str, what: &str) -> Result<TimeLimit, String> {
    let amount = amount
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("{what}的数量须为整数"))?;
    let unit = TimeUnit::parse(unit).map_err(|_| format!("{what}的单位不正确"))?;
    Ok(TimeLimit { amount, unit })
}

/// Builds the new version's body from the form over the current one; every problem at once.
fn body_from(f: &EditForm, current: &ItemBody) -> Result<ItemBody, Vec<String>> {
    let mut errs = Vec::new();
    let mut b = current.clone();
    b.name = f.name.trim().to_string();
    b.legal_basis = f.legal_basis.trim().to_string();
    b.conditions = f.conditions.trim().to_string();
    b.supervision_phone = f.supervision_phone.trim().to_string();
    match limit(&f.legal_amount, &f.legal_unit, "法定时限") {
        Ok(l) => b.legal_limit = l,
        Err(e) => errs.push(e),
    }
    match limit(&f.promised_amount, &f.promised_unit, "承诺时限") {
        Ok(l) => b.promised_limit = l,
        Err(e) => errs.push(e),
    }
    b.materials.clear();
    for (n, p) in lines(&f.materials) {
        let copies = |i: usize| p.get(i).map_or(Ok(0), |x| x.parse::<u32>());
        match (p.first(), p.get(1).copied(), copies(2), copies(3)) {
            (Some(name), req, Ok(o), Ok(c)) if !name.is_empty() => b.materials.push(Material {
                name: (*name).to_string(),
                required: req != Some("非必备"),
                original_copies: o,
                copy_copies: c,
            }),
            _ => errs.push(format!("申请材料第 {n} 行格式不正确")),
        }
    }
    b.fees.clear();
    for (n, p) in lines(&f.fees) {
        match (p.first(), p.get(1), p.get(2).and_then(|x| parse_yuan(x))) {
            (Some(code), Some(name), Some(fen)) if !code.is_empty() && !name.is_empty() => {
                b.fees.push(FeeItem {
                    code: (*code).to_string(),
                    name: (*name).to_string(),
                    standard_fen: Fen(fen),
                    basis: p.get(3).map_or_else(String::new, |x| (*x).to_string()),
                });
            }
            _ => errs.push(format!("收费第 {n} 行格式不正确（代码|名称|标准元|依据）")),
        }
    }
    b.steps.clear();
    for (n, p) in lines(&f.steps) {
        match (p.first(), p.get(1).map_or(Ok(0), |x| x.parse::<u32>())) {
            (Some(name), Ok(days)) if !name.is_empty() => b.steps.push(StepDef {
                name: (*name).to_string(),
                limit_days: days,
            }),
            _ => errs.push(format!("办理环节第 {n} 行格式不正确（名称|时限工作日）")),
        }
    }
    b.special_procedures = f
        .special
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if errs.is_empty() { Ok(b) } else { Err(errs) }
}

/// `POST /console/catalog/{code}`: saves the form as a new version.
pub async fn save(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<EditForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let c = code.clone();
    let versions = blocking(&s, move |app| app.item_versions(&c)).await?;
    let Some(current) = versions.last() else {
        return Ok(error_page(StatusCode::NOT_FOUND, "未找到", "没有该事项"));
    };
    let fail = |errs: &[String]| {
        let list: String = errs
            .iter()
            .map(|e| format!("<li>{}</li>", esc(e)))
            .collect();
        (
            StatusCode::BAD_REQUEST,
            page(
                "未能保存",
                &format!(
                    "<h1>未能保存</h1><p class=\"err\" role=\"alert\">事项未修改：</p><ul>{list}</ul><p><a href=\"/console/catalog/{}\">返回修改</a></p>",
                    url_component(&code)
                ),
            ),
        )
            .into_response()
    };
    let body = match body_from(&f, &current.body) {
        Ok(b) => b,
        Err(errs) => return Ok(fail(&errs)),
    };
    let Ok(effective_date) = f.effective_date.trim().parse() else {
        return Ok(fail(&["施行日期须为 YYYY-MM-DD".into()]));
    };
    let change = ItemChange {
        code: code.clone(),
        effective_date,
        reason: f.reason.trim().to_string(),
        status: if f.status == "retired" {
            ItemStatus::Retired
        } else {
            ItemStatus::Active
        },
        body,
    };
    let p = sess.user.principal();
    match blocking(&s, move |app| app.save_items(&p, vec![change])).await {
        Ok(r) if r.errors.is_empty() => {
            Ok(Redirect::to(&format!("/console/catalog/{}", url_component(&code))).into_response())
        }
        Ok(r) => Ok(fail(
            &r.errors
                .into_iter()
                .flat_map(|e| e.errors)
                .collect::<Vec<_>>(),
        )),
        Err(WebError::Forbidden(m)) => Ok(error_page(StatusCode::FORBIDDEN, "无权操作", &m)),
        Err(WebError::BadRequest(m)) | Err(WebError::Conflict(m)) => Ok(fail(&[m])),
        Err(e) => Err(e),
    }
}
