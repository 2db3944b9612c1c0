//! Findings (预警 / 报警 / 监察建议) and their lifecycle.
//!
//! A finding is a subject of its own: opened by a rule, then 督办 (a supervision order with a
//! deadline), 整改 reported by the responsible department, closed by the supervisor, or
//! withdrawn (摘牌) with a reason. A 督办 not acted on in time escalates it. Each step is an
//! event, so findings are logged and supervised like everything else.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::codes::Level;

/// Where a finding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// 待督办: opened, nobody has acted yet.
    Open,
    /// 督办中: a supervision order is running.
    Supervised,
    /// 已整改: the department reported its rectification (or answered a bad rating).
    Rectified,
    /// 已摘牌: withdrawn, by a rule or a person, with a reason.
    Withdrawn,
    /// 已办结: closed by the supervisor after rectification.
    Closed,
}

impl FindingStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Supervised => "supervised",
            FindingStatus::Rectified => "rectified",
            FindingStatus::Withdrawn => "withdrawn",
            FindingStatus::Closed => "closed",
        }
    }

    /// Parses the stored code.
    pub fn parse(s: &str) -> Option<FindingStatus> {
        [
            Self::Open,
            Self::Supervised,
            Self::Rectified,
            Self::Withdrawn,
            Self::Closed,
        ]
        .into_iter()
        .find(|x| x.code() == s)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            FindingStatus::Open => "待督办",
            FindingStatus::Supervised => "督办中",
            FindingStatus::Rectified => "已整改",
            FindingStatus::Withdrawn => "已摘牌",
            FindingStatus::Closed => "已办结",
        }
    }

    /// Whether nothing more can happen.
    pub fn is_final(self) -> bool {
        matches!(self, FindingStatus::Withdrawn | FindingStatus::Closed)
    }
}

/// An action on a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FindingAction {
    /// 督办: a supervision order with a deadline.
    Supervise {
        /// What the department must do.
        order: String,
        /// The deadline.
        due_at: Timestamp,
    },
    /// 整改 reported by the department (or its answer to a bad rating).
    Rectify {
        /// What was done.
        text: String,
    },
    /// 摘牌.
    Withdraw {
        /// Why.
        reason: String,
    },
    /// 升级: a 督办 not acted on in time.
    Escalate {
        /// Why.
        reason: String,
    },
    /// 办结: the supervisor accepts the rectification.
    Close {
        /// Conclusion.
        conclusion: String,
    },
}

impl FindingAction {
    /// Stable name.
    pub fn name(&self) -> &'static str {
        match self {
            FindingAction::Supervise { .. } => "supervise",
            FindingAction::Rectify { .. } => "rectify",
            FindingAction::Withdraw { .. } => "withdraw",
            FindingAction::Escalate { .. } => "escalate",
            FindingAction::Close { .. } => "close",
        }
    }

    /// Chinese name.
    pub fn name_zh(&self) -> &'static str {
        match self {
            FindingAction::Supervise { .. } => "督办",
            FindingAction::Rectify { .. } => "整改反馈",
            FindingAction::Withdraw { .. } => "摘牌",
            FindingAction::Escalate { .. } => "升级",
            FindingAction::Close { .. } => "办结",
        }
    }
}

/// The mutable part of a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingState {
    /// Status.
    pub status: FindingStatus,
    /// Level (raised by escalation).
    pub level: Level,
    /// The deadline for the owner to act.
    pub due_at: Timestamp,
    /// How many times it was escalated.
    pub escalations: u32,
    /// The latest rectification text or answer.
    pub answer: Option<String>,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FindingRefusal {
    /// Not allowed in this status.
    #[error("`{action}` is not allowed while the finding is {status}")]
    NotAllowed {
        /// Action (Chinese).
        action: &'static str,
        /// Status (Chinese).
        status: &'static str,
    },
    /// Missing text.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A deadline in the past.
    #[error("the deadline must be after now")]
    PastDeadline,
}

/// Applies an action at `now`.
pub fn apply(
    state: &FindingState,
    action: &FindingAction,
    now: Timestamp,
) -> Result<FindingState, FindingRefusal> {
    use FindingStatus as S;
    let mut s = state.clone();
    let refuse = || FindingRefusal::NotAllowed {
        action: action.name_zh(),
        status: state.status.label_zh(),
    };
    match action {
        FindingAction::Supervise { order, due_at } => {
            if order.trim().is_empty() {
                return Err(FindingRefusal::Empty("督办 order"));
            }
            if *due_at <= now {
                return Err(FindingRefusal::PastDeadline);
            }
            if !matches!(state.status, S::Open | S::Supervised | S::Rectified) {
                return Err(refuse());
            }
            s.status = S::Supervised;
            s.due_at = *due_at;
        }
        FindingAction::Rectify { text } => {
            if text.trim().is_empty() {
                return Err(FindingRefusal::Empty("rectification"));
            }
            if !matches!(state.status, S::Open | S::Supervised) {
                return Err(refuse());
            }
            s.status = S::Rectified;
            s.answer = Some(text.clone());
        }
        FindingAction::Withdraw { reason } => {
            if reason.trim().is_empty() {
                return Err(FindingRefusal::Empty("reason"));
            }
            if state.status.is_final() {
                return Err(refuse());
            }
            s.status = S::Withdrawn;
        }
        FindingAction::Escalate { reason } => {
            if reason.trim().is_empty() {
                return Err(FindingRefusal::Empty("reason"));
            }
            if !matches!(state.status, S::Open | S::Supervised) {
                return Err(refuse());
            }
            s.escalations += 1;
            s.level = Level::Red;
        }
        FindingAction::Close { conclusion } => {
            if conclusion.trim().is_empty() {
                return Err(FindingRefusal::Empty("conclusion"));
            }
            if state.status != S::Rectified {
                return Err(refuse());
            }
            s.status = S::Closed;
        }
    }
    Ok(s)
}
