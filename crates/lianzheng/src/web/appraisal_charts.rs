//! Charts of the 民主评议 page: ECharts options built with `charming` (as in `charts.rs`), drawn
//! by `/assets/app.js`; the tables beside them carry the same figures.

use std::collections::BTreeMap;

use charming::Chart;
use charming::component::{Axis, Grid, Legend, Title};
use charming::element::{AxisType, Tooltip, Trigger};
use charming::series::{Bar, Line};
use lianzheng_app::complaints::ComplaintStats;
use lianzheng_app::monitoring::ResultRow;

use super::charts::rate;
use super::i18n::Ui;

fn json(chart: &Chart) -> String {
    serde_json::to_string(chart).unwrap_or_else(|_| "{}".into())
}

/// Sums of one department (or one month) over the rows given.
#[derive(Default)]
struct Sum {
    received: i64,
    answered: i64,
    in_time: i64,
    overdue: i64,
    rated: i64,
    satisfied: i64,
}

impl Sum {
    fn add(&mut self, r: &ComplaintStats) {
        self.received += r.received;
        self.answered += r.answered;
        self.in_time += r.answered_in_time;
        self.overdue += r.open_overdue;
        self.rated += r.rated;
        self.satisfied += r.satisfied;
    }
}

/// Per department: complaints received (bars) and the rates answered in time and satisfied
/// (bars on a percent axis), over the rows shown.
pub fn departments(ui: &Ui, rows: &[&ComplaintStats]) -> String {
    let mut by: BTreeMap<String, Sum> = BTreeMap::new();
    for r in rows {
        let name = if r.name.is_empty() {
            r.department.clone()
        } else {
            r.name.clone()
        };
        by.entry(name).or_default().add(r);
    }
    let names: Vec<String> = by.keys().rev().cloned().collect();
    let sums: Vec<&Sum> = by.values().rev().collect();
    let chart = Chart::new()
        .title(Title::new().text(ui.t("各部门投诉按时答复率、满意率")))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().top(24))
        .grid(Grid::new().top(64).left(160).right(24).bottom(24))
        .x_axis(Axis::new().type_(AxisType::Value).name("%").min(0).max(100))
        .y_axis(Axis::new().type_(AxisType::Category).data(names))
        .series(
            Bar::new().name(ui.t("按时答复率")).bar_width(14).data(
                sums.iter()
                    .map(|s| rate(s.in_time, s.answered + s.overdue))
                    .collect(),
            ),
        )
        .series(
            Bar::new()
                .name(ui.t("满意率"))
                .bar_width(14)
                .data(sums.iter().map(|s| rate(s.satisfied, s.rated)).collect()),
        );
    json(&chart)
}

/// The height in CSS pixels of a horizontal bar chart of `n` categories.
pub fn height(n: usize) -> usize {
    (110 + 44 * n).clamp(220, 1400)
}

/// Per month (city): complaints received and answered (bars), the on-time and satisfaction
/// rates (lines).
pub fn monthly(ui: &Ui, stats: &[ComplaintStats]) -> String {
    let mut by: BTreeMap<String, Sum> = BTreeMap::new();
    for r in stats {
        by.entry(r.month.clone()).or_default().add(r);
    }
    let labels: Vec<String> = by.keys().cloned().collect();
    let sums: Vec<&Sum> = by.values().collect();
    let chart = Chart::new()
        .title(Title::new().text(ui.t("逐月投诉量与按时答复率、满意率")))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().top(24))
        .grid(Grid::new().top(64).left(56).right(56).bottom(32))
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
        .y_axis(Axis::new().type_(AxisType::Value).name(ui.t("件")))
        .y_axis(Axis::new().type_(AxisType::Value).name("%").min(0).max(100))
        .series(
            Bar::new()
                .name(ui.t("收到投诉"))
                .bar_width(24)
                .data(sums.iter().map(|s| s.received).collect()),
        )
        .series(
            Bar::new()
                .name(ui.t("已答复"))
                .bar_width(24)
                .data(sums.iter().map(|s| s.answered).collect()),
        )
        .series(
            Line::new().name(ui.t("按时答复率")).y_axis_index(1).data(
                sums.iter()
                    .map(|s| rate(s.in_time, s.answered + s.overdue))
                    .collect(),
            ),
        )
        .series(
            Line::new()
                .name(ui.t("满意率"))
                .y_axis_index(1)
                .data(sums.iter().map(|s| rate(s.satisfied, s.rated)).collect()),
        );
    json(&chart)
}

/// The overall score (1–5) of each department in one round; a suppressed department is a gap.
pub fn monitoring(ui: &Ui, rows: &[&ResultRow]) -> String {
    let shown: Vec<&&ResultRow> = rows.iter().rev().collect();
    let chart = Chart::new()
        .title(Title::new().text(ui.t("监测点企业总体评价")))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .grid(Grid::new().top(48).left(160).right(24).bottom(24))
        .x_axis(Axis::new().type_(AxisType::Value).min(0).max(5))
        .y_axis(
            Axis::new().type_(AxisType::Category).data(
                shown
                    .iter()
                    .map(|r| {
                        if r.department_name.is_empty() {
                            r.department.clone()
                        } else {
                            r.department_name.clone()
                        }
                    })
                    .collect(),
            ),
        )
        .series(
            Bar::new().name(ui.t("总体评价")).bar_width(18).data(
                shown
                    .iter()
                    .map(|r| {
                        r.overall
                            .filter(|_| !r.suppressed)
                            .map(|v| (v * 100.0).round() / 100.0)
                    })
                    .collect(),
            ),
        );
    json(&chart)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn row(
        department: &str,
        month: &str,
        received: i64,
        answered: i64,
        in_time: i64,
    ) -> ComplaintStats {
        ComplaintStats {
            department: department.into(),
            name: format!("{department}局"),
            month: month.into(),
            received,
            accepted_in_time: received,
            answered,
            answered_in_time: in_time,
            open_overdue: 0,
            on_time_rate: 0.0,
            rated: 2,
            satisfied: 1,
            fee_confirmed: 0,
        }
    }

    #[test]
    fn options_carry_the_figures() {
        let stats = vec![
            row("A", "2026-11", 4, 4, 3),
            row("A", "2026-10", 2, 0, 0),
            row("B", "2026-11", 1, 1, 1),
        ];
        let m: serde_json::Value = serde_json::from_str(&monthly(&Ui::zh(), &stats)).unwrap();
        assert_eq!(m["xAxis"]["data"][0], "2026-10");
        assert_eq!(m["series"][0]["data"][1], 5);
        assert_eq!(m["series"][2]["data"][1], 80.0);
        // Nothing answered in October: a gap, not a zero.
        assert!(m["series"][2]["data"][0].is_null());
        let refs: Vec<&ComplaintStats> = stats.iter().collect();
        let d: serde_json::Value = serde_json::from_str(&departments(&Ui::zh(), &refs)).unwrap();
        assert_eq!(d["yAxis"]["data"][1], "A局");
        assert_eq!(d["series"][0]["data"][1], 75.0);
    }
}
