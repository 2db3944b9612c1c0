//! The console's catalog (事项管理): a department edits its items; each save is a new version
//! with a reason and an effective date (动态管理), validated like an import, all or nothing.
//! Cases keep the version they were accepted under. Pages and form errors are in the reader's
//! language, like the rest of the console; the form's data (names, steps) stays as written.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lianzheng_app::catalog::ItemChange;
use lianzheng_core::catalog::{FeeItem, ItemBody, ItemStatus, Material, StepDef};
use lianzheng_core::codes::{Fen, TimeUnit};
use lianzheng_core::deadline::TimeLimit;
use serde::Deserialize;

use super::console::{checked, error_in, page_in, session_or_login};
use super::i18n::Ui;
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
    ui: Ui,
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
        return Ok(error_in(
            &ui,
            StatusCode::FORBIDDEN,
            ui.t("无权操作"),
            ui.t("只有部门人员和系统管理员可以维护事项"),
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
            "<label for=\"department\">{}</label><select id=\"department\" name=\"department\"><option value=\"\">{}</option>{options}</select>",
            ui.t("部门"),
            ui.t("全部部门")
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
                esc(&limit_text(&ui, &i.legal_limit)),
                esc(&limit_text(&ui, &i.promised_limit))
            )
        })
        .collect();
    let body = format!(
        "<h1>{title}</h1><p>{intro}</p>\
         <form method=\"get\" action=\"/console/catalog\" class=\"card\">{dep_select}<label for=\"q\">{l_q}</label><input id=\"q\" name=\"q\" value=\"{q}\"><button type=\"submit\">{find}</button></form>\
         <div class=\"scroll\"><table><thead><tr><th scope=\"col\">{h_code}</th><th scope=\"col\">{h_name}</th><th scope=\"col\">{h_dep}</th><th scope=\"col\">{h_legal}</th><th scope=\"col\">{h_promised}</th></tr></thead><tbody>{rows}</tbody></table></div>",
        title = ui.t("事项管理"),
        intro = ui.t(
            "修改事项即生成新版本，须注明变更原因和施行日期；已受理的办件仍按受理时的版本办理。"
        ),
        l_q = ui.t("事项名称关键词"),
        q = esc(&q),
        find = ui.t("查找"),
        h_code = ui.t("实施编码"),
        h_name = ui.t("事项名称"),
        h_dep = ui.t("部门"),
        h_legal = ui.t("法定时限"),
        h_promised = ui.t("承诺时限"),
    );
    Ok(page_in(&ui, ui.t("事项管理"), &body).into_response())
}

fn unit_options(ui: &Ui, selected: TimeUnit) -> String {
    TimeUnit::ALL
        .iter()
        .map(|u| {
            let sel = if *u == selected { " selected" } else { "" };
            format!(
                "<option value=\"{}\"{sel}>{}</option>",
                u.code(),
                ui.label(u.label_zh(), u.label_en())
            )
        })
        .collect()
}

/// A time limit as the catalog lists it (`20工作日`), in the reader's language (`20 working
/// days`).
fn limit_text(ui: &Ui, zh: &str) -> String {
    if !ui.en() {
        return zh.to_string();
    }
    TimeUnit::ALL
        .iter()
        .find_map(|u| {
            zh.strip_suffix(u.label_zh())
                .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                .map(|n| format!("{n} {}", u.label_en()))
        })
        .unwrap_or_else(|| zh.to_string())
}

/// How the form writes whether a material is required, in the reader's language.
fn required_text(ui: &Ui, required: bool) -> &'static str {
    match (required, ui.en()) {
        (true, false) => "必备",
        (false, false) => "非必备",
        (true, true) => "required",
        (false, true) => "optional",
    }
}

/// Whether the form's word says the material is optional (in either language).
fn is_optional(word: Option<&str>) -> bool {
    word.is_some_and(|w| w == "非必备" || w.eq_ignore_ascii_case("optional"))
}

fn yuan(f: Fen) -> String {
    format!("{}.{:02}", f.0 / 100, f.0 % 100)
}

/// `GET /console/catalog/{code}`: the current version in an edit form, with the history.
pub async fn edit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    ui: Ui,
) -> Result<Response, WebError> {
    let sess = match session_or_login(&s, &headers).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
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
    if !sess.user.principal().may_act_for(&v.body.department) {
        return Ok(error_in(
            &ui,
            StatusCode::FORBIDDEN,
            ui.t("无权操作"),
            ui.t("只能维护本部门的事项"),
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
                required_text(&ui, m.required),
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
                    ui.pick("已取消", "Retired")
                } else {
                    ui.t("在用")
                }
            )
        })
        .collect();
    let today = lianzheng_core::time::local_date(s.app.now());
    let body = format!(
        "<h1>{t_edit}{name}</h1><p>{l_code} {code} · {l_ver} · {l_type} {itype} · {l_dep} {dep}</p>\
         <form method=\"post\" action=\"/console/catalog/{code_url}\" class=\"card\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"name\">{l_name}</label><input id=\"name\" name=\"name\" value=\"{name}\" required maxlength=\"200\">\
         <label for=\"legal_basis\">{l_basis}</label><textarea id=\"legal_basis\" name=\"legal_basis\" rows=\"2\">{basis}</textarea>\
         <label for=\"conditions\">{l_conditions}</label><textarea id=\"conditions\" name=\"conditions\" rows=\"2\">{conditions}</textarea>\
         <fieldset><legend>{l_legal}</legend><label class=\"inline\" for=\"legal_amount\">{l_amount}</label><input id=\"legal_amount\" name=\"legal_amount\" value=\"{la}\" inputmode=\"numeric\" required>\
         <label class=\"inline\" for=\"legal_unit\">{l_unit}</label><select id=\"legal_unit\" name=\"legal_unit\">{lu}</select></fieldset>\
         <fieldset><legend>{l_promised}</legend><label class=\"inline\" for=\"promised_amount\">{l_amount}</label><input id=\"promised_amount\" name=\"promised_amount\" value=\"{pa}\" inputmode=\"numeric\" required>\
         <label class=\"inline\" for=\"promised_unit\">{l_unit}</label><select id=\"promised_unit\" name=\"promised_unit\">{pu}</select></fieldset>\
         <label for=\"materials\">{l_materials}</label><textarea id=\"materials\" name=\"materials\" rows=\"5\">{materials}</textarea>\
         <label for=\"fees\">{l_fees}</label><textarea id=\"fees\" name=\"fees\" rows=\"3\">{fees}</textarea>\
         <label for=\"steps\">{l_steps}</label><textarea id=\"steps\" name=\"steps\" rows=\"4\">{steps}</textarea>\
         <label for=\"special\">{l_special}</label><textarea id=\"special\" name=\"special\" rows=\"2\">{special}</textarea>\
         <label for=\"phone\">{l_phone}</label><input id=\"phone\" name=\"supervision_phone\" value=\"{phone}\" maxlength=\"30\">\
         <label for=\"status\">{l_status}</label><select id=\"status\" name=\"status\"><option value=\"active\">{o_active}</option><option value=\"retired\"{retired}>{o_retired}</option></select>\
         <label for=\"effective_date\">{l_eff}</label><input id=\"effective_date\" name=\"effective_date\" type=\"date\" value=\"{today}\" required>\
         <label for=\"reason\">{l_reason}</label><input id=\"reason\" name=\"reason\" required maxlength=\"200\">\
         <button type=\"submit\">{save}</button></form>\
         <h2>{l_history}</h2><table><thead><tr><th scope=\"col\">{h_ver}</th><th scope=\"col\">{l_eff}</th><th scope=\"col\">{l_reason}</th><th scope=\"col\">{l_status}</th></tr></thead><tbody>{history}</tbody></table>\
         <p><a href=\"/items/{code_url}\">{l_guide}</a> · <a href=\"/console/catalog\">{l_back}</a></p>",
        t_edit = ui.t("修改事项："),
        l_code = ui.t("实施编码"),
        l_ver = ui.pick(
            &format!("当前第 {} 版（{} 起施行）", v.version, v.effective_date),
            &format!("version {}, in force from {}", v.version, v.effective_date),
        ),
        l_type = ui.t("事项类型"),
        l_dep = ui.t("部门"),
        l_name = ui.t("事项名称"),
        l_basis = ui.t("设定依据"),
        l_conditions = ui.t("受理条件"),
        l_legal = ui.t("法定办结时限"),
        l_promised = ui.t("承诺办结时限"),
        l_amount = ui.t("数量"),
        l_unit = ui.pick("单位", "Unit"),
        l_materials = ui.t("申请材料（每行：名称|必备或非必备|原件份数|复印件份数）"),
        l_fees = ui.t("收费（每行：代码|名称|标准（元）|依据；不收费则留空）"),
        l_steps = ui.t("办理环节（每行：名称|时限工作日；最后一环为批准）"),
        l_special = ui.t("特别程序（每行一种，如 听证、专家评审）"),
        l_phone = ui.t("监督电话"),
        l_status = ui.t("状态"),
        o_active = ui.t("在用"),
        o_retired = ui.t("取消（不再受理新办件）"),
        l_eff = ui.pick("施行日期", "In force from"),
        l_reason = ui.t("变更原因"),
        save = ui.t("保存为新版本"),
        l_history = ui.t("变更记录"),
        h_ver = ui.t("版本"),
        l_guide = ui.t("公众看到的办事指南"),
        l_back = ui.t("返回事项管理"),
        name = esc(&b.name),
        code = esc(&code),
        code_url = url_component(&code),
        itype = ui.label(b.item_type.label_zh(), b.item_type.label_en()),
        dep = esc(&b.department),
        csrf = esc(&sess.csrf),
        basis = esc(&b.legal_basis),
        conditions = esc(&b.conditions),
        la = b.legal_limit.amount,
        lu = unit_options(&ui, b.legal_limit.unit),
        pa = b.promised_limit.amount,
        pu = unit_options(&ui, b.promised_limit.unit),
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
    Ok(page_in(&ui, ui.t("修改事项"), &body).into_response())
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

/// A time limit from the form; `what` names it in the reader's language.
fn limit(ui: &Ui, amount: &str, unit: &str, what: &str) -> Result<TimeLimit, String> {
    let amount = amount.trim().parse::<u32>().map_err(|_| {
        ui.pick(
            &format!("{what}的数量须为整数"),
            &format!("The {what}'s amount must be a whole number"),
        )
        .to_string()
    })?;
    let unit = TimeUnit::parse(unit).map_err(|_| {
        ui.pick(
            &format!("{what}的单位不正确"),
            &format!("The {what}'s unit is not valid"),
        )
        .to_string()
    })?;
    Ok(TimeLimit { amount, unit })
}

/// A bad line of one of the form's lists, in the reader's language: `zh` and `en` are the
/// message with `{n}` for the line number.
fn bad_line(ui: &Ui, n: usize, zh: &str, en: &str) -> String {
    ui.pick(zh, en).replace("{n}", &n.to_string())
}

/// Builds the new version's body from the form over the current one; every problem at once,
/// in the reader's language.
fn body_from(ui: &Ui, f: &EditForm, current: &ItemBody) -> Result<ItemBody, Vec<String>> {
    let mut errs = Vec::new();
    let mut b = current.clone();
    b.name = f.name.trim().to_string();
    b.legal_basis = f.legal_basis.trim().to_string();
    b.conditions = f.conditions.trim().to_string();
    b.supervision_phone = f.supervision_phone.trim().to_string();
    match limit(
        ui,
        &f.legal_amount,
        &f.legal_unit,
        ui.pick("法定时限", "legal limit"),
    ) {
        Ok(l) => b.legal_limit = l,
        Err(e) => errs.push(e),
    }
    match limit(
        ui,
        &f.promised_amount,
        &f.promised_unit,
        ui.pick("承诺时限", "promised limit"),
    ) {
        Ok(l) => b.promised_limit = l,
        Err(e) => errs.push(e),
    }
    b.materials.clear();
    for (n, p) in lines(&f.materials) {
        let copies = |i: usize| p.get(i).map_or(Ok(0), |x| x.parse::<u32>());
        match (p.first(), p.get(1).copied(), copies(2), copies(3)) {
            (Some(name), req, Ok(o), Ok(c)) if !name.is_empty() => b.materials.push(Material {
                name: (*name).to_string(),
                required: !is_optional(req),
                original_copies: o,
                copy_copies: c,
            }),
            _ => errs.push(bad_line(
                ui,
                n,
                "申请材料第 {n} 行格式不正确",
                "Materials, line {n}: not valid (name|required or optional|originals|copies)",
            )),
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
            _ => errs.push(bad_line(
                ui,
                n,
                "收费第 {n} 行格式不正确（代码|名称|标准元|依据）",
                "Fees, line {n}: not valid (code|name|standard in yuan|basis)",
            )),
        }
    }
    b.steps.clear();
    for (n, p) in lines(&f.steps) {
        match (p.first(), p.get(1).map_or(Ok(0), |x| x.parse::<u32>())) {
            (Some(name), Ok(days)) if !name.is_empty() => b.steps.push(StepDef {
                name: (*name).to_string(),
                limit_days: days,
            }),
            _ => errs.push(bad_line(
                ui,
                n,
                "办理环节第 {n} 行格式不正确（名称|时限工作日）",
                "Steps, line {n}: not valid (name|working days)",
            )),
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
    ui: Ui,
    axum::Form(f): axum::Form<EditForm>,
) -> Result<Response, WebError> {
    let sess = match checked(&s, &headers, &f.csrf).await? {
        Ok(s) => s,
        Err(res) => return Ok(res),
    };
    let c = code.clone();
    let versions = blocking(&s, move |app| app.item_versions(&c)).await?;
    let Some(current) = versions.last() else {
        return Ok(error_in(
            &ui,
            StatusCode::NOT_FOUND,
            ui.t("未找到"),
            ui.t("没有该事项"),
        ));
    };
    let fail = |errs: &[String]| {
        let list: String = errs
            .iter()
            .map(|e| format!("<li>{}</li>", esc(ui.msg(e))))
            .collect();
        (
            StatusCode::BAD_REQUEST,
            page_in(
                &ui,
                ui.t("未能保存"),
                &format!(
                    "<h1>{}</h1><p class=\"err\" role=\"alert\">{}</p><ul>{list}</ul><p><a href=\"/console/catalog/{}\">{}</a></p>",
                    ui.t("未能保存"),
                    ui.t("事项未修改："),
                    url_component(&code),
                    ui.t("返回修改")
                ),
            ),
        )
            .into_response()
    };
    let body = match body_from(&ui, &f, &current.body) {
        Ok(b) => b,
        Err(errs) => return Ok(fail(&errs)),
    };
    let Ok(effective_date) = f.effective_date.trim().parse() else {
        return Ok(fail(&[ui.t("施行日期须为 YYYY-MM-DD").to_string()]));
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
        Err(WebError::Forbidden(m)) => {
            Ok(error_in(&ui, StatusCode::FORBIDDEN, ui.t("无权操作"), &m))
        }
        Err(WebError::BadRequest(m)) | Err(WebError::Conflict(m)) => Ok(fail(&[m])),
        Err(e) => Err(e),
    }
}
