//! Enterprise monitoring points (经济发展环境监测点, 百家企业评议; mission G4): registered
//! enterprises rate the departments they deal with on a schedule, and the results roll up per
//! department without showing which enterprise said what.
//!
//! What it is: the pure domain — the 统一社会信用代码 with its check character (GB 32100—2015),
//! the sector table, survey periods, the fixed indicators, validation of a response with Chinese
//! messages, the roll-up with small-sample suppression, and the two rules: E001 (a department's
//! overall mean below the threshold in a closed round) and E002 (a point that has not answered by
//! the due date is chased, and escalated at a second deadline).
//!
//! What it is not: storage, tokens, the clock and authorization live in `lianzheng-app`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::rules::{Hit, RulePack};

/// Invalid monitoring input; the message is for the user, written "中文 (English)".
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct MonitoringError(pub String);

fn invalid(msg: impl Into<String>) -> MonitoringError {
    MonitoringError(msg.into())
}

/// The characters of a 统一社会信用代码 (GB 32100—2015): digits and capitals without I, O, S, V, Z.
const CREDIT_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// The weights of the first 17 characters.
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The check character for the first 17 characters of a 统一社会信用代码, or `None` when they are
/// not 17 characters of the code's alphabet.
pub fn credit_code_check_char(body: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut count = 0usize;
    for (c, w) in body.chars().zip(CREDIT_WEIGHTS) {
        let v = CREDIT_CHARS.find(c)?;
        sum += u32::try_from(v).ok()? * w;
        count += 1;
    }
    if count != 17 || body.chars().count() != 17 {
        return None;
    }
    let check = (31 - sum % 31) % 31;
    CREDIT_CHARS.chars().nth(usize::try_from(check).ok()?)
}

/// A validated 统一社会信用代码: 18 characters whose last is the check character.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CreditCode(String);

impl CreditCode {
    /// Validates a code (upper-cased, trimmed).
    pub fn parse(s: &str) -> Result<CreditCode, MonitoringError> {
        let t = s.trim().to_ascii_uppercase();
        if t.chars().count() != 18 || !t.chars().all(|c| CREDIT_CHARS.contains(c)) {
            return Err(invalid(format!(
                "统一社会信用代码 `{0}` 应为18位数字或大写字母（不含I、O、S、V、Z） (the unified social credit code `{0}` must be 18 digits or capital letters other than I, O, S, V and Z)",
                t.chars().take(40).collect::<String>()
            )));
        }
        let (body, last) = t.split_at(17);
        match credit_code_check_char(body) {
            Some(c) if last.starts_with(c) => Ok(CreditCode(t)),
            _ => Err(invalid(format!("统一社会信用代码 `{t}` 校验位错误"))),
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CreditCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The sector of a monitoring point. Codes are the 门类 letters of GB/T 4754—2017 (国民经济行业
/// 分类); `Z` (其他) is the project's own code for every other 门类.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sector {
    /// C 制造业.
    Manufacturing,
    /// E 建筑业.
    Construction,
    /// F 批发和零售业.
    WholesaleRetail,
    /// H 住宿和餐饮业.
    HotelsCatering,
    /// I 信息传输、软件和信息技术服务业.
    InformationTechnology,
    /// J 金融业.
    Finance,
    /// K 房地产业.
    RealEstate,
    /// Z 其他.
    Other,
}

impl Sector {
    /// Every sector, in code order.
    pub const ALL: &'static [Sector] = &[
        Sector::Manufacturing,
        Sector::Construction,
        Sector::WholesaleRetail,
        Sector::HotelsCatering,
        Sector::InformationTechnology,
        Sector::Finance,
        Sector::RealEstate,
        Sector::Other,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Sector::Manufacturing => "C",
            Sector::Construction => "E",
            Sector::WholesaleRetail => "F",
            Sector::HotelsCatering => "H",
            Sector::InformationTechnology => "I",
            Sector::Finance => "J",
            Sector::RealEstate => "K",
            Sector::Other => "Z",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Sector::Manufacturing => "制造业",
            Sector::Construction => "建筑业",
            Sector::WholesaleRetail => "批发零售",
            Sector::HotelsCatering => "住宿餐饮",
            Sector::InformationTechnology => "信息技术",
            Sector::Finance => "金融",
            Sector::RealEstate => "房地产",
            Sector::Other => "其他",
        }
    }

    /// Parses the code or the Chinese label.
    pub fn parse(s: &str) -> Result<Sector, MonitoringError> {
        let t = s.trim();
        Sector::ALL
            .iter()
            .copied()
            .find(|x| x.code() == t || x.label_zh() == t)
            .ok_or_else(|| {
                invalid(format!(
                    "行业 `{}` 不在行业代码表中（C 制造业、E 建筑业、F 批发零售、H 住宿餐饮、I 信息技术、J 金融、K 房地产、Z 其他）",
                    t.chars().take(40).collect::<String>()
                ))
            })
    }
}

impl Serialize for Sector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Sector {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sector::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The fixed indicators every department is rated on, each 1–5.
pub const INDICATORS: [&str; 5] = ["办事效率", "服务态度", "政策公开", "廉洁自律", "收费规范"];

/// What a suppressed roll-up shows instead of numbers.
pub const SUPPRESSED_LABEL: &str = "样本不足";

/// The default number of responses below which a department's results are not shown.
pub const DEFAULT_MIN_PUBLISH: u32 = 3;

/// The default number of monitoring points a city registers at most.
pub const DEFAULT_MAX_POINTS: u32 = 100;

/// Validates a survey period: a quarter (`2026Q3`) or a month (`2026-11`).
pub fn validate_period(s: &str) -> Result<(), MonitoringError> {
    let bad = || {
        invalid(format!(
            "评议期次 `{0}` 应为季度（如2026Q3）或月份（如2026-11） (the survey period `{0}` must be a quarter such as 2026Q3 or a month such as 2026-11)",
            s.chars().take(20).collect::<String>()
        ))
    };
    let (year, rest) = s.split_at_checked(4).ok_or_else(bad)?;
    if !year.chars().all(|c| c.is_ascii_digit())
        || !(2000..=2100).contains(&year.parse::<u32>().map_err(|_| bad())?)
    {
        return Err(bad());
    }
    let ok = match rest.as_bytes() {
        [b'Q', q] => (b'1'..=b'4').contains(q),
        [b'-', m1, m2] if m1.is_ascii_digit() && m2.is_ascii_digit() => {
            (1..=12).contains(&((m1 - b'0') * 10 + (m2 - b'0')))
        }
        _ => false,
    };
    if ok { Ok(()) } else { Err(bad()) }
}

/// One enterprise's rating of one department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRating {
    /// Department code.
    pub department: String,
    /// Every indicator of [`INDICATORS`], 1–5.
    pub scores: BTreeMap<String, u8>,
    /// Overall, 1–5.
    pub overall: u8,
    /// Comment (at most 500 characters).
    #[serde(default)]
    pub comment: String,
}

/// Validates a response against the departments the point was asked to rate: each of them
/// exactly once, every indicator 1–5, nothing else.
pub fn validate_response(
    asked: &[String],
    ratings: &[DepartmentRating],
) -> Result<(), MonitoringError> {
    if ratings.is_empty() {
        return Err(invalid("评议内容为空"));
    }
    let mut seen = Vec::new();
    for r in ratings {
        if !asked.contains(&r.department) {
            return Err(invalid(format!(
                "部门 `{}` 不在本次评议范围内",
                r.department.chars().take(40).collect::<String>()
            )));
        }
        if seen.contains(&&r.department) {
            return Err(invalid(format!("部门 `{}` 重复评议", r.department)));
        }
        seen.push(&r.department);
        for name in INDICATORS {
            match r.scores.get(name) {
                None => {
                    return Err(invalid(format!(
                        "部门 `{0}` 缺少指标“{name}”的评分 (department `{0}` has no score for `{name}`)",
                        r.department
                    )));
                }
                Some(v) if !(1..=5).contains(v) => {
                    return Err(invalid(format!(
                        "部门 `{0}` 指标“{name}”的评分应为1至5，实为{v} (department `{0}`: the score for `{name}` must be 1 to 5, not {v})",
                        r.department
                    )));
                }
                Some(_) => {}
            }
        }
        if let Some(extra) = r.scores.keys().find(|k| !INDICATORS.contains(&k.as_str())) {
            return Err(invalid(format!(
                "指标“{0}”不在评议指标中（{1}） (`{0}` is not one of the indicators `{1}`)",
                extra.chars().take(20).collect::<String>(),
                INDICATORS.join("、")
            )));
        }
        if !(1..=5).contains(&r.overall) {
            return Err(invalid(format!(
                "部门 `{0}` 的总体评价应为1至5，实为{1} (department `{0}`: the overall rating must be 1 to 5, not {1})",
                r.department, r.overall
            )));
        }
        if r.comment.chars().count() > 500 {
            return Err(invalid(format!(
                "部门 `{0}` 的意见建议不得超过500字 (department `{0}`: the comment must be at most 500 characters)",
                r.department
            )));
        }
    }
    if let Some(missing) = asked.iter().find(|d| !seen.contains(d)) {
        return Err(invalid(format!(
            "部门 `{missing}` 尚未评议 (department `{missing}` has not been rated)"
        )));
    }
    Ok(())
}

/// One department's results in one round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepartmentRollup {
    /// Department code.
    pub department: String,
    /// Responses.
    pub n: u32,
    /// Fewer than the publication minimum: no numbers are shown.
    pub suppressed: bool,
    /// [`SUPPRESSED_LABEL`] when suppressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    /// Mean of each indicator (two decimals); empty when suppressed.
    pub indicators: BTreeMap<String, f64>,
    /// Mean overall score (two decimals); `None` when suppressed.
    pub overall: Option<f64>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Rolls ratings up per department (in department-code order). A department with fewer than
/// `min_publish` responses is suppressed, so that no enterprise's answer can be singled out.
pub fn roll_up<'a>(
    ratings: impl IntoIterator<Item = &'a DepartmentRating>,
    min_publish: u32,
) -> Vec<DepartmentRollup> {
    let mut by: BTreeMap<&str, Vec<&DepartmentRating>> = BTreeMap::new();
    for r in ratings {
        by.entry(r.department.as_str()).or_default().push(r);
    }
    by.into_iter()
        .map(|(department, rs)| {
            let n = u32::try_from(rs.len()).unwrap_or(u32::MAX);
            let suppressed = n < min_publish.max(1);
            let nf = f64::from(n);
            let mean = |f: &dyn Fn(&DepartmentRating) -> u8| {
                round2(rs.iter().map(|r| f64::from(f(r))).sum::<f64>() / nf)
            };
            let (indicators, overall) = if suppressed {
                (BTreeMap::new(), None)
            } else {
                (
                    INDICATORS
                        .iter()
                        .map(|name| {
                            (
                                (*name).to_string(),
                                mean(&|r| r.scores.get(*name).copied().unwrap_or(0)),
                            )
                        })
                        .collect(),
                    Some(mean(&|r| r.overall)),
                )
            };
            DepartmentRollup {
                department: department.to_string(),
                n,
                suppressed,
                note: suppressed.then_some(SUPPRESSED_LABEL),
                indicators,
                overall,
            }
        })
        .collect()
}

/// E001 on a closed round: each department whose overall mean is below `min_score`, counted
/// only when it has at least `min_n` responses and its results are published (not suppressed,
/// so the finding never reveals more than the public roll-up). The hit's scope is the round.
pub fn low_scores(
    pack: &RulePack,
    round: &str,
    rollups: &[DepartmentRollup],
) -> Vec<(String, Hit)> {
    if !pack.enabled("E001") {
        return Vec::new();
    }
    let min_score = pack.float("E001", "min_score");
    let min_n = pack.int("E001", "min_n").max(1);
    rollups
        .iter()
        .filter(|r| !r.suppressed && r.n >= min_n)
        .filter_map(|r| {
            let overall = r.overall?;
            (overall < min_score).then(|| {
                (
                    r.department.clone(),
                    Hit {
                        code: "E001",
                        level: pack.level("E001"),
                        scope: round.to_string(),
                        message: format!(
                            "{round}企业评议：总体评价均分{overall:.2}低于{min_score:.2}（{}家企业评议）",
                            r.n
                        ),
                    },
                )
            })
        })
        .collect()
}

/// The state of a survey request (one point asked in one round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    /// Not answered, not yet due.
    Pending,
    /// Answered.
    Answered,
    /// Not answered by the due date: chased.
    Late,
}

impl RequestStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Answered => "answered",
            RequestStatus::Late => "late",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            RequestStatus::Pending => "待反馈",
            RequestStatus::Answered => "已反馈",
            RequestStatus::Late => "逾期未反馈",
        }
    }

    /// Parses the stored code.
    pub fn parse(s: &str) -> Result<RequestStatus, MonitoringError> {
        match s {
            "pending" => Ok(RequestStatus::Pending),
            "answered" => Ok(RequestStatus::Answered),
            "late" => Ok(RequestStatus::Late),
            other => Err(invalid(format!("反馈状态 `{other}` 无效"))),
        }
    }
}

/// What E002 does when a request's deadline passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Chase {
    /// Nothing: answered, or the rule is off.
    Nothing,
    /// First deadline: mark the request late, remind the point, open the finding; watch again
    /// after `grace_days` working days.
    Remind {
        /// The finding to open (scope: the request).
        hit: Hit,
        /// Working days to the second deadline.
        grace_days: u32,
    },
    /// Second deadline: escalate the finding.
    Escalate {
        /// Why.
        reason: String,
    },
}

/// E002: what to do when deadline number `chased + 1` of a request passes.
pub fn chase(
    pack: &RulePack,
    request: &str,
    point_name: &str,
    status: RequestStatus,
    chased: u32,
) -> Chase {
    if status == RequestStatus::Answered || !pack.enabled("E002") {
        return Chase::Nothing;
    }
    if chased == 0 {
        Chase::Remind {
            hit: Hit {
                code: "E002",
                level: pack.level("E002"),
                scope: request.to_string(),
                message: format!("监测点“{point_name}”未按期反馈评议（{request}），已催报"),
            },
            grace_days: pack.int("E002", "grace_days").max(1),
        }
    } else if chased == 1 {
        Chase::Escalate {
            reason: format!("监测点“{point_name}”催报后仍未反馈评议（{request}）"),
        }
    } else {
        Chase::Nothing
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn with_check(body: &str) -> String {
        format!("{body}{}", credit_code_check_char(body).unwrap_or('?'))
    }

    #[test]
    fn credit_codes() {
        // A published code (国家市场监督管理总局 examples use this shape).
        let good = with_check("91410800MA3X00001");
        assert!(CreditCode::parse(&good).is_ok(), "{good}");
        assert!(CreditCode::parse(&good.to_lowercase()).is_ok());
        let mut bad = good.clone();
        bad.pop();
        bad.push(if good.ends_with('0') { '1' } else { '0' });
        assert!(CreditCode::parse(&bad).unwrap_err().0.contains("校验位"));
        assert!(CreditCode::parse("91410800MA3X0000I1").is_err());
        assert!(CreditCode::parse("123").is_err());
        assert_eq!(credit_code_check_char("9141080"), None);
    }

    #[test]
    fn periods() {
        for ok in ["2026Q3", "2026-11", "2026-01"] {
            assert!(validate_period(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2026Q5",
            "2026-13",
            "2026-00",
            "26Q1",
            "2026",
            "",
            "2026年3季度",
        ] {
            assert!(validate_period(bad).is_err(), "{bad}");
        }
    }

    fn rating(d: &str, v: u8, overall: u8) -> DepartmentRating {
        DepartmentRating {
            department: d.into(),
            scores: INDICATORS.iter().map(|n| ((*n).to_string(), v)).collect(),
            overall,
            comment: String::new(),
        }
    }

    #[test]
    fn validation_and_rollup() {
        let asked = vec!["A".to_string(), "B".to_string()];
        assert!(validate_response(&asked, &[rating("A", 4, 4), rating("B", 5, 5)]).is_ok());
        assert!(
            validate_response(&asked, &[rating("A", 4, 4)])
                .unwrap_err()
                .0
                .contains("尚未评议")
        );
        assert!(validate_response(&asked, &[rating("A", 6, 4), rating("B", 5, 5)]).is_err());
        assert!(validate_response(&asked, &[rating("C", 4, 4)]).is_err());
        let mut extra = rating("A", 4, 4);
        extra.scores.insert("其他".into(), 3);
        assert!(validate_response(&asked, &[extra, rating("B", 5, 5)]).is_err());
        let rs = [
            rating("A", 4, 2),
            rating("A", 2, 3),
            rating("A", 3, 3),
            rating("B", 5, 5),
        ];
        let r = roll_up(&rs, 3);
        assert_eq!(r[0].n, 3);
        assert_eq!(r[0].overall, Some(2.67));
        assert_eq!(r[0].indicators["办事效率"], 3.0);
        assert!(r[1].suppressed && r[1].overall.is_none() && r[1].note == Some("样本不足"));
        let hits = low_scores(&RulePack::default(), "2026Q3", &r);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0, "A");
    }
}
