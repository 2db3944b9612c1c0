//! Catalog use cases (A1): departments, item versions, import from JSON and CSV.
//!
//! Every change is a new version with a reason and an effective date, logged as an event.
//! An import is all or nothing: every row is checked first, and one bad row means no row is
//! written; the report names every bad row.

use jiff::civil::Date;
use lianzheng_core::catalog::{
    FeeItem, ItemBody, ItemStatus, ItemVersion, Material, StepDef, validate_item_code,
};
use lianzheng_core::codes::{CaseKind, Fen, ItemType, ServiceObject, TimeUnit, WindowAuth};
use lianzheng_core::deadline::TimeLimit;
use serde::{Deserialize, Serialize};

use crate::ingest::{log_admin_event, with_writer};
use crate::{App, AppError, Principal, ms};

/// A department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Short code.
    pub code: String,
    /// 统一社会信用代码.
    pub credit_code: String,
    /// Full name.
    pub name: String,
    /// Short name.
    pub short_name: String,
    /// 监督电话.
    #[serde(default)]
    pub phone: String,
}

/// One item change as submitted: the item code, when it takes effect, why, and the content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemChange {
    /// 实施编码.
    pub code: String,
    /// Effective date.
    pub effective_date: Date,
    /// Reason for the change.
    pub reason: String,
    /// In force or retired.
    #[serde(default = "active")]
    pub status: ItemStatus,
    /// Content.
    #[serde(flatten)]
    pub body: ItemBody,
}

fn active() -> ItemStatus {
    ItemStatus::Active
}

/// One bad row of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based row (data rows for CSV, array positions for JSON).
    pub row: usize,
    /// The item code, if read.
    pub code: String,
    /// Every problem found.
    pub errors: Vec<String>,
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Rows read.
    pub rows: usize,
    /// New versions written (0 when any row failed).
    pub written: usize,
    /// Bad rows.
    pub errors: Vec<RowError>,
}

impl App {
    /// Adds or updates departments (administrators only).
    pub fn upsert_departments(
        &self,
        principal: &Principal,
        deps: &[Department],
    ) -> Result<usize, AppError> {
        if !matches!(principal, Principal::Admin { .. }) {
            return Err(AppError::Forbidden(
                "only administrators edit departments".into(),
            ));
        }
        for d in deps {
            if d.code.is_empty()
                || d.code.len() > 16
                || !d.code.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return Err(AppError::Invalid(format!(
                    "department code `{}` must be 1–16 letters or digits",
                    d.code
                )));
            }
            if d.name.trim().is_empty() {
                return Err(AppError::Invalid(format!(
                    "department `{}` needs a name",
                    d.code
                )));
            }
        }
        let actor = principal.source();
        with_writer(self, |w| {
            for d in deps {
                w.tx.exec(
                    "INSERT INTO departments (code, credit_code, name, short_name, phone) VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET credit_code = excluded.credit_code, name = excluded.name, short_name = excluded.short_name, phone = excluded.phone",
                    &[d.code.clone().into(), d.credit_code.clone().into(), d.name.clone().into(), d.short_name.clone().into(), d.phone.clone().into()],
                )?;
                log_admin_event(
                    w,
                    "department",
                    &d.code,
                    "department_saved",
                    &actor,
                    serde_json::to_value(d).unwrap_or_default(),
                )?;
            }
            Ok(deps.len())
        })
        .inspect(|_| self.catalog_changed())
    }

    /// Checks item changes against the stored departments; returns the bad rows.
    fn check_changes(&self, changes: &[ItemChange]) -> Result<Vec<RowError>, AppError> {
        let departments: std::collections::BTreeSet<String> = self.db.read(|tx| {
            Ok::<_, AppError>(
                tx.query("SELECT code FROM departments", &[])?
                    .iter()
                    .map(|r| r.text(0))
                    .collect(),
            )
        })?;
        let mut seen = std::collections::BTreeSet::new();
        let mut errors = Vec::new();
        for (i, c) in changes.iter().enumerate() {
            let mut errs = c.body.validate();
            if let Err(e) = validate_item_code(&c.code) {
                errs.push(e);
            }
            if !departments.contains(&c.body.department) {
                errs.push(format!("department `{}` does not exist", c.body.department));
            }
            if c.reason.trim().is_empty() {
                errs.push("a change needs a reason".into());
            }
            if !seen.insert(c.code.clone()) {
                errs.push(format!("item `{}` appears twice in this import", c.code));
            }
            if !errs.is_empty() {
                errors.push(RowError {
                    row: i + 1,
                    code: c.code.clone(),
                    errors: errs,
                });
            }
        }
        Ok(errors)
    }

    /// Saves item changes as new versions, all or nothing.
    pub fn save_items(
        &self,
        principal: &Principal,
        changes: Vec<ItemChange>,
    ) -> Result<ImportReport, AppError> {
        let rows = changes.len();
        for c in &changes {
            if !principal.may_act_for(&c.body.department) {
                return Err(AppError::Forbidden(format!(
                    "not allowed to edit items of department `{}`",
                    c.body.department
                )));
            }
        }
        // The department that holds an item now must agree too: no taking over another's item.
        let codes: Vec<String> = changes.iter().map(|c| c.code.clone()).collect();
        let owners: Vec<(String, String)> = self.db.read(|tx| {
            let mut out = Vec::new();
            for code in &codes {
                if let Some(r) = tx.query_opt(
                    "SELECT department FROM items WHERE code = ?",
                    &[code.clone().into()],
                )? {
                    out.push((code.clone(), r.text(0)));
                }
            }
            Ok::<_, AppError>(out)
        })?;
        for (code, department) in owners {
            if !principal.may_act_for(&department) {
                return Err(AppError::Forbidden(format!(
                    "item `{code}` belongs to department `{department}`"
                )));
            }
        }
        let errors = self.check_changes(&changes)?;
        if !errors.is_empty() {
            return Ok(ImportReport {
                rows,
                written: 0,
                errors,
            });
        }
        let actor = principal.source();
        let written = with_writer(self, |w| {
            let now = w.now;
            for c in &changes {
                let current =
                    w.tx.query_opt(
                        "SELECT current_version FROM items WHERE code = ?",
                        &[c.code.clone().into()],
                    )?
                    .map(|r| r.int(0));
                let version = current.unwrap_or(0) + 1;
                let body =
                    serde_json::to_string(&c.body).map_err(|e| AppError::Invalid(e.to_string()))?;
                let status = match c.status {
                    ItemStatus::Active => "active",
                    ItemStatus::Retired => "retired",
                };
                w.tx.exec(
                    "INSERT INTO item_versions (code, version, effective_date, reason, status, body, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    &[c.code.clone().into(), version.into(), c.effective_date.to_string().into(), c.reason.clone().into(), status.into(), body.into(), ms(now).into(), actor.clone().into()],
                )?;
                let params = [
                    c.code.clone().into(),
                    c.body.department.clone().into(),
                    c.body.name.clone().into(),
                    c.body.basic_code.clone().into(),
                    c.body.item_type.code().into(),
                    status.into(),
                    version.into(),
                    ms(now).into(),
                ];
                w.tx.exec(
                    "INSERT INTO items (code, department, name, basic_code, item_type, status, current_version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET department = excluded.department, name = excluded.name, basic_code = excluded.basic_code, item_type = excluded.item_type, status = excluded.status, current_version = excluded.current_version, updated_at = excluded.updated_at",
                    &params,
                )?;
                let payload = serde_json::json!({"version": version, "effective_date": c.effective_date.to_string(), "reason": c.reason, "status": status, "body": c.body});
                log_admin_event(w, "item", &c.code, "item_version", &actor, payload)?;
            }
            Ok(changes.len())
        })?;
        self.catalog_changed();
        Ok(ImportReport {
            rows,
            written,
            errors: Vec::new(),
        })
    }

    /// Every version of an item, oldest first.
    pub fn item_versions(&self, code: &str) -> Result<Vec<ItemVersion>, AppError> {
        self.db.read(|tx| {
            let rows = tx.query(
                "SELECT code, version, effective_date, reason, status, body FROM item_versions WHERE code = ? ORDER BY version",
                &[code.into()],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(ItemVersion {
                        code: r.text(0),
                        version: u32::try_from(r.int(1)).unwrap_or(0),
                        effective_date: r.text(2).parse().map_err(|_| AppError::Invalid("stored date unreadable".into()))?,
                        reason: r.text(3),
                        status: if r.text(4) == "retired" { ItemStatus::Retired } else { ItemStatus::Active },
                        body: serde_json::from_str(&r.text(5)).map_err(|e| AppError::Invalid(e.to_string()))?,
                    })
                })
                .collect()
        })
    }
}

/// Parses a JSON import: an array of item changes. Rows that do not parse are reported by
/// position; nothing is written unless every row is good.
pub fn parse_json_import(text: &str) -> Result<Vec<ItemChange>, Vec<RowError>> {
    let values: Vec<serde_json::Value> = match serde_json::from_str(text) {
        Ok(serde_json::Value::Array(a)) => a,
        Ok(_) => {
            return Err(vec![RowError {
                row: 0,
                code: String::new(),
                errors: vec!["expected a JSON array of items".into()],
            }]);
        }
        Err(e) => {
            return Err(vec![RowError {
                row: 0,
                code: String::new(),
                errors: vec![format!("not valid JSON: {e}")],
            }]);
        }
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        let code = v
            .get("code")
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .to_string();
        match serde_json::from_value::<ItemChange>(v) {
            Ok(c) => out.push(c),
            Err(e) => errors.push(RowError {
                row: i + 1,
                code,
                errors: vec![e.to_string()],
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The CSV columns of an import, in order.
pub const CSV_COLUMNS: &[&str] = &[
    "实施编码",
    "基本编码",
    "事项名称",
    "事项类型",
    "实施主体",
    "设定依据",
    "法定办结时限",
    "法定时限单位",
    "承诺办结时限",
    "承诺时限单位",
    "办件类型",
    "服务对象",
    "窗口授权",
    "收费项目",
    "申请材料",
    "办理环节",
    "特别程序",
    "监督电话",
    "生效日期",
    "变更原因",
    "状态",
];

/// Parses a CSV import with the header [`CSV_COLUMNS`]. Lists inside a cell are separated by
/// `;`: 收费项目 `code:名称:标准(分)`, 申请材料 `名称` with a `*` suffix for 必备, 办理环节
/// `名称:时限(工作日)`.
pub fn parse_csv_import(text: &str) -> Result<Vec<ItemChange>, Vec<RowError>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            return Err(vec![RowError {
                row: 0,
                code: String::new(),
                errors: vec![format!("unreadable header: {e}")],
            }]);
        }
    };
    let missing: Vec<&str> = CSV_COLUMNS
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(vec![RowError {
            row: 0,
            code: String::new(),
            errors: vec![format!("missing columns: {}", missing.join(", "))],
        }]);
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or(0);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    row,
                    code: String::new(),
                    errors: vec![e.to_string()],
                });
                continue;
            }
        };
        let get = |name: &str| rec.get(col(name)).unwrap_or("").trim().to_string();
        let mut errs = Vec::new();
        let num = |s: String| {
            s.parse::<u32>()
                .map_err(|_| format!("`{s}` is not a whole number"))
        };
        let item_type = ok(
            &mut errs,
            "事项类型",
            ItemType::parse(&get("事项类型")).map_err(|e| e.to_string()),
        );
        let legal_amount = ok(&mut errs, "法定办结时限", num(get("法定办结时限")));
        let legal_unit = ok(
            &mut errs,
            "法定时限单位",
            TimeUnit::parse(&get("法定时限单位")).map_err(|e| e.to_string()),
        );
        let promised_amount = ok(&mut errs, "承诺办结时限", num(get("承诺办结时限")));
        let promised_unit = ok(
            &mut errs,
            "承诺时限单位",
            TimeUnit::parse(&get("承诺时限单位")).map_err(|e| e.to_string()),
        );
        let case_kind = ok(
            &mut errs,
            "办件类型",
            CaseKind::parse(&get("办件类型")).map_err(|e| e.to_string()),
        );
        let service_object = ok(
            &mut errs,
            "服务对象",
            ServiceObject::parse(&get("服务对象")).map_err(|e| e.to_string()),
        );
        let window_auth = ok(
            &mut errs,
            "窗口授权",
            WindowAuth::parse(&get("窗口授权")).map_err(|e| e.to_string()),
        );
        let effective = ok(
            &mut errs,
            "生效日期",
            get("生效日期")
                .parse::<Date>()
                .map_err(|_| format!("`{}` is not a date", get("生效日期"))),
        );
        let status = ok(
            &mut errs,
            "状态",
            match get("状态").as_str() {
                "" | "在用" | "active" => Ok(ItemStatus::Active),
                "已取消" | "retired" => Ok(ItemStatus::Retired),
                s => Err(format!("`{s}` must be 在用 or 已取消")),
            },
        );
        let fees = ok(&mut errs, "收费项目", parse_fees(&get("收费项目")));
        let steps = ok(&mut errs, "办理环节", parse_steps(&get("办理环节")));
        let materials: Vec<Material> = split_list(&get("申请材料"))
            .map(|m| {
                let required = m.ends_with('*');
                Material {
                    name: m.trim_end_matches('*').trim().to_string(),
                    required,
                    original_copies: 1,
                    copy_copies: 0,
                }
            })
            .collect();
        let code = get("实施编码");
        match (
            item_type,
            legal_amount,
            legal_unit,
            promised_amount,
            promised_unit,
            case_kind,
            service_object,
            window_auth,
            effective,
            status,
            fees,
            steps,
        ) {
            (
                Some(item_type),
                Some(la),
                Some(lu),
                Some(pa),
                Some(pu),
                Some(case_kind),
                Some(service_object),
                Some(window_auth),
                Some(effective_date),
                Some(status),
                Some(fees),
                Some(steps),
            ) if errs.is_empty() => {
                out.push(ItemChange {
                    code,
                    effective_date,
                    reason: get("变更原因"),
                    status,
                    body: ItemBody {
                        name: get("事项名称"),
                        basic_code: get("基本编码"),
                        item_type,
                        department: get("实施主体"),
                        legal_basis: get("设定依据"),
                        legal_limit: TimeLimit {
                            amount: la,
                            unit: lu,
                        },
                        promised_limit: TimeLimit {
                            amount: pa,
                            unit: pu,
                        },
                        case_kind,
                        service_object,
                        window_auth,
                        fees,
                        materials,
                        steps: if steps.is_empty() {
                            lianzheng_core::catalog::default_steps()
                        } else {
                            steps
                        },
                        special_procedures: split_list(&get("特别程序"))
                            .map(str::to_string)
                            .collect(),
                        supervision_phone: get("监督电话"),
                        conditions: String::new(),
                        online_required: false,
                    },
                });
            }
            _ => errors.push(RowError {
                row,
                code,
                errors: errs,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn ok<T>(errs: &mut Vec<String>, what: &str, r: Result<T, String>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            errs.push(format!("{what}: {e}"));
            None
        }
    }
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split([';', '；'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
}

fn parse_fees(s: &str) -> Result<Vec<FeeItem>, String> {
    split_list(s)
        .map(|f| {
            let parts: Vec<&str> = f.split([':', '：']).map(str::trim).collect();
            let [code, name, fen] = parts.as_slice() else {
                return Err(format!("`{f}` must be code:名称:标准(分)"));
            };
            let fen: i64 = fen
                .parse()
                .map_err(|_| format!("standard `{fen}` must be a whole number of fen"))?;
            Ok(FeeItem {
                code: (*code).to_string(),
                name: (*name).to_string(),
                standard_fen: Fen(fen),
                basis: String::new(),
            })
        })
        .collect()
}

fn parse_steps(s: &str) -> Result<Vec<StepDef>, String> {
    split_list(s)
        .map(|f| {
            let mut parts = f.split([':', '：']).map(str::trim);
            let name = parts.next().unwrap_or("").to_string();
            let limit_days = match parts.next() {
                None => 0,
                Some(d) => d.parse().map_err(|_| {
                    format!("step limit `{d}` must be a whole number of working days")
                })?,
            };
            Ok(StepDef { name, limit_days })
        })
        .collect()
}

/// An item in the public list (事项目录).
#[derive(Debug, Clone, Serialize)]
pub struct ItemSummary {
    /// 实施编码.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// Department code.
    pub department: String,
    /// Department name.
    pub department_name: String,
    /// 事项类型 code.
    pub item_type: String,
    /// Current version.
    pub version: i64,
    /// 法定办结时限.
    pub legal_limit: String,
    /// 承诺办结时限.
    pub promised_limit: String,
    /// 办件类型.
    pub case_kind: String,
    /// 是否收费.
    pub charges: bool,
}

impl App {
    /// Retained (在用) items, filtered by department and a keyword in the name.
    pub fn public_items(
        &self,
        department: Option<&str>,
        keyword: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ItemSummary>, AppError> {
        let mut sql = String::from(
            "SELECT i.code, i.name, i.department, COALESCE(d.name, i.department), i.item_type, i.current_version FROM items i LEFT JOIN departments d ON d.code = i.department WHERE i.status = 'active'",
        );
        let mut params: Vec<crate::db::Value> = Vec::new();
        if let Some(d) = department.filter(|d| !d.is_empty()) {
            sql.push_str(" AND i.department = ?");
            params.push(d.into());
        }
        if let Some(k) = keyword.map(str::trim).filter(|k| !k.is_empty()) {
            let k: String = k
                .chars()
                .filter(|c| *c != '%' && *c != '_')
                .take(50)
                .collect();
            sql.push_str(" AND i.name LIKE ?");
            params.push(format!("%{k}%").into());
        }
        sql.push_str(" ORDER BY i.department, i.code LIMIT ? OFFSET ?");
        params.push(limit.clamp(1, 500).into());
        params.push(offset.max(0).into());
        self.db.read(|tx| {
            let rows = tx.query(&sql, &params)?;
            rows.iter()
                .map(|r| {
                    let version = u32::try_from(r.int(5)).unwrap_or(0);
                    let body =
                        crate::ingest::cached_item_body(&self.item_cache, tx, &r.text(0), version)?;
                    Ok(ItemSummary {
                        code: r.text(0),
                        name: r.text(1),
                        department: r.text(2),
                        department_name: r.text(3),
                        item_type: r.text(4),
                        version: r.int(5),
                        legal_limit: body.legal_limit.to_string(),
                        promised_limit: body.promised_limit.to_string(),
                        case_kind: body.case_kind.label_zh().to_string(),
                        charges: body.charges(),
                    })
                })
                .collect()
        })
    }

    /// Every department.
    pub fn departments(&self) -> Result<Vec<Department>, AppError> {
        self.db.read(|tx| {
            Ok(tx
                .query("SELECT code, credit_code, name, short_name, phone FROM departments ORDER BY code", &[])?
                .iter()
                .map(|r| Department { code: r.text(0), credit_code: r.text(1), name: r.text(2), short_name: r.text(3), phone: r.text(4) })
                .collect())
        })
    }
}
