//! The approval case state machine: every event kind in every status, the status it leads to,
//! and the refusals. A refused event returns `Refusal` and leaves the case as it was.

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use lianzheng_core::case::{
    self, Actor, Applicant, Case, CaseEvent, CaseStatus, Context, EventBody, Refusal,
};
use lianzheng_core::catalog::ItemBody;
use lianzheng_core::codes::{ActorRole, Channel, Fen, FinishResult, ProcedureType, StepAction};
use lianzheng_core::deadline::BusinessHours;

use crate::common::{at, cal};

pub fn item() -> ItemBody {
    serde_json::from_value(serde_json::json!({
        "name": "食品经营许可", "basic_code": "000123", "item_type": "01", "department": "SCJG",
        "legal_limit": {"amount": 20, "unit": "WD"}, "promised_limit": {"amount": 5, "unit": "WD"},
        "case_kind": "2", "window_auth": "handle",
        "fees": [{"code": "GB", "name": "工本费", "standard_fen": 1000}],
        "materials": [{"name": "申请书"}, {"name": "营业执照"}]
    }))
    .unwrap()
}

fn t0() -> Timestamp {
    at(date(2026, 3, 2), 9, 0)
}

fn ev(minutes: i64, actor: &str, body: EventBody) -> CaseEvent {
    CaseEvent {
        case_no: "C1".into(),
        occurred_at: t0() + SignedDuration::from_mins(minutes),
        actor: Actor {
            id: actor.into(),
            name: String::new(),
            role: ActorRole::Officer,
        },
        body,
    }
}

fn step(name: &str, action: StepAction) -> EventBody {
    EventBody::Step {
        step: name.into(),
        action,
        opinion: None,
    }
}

fn run(events: &[CaseEvent]) -> Result<Case, (usize, Refusal)> {
    let item = item();
    let hours = BusinessHours::default();
    let mut c: Option<Case> = None;
    for (i, e) in events.iter().enumerate() {
        let ctx = Context {
            calendar: cal(),
            hours: &hours,
            recorded_at: e.occurred_at,
            correction_notice_days: 5,
            max_extension_days: 10,
        };
        c = Some(case::apply(c.as_ref(), e, &item, 1, &ctx).map_err(|r| (i, r))?);
    }
    Ok(c.expect("at least one event"))
}

fn apply_body() -> EventBody {
    EventBody::Apply {
        item_code: "11410800MB0000001".into(),
        channel: Channel::Window,
        applicant: Applicant {
            name: "张三".into(),
            id_type: "111".into(),
            id_no: String::new(),
            phone: String::new(),
        },
        materials: vec!["申请书".into(), "营业执照".into()],
        window: Some("W01".into()),
        project_code: None,
    }
}

/// Event lists that bring a case into each status.
fn reach(status: CaseStatus) -> Vec<CaseEvent> {
    let mut v = vec![ev(0, "w1", apply_body())];
    let accept = ev(10, "w1", EventBody::Accept { document_no: None });
    match status {
        CaseStatus::Registered => {}
        CaseStatus::AwaitingCorrection => v.push(ev(
            5,
            "w1",
            EventBody::CorrectionNotice {
                missing: vec!["照片".into()],
            },
        )),
        CaseStatus::Rejected => v.push(ev(
            5,
            "w1",
            EventBody::Reject {
                reason: "不属于本机关职权".into(),
            },
        )),
        CaseStatus::Accepted => v.push(accept),
        CaseStatus::InProgress => v.extend([accept, ev(20, "o1", step("承办", StepAction::Pass))]),
        CaseStatus::Suspended => v.extend([
            accept,
            ev(20, "o1", step("承办", StepAction::Pass)),
            ev(30, "o1", clock_stop()),
        ]),
        CaseStatus::Finished | CaseStatus::Delivered => {
            v.extend([
                accept,
                ev(20, "o1", step("承办", StepAction::Pass)),
                ev(30, "o2", step("审核", StepAction::Pass)),
                ev(40, "l1", step("批准", StepAction::Pass)),
                ev(
                    50,
                    "l1",
                    EventBody::Finish {
                        result: FinishResult::Granted,
                        certificate_no: None,
                    },
                ),
            ]);
            if status == CaseStatus::Delivered {
                v.push(ev(60, "w1", EventBody::Deliver { method: None }));
            }
        }
    }
    v
}

fn clock_stop() -> EventBody {
    EventBody::ProcedureStart {
        procedure_type: ProcedureType::ClockStop,
        name: "专家评审".into(),
        reason: Some("需专家论证".into()),
        basis: Some("行政许可法第四十五条".into()),
        approver: Some("l1".into()),
        days: None,
    }
}

/// One probe event per kind, with the status each status leads to (`None`: refused).
fn probes() -> Vec<(&'static str, EventBody)> {
    vec![
        ("apply", apply_body()),
        (
            "correction_notice",
            EventBody::CorrectionNotice {
                missing: vec!["照片".into()],
            },
        ),
        (
            "correction_submitted",
            EventBody::CorrectionSubmitted {
                materials: vec!["照片".into()],
            },
        ),
        (
            "accept",
            EventBody::Accept {
                document_no: Some("受字1号".into()),
            },
        ),
        (
            "reject",
            EventBody::Reject {
                reason: "材料虚假".into(),
            },
        ),
        ("step", step("审核", StepAction::Pass)),
        ("procedure_start", clock_stop()),
        (
            "procedure_end",
            EventBody::ProcedureEnd {
                result: Some("通过".into()),
            },
        ),
        (
            "fee",
            EventBody::Fee {
                fee_code: "GB".into(),
                amount_fen: Fen(1000),
            },
        ),
        (
            "finish",
            EventBody::Finish {
                result: FinishResult::Denied,
                certificate_no: None,
            },
        ),
        (
            "deliver",
            EventBody::Deliver {
                method: Some("邮寄".into()),
            },
        ),
    ]
}

#[test]
fn every_event_kind_in_every_status() {
    use CaseStatus as S;
    let statuses = [
        S::Registered,
        S::AwaitingCorrection,
        S::Accepted,
        S::InProgress,
        S::Suspended,
        S::Finished,
        S::Delivered,
        S::Rejected,
    ];
    // Rows: event kinds in the order of `probes()`; columns: the statuses above.
    let r: Option<S> = None;
    let table: [[Option<S>; 8]; 11] = [
        // apply
        [r, r, r, r, r, r, r, r],
        // correction_notice: before acceptance it waits for materials; after, it is recorded
        // (and raised by P008 / P004); never on a rejected case.
        [
            Some(S::AwaitingCorrection),
            Some(S::AwaitingCorrection),
            Some(S::Accepted),
            Some(S::InProgress),
            Some(S::Suspended),
            Some(S::Finished),
            Some(S::Delivered),
            r,
        ],
        // correction_submitted
        [
            Some(S::Registered),
            Some(S::Registered),
            Some(S::Accepted),
            Some(S::InProgress),
            Some(S::Suspended),
            r,
            r,
            r,
        ],
        // accept
        [Some(S::Accepted), Some(S::Accepted), r, r, r, r, r, r],
        // reject
        [Some(S::Rejected), Some(S::Rejected), r, r, r, r, r, r],
        // step: recorded after 办结 too (体外循环 evidence, P004)
        [
            r,
            r,
            Some(S::InProgress),
            Some(S::InProgress),
            r,
            Some(S::Finished),
            Some(S::Delivered),
            r,
        ],
        // procedure_start (clock stop)
        [r, r, Some(S::Suspended), Some(S::Suspended), r, r, r, r],
        // procedure_end
        [r, r, r, r, Some(S::InProgress), r, r, r],
        // fee
        [
            Some(S::Registered),
            Some(S::AwaitingCorrection),
            Some(S::Accepted),
            Some(S::InProgress),
            Some(S::Suspended),
            Some(S::Finished),
            Some(S::Delivered),
            r,
        ],
        // finish
        [r, r, Some(S::Finished), Some(S::Finished), r, r, r, r],
        // deliver
        [r, r, r, r, r, Some(S::Delivered), r, r],
    ];
    let item = item();
    let hours = BusinessHours::default();
    for (col, status) in statuses.iter().enumerate() {
        let before = run(&reach(*status))
            .unwrap_or_else(|(i, e)| panic!("reaching {status:?}: event {i} refused: {e}"));
        assert_eq!(before.status, *status);
        let snapshot = before.clone();
        for (row, (kind, body)) in probes().into_iter().enumerate() {
            let e = ev(120, "p1", body);
            let ctx = Context {
                calendar: cal(),
                hours: &hours,
                recorded_at: e.occurred_at,
                correction_notice_days: 5,
                max_extension_days: 10,
            };
            let got = case::apply(Some(&before), &e, &item, 1, &ctx);
            match table[row][col] {
                Some(want) => {
                    let after =
                        got.unwrap_or_else(|r| panic!("{kind} while {status:?} refused: {r}"));
                    assert_eq!(after.status, want, "{kind} while {status:?}");
                    assert!(after.last_event_at >= before.last_event_at);
                }
                None => {
                    let refusal = got
                        .err()
                        .unwrap_or_else(|| panic!("{kind} while {status:?} should be refused"));
                    let expected_kind = match kind {
                        "apply" => matches!(refusal, Refusal::CaseExists(_)),
                        "procedure_end" => matches!(refusal, Refusal::NoProcedure),
                        _ => matches!(refusal, Refusal::NotAllowed { .. }),
                    };
                    assert!(
                        expected_kind,
                        "{kind} while {status:?}: unexpected refusal {refusal:?}"
                    );
                    assert!(!refusal.to_string().is_empty());
                }
            }
            assert_eq!(before, snapshot, "the case is unchanged by `{kind}`");
        }
    }
}

#[test]
fn an_event_without_a_case_is_refused_unless_it_is_an_application() {
    let item = item();
    let hours = BusinessHours::default();
    let ctx = Context {
        calendar: cal(),
        hours: &hours,
        recorded_at: t0(),
        correction_notice_days: 5,
        max_extension_days: 10,
    };
    for (kind, body) in probes() {
        let got = case::apply(None, &ev(0, "w1", body), &item, 7, &ctx);
        if kind == "apply" {
            let c = got.unwrap();
            assert_eq!(
                (c.status, c.item_version, c.department.as_str()),
                (CaseStatus::Registered, 7, "SCJG")
            );
            assert_eq!(c.promised_limit.amount, 5);
        } else {
            assert!(
                matches!(got, Err(Refusal::NoSuchCase(ref n)) if n == "C1"),
                "{kind}: {got:?}"
            );
        }
    }
}

#[test]
fn malformed_events_are_refused_as_invalid() {
    let accepted = run(&reach(CaseStatus::Accepted)).unwrap();
    let registered = run(&reach(CaseStatus::Registered)).unwrap();
    let suspended = run(&reach(CaseStatus::Suspended)).unwrap();
    let item = item();
    let hours = BusinessHours::default();
    let ctx = Context {
        calendar: cal(),
        hours: &hours,
        recorded_at: t0(),
        correction_notice_days: 5,
        max_extension_days: 10,
    };
    let bad: Vec<(&Case, CaseEvent)> = vec![
        (
            &registered,
            ev(30, "w1", EventBody::CorrectionNotice { missing: vec![] }),
        ),
        (
            &registered,
            ev(
                30,
                "w1",
                EventBody::Reject {
                    reason: "  ".into(),
                },
            ),
        ),
        (
            &accepted,
            ev(
                30,
                "o1",
                EventBody::Fee {
                    fee_code: "GB".into(),
                    amount_fen: Fen(0),
                },
            ),
        ),
        (
            &accepted,
            ev(
                30,
                "o1",
                EventBody::Fee {
                    fee_code: " ".into(),
                    amount_fen: Fen(10),
                },
            ),
        ),
        (
            &accepted,
            ev(
                30,
                "o1",
                EventBody::ProcedureStart {
                    procedure_type: ProcedureType::Extension,
                    name: "延长审批".into(),
                    reason: None,
                    basis: None,
                    approver: Some("l1".into()),
                    days: Some(0),
                },
            ),
        ),
        (
            &accepted,
            ev(
                30,
                "o1",
                EventBody::ProcedureStart {
                    procedure_type: ProcedureType::ClockStop,
                    name: " ".into(),
                    reason: None,
                    basis: None,
                    approver: None,
                    days: None,
                },
            ),
        ),
        // Ends before it started (the stop began at +30 min).
        (
            &suspended,
            ev(25, "o1", EventBody::ProcedureEnd { result: None }),
        ),
    ];
    for (c, e) in bad {
        let got = case::apply(Some(c), &e, &item, 1, &ctx);
        assert!(
            matches!(got, Err(Refusal::Invalid(_))),
            "{}: {got:?}",
            e.body.kind()
        );
    }
    let unknown = case::apply(
        Some(&accepted),
        &ev(30, "o1", step("会签", StepAction::Pass)),
        &item,
        1,
        &ctx,
    );
    assert_eq!(unknown, Err(Refusal::UnknownStep("会签".into())));
}

#[test]
fn a_full_lifecycle_records_what_supervision_needs() {
    let c = run(&reach(CaseStatus::Delivered)).unwrap();
    assert_eq!(c.acceptor.as_deref(), Some("w1"));
    assert_eq!(
        c.approver.as_deref(),
        Some("l1"),
        "the actor of the last step is the approver"
    );
    assert_eq!(c.clock_start, c.accepted_at);
    assert_eq!(c.steps.len(), 3);
    assert_eq!(c.next_step, 3);
    assert_eq!(c.result, Some(FinishResult::Granted));
    assert!(c.delivered_at.is_some());
    assert_eq!(
        c.finished_on_time(cal(), &BusinessHours::default()),
        Some(true)
    );
}

#[test]
fn a_return_goes_back_one_step_and_is_counted() {
    let mut events = reach(CaseStatus::InProgress);
    events.push(ev(30, "o2", step("审核", StepAction::Return)));
    let c = run(&events).unwrap();
    assert_eq!(
        (c.returns, c.next_step, c.status),
        (1, 0, CaseStatus::InProgress)
    );
}

#[test]
fn a_clock_stop_ends_back_in_progress_and_an_extension_counts_once() {
    let mut events = reach(CaseStatus::Suspended);
    events.push(ev(600, "o1", EventBody::ProcedureEnd { result: None }));
    let ext = |m| {
        ev(
            m,
            "o1",
            EventBody::ProcedureStart {
                procedure_type: ProcedureType::Extension,
                name: "延长审批".into(),
                reason: Some("情况复杂".into()),
                basis: Some("行政许可法第四十二条".into()),
                approver: Some("l1".into()),
                days: Some(15),
            },
        )
    };
    events.push(ext(700));
    events.push(ext(800));
    let c = run(&events).unwrap();
    assert_eq!(
        c.status,
        CaseStatus::InProgress,
        "an extension does not stop the clock"
    );
    assert_eq!(c.procedures.len(), 3);
    assert_eq!(
        c.extension_days(),
        10,
        "one extension counts, capped at the maximum"
    );
    assert!(c.procedures[1].counts && !c.procedures[2].counts);
}

#[test]
fn a_late_correction_notice_starts_the_clock_at_receipt() {
    // Registered Mon 3/2; notice on Tue 3/10 (more than 5 working days later).
    let events = vec![
        ev(0, "w1", apply_body()),
        CaseEvent {
            occurred_at: at(date(2026, 3, 10), 9, 0),
            ..ev(
                0,
                "w1",
                EventBody::CorrectionNotice {
                    missing: vec!["照片".into()],
                },
            )
        },
        CaseEvent {
            occurred_at: at(date(2026, 3, 11), 9, 0),
            ..ev(0, "w1", EventBody::Accept { document_no: None })
        },
    ];
    let c = run(&events).unwrap();
    assert_eq!(c.clock_start, Some(t0()));
    // In time (within 5 working days): the clock starts at acceptance.
    let events = vec![
        ev(0, "w1", apply_body()),
        CaseEvent {
            occurred_at: at(date(2026, 3, 6), 9, 0),
            ..ev(
                0,
                "w1",
                EventBody::CorrectionNotice {
                    missing: vec!["照片".into()],
                },
            )
        },
        CaseEvent {
            occurred_at: at(date(2026, 3, 11), 9, 0),
            ..ev(0, "w1", EventBody::Accept { document_no: None })
        },
    ];
    let c = run(&events).unwrap();
    assert_eq!(c.clock_start, Some(at(date(2026, 3, 11), 9, 0)));
}

#[test]
fn case_events_round_trip_through_json() {
    for (_, body) in probes() {
        let e = ev(0, "w1", body);
        let json = serde_json::to_string(&e).unwrap();
        let back: CaseEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        assert!(json.contains(&format!("\"kind\":\"{}\"", e.body.kind())));
    }
}
