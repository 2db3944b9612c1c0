//! Console users: login with Argon2 passwords, lockout after repeated failures, sessions that
//! expire (absolute and idle), a CSRF token per session, and the principal of each role.
//! Logins, failures, lockouts and logouts are events like any other.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ingest::{log_admin_event, with_writer};
use crate::{App, AppError, Principal, from_ms, ms};

/// Failed logins before the account is locked.
pub const MAX_FAILURES: i64 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;
/// A session's absolute lifetime.
pub const SESSION_HOURS: i64 = 8;
/// A session's idle timeout.
pub const IDLE_MINUTES: i64 = 30;

/// A console user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role: admin, clerk, officer, leader, supervisor or auditor.
    pub role: String,
    /// Department (department roles).
    pub department: Option<String>,
}

impl User {
    /// The principal the user acts as.
    pub fn principal(&self) -> Principal {
        let name = format!("user:{}", self.username);
        match (self.role.as_str(), &self.department) {
            ("admin", _) => Principal::Admin { name },
            ("supervisor", _) => Principal::Supervisor { name },
            ("auditor", _) => Principal::Auditor { name },
            (_, Some(d)) => Principal::Department {
                name,
                department: d.clone(),
            },
            // A department role without a department can do nothing.
            (_, None) => Principal::Public,
        }
    }

    /// The role in Chinese.
    pub fn role_zh(&self) -> &'static str {
        match self.role.as_str() {
            "admin" => "系统管理员",
            "clerk" => "窗口人员",
            "officer" => "承办人员",
            "leader" => "部门负责人",
            "supervisor" => "监察人员",
            "auditor" => "审计人员",
            _ => "用户",
        }
    }
}

/// A logged-in session: the secret token goes in a cookie, the CSRF token in every form.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session token (secret).
    pub token: String,
    /// The CSRF token of the session.
    pub csrf: String,
    /// The user.
    pub user: User,
}

/// A user with their password hash, failed logins and lock.
type StoredUser = (User, String, i64, Option<i64>);

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl App {
    fn user_row(&self, username: &str) -> Result<Option<StoredUser>, AppError> {
        self.db.read(|tx| {
            Ok(tx
                .query_opt(
                    "SELECT username, display_name, role, department, password_hash, failed_logins, locked_until FROM users WHERE username = ?",
                    &[username.into()],
                )?
                .map(|r| {
                    (
                        User { username: r.text(0), display_name: r.text(1), role: r.text(2), department: r.opt_text(3) },
                        r.text(4),
                        r.int(5),
                        r.opt_int(6),
                    )
                }))
        })
    }

    /// Logs a user in. A wrong name and a wrong password give the same answer; after
    /// [`MAX_FAILURES`] failures the account is locked for [`LOCK_MINUTES`].
    pub fn login(&self, username: &str, password: &str) -> Result<Session, AppError> {
        let now = self.now();
        let refused = || AppError::Forbidden("用户名或密码错误".into());
        let Some((user, stored, failures, locked_until)) = self.user_row(username)? else {
            return Err(refused());
        };
        if locked_until.is_some_and(|t| from_ms(t) > now) {
            return Err(AppError::Forbidden(format!(
                "账户已锁定，请{LOCK_MINUTES}分钟后再试 (the account is locked; try again in {LOCK_MINUTES} minutes)"
            )));
        }
        let ok = PasswordHash::new(&stored).is_ok_and(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        });
        if !ok {
            let failures = failures + 1;
            let lock = (failures >= MAX_FAILURES)
                .then(|| ms(now + SignedDuration::from_mins(LOCK_MINUTES)));
            with_writer(self, |w| {
                w.tx.exec(
                    "UPDATE users SET failed_logins = ?, locked_until = ? WHERE username = ?",
                    &[
                        (if lock.is_some() { 0 } else { failures }).into(),
                        lock.into(),
                        username.into(),
                    ],
                )?;
                let kind = if lock.is_some() {
                    "locked"
                } else {
                    "login_failed"
                };
                log_admin_event(
                    w,
                    "user",
                    username,
                    kind,
                    username,
                    serde_json::json!({"failures": failures}),
                )?;
                Ok(())
            })?;
            return Err(if lock.is_some() {
                AppError::Forbidden(format!(
                    "密码错误次数过多，账户已锁定{LOCK_MINUTES}分钟 (too many wrong passwords: the account is locked for {LOCK_MINUTES} minutes)"
                ))
            } else {
                refused()
            });
        }
        let mut raw = [0u8; 32];
        self.random(&mut raw);
        let token = hex::encode(raw);
        self.random(&mut raw);
        let csrf = hex::encode(raw);
        with_writer(self, |w| {
            w.tx.exec(
                "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = ?",
                &[username.into()],
            )?;
            w.tx.exec(
                "INSERT INTO sessions (token_hash, username, csrf, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                &[
                    hash(&token).into(),
                    username.into(),
                    csrf.clone().into(),
                    ms(now).into(),
                    ms(now).into(),
                    ms(now + SignedDuration::from_hours(SESSION_HOURS)).into(),
                ],
            )?;
            log_admin_event(
                w,
                "user",
                username,
                "login",
                username,
                serde_json::json!({}),
            )?;
            Ok(())
        })?;
        Ok(Session { token, csrf, user })
    }

    /// The session of a token, if it is valid now; touches its idle timer.
    pub fn session(&self, token: &str) -> Result<Option<Session>, AppError> {
        let now = self.now();
        let row = self.db.read(|tx| {
            Ok::<_, AppError>(tx.query_opt(
                "SELECT username, csrf, last_seen, expires_at FROM sessions WHERE token_hash = ?",
                &[hash(token).into()],
            )?)
        })?;
        let Some(r) = row else { return Ok(None) };
        let idle = from_ms(r.int(2)) + SignedDuration::from_mins(IDLE_MINUTES);
        if now >= from_ms(r.int(3)) || now >= idle {
            self.db.write(|tx| {
                tx.exec(
                    "DELETE FROM sessions WHERE token_hash = ?",
                    &[hash(token).into()],
                )
            })?;
            return Ok(None);
        }
        let Some((user, ..)) = self.user_row(&r.text(0))? else {
            return Ok(None);
        };
        // Touch at most once a minute: a write per page view would serialize readers.
        if now.duration_since(from_ms(r.int(2))).as_secs() >= 60 {
            self.db.write(|tx| {
                tx.exec(
                    "UPDATE sessions SET last_seen = ? WHERE token_hash = ?",
                    &[ms(now).into(), hash(token).into()],
                )
            })?;
        }
        Ok(Some(Session {
            token: token.to_string(),
            csrf: r.text(1),
            user,
        }))
    }

    /// Ends a session.
    pub fn logout(&self, token: &str) -> Result<(), AppError> {
        let Some(s) = self.session(token)? else {
            return Ok(());
        };
        with_writer(self, |w| {
            w.tx.exec(
                "DELETE FROM sessions WHERE token_hash = ?",
                &[hash(token).into()],
            )?;
            log_admin_event(
                w,
                "user",
                &s.user.username,
                "logout",
                &s.user.username,
                serde_json::json!({}),
            )?;
            Ok(())
        })
    }

    /// The record of personal-data views, newest first (auditors and administrators).
    pub fn personal_data_access(
        &self,
        principal: &Principal,
        limit: i64,
    ) -> Result<Vec<(i64, String, String, Timestamp)>, AppError> {
        if !matches!(
            principal,
            Principal::Auditor { .. } | Principal::Admin { .. }
        ) {
            return Err(AppError::Forbidden(
                "only auditors see the record of personal-data access".into(),
            ));
        }
        self.db.read(|tx| {
            Ok(tx
                .query(
                    "SELECT seq, subject_id, actor, recorded_at FROM events WHERE subject_type = 'personal_data' ORDER BY seq DESC LIMIT ?",
                    &[limit.clamp(1, 1000).into()],
                )?
                .iter()
                .map(|r| (r.int(0), r.text(1), r.text(2), from_ms(r.int(3))))
                .collect())
        })
    }
}
