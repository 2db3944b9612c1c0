//! Charts of the statistics pages: ECharts options built on the server (with the `charming`
//! option types) and drawn in the browser by ECharts, which the binary serves itself at
//! `/assets/echarts.min.js` (see `build.rs`): no outside network.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use charming::Chart;
use charming::component::{Axis, Grid, Legend, Title};
use charming::element::{AxisType, Tooltip, Trigger};
use charming::series::{Bar, Line};
use lianzheng_app::views::{DepartmentStats, MonthStats};

use super::i18n::Ui;

/// The ECharts release embedded in the binary.
pub const ECHARTS_VERSION: &str = env!("LIANZHENG_ECHARTS_VERSION");

/// `GET /assets/echarts.min.js`: Apache ECharts (Apache-2.0; its licence header is kept).
pub async fn echarts_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!(concat!(env!("OUT_DIR"), "/echarts.min.js")),
    )
        .into_response()
}

/// `GET /assets/app.js`: draws the charts a page declares; print buttons.
pub async fn app_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/app.js"),
    )
        .into_response()
}

/// A percentage with one decimal, or `None` (a gap in the line) when there is no base.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

fn json(chart: &Chart) -> String {
    serde_json::to_string(chart).unwrap_or_else(|_| "{}".into())
}

/// Cases and completions per month (bars) with the on-time and satisfaction rates (lines).
pub fn monthly(ui: &Ui, months: &[MonthStats]) -> String {
    let labels: Vec<String> = months.iter().map(|m| m.month.clone()).collect();
    let chart = Chart::new()
        .title(Title::new().text(ui.t("办件量与按时办结率、满意率")))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().top(24))
        .grid(Grid::new().top(64).left(56).right(56).bottom(32))
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
        .y_axis(Axis::new().type_(AxisType::Value).name(ui.t("件")))
        .y_axis(Axis::new().type_(AxisType::Value).name("%").min(0).max(100))
        .series(
            Bar::new()
                .name(ui.t("受理办件"))
                .data(months.iter().map(|m| m.cases).collect()),
        )
        .series(
            Bar::new()
                .name(ui.t("办结"))
                .data(months.iter().map(|m| m.finished).collect()),
        )
        .series(
            Line::new()
                .name(ui.t("按时办结率"))
                .y_axis_index(1)
                .data(months.iter().map(|m| rate(m.on_time, m.finished)).collect()),
        )
        .series(
            Line::new().name(ui.t("满意率")).y_axis_index(1).data(
                months
                    .iter()
                    .map(|m| rate(m.ratings - m.bad_ratings, m.ratings))
                    .collect(),
            ),
        );
    json(&chart)
}

/// Red and yellow cards raised per month (stacked bars).
pub fn cards(ui: &Ui, months: &[MonthStats]) -> String {
    let labels: Vec<String> = months.iter().map(|m| m.month.clone()).collect();
    let chart = Chart::new()
        .title(Title::new().text(ui.t("红牌、黄牌")))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().top(24))
        .grid(Grid::new().top(64).left(56).right(24).bottom(32))
        .color(vec!["#b00020", "#d9a300"])
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
        .y_axis(Axis::new().type_(AxisType::Value).name(ui.t("张")))
        .series(
            Bar::new()
                .name(ui.t("红牌"))
                .stack("cards")
                .data(months.iter().map(|m| m.red).collect()),
        )
        .series(
            Bar::new()
                .name(ui.t("黄牌"))
                .stack("cards")
                .data(months.iter().map(|m| m.yellow).collect()),
        );
    json(&chart)
}

/// On-time and satisfaction rates of every department with cases (horizontal bars).
pub fn departments(ui: &Ui, stats: &[DepartmentStats]) -> String {
    let shown: Vec<&DepartmentStats> = stats.iter().filter(|d| d.cases > 0).rev().collect();
    let chart = Chart::new()
        .title(Title::new().text(ui.t("各部门按时办结率、满意率")))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().top(24))
        .grid(Grid::new().top(64).left(200).right(24).bottom(24))
        .x_axis(Axis::new().type_(AxisType::Value).name("%").min(0).max(100))
        .y_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(shown.iter().map(|d| d.name.clone()).collect()),
        )
        .series(
            Bar::new()
                .name(ui.t("按时办结率"))
                .data(shown.iter().map(|d| rate(d.on_time, d.finished)).collect()),
        )
        .series(
            Bar::new().name(ui.t("满意率")).data(
                shown
                    .iter()
                    .map(|d| rate(d.ratings - d.bad_ratings, d.ratings))
                    .collect(),
            ),
        );
    json(&chart)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn options_carry_the_figures() {
        let months = vec![
            MonthStats {
                month: "2026-10".into(),
                cases: 10,
                finished: 8,
                on_time: 6,
                ratings: 4,
                bad_ratings: 1,
                red: 2,
                yellow: 3,
            },
            MonthStats {
                month: "2026-11".into(),
                ..MonthStats::default()
            },
        ];
        let v: serde_json::Value = serde_json::from_str(&monthly(&Ui::zh(), &months)).unwrap();
        assert_eq!(v["xAxis"]["data"][0], "2026-10");
        assert_eq!(v["series"][0]["data"][0], 10);
        assert_eq!(v["series"][2]["data"][0], 75.0);
        // No completions: a gap, not a zero.
        assert!(v["series"][2]["data"][1].is_null());
        let c: serde_json::Value = serde_json::from_str(&cards(&Ui::zh(), &months)).unwrap();
        assert_eq!(c["series"][0]["stack"], "cards");
        assert_eq!(c["series"][1]["data"][0], 3);
    }
}
