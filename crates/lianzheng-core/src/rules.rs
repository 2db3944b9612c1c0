//! Named rules (X4): every check of the document has a stable code, a level, a legal or policy
//! basis, and parameters a city can change in its rule pack (TOML).
//!
//! Event rules look at one event with the case before and after it; time rules are deadlines in
//! the deadline index, fired by the sweep. Rules are pure: the calendar and `now` come in.
//! A rule returns the findings it opens (hits) and the ones it withdraws (摘牌), with reasons.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use thiserror::Error;

use crate::calendar::Calendar;
use crate::case::{Case, CaseEvent, CaseStatus, EventBody, beyond_window_authorization};
use crate::catalog::ItemBody;
use crate::codes::{CaseKind, Level, ProcedureType, StepAction};
use crate::deadline::{BusinessHours, DeadlineInput, TimeLimit, warning_at};
use crate::time::{civil_from_days, days_from_civil, end_of, local_date};

/// Whether a rule runs on events or from the deadline sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// Runs on the event that causes it.
    Event,
    /// Runs from the deadline index.
    Time,
}

/// A parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Param {
    /// An integer.
    Int(i64),
    /// A fraction or ratio.
    Float(f64),
    /// A switch.
    Bool(bool),
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Param::Int(i) => write!(f, "{i}"),
            Param::Float(x) => write!(f, "{x}"),
            Param::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A parameter's definition.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ParamMeta {
    /// Name in the rule pack.
    pub name: &'static str,
    /// Default.
    pub default: Param,
    /// What it means.
    pub doc: &'static str,
}

/// A rule's definition.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleMeta {
    /// Stable code.
    pub code: &'static str,
    /// Name in Chinese.
    pub name_zh: &'static str,
    /// Name in English.
    pub name_en: &'static str,
    /// Default level.
    pub level: Level,
    /// Event or time rule.
    pub kind: RuleKind,
    /// Legal or policy basis of the rule and its defaults.
    pub basis: &'static str,
    /// Parameters with defaults.
    pub params: &'static [ParamMeta],
}

const fn p(name: &'static str, default: Param, doc: &'static str) -> ParamMeta {
    ParamMeta { name, default, doc }
}

/// Every rule Lianzheng knows.
pub const RULES: &[RuleMeta] = &[
    RuleMeta {
        code: "A001",
        name_zh: "环节临近时限",
        name_en: "step near its limit",
        level: Level::Notice,
        kind: RuleKind::Time,
        basis: "各地行政审批电子监察办法：环节用时达到时限4/5时提醒（Centit A001）",
        params: &[p(
            "fraction",
            Param::Float(0.8),
            "share of the step limit after which to warn",
        )],
    },
    RuleMeta {
        code: "A002",
        name_zh: "环节超时",
        name_en: "step over its limit",
        level: Level::Yellow,
        kind: RuleKind::Time,
        basis: "市级电子监察触发条件：环节超时即使办件未超时亦预警（Centit A002，撤销A001）",
        params: &[],
    },
    RuleMeta {
        code: "A003",
        name_zh: "办件临近承诺时限",
        name_en: "case near its promised deadline",
        level: Level::Yellow,
        kind: RuleKind::Time,
        basis: "焦作市廉政建设意见二(一)1“黄牌预警”；项目默认：承诺时限4/5或到期前1个工作日，取其先",
        params: &[
            p(
                "fraction",
                Param::Float(0.8),
                "share of the promised limit after which to warn",
            ),
            p(
                "days_before",
                Param::Int(1),
                "working days before the deadline to warn at the latest",
            ),
        ],
    },
    RuleMeta {
        code: "A004",
        name_zh: "办件超承诺时限",
        name_en: "case over its promised deadline",
        level: Level::Red,
        kind: RuleKind::Time,
        basis: "焦作市廉政建设意见二(一)1“红牌报警”；超过承诺办结时限",
        params: &[],
    },
    RuleMeta {
        code: "A005",
        name_zh: "办件超法定时限",
        name_en: "case over its legal deadline",
        level: Level::Red,
        kind: RuleKind::Time,
        basis: "《行政许可法》第四十二条、第八十二条",
        params: &[],
    },
    RuleMeta {
        code: "A006",
        name_zh: "办件长期无进展",
        name_en: "case untouched too long",
        level: Level::Yellow,
        kind: RuleKind::Time,
        basis: "电子监察规则：办件三个月无任何办理记录（Centit A006）",
        params: &[p("days", Param::Int(90), "natural days without any event")],
    },
    RuleMeta {
        code: "A007",
        name_zh: "办件今日到期",
        name_en: "case due today",
        level: Level::Notice,
        kind: RuleKind::Time,
        basis: "限时办结制度：承诺期最后一个工作日提醒（Centit 提醒）",
        params: &[],
    },
    RuleMeta {
        code: "P001",
        name_zh: "必备材料缺失即受理",
        name_en: "accepted with a required material missing",
        level: Level::Yellow,
        kind: RuleKind::Event,
        basis: "《行政许可法》第三十二条：申请材料齐全、符合法定形式的方予受理",
        params: &[],
    },
    RuleMeta {
        code: "P002",
        name_zh: "环节跳过或顺序错误",
        name_en: "step skipped or out of order",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "焦作市廉政建设意见二(一)1“无间隙监控”；办理流程以事项目录为准",
        params: &[],
    },
    RuleMeta {
        code: "P003",
        name_zh: "体外循环：办理早于申请或受理",
        name_en: "event dated before registration or acceptance",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "电子监察规则 PROCESS_BEFORE_REGISTER：先办后录、体外循环",
        params: &[],
    },
    RuleMeta {
        code: "P004",
        name_zh: "体外循环：办结后仍有办理",
        name_en: "event after the case was finished",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "电子监察规则 PROCESS_AFTER_FINISH",
        params: &[],
    },
    RuleMeta {
        code: "P005",
        name_zh: "受理与批准为同一人",
        name_en: "same person accepted and approved",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "审批权力分解制衡：受理、审核、批准相分离",
        params: &[p(
            "exempt_immediate",
            Param::Bool(true),
            "即办件 are decided at the window by one person",
        )],
    },
    RuleMeta {
        code: "P006",
        name_zh: "超越窗口授权",
        name_en: "action beyond the window's authorization",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "焦作市廉政建设意见二(一)1：窗口授权到位；仅受理授权的窗口不得办理",
        params: &[],
    },
    RuleMeta {
        code: "P007",
        name_zh: "重复补正",
        name_en: "repeated requests for materials",
        level: Level::Yellow,
        kind: RuleKind::Event,
        basis: "《行政许可法》第三十二条：一次告知申请人需要补正的全部内容（MULTI_CORRECTION）",
        params: &[p(
            "max",
            Param::Int(1),
            "补正告知 allowed before acceptance",
        )],
    },
    RuleMeta {
        code: "P008",
        name_zh: "受理后要求补正",
        name_en: "materials requested after acceptance",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "《行政许可法》第三十二条（CORRECTION_AFTER_ACCEPT）",
        params: &[],
    },
    RuleMeta {
        code: "P009",
        name_zh: "重复退回",
        name_en: "repeated returns",
        level: Level::Yellow,
        kind: RuleKind::Event,
        basis: "电子监察规则 A010：同一办件多次退回",
        params: &[p(
            "max",
            Param::Int(1),
            "退回 allowed before the rule fires",
        )],
    },
    RuleMeta {
        code: "P010",
        name_zh: "补正告知逾期",
        name_en: "late notice of missing materials",
        level: Level::Yellow,
        kind: RuleKind::Event,
        basis: "《行政许可法》第三十二条：5日内一次告知，逾期不告知的自收到材料之日起即为受理",
        params: &[p(
            "days",
            Param::Int(5),
            "working days after receipt to give the notice",
        )],
    },
    RuleMeta {
        code: "F001",
        name_zh: "超标准收费",
        name_en: "fee above its legal standard",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "焦作市廉政建设意见二(二)2 治理乱收费；收费标准见事项目录",
        params: &[p(
            "tolerance_percent",
            Param::Int(0),
            "percent above the standard tolerated",
        )],
    },
    RuleMeta {
        code: "F002",
        name_zh: "目录外收费",
        name_en: "fee not in the catalog",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "焦作市廉政建设意见二(二)2；不收费事项收费或收费项目不在目录（超范围收费）",
        params: &[],
    },
    RuleMeta {
        code: "S001",
        name_zh: "追溯挂起",
        name_en: "retroactive suspension",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "特别程序应当事前审批并书面告知（《行政许可法》第四十五条）；补录开始时间早于录入时间",
        params: &[p(
            "tolerance_hours",
            Param::Int(24),
            "hours a start may precede its recording",
        )],
    },
    RuleMeta {
        code: "S002",
        name_zh: "超期后挂起",
        name_en: "suspension started after the deadline",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "限时办结制度：超时后转特别程序规避监察",
        params: &[],
    },
    RuleMeta {
        code: "S003",
        name_zh: "挂起无审批或依据",
        name_en: "suspension without approver or basis",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "《行政许可法》第四十五条所列情形：听证、招标、拍卖、检验、检测、检疫、鉴定、专家评审",
        params: &[],
    },
    RuleMeta {
        code: "S004",
        name_zh: "超期申请延期",
        name_en: "extension asked after the deadline or beyond the limit",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "《行政许可法》第四十二条：经本行政机关负责人批准可延长十日；延期须在期限届满前批准",
        params: &[p(
            "max_days",
            Param::Int(10),
            "working days an extension may add",
        )],
    },
    RuleMeta {
        code: "S005",
        name_zh: "挂起次数过多或时间过长",
        name_en: "too many or too long suspensions",
        level: Level::Yellow,
        kind: RuleKind::Event,
        basis: "电子监察规则：重复或超长挂起",
        params: &[
            p("max_count", Param::Int(2), "clock stops allowed per case"),
            p(
                "max_days",
                Param::Int(30),
                "working days one clock stop may last",
            ),
        ],
    },
    RuleMeta {
        code: "R001",
        name_zh: "差评待整改",
        name_en: "bad rating to answer",
        level: Level::Notice,
        kind: RuleKind::Event,
        basis: "国办发〔2019〕51号：差评“谁办理、谁负责”，限期整改并反馈",
        params: &[p(
            "days",
            Param::Int(5),
            "working days to answer a bad rating",
        )],
    },
    RuleMeta {
        code: "R002",
        name_zh: "差评整改超期",
        name_en: "bad rating not answered in time",
        level: Level::Red,
        kind: RuleKind::Time,
        basis: "国办发〔2019〕51号；整改时限为地方参数（德州5个工作日）",
        params: &[],
    },
    RuleMeta {
        code: "B001",
        name_zh: "督办逾期未整改",
        name_en: "supervision order not acted on in time",
        level: Level::Red,
        kind: RuleKind::Time,
        basis: "电子监察规则 B001/B002：督办不落实的升级处理",
        params: &[p(
            "days",
            Param::Int(5),
            "working days a 督办 gives by default",
        )],
    },
    RuleMeta {
        code: "E001",
        name_zh: "监测点评议得分偏低",
        name_en: "low score from the enterprise monitoring points",
        level: Level::Yellow,
        kind: RuleKind::Event,
        basis: "焦作市廉政建设意见二(二)5：百家企业评议，评议结果与部门考核挂钩；项目默认：评议轮次结束时总体均分低于3.0且不少于3家企业评议",
        params: &[
            p(
                "min_score",
                Param::Float(3.0),
                "overall mean (1–5) below which a department is flagged",
            ),
            p(
                "min_n",
                Param::Int(3),
                "responses needed before a department is flagged",
            ),
        ],
    },
    RuleMeta {
        code: "E002",
        name_zh: "监测点未按期反馈",
        name_en: "monitoring point has not answered in time",
        level: Level::Notice,
        kind: RuleKind::Time,
        basis: "焦作市廉政建设意见二(二)5：经济发展环境监测点定期反馈；逾期催报，催报后仍未反馈的升级",
        params: &[p(
            "grace_days",
            Param::Int(3),
            "working days after the reminder before escalation",
        )],
    },
    RuleMeta {
        code: "G001",
        name_zh: "投诉受理超期",
        name_en: "complaint not accepted or declined in time",
        level: Level::Yellow,
        kind: RuleKind::Time,
        basis: "焦作市廉政建设意见二(二)1 投诉受理机制：限期受理；《信访条例》第二十二条（收到之日起15日内告知是否受理）；项目默认5个工作日",
        params: &[p(
            "accept_days",
            Param::Int(5),
            "working days after filing to accept or decline",
        )],
    },
    RuleMeta {
        code: "G002",
        name_zh: "投诉答复超期",
        name_en: "complaint not answered in time",
        level: Level::Red,
        kind: RuleKind::Time,
        basis: "焦作市廉政建设意见二(二)1 投诉受理机制：限期答复；《信访条例》第三十三条（限期办结，延长须经批准）；项目默认受理后15个工作日",
        params: &[
            p(
                "answer_days",
                Param::Int(15),
                "working days after acceptance to answer",
            ),
            p(
                "max_extension_days",
                Param::Int(15),
                "working days an approved extension may add",
            ),
        ],
    },
    RuleMeta {
        code: "G003",
        name_zh: "乱收费投诉（目录外或超标准）",
        name_en: "complaint of a fee outside the catalog or above its standard",
        level: Level::Red,
        kind: RuleKind::Event,
        basis: "焦作市廉政建设意见二(二)2 治理乱收费；收费项目及标准以事项目录为准（同F001/F002）",
        params: &[],
    },
    RuleMeta {
        code: "G004",
        name_zh: "投诉答复不满意",
        name_en: "complainant dissatisfied with the answer",
        level: Level::Notice,
        kind: RuleKind::Event,
        basis: "焦作市廉政建设意见二(二)1：投诉人对答复不满意的，重新办理一次",
        params: &[],
    },
];

/// Looks a rule up by code.
pub fn meta(code: &str) -> Option<&'static RuleMeta> {
    RULES.iter().find(|r| r.code == code)
}

/// One rule's setting in a pack.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSetting {
    /// Whether it runs.
    pub enabled: bool,
    /// Its level.
    pub level: Level,
    /// Its parameters (every one, defaults filled in).
    pub params: BTreeMap<String, Param>,
}

/// A city's rule pack: every rule's setting.
#[derive(Debug, Clone, PartialEq)]
pub struct RulePack {
    settings: BTreeMap<&'static str, RuleSetting>,
}

/// Errors in a rule pack.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RulePackError {
    /// Not TOML.
    #[error("rule pack is not valid TOML: {0}")]
    Toml(String),
    /// A rule code that does not exist.
    #[error("unknown rule `{0}`")]
    UnknownRule(String),
    /// A parameter that does not exist.
    #[error("rule `{rule}` has no parameter `{param}`")]
    UnknownParam {
        /// Rule.
        rule: String,
        /// Parameter.
        param: String,
    },
    /// A value of the wrong type or range.
    #[error("rule `{rule}`: `{key}` {reason}")]
    BadValue {
        /// Rule.
        rule: String,
        /// Key.
        key: String,
        /// Why.
        reason: String,
    },
}

impl Default for RulePack {
    fn default() -> Self {
        let settings = RULES
            .iter()
            .map(|r| {
                let params = r
                    .params
                    .iter()
                    .map(|p| (p.name.to_string(), p.default))
                    .collect();
                (
                    r.code,
                    RuleSetting {
                        enabled: true,
                        level: r.level,
                        params,
                    },
                )
            })
            .collect();
        RulePack { settings }
    }
}

impl RulePack {
    /// Reads a pack: a TOML table `[rules.CODE]` with `enabled`, `level` and parameters. Rules
    /// and parameters left out keep their defaults.
    pub fn from_toml(text: &str) -> Result<RulePack, RulePackError> {
        let value: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| RulePackError::Toml(e.message().to_string()))?;
        let mut pack = RulePack::default();
        let Some(rules) = value.get("rules") else {
            return Ok(pack);
        };
        let Some(rules) = rules.as_table() else {
            return Err(RulePackError::Toml("`rules` must be a table".into()));
        };
        for (code, table) in rules {
            let meta = meta(code).ok_or_else(|| RulePackError::UnknownRule(code.clone()))?;
            let Some(setting) = pack.settings.get_mut(meta.code) else {
                continue;
            };
            let Some(table) = table.as_table() else {
                return Err(RulePackError::BadValue {
                    rule: code.clone(),
                    key: code.clone(),
                    reason: "must be a table".into(),
                });
            };
            for (key, v) in table {
                let bad = |reason: &str| RulePackError::BadValue {
                    rule: code.clone(),
                    key: key.clone(),
                    reason: reason.into(),
                };
                match key.as_str() {
                    "enabled" => {
                        setting.enabled = v.as_bool().ok_or_else(|| bad("must be true or false"))?
                    }
                    "level" => {
                        let s = v
                            .as_str()
                            .ok_or_else(|| bad("must be 提醒, 黄牌预警 or 红牌报警"))?;
                        setting.level = match s {
                            "黄牌" | "yellow" => Level::Yellow,
                            "红牌" | "red" => Level::Red,
                            "notice" => Level::Notice,
                            other => Level::parse(other)
                                .map_err(|_| bad("must be 提醒, 黄牌预警 or 红牌报警"))?,
                        };
                    }
                    "basis" => {}
                    name => {
                        let pm = meta.params.iter().find(|p| p.name == name).ok_or_else(|| {
                            RulePackError::UnknownParam {
                                rule: code.clone(),
                                param: name.to_string(),
                            }
                        })?;
                        let value = match pm.default {
                            Param::Int(_) => {
                                let i = v.as_integer().ok_or_else(|| bad("must be an integer"))?;
                                if i < 0 {
                                    return Err(bad("must not be negative"));
                                }
                                Param::Int(i)
                            }
                            Param::Float(d) => {
                                let x = v
                                    .as_float()
                                    .or_else(|| v.as_integer().map(|i| i as f64))
                                    .ok_or_else(|| bad("must be a number"))?;
                                // Fractions stay within 0..=1; a score on the 1–5 scale (E001's
                                // `min_score`, default above 1) within 0..=5.
                                if d > 1.0 && !(0.0..=5.0).contains(&x) {
                                    return Err(bad("must be between 0 and 5"));
                                }
                                if d <= 1.0 && !(0.0..=1.0).contains(&x) {
                                    return Err(bad("must be between 0 and 1"));
                                }
                                Param::Float(x)
                            }
                            Param::Bool(_) => Param::Bool(
                                v.as_bool().ok_or_else(|| bad("must be true or false"))?,
                            ),
                        };
                        setting.params.insert(name.to_string(), value);
                    }
                }
            }
        }
        Ok(pack)
    }

    /// The pack as commented TOML, every rule with its basis and parameters.
    pub fn to_toml(&self) -> String {
        let mut out = String::from(
            "# Lianzheng rule pack. Every rule has a stable code, a level (提醒 / 黄牌预警 / 红牌报警)\n\
             # and parameters; change them here. Rules left out keep their defaults.\n",
        );
        for r in RULES {
            let Some(s) = self.settings.get(r.code) else {
                continue;
            };
            out.push_str(&format!(
                "\n# {} {} ({})\n# 依据: {}\n[rules.{}]\nenabled = {}\nlevel = \"{}\"\n",
                r.code,
                r.name_zh,
                r.name_en,
                r.basis,
                r.code,
                s.enabled,
                s.level.label_zh()
            ));
            for pm in r.params {
                let v = s.params.get(pm.name).copied().unwrap_or(pm.default);
                let v = match v {
                    Param::Float(x) => format!("{x:?}"),
                    other => other.to_string(),
                };
                out.push_str(&format!("{} = {}  # {}\n", pm.name, v, pm.doc));
            }
        }
        out
    }

    /// A rule's setting.
    pub fn setting(&self, code: &str) -> Option<&RuleSetting> {
        self.settings.get(code)
    }

    /// Whether a rule runs.
    pub fn enabled(&self, code: &str) -> bool {
        self.settings.get(code).is_some_and(|s| s.enabled)
    }

    /// A rule's level.
    pub fn level(&self, code: &str) -> Level {
        self.settings.get(code).map_or(Level::Notice, |s| s.level)
    }

    /// An integer parameter (0 when absent).
    pub fn int(&self, code: &str, name: &str) -> u32 {
        match self.settings.get(code).and_then(|s| s.params.get(name)) {
            Some(Param::Int(i)) => u32::try_from(*i).unwrap_or(u32::MAX),
            _ => 0,
        }
    }

    /// A fraction parameter.
    pub fn float(&self, code: &str, name: &str) -> f64 {
        match self.settings.get(code).and_then(|s| s.params.get(name)) {
            Some(Param::Float(x)) => *x,
            Some(Param::Int(i)) => *i as f64,
            _ => 0.0,
        }
    }

    /// A switch parameter.
    pub fn flag(&self, code: &str, name: &str) -> bool {
        matches!(
            self.settings.get(code).and_then(|s| s.params.get(name)),
            Some(Param::Bool(true))
        )
    }
}

/// A finding to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// Rule code.
    pub code: &'static str,
    /// Level from the pack.
    pub level: Level,
    /// What within the subject (a step name, a fee code; empty for the whole case).
    pub scope: String,
    /// Why, in Chinese.
    pub message: String,
}

/// A finding to withdraw (摘牌).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    /// Rule code of the finding to withdraw.
    pub code: &'static str,
    /// Its scope.
    pub scope: String,
    /// Why, in Chinese.
    pub reason: String,
}

/// The result of evaluating rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Findings to open.
    pub hits: Vec<Hit>,
    /// Findings to withdraw.
    pub withdrawals: Vec<Withdrawal>,
}

/// Everything an event rule sees.
#[derive(Debug, Clone, Copy)]
pub struct EventContext<'a> {
    /// The case before the event (`None` for 申请).
    pub before: Option<&'a Case>,
    /// The case after it.
    pub after: &'a Case,
    /// The event.
    pub event: &'a CaseEvent,
    /// The catalog version of the case.
    pub item: &'a ItemBody,
    /// When Lianzheng recorded it.
    pub recorded_at: Timestamp,
    /// Calendar.
    pub calendar: &'a Calendar,
    /// Business hours.
    pub hours: &'a BusinessHours,
}

impl RulePack {
    fn hit(
        &self,
        out: &mut Outcome,
        code: &'static str,
        scope: impl Into<String>,
        message: String,
    ) {
        if self.enabled(code) {
            out.hits.push(Hit {
                code,
                level: self.level(code),
                scope: scope.into(),
                message,
            });
        }
    }

    /// Runs the event rules on one accepted event.
    pub fn evaluate_event(&self, cx: &EventContext<'_>) -> Outcome {
        let mut out = Outcome::default();
        let Some(before) = cx.before else { return out };
        let (ev, after, item) = (cx.event, cx.after, cx.item);
        let at = ev.occurred_at;
        let was_finished = matches!(before.status, CaseStatus::Finished | CaseStatus::Delivered);

        // P003: 体外循环, dated before registration, or a decision before acceptance.
        if at < before.registered_at {
            self.hit(
                &mut out,
                "P003",
                ev.body.kind(),
                format!("{}时间早于申请时间", ev.body.kind_zh()),
            );
        } else if matches!(ev.body, EventBody::Step { .. } | EventBody::Finish { .. })
            && before.accepted_at.is_some_and(|a| at < a)
        {
            self.hit(
                &mut out,
                "P003",
                ev.body.kind(),
                format!("{}时间早于受理时间", ev.body.kind_zh()),
            );
        }
        // P004: anything but 送达 after 办结.
        if was_finished && !matches!(ev.body, EventBody::Deliver { .. }) {
            self.hit(
                &mut out,
                "P004",
                ev.body.kind(),
                format!("办结后仍记录{}", ev.body.kind_zh()),
            );
        }
        if beyond_window_authorization(item, ev) {
            self.hit(
                &mut out,
                "P006",
                ev.body.kind(),
                format!(
                    "仅有受理授权的窗口人员`{}`进行了{}",
                    ev.actor.id,
                    ev.body.kind_zh()
                ),
            );
        }

        match &ev.body {
            EventBody::Accept { .. } => {
                let missing = after.missing_materials(item);
                if !missing.is_empty() {
                    self.hit(
                        &mut out,
                        "P001",
                        "",
                        format!("受理时缺少必备材料：{}", missing.join("、")),
                    );
                }
                if after.clock_start.is_some() && after.clock_start != after.accepted_at {
                    self.hit(
                        &mut out,
                        "P010",
                        "",
                        "补正告知超过法定期限，自收到申请材料之日起计算办理时限".to_string(),
                    );
                }
            }
            EventBody::CorrectionNotice { .. } => {
                if before.status.clock_running() || before.status == CaseStatus::Suspended {
                    self.hit(&mut out, "P008", "", "受理后要求补正材料".to_string());
                } else if after.corrections > self.int("P007", "max") {
                    self.hit(
                        &mut out,
                        "P007",
                        "",
                        format!("第{}次补正告知，未做到一次性告知", after.corrections),
                    );
                }
            }
            EventBody::Step { step, action, .. } if before.status.clock_running() => {
                let idx = item.steps.iter().position(|s| &s.name == step).unwrap_or(0);
                if *action == StepAction::Pass && idx != before.next_step {
                    let expected = item
                        .steps
                        .get(before.next_step)
                        .map_or("（无）", |s| s.name.as_str());
                    self.hit(
                        &mut out,
                        "P002",
                        step.clone(),
                        format!("应办理环节“{expected}”，实际记录“{step}”"),
                    );
                }
                if *action == StepAction::Return && after.returns == self.int("P009", "max") + 1 {
                    self.hit(
                        &mut out,
                        "P009",
                        "",
                        format!("办件已被退回{}次", after.returns),
                    );
                }
                if *action == StepAction::Pass {
                    out.withdrawals.push(Withdrawal {
                        code: "A001",
                        scope: step.clone(),
                        reason: format!("环节“{step}”已办理"),
                    });
                }
            }
            EventBody::Finish { .. } => {
                if before.next_step < item.steps.len() {
                    let left: Vec<&str> = item.steps[before.next_step..]
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect();
                    self.hit(
                        &mut out,
                        "P002",
                        "finish",
                        format!("未经环节“{}”即办结", left.join("、")),
                    );
                }
                let exempt =
                    self.flag("P005", "exempt_immediate") && after.case_kind == CaseKind::Immediate;
                if !exempt && after.acceptor.is_some() && after.acceptor == after.approver {
                    self.hit(
                        &mut out,
                        "P005",
                        "",
                        format!(
                            "受理人与批准人同为`{}`",
                            after.acceptor.as_deref().unwrap_or("")
                        ),
                    );
                }
                // The notice of the step the case stopped at is moot once it is finished.
                if let Some(s) = item.steps.get(before.next_step) {
                    out.withdrawals.push(Withdrawal {
                        code: "A001",
                        scope: s.name.clone(),
                        reason: "办件已办结".into(),
                    });
                }
                match after.finished_on_time(cx.calendar, cx.hours) {
                    Some(true) => {
                        for code in ["A003", "A007"] {
                            out.withdrawals.push(Withdrawal {
                                code,
                                scope: String::new(),
                                reason: "办件已在承诺时限内办结".into(),
                            });
                        }
                    }
                    // Finished late before the sweep saw the deadline pass: the red card is due
                    // now, on the event that makes it certain (超时办结).
                    Some(false) if !after.fired.contains(&("A004".to_string(), String::new())) => {
                        self.hit(
                            &mut out,
                            "A004",
                            "",
                            format!("超时办结：超过承诺办结时限（{}）", after.promised_limit),
                        );
                        for code in ["A003", "A007"] {
                            out.withdrawals.push(Withdrawal {
                                code,
                                scope: String::new(),
                                reason: "升级为超时红牌".into(),
                            });
                        }
                    }
                    _ => {}
                }
            }
            EventBody::Fee {
                fee_code,
                amount_fen,
            } => match item.fee(fee_code) {
                None => {
                    let why = if item.charges() {
                        "收费项目不在事项目录中"
                    } else {
                        "事项目录规定不收费"
                    };
                    self.hit(
                        &mut out,
                        "F002",
                        fee_code.clone(),
                        format!("{why}：`{fee_code}` 收取{amount_fen}元"),
                    );
                }
                Some(f) => {
                    let tol = i64::from(self.int("F001", "tolerance_percent"));
                    if amount_fen.0 * 100 > f.standard_fen.0 * (100 + tol) {
                        self.hit(
                            &mut out,
                            "F001",
                            fee_code.clone(),
                            format!("{}收取{}元，标准为{}元", f.name, amount_fen, f.standard_fen),
                        );
                    }
                }
            },
            EventBody::ProcedureStart {
                procedure_type,
                name,
                days,
                ..
            } => {
                let Some(p) = after.procedures.last() else {
                    return out;
                };
                let lag = cx.recorded_at.duration_since(at);
                let tol = i64::from(self.int("S001", "tolerance_hours"));
                if lag.as_secs() > tol * 3600 {
                    self.hit(
                        &mut out,
                        "S001",
                        "",
                        format!(
                            "特别程序“{name}”开始时间早于录入时间{}小时",
                            lag.as_secs() / 3600
                        ),
                    );
                }
                let due = before.promised_deadline(cx.calendar, cx.hours, at);
                match procedure_type {
                    ProcedureType::ClockStop => {
                        if due.is_some_and(|d| at >= d.due_at) {
                            self.hit(
                                &mut out,
                                "S002",
                                "",
                                format!("办件超过承诺时限后启动特别程序“{name}”"),
                            );
                        }
                        let allowed = item.special_procedures.iter().any(|k| k == name)
                            || ART45_KINDS.contains(&name.as_str());
                        if p.approver.is_none() || p.basis.is_none() || !allowed {
                            let why = if !allowed {
                                format!(
                                    "“{name}”不属于本事项或《行政许可法》第四十五条规定的特别程序"
                                )
                            } else {
                                format!("特别程序“{name}”缺少审批人或法律依据")
                            };
                            self.hit(&mut out, "S003", "", why);
                        }
                        let count = after
                            .procedures
                            .iter()
                            .filter(|x| x.procedure_type == ProcedureType::ClockStop)
                            .count();
                        if count > self.int("S005", "max_count") as usize {
                            self.hit(
                                &mut out,
                                "S005",
                                "count",
                                format!("第{count}次启动特别程序"),
                            );
                        }
                    }
                    ProcedureType::Extension => {
                        let asked = days.unwrap_or(0);
                        let max = self.int("S004", "max_days");
                        if due.is_some_and(|d| at >= d.due_at) {
                            self.hit(&mut out, "S004", "", "超过承诺时限后才申请延期".into());
                        } else if p.approver.is_none() {
                            self.hit(&mut out, "S004", "", "延期未经负责人批准".into());
                        } else if !p.counts {
                            self.hit(&mut out, "S004", "", "重复申请延期".into());
                        } else if asked > max {
                            self.hit(
                                &mut out,
                                "S004",
                                "",
                                format!("申请延期{asked}个工作日，超过{max}个工作日"),
                            );
                        }
                        if p.counts {
                            for code in ["A003", "A007"] {
                                out.withdrawals.push(Withdrawal {
                                    code,
                                    scope: String::new(),
                                    reason: "延期已获批准，时限顺延".into(),
                                });
                            }
                        }
                    }
                }
            }
            EventBody::ProcedureEnd { .. } => {
                if let Some(p) = after
                    .procedures
                    .iter()
                    .rev()
                    .find(|p| p.procedure_type == ProcedureType::ClockStop)
                {
                    let end = p.end.unwrap_or(at);
                    let used = cx
                        .calendar
                        .workdays_between(local_date(p.start), local_date(end))
                        .value;
                    if used > self.int("S005", "max_days")
                        && !after
                            .fired
                            .contains(&("S005".to_string(), "long".to_string()))
                    {
                        self.hit(
                            &mut out,
                            "S005",
                            "long",
                            format!("特别程序“{}”持续{used}个工作日", p.name),
                        );
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// The time rules that should be pending for a case now, as `(code, scope, due_at)`.
    /// The storage keeps exactly this set in its deadline index; the sweep fires the ones due.
    pub fn desired_deadlines(
        &self,
        case: &Case,
        item: &ItemBody,
        cal: &Calendar,
        hours: &BusinessHours,
        now: Timestamp,
    ) -> Vec<DeadlineEntry> {
        let mut out = Vec::new();
        let mut push = |code: &'static str, scope: String, due_at: Option<Timestamp>| {
            if let Some(due_at) = due_at
                && self.enabled(code)
                && !case.fired.contains(&(code.to_string(), scope.clone()))
            {
                out.push(DeadlineEntry {
                    code,
                    scope,
                    due_at,
                });
            }
        };
        if !case.status.is_closed() && case.status != CaseStatus::Rejected {
            let days = i64::from(self.int("A006", "days"));
            let d = civil_from_days(days_from_civil(local_date(case.last_event_at)) + days);
            // Scoped by the day of the last event, so that activity re-arms it.
            push(
                "A006",
                local_date(case.last_event_at).to_string(),
                Some(end_of(d)),
            );
        }
        if case.status == CaseStatus::Suspended {
            if let Some(p) = case.procedures.iter().rev().find(|p| p.end.is_none()) {
                let d = cal
                    .add_workdays(local_date(p.start), self.int("S005", "max_days"))
                    .value;
                push("S005", "long".to_string(), Some(end_of(d)));
            }
            return out;
        }
        if !case.status.clock_running() {
            return out;
        }
        let promised = case.promised_deadline(cal, hours, now);
        let a004_fired = case.fired.contains(&("A004".to_string(), String::new()));
        if !a004_fired {
            let warn = case.promised_warning(
                cal,
                hours,
                now,
                self.float("A003", "fraction"),
                self.int("A003", "days_before"),
            );
            push("A003", String::new(), warn);
            if case.promised_limit.amount > 0 {
                push(
                    "A007",
                    String::new(),
                    promised.map(|d| crate::time::start_of(d.due_date)),
                );
            }
        }
        push("A004", String::new(), promised.map(|d| d.due_at));
        push(
            "A005",
            String::new(),
            case.legal_deadline(cal, hours, now).map(|d| d.due_at),
        );
        if let (Some(step), Some(started)) = (case.current_step(item), case.step_started_at)
            && step.limit_days > 0
        {
            let input = DeadlineInput {
                start: started,
                limit: TimeLimit::working_days(step.limit_days),
                pauses: &[],
                extension: 0,
                now,
            };
            let due = crate::deadline::compute(cal, hours, &input);
            if !case
                .fired
                .contains(&("A002".to_string(), step.name.clone()))
            {
                push(
                    "A001",
                    step.name.clone(),
                    warning_at(cal, hours, &input, self.float("A001", "fraction"), 0),
                );
            }
            push("A002", step.name.clone(), Some(due.due_at));
        }
        out
    }

    /// The finding a fired time rule opens, and what it withdraws.
    pub fn time_outcome(&self, code: &'static str, scope: &str, case: &Case) -> Outcome {
        let mut out = Outcome::default();
        let message = match code {
            "A001" => format!(
                "环节“{scope}”用时已达时限的{}%",
                (self.float("A001", "fraction") * 100.0).round()
            ),
            "A002" => format!("环节“{scope}”已超过环节时限"),
            "A003" => format!("办件临近承诺办结时限（{}）", case.promised_limit),
            "A004" => format!("办件已超过承诺办结时限（{}）", case.promised_limit),
            "A005" => format!("办件已超过法定办结时限（{}）", case.legal_limit),
            "A006" => format!("办件已{}日无办理记录", self.int("A006", "days")),
            "A007" => "办件今日到期".to_string(),
            "S005" => format!("特别程序已超过{}个工作日", self.int("S005", "max_days")),
            _ => meta(code).map_or_else(String::new, |m| m.name_zh.to_string()),
        };
        self.hit(&mut out, code, scope, message);
        match code {
            "A002" => out.withdrawals.push(Withdrawal {
                code: "A001",
                scope: scope.to_string(),
                reason: "升级为环节超时".into(),
            }),
            "A004" => {
                out.withdrawals.push(Withdrawal {
                    code: "A003",
                    scope: String::new(),
                    reason: "升级为超时红牌".into(),
                });
                out.withdrawals.push(Withdrawal {
                    code: "A007",
                    scope: String::new(),
                    reason: "升级为超时红牌".into(),
                });
            }
            _ => {}
        }
        out
    }
}

/// The special procedures of 行政许可法 Art. 45 and common local additions.
pub const ART45_KINDS: &[&str] = &[
    "听证",
    "招标",
    "拍卖",
    "检验",
    "检测",
    "检疫",
    "鉴定",
    "专家评审",
    "实地核查",
    "公示",
];

/// A pending time rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlineEntry {
    /// Rule code.
    pub code: &'static str,
    /// Scope within the subject.
    pub scope: String,
    /// When it fires.
    pub due_at: Timestamp,
}
