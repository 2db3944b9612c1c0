//! The working-day calendar (工作日历): national holidays and make-up workdays (调休).
//!
//! The real calendar of a year comes only from that year's 国务院办公厅 notice. The notices for
//! 2005–2026 ship with the binary (`data/holidays-cn.csv`); an administrator loads later years.
//! For a year whose notice is not loaded, the calendar applies the statutory holidays of
//! 《全国年节及纪念日放假办法》 (2024 revision) alone, with a holiday that falls on a weekend moved
//! to the next weekday (补假), and marks every answer that depends on such a day as *provisional*.
//! Nothing pretends to know a make-up Saturday that no notice has announced.
//!
//! The calendar is a dense table of days, so each question is an array lookup.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::time::{civil_from_days, days_from_civil, iso_weekday};

const HOLIDAYS_CSV: &str = include_str!("../data/holidays-cn.csv");
const FESTIVALS_CSV: &str = include_str!("../data/festivals-lunar.csv");

/// The first and last years the table covers. Outside it every date is provisional and only the
/// weekend rule applies.
pub const FIRST_YEAR: i16 = 2005;
/// See [`FIRST_YEAR`].
pub const LAST_YEAR: i16 = 2100;

/// What a notice says of one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DayKind {
    /// A day off (a weekday that is a holiday, or any day of a holiday block).
    Holiday,
    /// A weekend day that is worked (调休上班).
    Workday,
}

/// One row of a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOverride {
    /// The date.
    pub date: Date,
    /// Day off or worked.
    pub kind: DayKind,
    /// The festival, e.g. 春节.
    pub name: String,
    /// The notice that set it.
    pub notice: String,
}

/// A calendar answer, with whether it rests on a year whose notice is not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reckoned<T> {
    /// The answer.
    pub value: T,
    /// True when a year without a loaded notice was used.
    pub provisional: bool,
}

/// Errors of calendar data.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    /// A row of the holiday data is malformed.
    #[error("line {line}: {reason}")]
    BadRow {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A year outside the supported range.
    #[error("year `{0}` is outside {FIRST_YEAR}–{LAST_YEAR}")]
    YearOutOfRange(i32),
    /// Rows for a year that belong to another year.
    #[error("date `{date}` is not in year `{year}`")]
    WrongYear {
        /// The date given.
        date: Date,
        /// The year being loaded.
        year: i16,
    },
}

const WORKING: u8 = 1;
const PROVISIONAL: u8 = 2;

/// Lunar-calendar festival dates of one year, for provisional reckoning.
#[derive(Debug, Clone, Copy)]
struct Festivals {
    chuxi: Date,
    chunjie: Date,
    qingming: Date,
    duanwu: Date,
    zhongqiu: Date,
}

/// The working-day calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    overrides: BTreeMap<Date, DayOverride>,
    loaded_years: BTreeSet<i16>,
    festivals: BTreeMap<i16, Festivals>,
    /// Day flags from `FIRST_YEAR`-01-01 to `LAST_YEAR`-12-31.
    days: Vec<u8>,
    base: i64,
}

impl Calendar {
    /// The calendar with the notices that ship with Lianzheng (2005–2026).
    pub fn builtin() -> Result<Calendar, CalendarError> {
        let rows = parse_holidays_csv(HOLIDAYS_CSV)?;
        let festivals = parse_festivals_csv(FESTIVALS_CSV)?;
        let mut cal = Calendar::empty(festivals);
        for row in rows {
            cal.loaded_years.insert(row.date.year());
            cal.overrides.insert(row.date, row);
        }
        cal.rebuild();
        Ok(cal)
    }

    fn empty(festivals: BTreeMap<i16, Festivals>) -> Calendar {
        let base = days_from_civil(date_or_min(FIRST_YEAR, 1, 1));
        let end = days_from_civil(date_or_min(LAST_YEAR, 12, 31));
        let len = usize::try_from(end - base + 1).unwrap_or(0);
        Calendar {
            overrides: BTreeMap::new(),
            loaded_years: BTreeSet::new(),
            festivals,
            days: vec![0; len],
            base,
        }
    }

    /// Years whose notice is loaded.
    pub fn loaded_years(&self) -> impl Iterator<Item = i16> + '_ {
        self.loaded_years.iter().copied()
    }

    /// Whether a year's notice is loaded.
    pub fn is_loaded(&self, year: i16) -> bool {
        self.loaded_years.contains(&year)
    }

    /// The rows of a loaded year.
    pub fn year_rows(&self, year: i16) -> Vec<DayOverride> {
        self.overrides
            .values()
            .filter(|r| r.date.year() == year)
            .cloned()
            .collect()
    }

    /// Replaces one year's notice (an administrator's edit). An empty list loads a year whose
    /// notice moves nothing, which is different from a year not loaded.
    pub fn set_year(&mut self, year: i16, rows: Vec<DayOverride>) -> Result<(), CalendarError> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(CalendarError::YearOutOfRange(i32::from(year)));
        }
        if let Some(r) = rows.iter().find(|r| r.date.year() != year) {
            return Err(CalendarError::WrongYear { date: r.date, year });
        }
        self.overrides.retain(|d, _| d.year() != year);
        for r in rows {
            self.overrides.insert(r.date, r);
        }
        self.loaded_years.insert(year);
        self.rebuild();
        Ok(())
    }

    /// Recomputes the dense table from the overrides and the statutory rules.
    fn rebuild(&mut self) {
        for (i, flag) in self.days.iter_mut().enumerate() {
            let wd = iso_weekday(self.base + i as i64);
            *flag = if wd <= 5 { WORKING } else { 0 };
        }
        for year in FIRST_YEAR..=LAST_YEAR {
            if self.loaded_years.contains(&year) {
                continue;
            }
            for idx in self.year_indexes(year) {
                if let Some(f) = self.days.get_mut(idx) {
                    *f |= PROVISIONAL;
                }
            }
            for day in self.statutory_days_off(year) {
                if let Some(f) = self.index(day).and_then(|i| self.days.get_mut(i)) {
                    *f &= !WORKING;
                }
            }
        }
        let overrides: Vec<(Date, DayKind)> =
            self.overrides.values().map(|r| (r.date, r.kind)).collect();
        for (date, kind) in overrides {
            if let Some(f) = self.index(date).and_then(|i| self.days.get_mut(i)) {
                match kind {
                    DayKind::Holiday => *f &= !WORKING,
                    DayKind::Workday => *f |= WORKING,
                }
            }
        }
    }

    fn year_indexes(&self, year: i16) -> std::ops::Range<usize> {
        let a = self.index(date_or_min(year, 1, 1)).unwrap_or(0);
        let b = self.index(date_or_min(year, 12, 31)).map_or(a, |i| i + 1);
        a..b
    }

    /// Statutory days off of a year without a notice: the 13 days of the 2024 办法, each weekend
    /// one moved to the next free weekday.
    fn statutory_days_off(&self, year: i16) -> Vec<Date> {
        let mut days: Vec<Date> = vec![
            date_or_min(year, 1, 1),
            date_or_min(year, 5, 1),
            date_or_min(year, 5, 2),
            date_or_min(year, 10, 1),
            date_or_min(year, 10, 2),
            date_or_min(year, 10, 3),
        ];
        if let Some(f) = self.festivals.get(&year) {
            days.push(f.chuxi);
            for k in 0..3 {
                days.push(civil_from_days(days_from_civil(f.chunjie) + k));
            }
            days.extend([f.qingming, f.duanwu, f.zhongqiu]);
        }
        // 除夕 of next year's Spring Festival can fall in this year; it belongs to this year's
        // table too.
        if let Some(f) = self.festivals.get(&(year + 1))
            && f.chuxi.year() == year
        {
            days.push(f.chuxi);
        }
        days.sort();
        days.dedup();
        let mut off: BTreeSet<i64> = BTreeSet::new();
        for d in &days {
            let n = days_from_civil(*d);
            if iso_weekday(n) <= 5 && !off.contains(&n) {
                off.insert(n);
            } else {
                // 补假: the next weekday that is not already off.
                let mut m = n;
                loop {
                    m += 1;
                    if iso_weekday(m) <= 5
                        && !off.contains(&m)
                        && !days.contains(&civil_from_days(m))
                    {
                        break;
                    }
                }
                off.insert(n);
                off.insert(m);
            }
        }
        off.into_iter().map(civil_from_days).collect()
    }

    fn index(&self, d: Date) -> Option<usize> {
        let i = days_from_civil(d) - self.base;
        usize::try_from(i).ok().filter(|i| *i < self.days.len())
    }

    fn flags_at(&self, day: i64) -> u8 {
        match usize::try_from(day - self.base)
            .ok()
            .and_then(|i| self.days.get(i))
        {
            Some(f) => *f,
            None => {
                let working = if iso_weekday(day) <= 5 { WORKING } else { 0 };
                working | PROVISIONAL
            }
        }
    }

    /// Whether a date is a working day.
    pub fn is_workday(&self, d: Date) -> Reckoned<bool> {
        let f = self.flags_at(days_from_civil(d));
        Reckoned {
            value: f & WORKING != 0,
            provisional: f & PROVISIONAL != 0,
        }
    }

    /// The notice row for a date, if any.
    pub fn override_for(&self, d: Date) -> Option<&DayOverride> {
        self.overrides.get(&d)
    }

    /// The date `n` working days after `start`, the start day not counted (行政许可法 Art. 82,
    /// 民法典 Art. 201). With `n == 0` it is `start` if that is a working day, else the next one.
    pub fn add_workdays(&self, start: Date, n: u32) -> Reckoned<Date> {
        let mut day = days_from_civil(start);
        let mut provisional = false;
        if n == 0 {
            loop {
                let f = self.flags_at(day);
                provisional |= f & PROVISIONAL != 0;
                if f & WORKING != 0 {
                    break;
                }
                day += 1;
            }
        } else {
            let mut left = n;
            while left > 0 {
                day += 1;
                let f = self.flags_at(day);
                provisional |= f & PROVISIONAL != 0;
                if f & WORKING != 0 {
                    left -= 1;
                }
            }
        }
        Reckoned {
            value: civil_from_days(day),
            provisional,
        }
    }

    /// The number of working days `d` with `after < d <= through` (0 when `through <= after`).
    pub fn workdays_between(&self, after: Date, through: Date) -> Reckoned<u32> {
        let (a, b) = (days_from_civil(after), days_from_civil(through));
        let mut count = 0u32;
        let mut provisional = false;
        for day in (a + 1)..=b {
            let f = self.flags_at(day);
            provisional |= f & PROVISIONAL != 0;
            if f & WORKING != 0 {
                count += 1;
            }
        }
        Reckoned {
            value: count,
            provisional,
        }
    }

    /// The first working day on or after `d`.
    pub fn next_workday_on_or_after(&self, d: Date) -> Reckoned<Date> {
        self.add_workdays(d, 0)
    }
}

fn date_or_min(y: i16, m: i8, d: i8) -> Date {
    Date::new(y, m, d).unwrap_or(Date::MIN)
}

fn parse_date(s: &str, line: usize) -> Result<Date, CalendarError> {
    s.trim().parse::<Date>().map_err(|_| CalendarError::BadRow {
        line,
        reason: format!("`{}` is not a date (YYYY-MM-DD)", s.trim()),
    })
}

/// Parses holiday rows in the CSV form `date,kind,name,notice` (with that header line).
pub fn parse_holidays_csv(text: &str) -> Result<Vec<DayOverride>, CalendarError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line_no == 1 && line.starts_with("date,") {
            continue;
        }
        let parts: Vec<&str> = line.splitn(4, ',').collect();
        let [date, kind, name, notice] = parts.as_slice() else {
            return Err(CalendarError::BadRow {
                line: line_no,
                reason: "expected 4 fields: date,kind,name,notice".into(),
            });
        };
        let date = parse_date(date, line_no)?;
        let kind = match kind.trim() {
            "holiday" | "休" => DayKind::Holiday,
            "workday" | "班" => DayKind::Workday,
            other => {
                return Err(CalendarError::BadRow {
                    line: line_no,
                    reason: format!("kind `{other}` must be `holiday` or `workday`"),
                });
            }
        };
        rows.push(DayOverride {
            date,
            kind,
            name: name.trim().to_string(),
            notice: notice.trim().to_string(),
        });
    }
    Ok(rows)
}

fn parse_festivals_csv(text: &str) -> Result<BTreeMap<i16, Festivals>, CalendarError> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with("year") {
            continue;
        }
        let parts: Vec<&str> = line.split(',').collect();
        let [year, chuxi, chunjie, qingming, duanwu, zhongqiu] = parts.as_slice() else {
            return Err(CalendarError::BadRow {
                line: line_no,
                reason: "expected 6 fields".into(),
            });
        };
        let year: i16 = year.trim().parse().map_err(|_| CalendarError::BadRow {
            line: line_no,
            reason: format!("`{year}` is not a year"),
        })?;
        out.insert(
            year,
            Festivals {
                chuxi: parse_date(chuxi, line_no)?,
                chunjie: parse_date(chunjie, line_no)?,
                qingming: parse_date(qingming, line_no)?,
                duanwu: parse_date(duanwu, line_no)?,
                zhongqiu: parse_date(zhongqiu, line_no)?,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use jiff::civil::date;

    fn cal() -> Calendar {
        Calendar::builtin().unwrap()
    }

    #[test]
    fn golden_2026() {
        let c = cal();
        assert!(
            c.is_workday(date(2026, 2, 14)).value,
            "2/14 Sat is a make-up workday"
        );
        assert!(!c.is_workday(date(2026, 2, 16)).value);
        assert_eq!(
            c.add_workdays(date(2026, 2, 13), 3).value,
            date(2026, 2, 25)
        );
        assert_eq!(
            c.add_workdays(date(2026, 2, 13), 5).value,
            date(2026, 2, 27)
        );
        assert_eq!(
            c.add_workdays(date(2026, 2, 13), 20).value,
            date(2026, 3, 19)
        );
        assert_eq!(
            c.add_workdays(date(2026, 9, 24), 5).value,
            date(2026, 10, 9)
        );
        assert!(
            c.is_workday(date(2025, 1, 26)).value,
            "2025-01-26 Sunday workday"
        );
        assert!(!c.add_workdays(date(2026, 2, 13), 20).provisional);
    }

    #[test]
    fn future_years_are_provisional() {
        let c = cal();
        let r = c.add_workdays(date(2026, 12, 28), 10);
        assert!(r.provisional);
        // 2027-01-01 is a Friday and a statutory holiday.
        assert!(!c.is_workday(date(2027, 1, 1)).value);
        assert!(c.is_workday(date(2027, 1, 1)).provisional);
    }

    #[test]
    fn loading_a_year_makes_it_firm() {
        let mut c = cal();
        let rows = vec![DayOverride {
            date: date(2027, 1, 1),
            kind: DayKind::Holiday,
            name: "元旦".into(),
            notice: "test".into(),
        }];
        c.set_year(2027, rows).unwrap();
        assert!(!c.is_workday(date(2027, 1, 4)).provisional);
        assert!(
            c.is_workday(date(2027, 2, 8)).value,
            "no festival known once the year is loaded without it"
        );
        assert!(
            c.set_year(
                2027,
                vec![DayOverride {
                    date: date(2028, 1, 1),
                    kind: DayKind::Holiday,
                    name: String::new(),
                    notice: String::new()
                }]
            )
            .is_err()
        );
    }
}
