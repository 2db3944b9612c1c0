//! Official code tables (GB/T 39046—2020 附录A) and the project's own small code lists.
//!
//! Each enum parses and prints the official code; serde uses the code too, so the JSON API speaks
//! the standard's language (`"item_type": "01"`, `"satisfaction": 4`).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::ParseError;

/// Declares an enum whose variants map to fixed string codes, with zh-CN and English labels.
/// `code_enum! { any_case … }` also accepts the code in any ASCII case (the project's own
/// letter codes, which clients may send in lower case).
macro_rules! code_enum {
    (@impl $any_case:literal, $(#[$m:meta])* $name:ident, $what:literal { $($variant:ident = $code:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $(#[doc = $zh] $variant),+ }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The official code.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Chinese label, as the standard or the document writes it.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// The English label.
            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            /// Parses the code, or the Chinese label.
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                let t = s.trim();
                $(if t == $code || t == $zh || ($any_case && t.eq_ignore_ascii_case($code)) {
                    return Ok($name::$variant);
                })+
                Err(ParseError::new($what, t))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> { Self::parse(s) }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = serde_json::Value::deserialize(d)?;
                let s = match &v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    other => return Err(serde::de::Error::custom(format!("expected a code, found `{other}`"))),
                };
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
    (any_case $($rest:tt)*) => { code_enum!(@impl true, $($rest)*); };
    ($($rest:tt)*) => { code_enum!(@impl false, $($rest)*); };
}

pub(crate) use code_enum;

code_enum! {
    /// 事项类型 (GB/T 39046 A.1).
    ItemType, "事项类型" {
        PowerGeneral = "00", "行政权力事项", "administrative power";
        Licensing = "01", "行政许可", "administrative licensing";
        Penalty = "02", "行政处罚", "administrative penalty";
        Enforcement = "03", "行政强制", "administrative enforcement";
        Levy = "04", "行政征收", "administrative levy";
        Benefit = "05", "行政给付", "administrative benefit";
        Inspection = "06", "行政检查", "administrative inspection";
        Confirmation = "07", "行政确认", "administrative confirmation";
        Reward = "08", "行政奖励", "administrative reward";
        Ruling = "09", "行政裁决", "administrative ruling";
        OtherPower = "10", "其他类别事项", "other power";
        PublicService = "20", "公共服务事项", "public service";
    }
}

code_enum! {
    /// 办件类型 (GB/T 39046 A.6).
    CaseKind, "办件类型" {
        Immediate = "1", "即办件", "immediate";
        Promised = "2", "承诺件", "promised";
        Other = "9", "其他", "other";
    }
}

code_enum! {
    /// 服务对象 (GB/T 39046 A.4).
    ServiceObject, "服务对象" {
        NaturalPerson = "1", "自然人", "natural person";
        Enterprise = "2", "企业法人", "enterprise";
        Institution = "3", "事业法人", "public institution";
        SocialOrganisation = "4", "社会组织法人", "social organisation";
        Agency = "5", "行政机关", "government agency";
        OtherOrganisation = "6", "其他组织", "other organisation";
    }
}

code_enum! {
    /// 特别程序种类 (GB/T 39046 A.7).
    ProcedureType, "特别程序种类" {
        Extension = "1", "延长审批", "extension";
        ClockStop = "2", "除延长审批之外的情况", "clock stop";
    }
}

code_enum! {
    /// 满意度 (GB/T 39046 A.8). 1 is the best, the reverse of stars.
    Satisfaction, "满意度" {
        VerySatisfied = "1", "非常满意", "very satisfied";
        Satisfied = "2", "满意", "satisfied";
        Fair = "3", "基本满意", "fairly satisfied";
        Dissatisfied = "4", "不满意", "dissatisfied";
        VeryDissatisfied = "5", "非常不满意", "very dissatisfied";
    }
}

impl Satisfaction {
    /// 差评: 不满意 and 非常不满意 (国办发〔2019〕51号).
    pub fn is_bad(self) -> bool {
        matches!(
            self,
            Satisfaction::Dissatisfied | Satisfaction::VeryDissatisfied
        )
    }

    /// The code as a number 1..=5.
    pub fn number(self) -> u8 {
        match self {
            Satisfaction::VerySatisfied => 1,
            Satisfaction::Satisfied => 2,
            Satisfaction::Fair => 3,
            Satisfaction::Dissatisfied => 4,
            Satisfaction::VeryDissatisfied => 5,
        }
    }
}

code_enum! {
    /// 评价渠道 (GB/T 39046 表9).
    RatingChannel, "评价渠道" {
        Pc = "pc", "PC端", "PC";
        Mobile = "mobile", "移动服务端", "mobile";
        QrCode = "qr", "二维码", "QR code";
        HallTablet = "tablet", "政务大厅平板电脑", "hall tablet";
        HallTerminal = "terminal", "政务大厅其他终端", "hall terminal";
        Phone = "phone", "电话", "phone";
        Sms = "sms", "短信", "SMS";
    }
}

impl RatingChannel {
    /// Whether the channel rates an online service (网上服务) rather than an on-site one.
    pub fn is_online(self) -> bool {
        matches!(self, RatingChannel::Pc | RatingChannel::Mobile)
    }
}

code_enum! {
    /// Alert level (监察预警类型代码; GB/T 39046 表11 names the field without a code list, so this
    /// is ours): 提醒, 黄牌预警, 红牌报警.
    Level, "预警级别" {
        Notice = "1", "提醒", "notice";
        Yellow = "2", "黄牌预警", "yellow card";
        Red = "3", "红牌报警", "red card";
    }
}

code_enum! {
    /// The units a time limit is written in.
    TimeUnit, "时限单位" {
        WorkingDays = "WD", "工作日", "working days";
        NaturalDays = "D", "自然日", "days";
        Months = "M", "月", "months";
        Hours = "H", "小时", "working hours";
    }
}

code_enum! {
    /// Window authorization: whether a service-centre window may only accept (受理) or also handle
    /// (受理+办理) the item.
    WindowAuth, "窗口授权" {
        AcceptOnly = "accept", "受理", "accept only";
        AcceptAndHandle = "handle", "受理+办理", "accept and handle";
    }
}

code_enum! {
    /// 业务动作 of a step (GB/T 39046 表7).
    StepAction, "业务动作" {
        Pass = "pass", "通过", "pass";
        Return = "return", "退回", "return";
    }
}

code_enum! {
    /// How an application came in (申报来源).
    Channel, "申报来源" {
        Window = "window", "窗口", "window";
        Online = "online", "网上", "online";
        Mobile = "mobile", "移动端", "mobile";
        Post = "post", "快递", "post";
    }
}

code_enum! {
    /// The role an actor plays in an event.
    ActorRole, "角色" {
        Window = "window", "窗口人员", "window clerk";
        Officer = "officer", "承办人员", "officer";
        Leader = "leader", "部门负责人", "department leader";
        Applicant = "applicant", "申请人", "applicant";
        Supervisor = "supervisor", "监察人员", "supervisor";
        System = "system", "系统", "system";
    }
}

code_enum! {
    /// The outcome of a finished case.
    FinishResult, "办结结果" {
        Granted = "granted", "准予", "granted";
        Denied = "denied", "不予", "denied";
    }
}

/// Money in fen (分), the smallest unit of CNY. Never a float.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in Satisfaction::ALL {
            assert_eq!(Satisfaction::parse(s.code()), Ok(*s));
            assert_eq!(Satisfaction::parse(s.label_zh()), Ok(*s));
        }
        assert!(Satisfaction::parse("6").is_err());
        assert!(Satisfaction::Dissatisfied.is_bad());
        assert!(!Satisfaction::Fair.is_bad());
        assert_eq!(ItemType::parse("01"), Ok(ItemType::Licensing));
        let v: Satisfaction = serde_json::from_str("4").unwrap_or(Satisfaction::VerySatisfied);
        assert_eq!(v, Satisfaction::Dissatisfied);
        assert_eq!(Fen(12345).to_string(), "123.45");
        assert_eq!(Fen(-5).to_string(), "-0.05");
    }
}
