//! The approval-item catalog (行政审批事项目录, GB/T 39046 事项管理) and its validation.
//!
//! An item is identified by its 实施编码. Each change makes a new [`ItemVersion`] with a reason
//! and an effective date (动态管理); cases keep the version they were accepted under.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::codes::{CaseKind, Fen, ItemType, ServiceObject, TimeUnit, WindowAuth};
use crate::deadline::TimeLimit;

/// A required or optional material (申请材料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    /// 材料名称.
    pub name: String,
    /// 是否必备材料.
    #[serde(default = "yes")]
    pub required: bool,
    /// 原件份数.
    #[serde(default)]
    pub original_copies: u32,
    /// 复印件份数.
    #[serde(default)]
    pub copy_copies: u32,
}

fn yes() -> bool {
    true
}

/// A fee item (收费项目) with its legal standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeItem {
    /// Code, unique within the item.
    pub code: String,
    /// 收费项目名称.
    pub name: String,
    /// The legal standard in fen: the most that may be charged per case.
    pub standard_fen: Fen,
    /// 收费依据.
    #[serde(default)]
    pub basis: String,
}

/// A processing step (环节) with its own limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDef {
    /// 环节名称, e.g. 承办, 审核, 批准.
    pub name: String,
    /// Limit in working days (0: the same day).
    #[serde(default)]
    pub limit_days: u32,
}

/// The content of one version of an item: GB/T 39046 fields plus the extensions supervision
/// needs (fee standards, window authorization, per-step limits).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemBody {
    /// 事项名称.
    pub name: String,
    /// 基本编码 (目录清单 id).
    pub basic_code: String,
    /// 事项类型.
    pub item_type: ItemType,
    /// 实施主体: the department code inside Lianzheng.
    pub department: String,
    /// 设定依据.
    #[serde(default)]
    pub legal_basis: String,
    /// 法定办结时限.
    pub legal_limit: TimeLimit,
    /// 承诺办结时限.
    pub promised_limit: TimeLimit,
    /// 办件类型: 即办件 or 承诺件.
    pub case_kind: CaseKind,
    /// 服务对象.
    #[serde(default = "default_object")]
    pub service_object: ServiceObject,
    /// Window authorization.
    pub window_auth: WindowAuth,
    /// 是否收费 follows from `fees` being non-empty.
    #[serde(default)]
    pub fees: Vec<FeeItem>,
    /// Materials.
    #[serde(default)]
    pub materials: Vec<Material>,
    /// Steps in order; the last one is the decision (批准/决定).
    #[serde(default = "default_steps")]
    pub steps: Vec<StepDef>,
    /// 特别程序 kinds allowed (Art. 45: 听证, 检验, 检测, 专家评审 …).
    #[serde(default)]
    pub special_procedures: Vec<String>,
    /// 监督电话.
    #[serde(default)]
    pub supervision_phone: String,
    /// 受理条件.
    #[serde(default)]
    pub conditions: String,
    /// Whether the item must be handled online (网上审批).
    #[serde(default)]
    pub online_required: bool,
}

fn default_object() -> ServiceObject {
    ServiceObject::NaturalPerson
}

/// 承办, 审核, 批准: the usual three steps.
pub fn default_steps() -> Vec<StepDef> {
    ["承办", "审核", "批准"]
        .iter()
        .map(|n| StepDef {
            name: (*n).to_string(),
            limit_days: 0,
        })
        .collect()
}

impl ItemBody {
    /// 是否收费.
    pub fn charges(&self) -> bool {
        !self.fees.is_empty()
    }

    /// The fee item with a code or name.
    pub fn fee(&self, code_or_name: &str) -> Option<&FeeItem> {
        self.fees
            .iter()
            .find(|f| f.code == code_or_name || f.name == code_or_name)
    }

    /// Names of required materials.
    pub fn required_materials(&self) -> impl Iterator<Item = &str> {
        self.materials
            .iter()
            .filter(|m| m.required)
            .map(|m| m.name.as_str())
    }

    /// Checks the invariants of an item body; returns every problem found, in Chinese.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            errs.push("事项名称 must be 1–200 characters".to_string());
        }
        if self.basic_code.is_empty()
            || self.basic_code.len() > 10
            || !self.basic_code.chars().all(|c| c.is_ascii_alphanumeric())
        {
            errs.push(format!(
                "基本编码 `{}` must be 1–10 letters or digits",
                self.basic_code
            ));
        }
        if self.department.trim().is_empty() {
            errs.push("实施主体 (department) is required".to_string());
        }
        if self.promised_limit.unit == self.legal_limit.unit
            && self.promised_limit.amount > self.legal_limit.amount
        {
            errs.push(format!(
                "承诺办结时限 {} exceeds 法定办结时限 {}",
                self.promised_limit, self.legal_limit
            ));
        }
        if self.legal_limit.amount == 0 && self.case_kind == CaseKind::Promised {
            errs.push("a 承诺件 needs a 法定办结时限 above 0".to_string());
        }
        let mut codes = std::collections::BTreeSet::new();
        for f in &self.fees {
            if f.code.trim().is_empty() || f.name.trim().is_empty() {
                errs.push("fee items need a code and a name".to_string());
            }
            if f.standard_fen.0 < 0 {
                errs.push(format!("fee `{}` has a negative standard", f.code));
            }
            if !codes.insert(f.code.as_str()) {
                errs.push(format!("fee code `{}` appears twice", f.code));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for m in &self.materials {
            if m.name.trim().is_empty() {
                errs.push("a material has no name".to_string());
            }
            if !names.insert(m.name.as_str()) {
                errs.push(format!("material `{}` appears twice", m.name));
            }
        }
        if self.steps.is_empty() {
            errs.push("an item needs at least one step".to_string());
        }
        if self.promised_limit.unit == TimeUnit::WorkingDays {
            let sum: u32 = self.steps.iter().map(|s| s.limit_days).sum();
            if sum > self.promised_limit.amount.max(1) {
                errs.push(format!(
                    "step limits ({sum} 工作日) exceed the 承诺办结时限 {}",
                    self.promised_limit
                ));
            }
        }
        errs
    }
}

/// Whether an item is in force or retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemStatus {
    /// 在用: retained and published.
    Active,
    /// 已取消: no new cases.
    Retired,
}

/// One version of an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemVersion {
    /// 实施编码.
    pub code: String,
    /// 1, 2, …
    pub version: u32,
    /// The day it takes effect.
    pub effective_date: Date,
    /// Why it changed.
    pub reason: String,
    /// In force or retired.
    pub status: ItemStatus,
    /// The content.
    pub body: ItemBody,
}

/// Checks an 实施编码: 1–40 letters or digits (real ones run to 29 characters, beyond the
/// standard's an..24).
pub fn validate_item_code(code: &str) -> Result<(), String> {
    if code.is_empty() || code.len() > 40 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "实施编码 `{code}` 须为1–40个字母或数字 (the item code must be 1–40 letters or digits)"
        ));
    }
    Ok(())
}
