//! Administration: API keys map to the right principal, users need real passwords, the rule
//! pack is edited by administrators and survives a restart.

use lianzheng_app::Principal;

use crate::common::{admin, both, dept, fee};

#[test]
fn api_keys_authenticate_and_map_to_principals() {
    both("api_keys", |env| {
        let k = env.app.create_api_key("scjg-system", Some("SCJG")).unwrap();
        assert!(k.key.starts_with("lz_") && k.key.len() == 67);
        assert_eq!(
            env.app.authenticate_key(&k.key).unwrap(),
            Some(Principal::Department {
                name: "key:scjg-system".into(),
                department: "SCJG".into()
            })
        );
        let hub = env.app.create_api_key("hub", None).unwrap();
        assert_ne!(hub.key, k.key);
        assert_eq!(
            env.app.authenticate_key(&hub.key).unwrap(),
            Some(Principal::Admin {
                name: "key:hub".into()
            })
        );
        let wrong = format!("lz_{}", "0".repeat(64));
        assert_eq!(env.app.authenticate_key(&wrong).unwrap(), None);
        assert_eq!(env.app.authenticate_key("garbage").unwrap(), None);
        assert_eq!(env.app.authenticate_key(&k.key[..66]).unwrap(), None);
        assert_eq!(
            env.app
                .create_api_key("x", Some("NOPE"))
                .unwrap_err()
                .code(),
            "not_found"
        );
        assert_eq!(
            env.app.create_api_key("hub", None).unwrap_err().code(),
            "conflict"
        );
        assert_eq!(
            env.app.create_api_key(" ", None).unwrap_err().code(),
            "invalid_input"
        );
        // Only the hash is stored.
        assert_eq!(
            env.count(
                "SELECT COUNT(*) FROM api_keys WHERE key_hash = ?",
                &[k.key.clone().into()]
            ),
            0
        );
        // Keys survive a restart.
        assert!(env.reopen().authenticate_key(&k.key).unwrap().is_some());
    });
}

#[test]
fn users_reject_short_passwords() {
    both("users", |env| {
        let app = &env.app;
        assert_eq!(
            app.add_user("zhang", "张三", "officer", Some("SCJG"), "short")
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        assert_eq!(
            app.add_user("zhang", "张三", "officer", Some("SCJG"), "123456789")
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        app.add_user("zhang", "张三", "officer", Some("SCJG"), "1234567890")
            .unwrap();
        assert_eq!(
            app.add_user("zhang", "张三", "officer", Some("SCJG"), "1234567890")
                .unwrap_err()
                .code(),
            "conflict"
        );
        assert_eq!(
            app.add_user("li", "李四", "clerk", None, "long enough pw")
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        assert_eq!(
            app.add_user("li", "李四", "emperor", None, "long enough pw")
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        assert_eq!(
            app.add_user("li si", "李四", "supervisor", None, "long enough pw")
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        app.add_user("jcj.li", "李四", "supervisor", None, "十个汉字的密码很长的")
            .unwrap();
        let hash = app
            .db
            .read(|tx| {
                Ok::<_, lianzheng_app::AppError>(
                    tx.query_opt(
                        "SELECT password_hash FROM users WHERE username = 'zhang'",
                        &[],
                    )?
                    .unwrap()
                    .text(0),
                )
            })
            .unwrap();
        assert!(hash.starts_with("$argon2"), "{hash}");
        assert!(!hash.contains("1234567890"));
    });
}

#[test]
fn rule_pack_changes_apply_and_survive_a_restart() {
    both("rule_pack", |env| {
        let text = "[rules.F001]\nenabled = false\n";
        assert_eq!(
            env.app
                .set_rule_pack_text(&dept("SCJG"), text, "试行")
                .unwrap_err()
                .code(),
            "forbidden"
        );
        assert_eq!(
            env.app
                .set_rule_pack_text(&admin(), text, " ")
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        assert_eq!(
            env.app
                .set_rule_pack_text(&admin(), "[rules.Z999]\n", "x")
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        assert_eq!(
            env.app
                .set_rule_pack_text(&admin(), "[rules", "x")
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        assert_eq!(
            env.app
                .set_rule_pack_text(&admin(), text, "试行期间暂停超标收费预警")
                .unwrap(),
            1
        );
        env.open_case("K-1");
        let r = env.ok(fee("K-1", env.tick(1), "GB", 5000));
        assert!(r.findings.is_empty(), "F001 is disabled");
        // A restart reads the stored pack.
        let again = env.reopen();
        assert!(!again.rule_pack().enabled("F001"));
        let r = again
            .submit(&dept("SCJG"), vec![Ok(fee("K-1", env.tick(1), "GB", 6000))])
            .unwrap();
        assert!(r[0].findings.is_empty());
        // A level and a parameter change.
        let v = env
            .app
            .set_rule_pack_text(
                &admin(),
                "[rules.F001]\nlevel = \"黄牌\"\ntolerance_percent = 600\n",
                "放宽",
            )
            .unwrap();
        assert_eq!(v, 2);
        assert!(
            env.ok(fee("K-1", env.tick(1), "GB", 6000))
                .findings
                .is_empty(),
            "within 600 %"
        );
        assert_eq!(
            env.ok(fee("K-1", env.tick(1), "GB", 8000)).findings,
            ["F001"]
        );
        assert_eq!(env.findings("F001")[0].level, "2");
    });
}
