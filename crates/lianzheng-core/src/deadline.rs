//! Deadline arithmetic (办结时限): working days, clock stops and extensions.
//!
//! The rules, from 行政许可法 Art. 32, 42, 45 and 82 and 民法典 Art. 201–203:
//! - the day of acceptance is not counted; counting starts on the next working day;
//! - a period ends at the end of its last day (24:00 local), and a last day that is not a working
//!   day moves to the next working day;
//! - the working days of a clock stop (特别程序 type 2: 听证, 检验, 检测, 专家评审 …) are not counted;
//!   an open one counts up to `now`, so the deadline floats while it lasts;
//! - an extension (type 1) counts only when it was approved before the deadline it extends.
//!
//! Everything here is pure: `now` is an argument.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::codes::TimeUnit;
use crate::time::{at_minute, civil_from_days, days_from_civil, end_of, local_date, local_minute};

/// A time limit: an amount in a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    /// How many units.
    pub amount: u32,
    /// Which unit.
    pub unit: TimeUnit,
}

impl TimeLimit {
    /// A limit in working days.
    pub fn working_days(n: u32) -> TimeLimit {
        TimeLimit {
            amount: n,
            unit: TimeUnit::WorkingDays,
        }
    }
}

impl std::fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.amount, self.unit.label_zh())
    }
}

/// Business hours of a working day, as minutes of the day; used for limits in hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    /// Half-open periods `[start, end)` in minutes after midnight, sorted.
    pub periods: Vec<(u16, u16)>,
}

impl Default for BusinessHours {
    /// 9:00–12:00 and 13:30–17:30, 7 hours a day.
    fn default() -> Self {
        BusinessHours {
            periods: vec![(9 * 60, 12 * 60), (13 * 60 + 30, 17 * 60 + 30)],
        }
    }
}

/// A clock stop: a closed or still open interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// When it started.
    pub start: Timestamp,
    /// When it ended; `None` while it lasts.
    pub end: Option<Timestamp>,
}

/// What a deadline is computed from.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineInput<'a> {
    /// The instant the clock started (受理时间).
    pub start: Timestamp,
    /// The limit.
    pub limit: TimeLimit,
    /// Clock stops, in any order.
    pub pauses: &'a [Pause],
    /// Extra units granted by an extension that counts.
    pub extension: u32,
    /// Now, for open pauses.
    pub now: Timestamp,
}

/// A computed deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// The last day of the period (a working day, for day-based units).
    pub due_date: Date,
    /// The instant the period is over: the end of `due_date`, or the minute an hour limit runs out.
    pub due_at: Timestamp,
    /// Whether a year without a loaded holiday notice was used.
    pub provisional: bool,
    /// Units not counted because of clock stops.
    pub paused: u32,
    /// Whether the clock is stopped now.
    pub stopped: bool,
}

/// Computes the deadline of a limit.
pub fn compute(cal: &Calendar, hours: &BusinessHours, input: &DeadlineInput<'_>) -> Deadline {
    let total = input.limit.amount.saturating_add(input.extension);
    let stopped = input
        .pauses
        .iter()
        .any(|p| p.end.is_none() && p.start <= input.now);
    let start_date = local_date(input.start);
    match input.limit.unit {
        TimeUnit::WorkingDays => {
            let (paused, p1) = paused_workdays(cal, input.pauses, input.now);
            let r = cal.add_workdays(start_date, total.saturating_add(paused));
            Deadline {
                due_date: r.value,
                due_at: end_of(r.value),
                provisional: r.provisional || p1,
                paused,
                stopped,
            }
        }
        TimeUnit::NaturalDays | TimeUnit::Months => {
            let paused = paused_natural_days(input.pauses, input.now);
            let base = if input.limit.unit == TimeUnit::Months {
                add_months(start_date, total)
            } else {
                civil_from_days(days_from_civil(start_date) + i64::from(total))
            };
            let shifted = civil_from_days(days_from_civil(base) + i64::from(paused));
            let r = cal.next_workday_on_or_after(shifted);
            Deadline {
                due_date: r.value,
                due_at: end_of(r.value),
                provisional: r.provisional,
                paused,
                stopped,
            }
        }
        TimeUnit::Hours => {
            let mut paused_minutes = 0u64;
            let mut provisional = false;
            for p in input.pauses {
                let end = p.end.unwrap_or(input.now).max(p.start);
                let (m, pr) = working_minutes_between(cal, hours, p.start, end);
                paused_minutes += m;
                provisional |= pr;
            }
            let minutes = u64::from(total) * 60 + paused_minutes;
            let (due_at, pr) = add_working_minutes(cal, hours, input.start, minutes);
            Deadline {
                due_date: local_date(due_at),
                due_at,
                provisional: provisional || pr,
                paused: u32::try_from(paused_minutes / 60).unwrap_or(u32::MAX),
                stopped,
            }
        }
    }
}

/// The instant of the early-warning threshold (黄牌预警) of a limit: after `fraction` of the
/// limit has run, or `days_before` working days before the deadline, whichever comes first.
/// `None` when the limit is too short to warn before it runs out (即办件).
pub fn warning_at(
    cal: &Calendar,
    hours: &BusinessHours,
    input: &DeadlineInput<'_>,
    fraction: f64,
    days_before: u32,
) -> Option<Timestamp> {
    let total = input.limit.amount.saturating_add(input.extension);
    if total == 0 {
        return None;
    }
    match input.limit.unit {
        TimeUnit::WorkingDays => {
            let by_fraction = (f64::from(total) * fraction.clamp(0.0, 1.0)).floor() as u32;
            let by_days = total.saturating_sub(days_before);
            let warn = by_fraction.min(by_days);
            if warn >= total {
                return None;
            }
            let (paused, _) = paused_workdays(cal, input.pauses, input.now);
            let start = local_date(input.start);
            // With `warn == 0` (a one-day limit) this is the end of the start day: the start of
            // the last working day.
            Some(end_of(
                cal.add_workdays(start, warn.saturating_add(paused)).value,
            ))
        }
        _ => {
            let due = compute(cal, hours, input).due_at;
            let span = due.duration_since(input.start);
            let secs = span.as_secs_f64() * fraction.clamp(0.0, 1.0);
            Some(input.start + SignedDuration::from_secs(secs as i64))
        }
    }
}

fn paused_workdays(cal: &Calendar, pauses: &[Pause], now: Timestamp) -> (u32, bool) {
    let mut total = 0u32;
    let mut provisional = false;
    for p in pauses {
        let end = p.end.unwrap_or(now).max(p.start);
        let r = cal.workdays_between(local_date(p.start), local_date(end));
        total = total.saturating_add(r.value);
        provisional |= r.provisional;
    }
    (total, provisional)
}

fn paused_natural_days(pauses: &[Pause], now: Timestamp) -> u32 {
    let mut total = 0i64;
    for p in pauses {
        let end = p.end.unwrap_or(now).max(p.start);
        total += days_from_civil(local_date(end)) - days_from_civil(local_date(p.start));
    }
    u32::try_from(total).unwrap_or(u32::MAX)
}

/// 民法典 Art. 202: a period in months ends on the corresponding day of the last month, or on that
/// month's last day when it has no such day.
fn add_months(d: Date, n: u32) -> Date {
    let months = i64::from(d.year()) * 12 + i64::from(d.month() - 1) + i64::from(n);
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    let (y, m) = (y as i16, m as i8);
    let mut day = d.day();
    loop {
        if let Ok(x) = Date::new(y, m, day) {
            return x;
        }
        day -= 1;
        if day < 28 {
            return d;
        }
    }
}

/// Working minutes between two instants, on working days within business hours.
pub fn working_minutes_between(
    cal: &Calendar,
    hours: &BusinessHours,
    a: Timestamp,
    b: Timestamp,
) -> (u64, bool) {
    if b <= a {
        return (0, false);
    }
    let (da, db) = (
        days_from_civil(local_date(a)),
        days_from_civil(local_date(b)),
    );
    let mut total = 0u64;
    let mut provisional = false;
    for day in da..=db {
        let date = civil_from_days(day);
        let w = cal.is_workday(date);
        provisional |= w.provisional;
        if !w.value {
            continue;
        }
        let lo = if day == da { local_minute(a) } else { 0 };
        let hi = if day == db { local_minute(b) } else { 24 * 60 };
        for (s, e) in &hours.periods {
            let (s, e) = ((*s).max(lo), (*e).min(hi));
            if e > s {
                total += u64::from(e - s);
            }
        }
    }
    (total, provisional)
}

/// The instant `minutes` working minutes after `start`.
pub fn add_working_minutes(
    cal: &Calendar,
    hours: &BusinessHours,
    start: Timestamp,
    minutes: u64,
) -> (Timestamp, bool) {
    let mut day = days_from_civil(local_date(start));
    let mut from = local_minute(start);
    let mut left = minutes;
    let mut provisional = false;
    // Bounded: business hours are at least one minute a day on some day of every week unless the
    // configuration is empty, which we refuse to loop on.
    if hours.periods.iter().all(|(s, e)| e <= s) {
        return (start, false);
    }
    loop {
        let date = civil_from_days(day);
        let w = cal.is_workday(date);
        provisional |= w.provisional;
        if w.value {
            for (s, e) in &hours.periods {
                let s = (*s).max(from);
                if *e <= s {
                    continue;
                }
                let avail = u64::from(*e - s);
                if left <= avail && (left > 0 || avail > 0) {
                    let minute = s + u16::try_from(left).unwrap_or(0);
                    return (at_minute(date, minute), provisional);
                }
                left -= avail;
            }
        }
        day += 1;
        from = 0;
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::time::start_of;
    use jiff::civil::date;

    fn at(d: Date, h: i64) -> Timestamp {
        start_of(d) + SignedDuration::from_hours(h)
    }

    #[test]
    fn deadline_across_spring_festival() {
        let cal = Calendar::builtin().unwrap();
        let hours = BusinessHours::default();
        let start = at(date(2026, 2, 13), 10);
        let input = DeadlineInput {
            start,
            limit: TimeLimit::working_days(5),
            pauses: &[],
            extension: 0,
            now: start,
        };
        let d = compute(&cal, &hours, &input);
        assert_eq!(d.due_date, date(2026, 2, 27));
        assert_eq!(d.due_at, start_of(date(2026, 2, 28)));
        // A closed clock stop over two working days moves it by two.
        let pauses = [Pause {
            start: at(date(2026, 2, 25), 9),
            end: Some(at(date(2026, 2, 27), 9)),
        }];
        let d2 = compute(
            &cal,
            &hours,
            &DeadlineInput {
                pauses: &pauses,
                ..input
            },
        );
        assert_eq!(d2.paused, 2);
        assert_eq!(
            d2.due_date,
            date(2026, 3, 2),
            "2/28 Sat is a workday in 2026"
        );
    }

    #[test]
    fn warning_threshold() {
        let cal = Calendar::builtin().unwrap();
        let hours = BusinessHours::default();
        let start = at(date(2026, 3, 2), 10);
        let input = DeadlineInput {
            start,
            limit: TimeLimit::working_days(20),
            pauses: &[],
            extension: 0,
            now: start,
        };
        let w = warning_at(&cal, &hours, &input, 0.8, 1).unwrap();
        assert_eq!(
            local_date(w),
            date(2026, 3, 25),
            "16 working days after 3/2 end on 3/24"
        );
        let short = DeadlineInput {
            limit: TimeLimit::working_days(0),
            ..input
        };
        assert!(warning_at(&cal, &hours, &short, 0.8, 1).is_none());
    }

    #[test]
    fn hours_and_months() {
        let cal = Calendar::builtin().unwrap();
        let hours = BusinessHours::default();
        // Friday 16:30 + 2 working hours = Monday 10:00.
        let start = start_of(date(2026, 3, 6)) + SignedDuration::from_mins(16 * 60 + 30);
        let (due, _) = add_working_minutes(&cal, &hours, start, 120);
        assert_eq!(
            due,
            start_of(date(2026, 3, 9)) + SignedDuration::from_mins(10 * 60)
        );
        assert_eq!(add_months(date(2026, 1, 31), 1), date(2026, 2, 28));
        let input = DeadlineInput {
            start: at(date(2026, 1, 31), 10),
            limit: TimeLimit {
                amount: 1,
                unit: TimeUnit::Months,
            },
            pauses: &[],
            extension: 0,
            now: at(date(2026, 1, 31), 10),
        };
        // 2026-02-28 is a make-up Saturday, a working day.
        assert_eq!(compute(&cal, &hours, &input).due_date, date(2026, 2, 28));
    }
}
