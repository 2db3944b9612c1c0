//! Deadline arithmetic: golden cases from the domain document (§3) and properties that must
//! hold for every start, limit and clock stop.

use jiff::SignedDuration;
use jiff::civil::{Date, date};
use lianzheng_core::codes::TimeUnit;
use lianzheng_core::deadline::{
    BusinessHours, DeadlineInput, Pause, TimeLimit, compute, warning_at,
};
use lianzheng_core::time::{civil_from_days, days_from_civil, end_of, local_date};
use proptest::prelude::*;

use crate::common::{at, cal};

fn deadline(
    start: Date,
    n: u32,
    unit: TimeUnit,
    pauses: &[Pause],
    extension: u32,
) -> lianzheng_core::deadline::Deadline {
    let s = at(start, 10, 0);
    let input = DeadlineInput {
        start: s,
        limit: TimeLimit { amount: n, unit },
        pauses,
        extension,
        now: s,
    };
    compute(cal(), &BusinessHours::default(), &input)
}

/// Any day with a loaded notice (2005–2026) and a little beyond, where only the statutory
/// rule applies.
fn any_date() -> impl Strategy<Value = Date> {
    (days_from_civil(date(2005, 1, 1))..=days_from_civil(date(2027, 12, 31)))
        .prop_map(civil_from_days)
}

/// Days around the Spring Festivals of 2025 and 2026 and their make-up weekend days
/// (2025-01-26 Sun, 2025-02-08 Sat, 2026-02-14 Sat, 2026-02-28 Sat).
fn festival_date() -> impl Strategy<Value = Date> {
    prop_oneof![
        (days_from_civil(date(2025, 1, 15))..=days_from_civil(date(2025, 2, 15)))
            .prop_map(civil_from_days),
        (days_from_civil(date(2026, 1, 31))..=days_from_civil(date(2026, 3, 5)))
            .prop_map(civil_from_days),
    ]
}

fn unit() -> impl Strategy<Value = TimeUnit> {
    prop_oneof![
        Just(TimeUnit::WorkingDays),
        Just(TimeUnit::NaturalDays),
        Just(TimeUnit::Months)
    ]
}

/// A clock stop starting within 40 days of `base`, lasting 0–30 days.
fn pause_near(base: Date) -> impl Strategy<Value = Pause> {
    (0i64..40, 0i64..30, 0i64..24).prop_map(move |(off, len, h)| {
        let s = at(base, 0, 0) + SignedDuration::from_hours(off * 24 + h);
        Pause {
            start: s,
            end: Some(s + SignedDuration::from_hours(len * 24)),
        }
    })
}

#[test]
fn golden_cases_from_the_domain_document() {
    let wd = TimeUnit::WorkingDays;
    // Fri 2026-02-13 + 5: 2/14 Sat is worked, 2/15–2/23 are not.
    assert_eq!(
        deadline(date(2026, 2, 13), 5, wd, &[], 0).due_date,
        date(2026, 2, 27)
    );
    // + 20: 2/28 Sat counts.
    assert_eq!(
        deadline(date(2026, 2, 13), 20, wd, &[], 0).due_date,
        date(2026, 3, 19)
    );
    // + 3.
    assert_eq!(
        deadline(date(2026, 2, 13), 3, wd, &[], 0).due_date,
        date(2026, 2, 25)
    );
    // Thu 2026-09-24 + 5 across 中秋 and 国庆 (9/25–9/27, 10/1–10/7).
    assert_eq!(
        deadline(date(2026, 9, 24), 5, wd, &[], 0).due_date,
        date(2026, 10, 9)
    );
    let d = deadline(date(2026, 2, 13), 20, wd, &[], 0);
    assert!(!d.provisional, "2026 is loaded");
    assert_eq!(
        d.due_at,
        end_of(date(2026, 3, 19)),
        "a period ends at 24:00 of its last day"
    );
    // 2025-01-26 is a Sunday worked before the Spring Festival.
    assert!(cal().is_workday(date(2025, 1, 26)).value);
    assert_eq!(
        cal().add_workdays(date(2025, 1, 24), 1).value,
        date(2025, 1, 26)
    );
    assert!(cal().is_workday(date(2026, 2, 14)).value);
    assert!(cal().is_workday(date(2026, 2, 28)).value);
    assert!(!cal().is_workday(date(2026, 2, 16)).value);
    assert_eq!(
        cal().add_workdays(date(2026, 2, 13), 1).value,
        date(2026, 2, 14)
    );
    assert_eq!(
        cal().add_workdays(date(2026, 2, 14), 1).value,
        date(2026, 2, 24)
    );
    assert_eq!(
        cal().add_workdays(date(2026, 2, 27), 1).value,
        date(2026, 2, 28)
    );
    // Days off inside the 2025 block.
    for d in [date(2025, 1, 28), date(2025, 1, 31), date(2025, 2, 4)] {
        assert!(!cal().is_workday(d).value, "{d} is off");
    }
    assert!(
        cal().is_workday(date(2025, 2, 8)).value,
        "2025-02-08 Sat is worked"
    );
}

#[test]
fn a_period_in_months_and_in_natural_days_ends_on_a_workday() {
    // 2026-01-31 + 1 month → 2026-02-28, a make-up Saturday, so it stays.
    assert_eq!(
        deadline(date(2026, 1, 31), 1, TimeUnit::Months, &[], 0).due_date,
        date(2026, 2, 28)
    );
    // 2026-02-05 + 10 natural days → 2/15, inside the holiday: moves to 2/24.
    assert_eq!(
        deadline(date(2026, 2, 5), 10, TimeUnit::NaturalDays, &[], 0).due_date,
        date(2026, 2, 24)
    );
}

#[test]
fn a_clock_stop_moves_the_deadline_by_its_working_days() {
    let s = at(date(2026, 3, 2), 10, 0);
    // Stopped Tue 3/3 09:00 → Thu 3/5 09:00: two working days (3/4, 3/5) not counted.
    let p = [Pause {
        start: at(date(2026, 3, 3), 9, 0),
        end: Some(at(date(2026, 3, 5), 9, 0)),
    }];
    let d = deadline(date(2026, 3, 2), 5, TimeUnit::WorkingDays, &p, 0);
    assert_eq!(d.paused, 2);
    assert_eq!(d.due_date, date(2026, 3, 11));
    // An open one floats with now.
    let open = [Pause {
        start: at(date(2026, 3, 3), 9, 0),
        end: None,
    }];
    let input = DeadlineInput {
        start: s,
        limit: TimeLimit::working_days(5),
        pauses: &open,
        extension: 0,
        now: at(date(2026, 3, 6), 12, 0),
    };
    let d = compute(cal(), &BusinessHours::default(), &input);
    assert!(d.stopped);
    assert_eq!(d.paused, 3);
    assert_eq!(d.due_date, date(2026, 3, 12));
}

#[test]
fn warning_comes_before_the_deadline() {
    let s = at(date(2026, 3, 2), 10, 0);
    let input = DeadlineInput {
        start: s,
        limit: TimeLimit::working_days(5),
        pauses: &[],
        extension: 0,
        now: s,
    };
    let w = warning_at(cal(), &BusinessHours::default(), &input, 0.8, 1).unwrap();
    // min(floor(5 × 0.8), 5 − 1) = 4 working days: end of Fri 3/6.
    assert_eq!(w, end_of(date(2026, 3, 6)));
    assert!(w < compute(cal(), &BusinessHours::default(), &input).due_at);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_deadline_never_falls_on_a_non_working_day(start in any_date(), n in 0u32..60, unit in unit()) {
        let d = deadline(start, n, unit, &[], 0);
        prop_assert!(cal().is_workday(d.due_date).value, "{start} + {n} {unit:?} → {}", d.due_date);
        prop_assert_eq!(d.due_at, end_of(d.due_date));
    }

    #[test]
    fn a_deadline_with_clock_stops_never_falls_on_a_non_working_day(
        start in festival_date(),
        n in 0u32..25,
        pauses in festival_date().prop_flat_map(|b| proptest::collection::vec(pause_near(b), 0..3)),
    ) {
        let d = deadline(start, n, TimeUnit::WorkingDays, &pauses, 0);
        prop_assert!(cal().is_workday(d.due_date).value);
    }

    #[test]
    fn add_workdays_is_monotonic_in_n(start in any_date(), a in 0u32..60, b in 0u32..60) {
        let (lo, hi) = (a.min(b), a.max(b));
        let (d1, d2) = (cal().add_workdays(start, lo).value, cal().add_workdays(start, hi).value);
        prop_assert!(d1 <= d2);
        if lo >= 1 && lo < hi {
            prop_assert!(d1 < d2, "{start}: +{lo} = {d1}, +{hi} = {d2}");
        }
    }

    #[test]
    fn add_workdays_is_monotonic_in_the_start(a in any_date(), gap in 0i64..40, n in 0u32..40) {
        let b = civil_from_days(days_from_civil(a) + gap);
        prop_assert!(cal().add_workdays(a, n).value <= cal().add_workdays(b, n).value);
    }

    #[test]
    fn workdays_between_inverts_add_workdays(start in any_date(), n in 1u32..80) {
        let end = cal().add_workdays(start, n).value;
        prop_assert_eq!(cal().workdays_between(start, end).value, n);
        prop_assert!(cal().is_workday(end).value);
        // The day before the end is n − 1 working days away.
        let before = civil_from_days(days_from_civil(end) - 1);
        prop_assert_eq!(cal().workdays_between(start, before).value, n - 1);
    }

    #[test]
    fn workdays_between_inverts_add_workdays_across_spring_festival(start in festival_date(), n in 1u32..30) {
        let end = cal().add_workdays(start, n).value;
        prop_assert_eq!(cal().workdays_between(start, end).value, n);
        prop_assert!(!cal().add_workdays(start, n).provisional);
    }

    #[test]
    fn add_zero_workdays_is_the_next_working_day(start in any_date()) {
        let d = cal().add_workdays(start, 0).value;
        prop_assert!(d >= start);
        prop_assert!(cal().is_workday(d).value);
        prop_assert_eq!(cal().workdays_between(civil_from_days(days_from_civil(start) - 1), d).value, 1);
    }

    #[test]
    fn a_clock_stop_never_shortens_a_deadline(
        start in festival_date(),
        n in 0u32..25,
        unit in unit(),
        pauses in festival_date().prop_flat_map(|b| proptest::collection::vec(pause_near(b), 1..4)),
    ) {
        let plain = deadline(start, n, unit, &[], 0);
        let stopped = deadline(start, n, unit, &pauses, 0);
        prop_assert!(stopped.due_at >= plain.due_at, "{} < {}", stopped.due_date, plain.due_date);
        // Each further stop never shortens it either.
        for k in 0..pauses.len() {
            let fewer = deadline(start, n, unit, &pauses[..k], 0);
            let more = deadline(start, n, unit, &pauses[..=k], 0);
            prop_assert!(more.due_at >= fewer.due_at);
        }
    }

    #[test]
    fn an_open_clock_stop_never_shortens_as_time_passes(start in festival_date(), n in 1u32..20, h1 in 0i64..600, h2 in 0i64..600) {
        let s = at(start, 10, 0);
        let open = [Pause { start: s + SignedDuration::from_hours(1), end: None }];
        let hours = BusinessHours::default();
        let due = |later: i64| {
            let input = DeadlineInput {
                start: s,
                limit: TimeLimit::working_days(n),
                pauses: &open,
                extension: 0,
                now: s + SignedDuration::from_hours(later),
            };
            compute(cal(), &hours, &input).due_at
        };
        let (a, b) = (h1.min(h2), h1.max(h2));
        prop_assert!(due(a) <= due(b));
    }

    #[test]
    fn an_extension_never_shortens_a_deadline(start in any_date(), n in 1u32..30, e in 0u32..15) {
        let plain = deadline(start, n, TimeUnit::WorkingDays, &[], 0);
        let extended = deadline(start, n, TimeUnit::WorkingDays, &[], e);
        prop_assert!(extended.due_at >= plain.due_at);
        prop_assert_eq!(extended.due_date, cal().add_workdays(start, n + e).value);
    }

    #[test]
    fn the_warning_is_never_after_the_deadline(start in any_date(), n in 1u32..40, frac in 0.0f64..=1.0, before in 0u32..5) {
        let s = at(start, 10, 0);
        let input = DeadlineInput { start: s, limit: TimeLimit::working_days(n), pauses: &[], extension: 0, now: s };
        let hours = BusinessHours::default();
        if let Some(w) = warning_at(cal(), &hours, &input, frac, before) {
            prop_assert!(w <= compute(cal(), &hours, &input).due_at);
            prop_assert!(w >= s);
        }
    }

    #[test]
    fn the_local_date_of_a_deadline_instant_is_the_next_day(start in any_date(), n in 0u32..30) {
        // due_at is 24:00 of the last day, i.e. 00:00 of the next one.
        let d = deadline(start, n, TimeUnit::WorkingDays, &[], 0);
        prop_assert_eq!(local_date(d.due_at), civil_from_days(days_from_civil(d.due_date) + 1));
    }
}
