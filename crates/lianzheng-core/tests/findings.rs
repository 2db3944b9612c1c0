//! The finding lifecycle: 督办 → 整改 → 办结, 摘牌, 升级, and every refusal.

use jiff::SignedDuration;
use jiff::civil::date;
use lianzheng_core::codes::Level;
use lianzheng_core::finding::{FindingAction, FindingRefusal, FindingState, FindingStatus, apply};

use crate::common::at;

fn state(status: FindingStatus) -> FindingState {
    FindingState {
        status,
        level: Level::Yellow,
        due_at: at(date(2026, 3, 9), 0, 0),
        escalations: 0,
        answer: None,
    }
}

#[test]
fn every_action_in_every_status() {
    use FindingStatus as S;
    let now = at(date(2026, 3, 2), 10, 0);
    let later = now + SignedDuration::from_hours(48);
    let actions = [
        FindingAction::Supervise {
            order: "限期整改".into(),
            due_at: later,
        },
        FindingAction::Rectify {
            text: "已整改".into(),
        },
        FindingAction::Withdraw {
            reason: "误报".into(),
        },
        FindingAction::Escalate {
            reason: "逾期".into(),
        },
        FindingAction::Close {
            conclusion: "整改到位".into(),
        },
    ];
    // Expected status after each action, or None when refused.
    let table: [(S, [Option<S>; 5]); 5] = [
        (
            S::Open,
            [
                Some(S::Supervised),
                Some(S::Rectified),
                Some(S::Withdrawn),
                Some(S::Open),
                None,
            ],
        ),
        (
            S::Supervised,
            [
                Some(S::Supervised),
                Some(S::Rectified),
                Some(S::Withdrawn),
                Some(S::Supervised),
                None,
            ],
        ),
        (
            S::Rectified,
            [
                Some(S::Supervised),
                None,
                Some(S::Withdrawn),
                None,
                Some(S::Closed),
            ],
        ),
        (S::Withdrawn, [None, None, None, None, None]),
        (S::Closed, [None, None, None, None, None]),
    ];
    for (from, expected) in table {
        let s = state(from);
        for (action, want) in actions.iter().zip(expected) {
            let got = apply(&s, action, now);
            match want {
                Some(to) => {
                    let next = got
                        .unwrap_or_else(|e| panic!("{from:?} + {}: refused: {e}", action.name()));
                    assert_eq!(next.status, to, "{from:?} + {}", action.name());
                }
                None => assert!(
                    matches!(got, Err(FindingRefusal::NotAllowed { .. })),
                    "{from:?} + {} should be refused, got {got:?}",
                    action.name()
                ),
            }
        }
    }
}

#[test]
fn supervise_sets_the_deadline_and_escalation_raises_the_level() {
    let now = at(date(2026, 3, 2), 10, 0);
    let due = now + SignedDuration::from_hours(72);
    let s = apply(
        &state(FindingStatus::Open),
        &FindingAction::Supervise {
            order: "督办".into(),
            due_at: due,
        },
        now,
    )
    .unwrap();
    assert_eq!(s.due_at, due);
    let e = apply(
        &s,
        &FindingAction::Escalate {
            reason: "逾期".into(),
        },
        now,
    )
    .unwrap();
    assert_eq!((e.level, e.escalations), (Level::Red, 1));
    let r = apply(
        &e,
        &FindingAction::Rectify {
            text: "已改".into(),
        },
        now,
    )
    .unwrap();
    assert_eq!(r.answer.as_deref(), Some("已改"));
}

#[test]
fn empty_texts_and_past_deadlines_are_refused() {
    let now = at(date(2026, 3, 2), 10, 0);
    let s = state(FindingStatus::Open);
    assert_eq!(
        apply(
            &s,
            &FindingAction::Supervise {
                order: " ".into(),
                due_at: now + SignedDuration::from_hours(1)
            },
            now
        ),
        Err(FindingRefusal::Empty("督办 order"))
    );
    assert_eq!(
        apply(
            &s,
            &FindingAction::Supervise {
                order: "x".into(),
                due_at: now
            },
            now
        ),
        Err(FindingRefusal::PastDeadline)
    );
    assert!(matches!(
        apply(
            &s,
            &FindingAction::Rectify {
                text: String::new()
            },
            now
        ),
        Err(FindingRefusal::Empty(_))
    ));
    assert!(matches!(
        apply(
            &s,
            &FindingAction::Withdraw {
                reason: String::new()
            },
            now
        ),
        Err(FindingRefusal::Empty(_))
    ));
    assert!(matches!(
        apply(
            &s,
            &FindingAction::Escalate {
                reason: String::new()
            },
            now
        ),
        Err(FindingRefusal::Empty(_))
    ));
    let r = state(FindingStatus::Rectified);
    assert!(matches!(
        apply(
            &r,
            &FindingAction::Close {
                conclusion: String::new()
            },
            now
        ),
        Err(FindingRefusal::Empty(_))
    ));
}
