//! Catalog stories: imports are all or nothing with per-row errors; item versions are kept and
//! cases keep the version they were registered under.

use lianzheng_app::catalog::{CSV_COLUMNS, Department, parse_csv_import, parse_json_import};
use lianzheng_core::catalog::ItemStatus;
use serde_json::json;

use crate::common::{ITEM, admin, apply, both, dept, item_change, item_json};

#[test]
fn json_import_is_all_or_nothing_with_row_errors() {
    both("json_import", |env| {
        // A row that does not parse is reported by position, with its code.
        let broken = json!([item_json("A1", "SCJG", json!({})), {"code": "A2", "name": "缺字段"}]);
        let errs = parse_json_import(&broken.to_string()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].row, errs[0].code.as_str()), (2, "A2"));
        assert!(parse_json_import("{}").unwrap_err()[0].errors[0].contains("array"));
        assert!(parse_json_import("[").is_err());

        // Rows that parse but break the rules: nothing is written, every bad row is named.
        let text = json!([
            item_json("A1", "SCJG", json!({})),
            item_json(
                "A2",
                "NOPE",
                json!({"promised_limit": {"amount": 30, "unit": "WD"}})
            ),
            item_json("A3", "SCJG", json!({"reason": " "})),
            item_json("A1", "SCJG", json!({})),
        ])
        .to_string();
        let changes = parse_json_import(&text).unwrap();
        let report = env.app.save_items(&admin(), changes).unwrap();
        assert_eq!((report.rows, report.written), (4, 0));
        let rows: Vec<usize> = report.errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, vec![2, 3, 4]);
        assert_eq!(
            report.errors[0].errors.len(),
            2,
            "unknown department and promised > legal: {:?}",
            report.errors[0]
        );
        assert!(report.errors[0].errors.iter().any(|e| e.contains("NOPE")));
        assert!(report.errors[2].errors[0].contains("twice"));
        assert!(
            env.app.item_versions("A1").unwrap().is_empty(),
            "the good row was not written either"
        );
        assert_eq!(env.count("SELECT COUNT(*) FROM items", &[]), 2);

        // The good rows alone go in.
        let good = json!([
            item_json("A1", "SCJG", json!({})),
            item_json("A2", "ZJJ", json!({}))
        ])
        .to_string();
        let report = env
            .app
            .save_items(&admin(), parse_json_import(&good).unwrap())
            .unwrap();
        assert_eq!((report.written, report.errors.len()), (2, 0));
        assert_eq!(
            env.app.item_versions("A2").unwrap()[0].body.department,
            "ZJJ"
        );
    });
}

fn csv_row(cells: &[(&str, &str)]) -> String {
    CSV_COLUMNS
        .iter()
        .map(|c| {
            cells
                .iter()
                .find(|(k, _)| k == c)
                .map_or("", |(_, v)| v)
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn good_cells(code: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("实施编码", code),
        ("基本编码", "000456"),
        ("事项名称", "药品经营许可"),
        ("事项类型", "01"),
        ("实施主体", "SCJG"),
        ("设定依据", "《药品管理法》"),
        ("法定办结时限", "20"),
        ("法定时限单位", "工作日"),
        ("承诺办结时限", "10"),
        ("承诺时限单位", "WD"),
        ("办件类型", "承诺件"),
        ("服务对象", "2"),
        ("窗口授权", "accept"),
        ("收费项目", "GB:工本费:1000;ZS:证书费:500"),
        ("申请材料", "申请书*;营业执照*;照片"),
        ("办理环节", "承办:3;审核:2;批准"),
        ("特别程序", "现场勘验"),
        ("监督电话", "0391-12345"),
        ("生效日期", "2026-01-01"),
        ("变更原因", "首次录入"),
        ("状态", "在用"),
    ]
}

#[test]
fn csv_import_reports_bad_rows_and_saves_good_ones() {
    both("csv_import", |env| {
        let header = CSV_COLUMNS.join(",");
        let mut bad = good_cells("C2");
        for (k, v) in &mut bad {
            match *k {
                "事项类型" => *v = "99",
                "生效日期" => *v = "2026-13-01",
                "收费项目" => *v = "GB:工本费",
                _ => {}
            }
        }
        let text = format!(
            "\u{feff}{header}\n{}\n{}\n",
            csv_row(&good_cells("C1")),
            csv_row(&bad)
        );
        let errs = parse_csv_import(&text).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].row, errs[0].code.as_str()), (2, "C2"));
        assert_eq!(errs[0].errors.len(), 3, "{:?}", errs[0].errors);
        assert!(
            parse_csv_import("实施编码,事项名称\nX,Y\n").unwrap_err()[0].errors[0]
                .contains("missing columns")
        );

        let text = format!("{header}\n{}\n", csv_row(&good_cells("C1")));
        let changes = parse_csv_import(&text).unwrap();
        let report = env.app.save_items(&admin(), changes).unwrap();
        assert_eq!(report.written, 1, "{:?}", report.errors);
        let v = &env.app.item_versions("C1").unwrap()[0];
        assert_eq!(v.body.fees.len(), 2);
        assert_eq!(v.body.fees[1].standard_fen.0, 500);
        let required: Vec<&str> = v.body.required_materials().collect();
        assert_eq!(required, vec!["申请书", "营业执照"]);
        assert_eq!(
            v.body
                .steps
                .iter()
                .map(|s| s.limit_days)
                .collect::<Vec<_>>(),
            vec![3, 2, 0]
        );
        assert_eq!(v.body.promised_limit.amount, 10);
    });
}

#[test]
fn item_versions_are_kept_and_cases_keep_their_version() {
    both("item_versions", |env| {
        env.ok(apply("V-1", env.now()));
        let mut v2 = item_change(
            ITEM,
            "SCJG",
            json!({"promised_limit": {"amount": 3, "unit": "WD"}}),
        );
        v2.reason = "压缩承诺时限".into();
        v2.effective_date = "2026-03-02".parse().unwrap();
        assert_eq!(env.app.save_items(&admin(), vec![v2]).unwrap().written, 1);
        env.tick(5);
        env.ok(apply("V-2", env.now()));
        let versions = env.app.item_versions(ITEM).unwrap();
        assert_eq!(
            versions
                .iter()
                .map(|v| (v.version, v.reason.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, "首次录入"), (2, "压缩承诺时限")]
        );
        let (c1, c2) = (env.stored_case("V-1"), env.stored_case("V-2"));
        assert_eq!(
            (
                c1["item_version"].as_u64(),
                c1["promised_limit"]["amount"].as_u64()
            ),
            (Some(1), Some(5))
        );
        assert_eq!(
            (
                c2["item_version"].as_u64(),
                c2["promised_limit"]["amount"].as_u64()
            ),
            (Some(2), Some(3))
        );
        // Accepting V-1 after v2 exists still uses v1's limits.
        env.tick(1);
        env.ok(crate::common::ev(
            "V-1",
            env.now(),
            "w1",
            json!({"kind": "accept"}),
        ));
        assert_eq!(
            env.stored_case("V-1")["promised_limit"]["amount"].as_u64(),
            Some(5)
        );

        // A version that takes effect later does not apply yet.
        let mut v3 = item_change(
            ITEM,
            "SCJG",
            json!({"promised_limit": {"amount": 1, "unit": "WD"}}),
        );
        v3.effective_date = "2026-06-01".parse().unwrap();
        env.app.save_items(&admin(), vec![v3]).unwrap();
        env.ok(apply("V-3", env.tick(1)));
        assert_eq!(env.stored_case("V-3")["item_version"].as_u64(), Some(2));

        // A retired item takes no new cases.
        let mut retired = item_change(ITEM, "SCJG", json!({}));
        retired.status = ItemStatus::Retired;
        retired.reason = "取消".into();
        env.app.save_items(&admin(), vec![retired]).unwrap();
        let r = env
            .submit(&dept("SCJG"), vec![apply("V-4", env.tick(1))])
            .remove(0);
        assert_eq!(r.status, "rejected");
        assert_eq!(r.error.unwrap().code, "item_not_found");
        // Other departments cannot edit the item; only administrators edit departments.
        assert_eq!(
            env.app
                .save_items(&dept("ZJJ"), vec![item_change(ITEM, "SCJG", json!({}))])
                .unwrap_err()
                .code(),
            "forbidden"
        );
        // Nor take it over by saving it under their own department.
        let takeover = item_change(crate::common::OTHER_ITEM, "SCJG", json!({}));
        assert_eq!(
            env.app
                .save_items(&dept("SCJG"), vec![takeover])
                .map(|r| r.written)
                .map_err(|e| e.code()),
            Err("forbidden"),
            "a department may not rewrite another department's item"
        );
        let d = Department {
            code: "X".into(),
            credit_code: String::new(),
            name: "X".into(),
            short_name: String::new(),
            phone: String::new(),
        };
        assert_eq!(
            env.app
                .upsert_departments(&dept("SCJG"), &[d])
                .unwrap_err()
                .code(),
            "forbidden"
        );
    });
}
