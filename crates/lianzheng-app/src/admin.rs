//! Administration: API keys, users, the holiday calendar and the rule pack. Every change is
//! logged as an event. The `*_by` use cases are the console's: they check that the principal is
//! an administrator and record who acted.

use lianzheng_core::calendar::{Calendar, DayKind, DayOverride};
use lianzheng_core::rules::RulePack;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ingest::{log_admin_event, with_writer};
use crate::{App, AppError, Principal, from_ms, ms};

/// A created API key: the secret is shown once.
#[derive(Debug, Clone, Serialize)]
pub struct NewKey {
    /// Key id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Department it is limited to.
    pub department: Option<String>,
    /// The secret, `lz_` and 64 hex digits.
    pub key: String,
}

/// Roles of console users.
pub const ROLES: &[&str] = &[
    "admin",
    "clerk",
    "officer",
    "leader",
    "supervisor",
    "auditor",
];

fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl App {
    /// Creates an API key. Without a department it may submit for any department.
    pub fn create_api_key(&self, name: &str, department: Option<&str>) -> Result<NewKey, AppError> {
        self.create_api_key_as("admin", name, department)
    }

    fn create_api_key_as(
        &self,
        actor: &str,
        name: &str,
        department: Option<&str>,
    ) -> Result<NewKey, AppError> {
        if name.trim().is_empty() || name.len() > 64 {
            return Err(AppError::Invalid("key name must be 1–64 characters".into()));
        }
        if let Some(d) = department {
            let exists = self.db.read(|tx| {
                Ok::<_, AppError>(
                    tx.query_opt("SELECT 1 FROM departments WHERE code = ?", &[d.into()])?
                        .is_some(),
                )
            })?;
            if !exists {
                return Err(AppError::NotFound {
                    what: "department",
                    id: d.to_string(),
                });
            }
        }
        let mut raw = [0u8; 32];
        self.random(&mut raw);
        let key = format!("lz_{}", hex::encode(raw));
        let hash = key_hash(&key);
        let id = with_writer(self, |w| {
            if w.tx
                .query_opt("SELECT 1 FROM api_keys WHERE name = ?", &[name.into()])?
                .is_some()
            {
                return Err(AppError::Conflict(format!("a key named `{name}` exists")));
            }
            let id =
                w.tx.query_opt("SELECT COALESCE(MAX(id), 0) + 1 FROM api_keys", &[])?
                    .map_or(1, |r| r.int(0));
            w.tx.exec(
                "INSERT INTO api_keys (id, name, department, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                &[id.into(), name.into(), department.into(), hash.clone().into(), ms(w.now).into()],
            )?;
            log_admin_event(
                w,
                "api_key",
                &id.to_string(),
                "key_created",
                actor,
                serde_json::json!({"name": name, "department": department}),
            )?;
            Ok(id)
        })?;
        Ok(NewKey {
            id,
            name: name.to_string(),
            department: department.map(str::to_string),
            key,
        })
    }

    /// The principal of an API key, if it is valid.
    pub fn authenticate_key(&self, key: &str) -> Result<Option<Principal>, AppError> {
        if !key.starts_with("lz_") || key.len() != 67 {
            return Ok(None);
        }
        let hash = key_hash(key);
        let row = self.db.read(|tx| {
            Ok::<_, AppError>(tx.query_opt("SELECT id, name, department FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", &[hash.into()])?)
        })?;
        Ok(row.map(|r| {
            let name = format!("key:{}", r.text(1));
            match r.opt_text(2) {
                Some(department) => Principal::Department { name, department },
                None => Principal::Admin { name },
            }
        }))
    }

    /// Adds a console user with an Argon2 password hash.
    pub fn add_user(
        &self,
        username: &str,
        display_name: &str,
        role: &str,
        department: Option<&str>,
        password: &str,
    ) -> Result<(), AppError> {
        self.add_user_as("admin", username, display_name, role, department, password)
    }

    fn add_user_as(
        &self,
        actor: &str,
        username: &str,
        display_name: &str,
        role: &str,
        department: Option<&str>,
        password: &str,
    ) -> Result<(), AppError> {
        if username.is_empty()
            || username.len() > 64
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        {
            return Err(AppError::Invalid(format!(
                "username `{username}` must be 1–64 letters, digits, `_`, `.` or `-`"
            )));
        }
        if !ROLES.contains(&role) {
            return Err(AppError::Invalid(format!(
                "role `{role}` must be one of {}",
                ROLES.join(", ")
            )));
        }
        if matches!(role, "clerk" | "officer" | "leader") && department.is_none() {
            return Err(AppError::Invalid(format!(
                "a {role} belongs to a department"
            )));
        }
        if password.chars().count() < 10 {
            return Err(AppError::Invalid(
                "password must be at least 10 characters".into(),
            ));
        }
        use argon2::password_hash::{PasswordHasher, SaltString};
        let mut salt = [0u8; 16];
        self.random(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Invalid(e.to_string()))?;
        let hash = argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| AppError::Invalid(e.to_string()))?
            .to_string();
        with_writer(self, |w| {
            if w.tx
                .query_opt("SELECT 1 FROM users WHERE username = ?", &[username.into()])?
                .is_some()
            {
                return Err(AppError::Conflict(format!("user `{username}` exists")));
            }
            w.tx.exec(
                "INSERT INTO users (username, display_name, role, department, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                &[username.into(), display_name.into(), role.into(), department.into(), hash.into(), ms(w.now).into()],
            )?;
            log_admin_event(
                w,
                "user",
                username,
                "user_created",
                actor,
                serde_json::json!({"role": role, "department": department}),
            )?;
            Ok(())
        })
    }

    /// Loads the stored calendar years over the built-in ones.
    pub fn reload_calendar(&self) -> Result<(), AppError> {
        let rows = self.db.read(|tx| {
            let years = tx.query("SELECT year FROM calendar_years ORDER BY year", &[])?;
            let days = tx.query(
                "SELECT date, kind, name, notice FROM calendar_days ORDER BY date",
                &[],
            )?;
            Ok::<_, AppError>((years, days))
        })?;
        if rows.0.is_empty() {
            return Ok(());
        }
        let mut cal = Calendar::builtin().map_err(|e| AppError::Invalid(e.to_string()))?;
        for y in &rows.0 {
            let year = i16::try_from(y.int(0)).unwrap_or(0);
            let days: Vec<DayOverride> = rows
                .1
                .iter()
                .filter_map(|r| {
                    let date: jiff::civil::Date = r.text(0).parse().ok()?;
                    (date.year() == year).then(|| DayOverride {
                        date,
                        kind: if r.text(1) == "workday" {
                            DayKind::Workday
                        } else {
                            DayKind::Holiday
                        },
                        name: r.text(2),
                        notice: r.text(3),
                    })
                })
                .collect();
            cal.set_year(year, days)
                .map_err(|e| AppError::Invalid(e.to_string()))?;
        }
        self.set_calendar(cal);
        Ok(())
    }

    /// Loads a year's notice (administrators), then recomputes the deadlines of open cases
    /// that were provisional. Returns how many cases were recomputed.
    pub fn set_calendar_year(
        &self,
        principal: &Principal,
        year: i16,
        rows: Vec<DayOverride>,
    ) -> Result<usize, AppError> {
        if !matches!(principal, Principal::Admin { .. }) {
            return Err(AppError::Forbidden(
                "only administrators edit the calendar".into(),
            ));
        }
        let mut cal = (*self.calendar()).clone();
        cal.set_year(year, rows.clone())
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        let actor = principal.source();
        with_writer(self, |w| {
            let (lo, hi) = (format!("{year}-01-01"), format!("{year}-12-31"));
            w.tx.exec(
                "DELETE FROM calendar_days WHERE date >= ? AND date <= ?",
                &[lo.into(), hi.into()],
            )?;
            for r in &rows {
                let kind = if r.kind == DayKind::Workday {
                    "workday"
                } else {
                    "holiday"
                };
                w.tx.exec(
                    "INSERT INTO calendar_days (date, kind, name, notice) VALUES (?, ?, ?, ?)",
                    &[
                        r.date.to_string().into(),
                        kind.into(),
                        r.name.clone().into(),
                        r.notice.clone().into(),
                    ],
                )?;
            }
            w.tx.exec(
                "INSERT INTO calendar_years (year, loaded_at, loaded_by) VALUES (?, ?, ?) ON CONFLICT (year) DO UPDATE SET loaded_at = excluded.loaded_at, loaded_by = excluded.loaded_by",
                &[i64::from(year).into(), ms(w.now).into(), actor.clone().into()],
            )?;
            log_admin_event(
                w,
                "calendar",
                &year.to_string(),
                "year_loaded",
                &actor,
                serde_json::to_value(&rows).unwrap_or_default(),
            )?;
            Ok(())
        })?;
        self.set_calendar(cal);
        // Open cases whose deadlines were provisional or fall in (or after) the year may move.
        let from = lianzheng_core::time::start_of(
            jiff::civil::Date::new(year, 1, 1).map_err(|e| AppError::Invalid(e.to_string()))?,
        );
        self.recompute_open_cases(Some(ms(from)))
    }

    /// Rewrites the projections and deadline index of open cases whose deadline was provisional
    /// or, with `due_from`, falls at or after that instant (milliseconds).
    pub fn recompute_open_cases(&self, due_from: Option<i64>) -> Result<usize, AppError> {
        let cases: Vec<String> = self.db.read(|tx| {
            Ok::<_, AppError>(
                tx.query(
                    "SELECT case_no FROM cases WHERE finished_at IS NULL AND (due_provisional = 1 OR legal_due_at >= ? OR promised_due_at >= ?)",
                    &[due_from.unwrap_or(i64::MAX).into(), due_from.unwrap_or(i64::MAX).into()],
                )?
                .iter()
                .map(|r| r.text(0))
                .collect(),
            )
        })?;
        for chunk in cases.chunks(500) {
            with_writer(self, |w| {
                for no in chunk {
                    crate::ingest::touch_case(w, no)?;
                }
                Ok(())
            })?;
        }
        Ok(cases.len())
    }

    /// Loads the newest stored rule pack, if any.
    pub fn reload_rule_pack(&self) -> Result<(), AppError> {
        let body = self.db.read(|tx| {
            Ok::<_, AppError>(tx.query_opt(
                "SELECT body FROM rule_packs ORDER BY version DESC LIMIT 1",
                &[],
            )?)
        })?;
        if let Some(r) = body {
            let pack = RulePack::from_toml(&r.text(0))
                .map_err(|e| AppError::Invalid(format!("stored rule pack: {e}")))?;
            self.set_rule_pack(pack);
        }
        Ok(())
    }

    /// Stores a new rule pack version (administrators). It applies to events from now on; the
    /// deadline index follows as cases change.
    pub fn set_rule_pack_text(
        &self,
        principal: &Principal,
        text: &str,
        reason: &str,
    ) -> Result<i64, AppError> {
        if !matches!(principal, Principal::Admin { .. }) {
            return Err(AppError::Forbidden(
                "only administrators edit the rule pack".into(),
            ));
        }
        if reason.trim().is_empty() {
            return Err(AppError::Invalid(
                "a rule pack change needs a reason".into(),
            ));
        }
        let pack = RulePack::from_toml(text).map_err(|e| AppError::Invalid(e.to_string()))?;
        let actor = principal.source();
        let version = with_writer(self, |w| {
            let v =
                w.tx.query_opt("SELECT COALESCE(MAX(version), 0) + 1 FROM rule_packs", &[])?
                    .map_or(1, |r| r.int(0));
            w.tx.exec(
                "INSERT INTO rule_packs (version, body, reason, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                &[v.into(), text.into(), reason.into(), ms(w.now).into(), actor.clone().into()],
            )?;
            log_admin_event(
                w,
                "rule_pack",
                &v.to_string(),
                "rule_pack_saved",
                &actor,
                serde_json::json!({"reason": reason, "body": text}),
            )?;
            Ok(v)
        })?;
        self.set_rule_pack(pack);
        Ok(version)
    }

    /// Console users (administrators).
    pub fn users(&self, principal: &Principal) -> Result<Vec<UserRow>, AppError> {
        admin_only(principal, "see the users")?;
        self.db.read(|tx| {
            Ok(tx
                .query(
                    "SELECT username, display_name, role, department, created_at, failed_logins, locked_until FROM users ORDER BY username",
                    &[],
                )?
                .iter()
                .map(|r| UserRow {
                    username: r.text(0),
                    display_name: r.text(1),
                    role: r.text(2),
                    department: r.opt_text(3),
                    created_at: from_ms(r.int(4)),
                    failed_logins: r.int(5),
                    locked_until: r.opt_int(6).map(from_ms),
                })
                .collect())
        })
    }

    /// Adds a console user (administrators); the record names the administrator.
    pub fn add_user_by(
        &self,
        principal: &Principal,
        username: &str,
        display_name: &str,
        role: &str,
        department: Option<&str>,
        password: &str,
    ) -> Result<(), AppError> {
        admin_only(principal, "add users")?;
        if let Some(d) = department {
            self.department_exists(d)?;
        }
        self.add_user_as(
            &principal.source(),
            username,
            display_name,
            role,
            department,
            password,
        )
    }

    /// Lifts a lockout after repeated failed logins (administrators).
    pub fn unlock_user(&self, principal: &Principal, username: &str) -> Result<(), AppError> {
        admin_only(principal, "unlock users")?;
        let actor = principal.source();
        with_writer(self, |w| {
            if w.tx
                .query_opt("SELECT 1 FROM users WHERE username = ?", &[username.into()])?
                .is_none()
            {
                return Err(AppError::NotFound {
                    what: "user",
                    id: username.to_string(),
                });
            }
            w.tx.exec(
                "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = ?",
                &[username.into()],
            )?;
            log_admin_event(
                w,
                "user",
                username,
                "user_unlocked",
                &actor,
                serde_json::json!({}),
            )?;
            Ok(())
        })
    }

    /// API keys, without their secrets (administrators).
    pub fn api_keys(&self, principal: &Principal) -> Result<Vec<KeyRow>, AppError> {
        admin_only(principal, "see the API keys")?;
        self.db.read(|tx| {
            Ok(tx
                .query(
                    "SELECT id, name, department, created_at, revoked_at FROM api_keys ORDER BY id",
                    &[],
                )?
                .iter()
                .map(|r| KeyRow {
                    id: r.int(0),
                    name: r.text(1),
                    department: r.opt_text(2),
                    created_at: from_ms(r.int(3)),
                    revoked_at: r.opt_int(4).map(from_ms),
                })
                .collect())
        })
    }

    /// Creates an API key (administrators); the record names the administrator.
    pub fn create_api_key_by(
        &self,
        principal: &Principal,
        name: &str,
        department: Option<&str>,
    ) -> Result<NewKey, AppError> {
        admin_only(principal, "create API keys")?;
        self.create_api_key_as(&principal.source(), name, department)
    }

    /// Revokes an API key (administrators). A revoked key is refused from then on.
    pub fn revoke_api_key(&self, principal: &Principal, id: i64) -> Result<(), AppError> {
        admin_only(principal, "revoke API keys")?;
        let actor = principal.source();
        with_writer(self, |w| {
            let Some(r) = w.tx.query_opt(
                "SELECT name, revoked_at FROM api_keys WHERE id = ?",
                &[id.into()],
            )?
            else {
                return Err(AppError::NotFound {
                    what: "api key",
                    id: id.to_string(),
                });
            };
            if r.opt_int(1).is_some() {
                return Err(AppError::Conflict(format!("key {id} is already revoked")));
            }
            w.tx.exec(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ?",
                &[ms(w.now).into(), id.into()],
            )?;
            log_admin_event(
                w,
                "api_key",
                &id.to_string(),
                "key_revoked",
                &actor,
                serde_json::json!({"name": r.text(0)}),
            )?;
            Ok(())
        })
    }

    /// The stored rule pack versions, newest first: (version, reason, when, by whom).
    pub fn rule_pack_versions(
        &self,
    ) -> Result<Vec<(i64, String, jiff::Timestamp, String)>, AppError> {
        self.db.read(|tx| {
            Ok(tx
                .query(
                    "SELECT version, reason, created_at, created_by FROM rule_packs ORDER BY version DESC",
                    &[],
                )?
                .iter()
                .map(|r| (r.int(0), r.text(1), from_ms(r.int(2)), r.text(3)))
                .collect())
        })
    }

    /// The calendar years loaded by administrators over the built-in notices: (year, when,
    /// by whom).
    pub fn calendar_years(&self) -> Result<Vec<(i64, jiff::Timestamp, String)>, AppError> {
        self.db.read(|tx| {
            Ok(tx
                .query(
                    "SELECT year, loaded_at, loaded_by FROM calendar_years ORDER BY year DESC",
                    &[],
                )?
                .iter()
                .map(|r| (r.int(0), from_ms(r.int(1)), r.text(2)))
                .collect())
        })
    }

    fn department_exists(&self, code: &str) -> Result<(), AppError> {
        let exists = self.db.read(|tx| {
            Ok::<_, AppError>(
                tx.query_opt("SELECT 1 FROM departments WHERE code = ?", &[code.into()])?
                    .is_some(),
            )
        })?;
        if exists {
            Ok(())
        } else {
            Err(AppError::NotFound {
                what: "department",
                id: code.to_string(),
            })
        }
    }
}

fn admin_only(principal: &Principal, what: &str) -> Result<(), AppError> {
    if matches!(principal, Principal::Admin { .. }) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("only administrators {what}")))
    }
}

/// A console user as administrators see it (no password hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// Department.
    pub department: Option<String>,
    /// Created.
    pub created_at: jiff::Timestamp,
    /// Failed logins in a row.
    pub failed_logins: i64,
    /// Locked until.
    pub locked_until: Option<jiff::Timestamp>,
}

/// An API key as administrators see it (no secret, no hash).
#[derive(Debug, Clone, Serialize)]
pub struct KeyRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Department it is limited to.
    pub department: Option<String>,
    /// Created.
    pub created_at: jiff::Timestamp,
    /// Revoked.
    pub revoked_at: Option<jiff::Timestamp>,
}
