//! Configuration: defaults, then a TOML file, then `LIANZHENG_*` environment variables, then
//! command-line flags. Validated once at start-up.

use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Database URL: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
    pub db: String,
    /// Address to listen on.
    pub listen: String,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// Seconds between deadline sweeps.
    pub sweep_interval_secs: u64,
    /// Largest batch of events per API call.
    pub max_batch: usize,
    /// A rule pack (TOML) to load at start-up, if any; it is stored as a new version when it
    /// differs from the stored one.
    pub rule_pack: Option<String>,
    /// Public base URL of this server, used in links.
    pub public_url: String,
    /// The log's signing key file (C2SP signer-key text); generated on first start when absent.
    pub log_key_file: String,
    /// The log's origin (and key name) for a new key: a schema-less URL, one per yearly shard.
    pub log_origin: String,
    /// Mark console session cookies `Secure` (set when served over TLS behind a proxy).
    pub secure_cookies: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: "sqlite://lianzheng.db".into(),
            listen: "127.0.0.1:8080".into(),
            log_format: "text".into(),
            sweep_interval_secs: 60,
            max_batch: 1000,
            rule_pack: None,
            public_url: "http://127.0.0.1:8080".into(),
            log_key_file: "lianzheng-log.key".into(),
            log_origin: "log.lianzheng.example/jiaozuo/2026".into(),
            secure_cookies: false,
        }
    }
}

impl std::fmt::Debug for Config {
    /// Redacts the password of a database URL.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("db", &redact_url(&self.db))
            .field("listen", &self.listen)
            .field("log_format", &self.log_format)
            .field("sweep_interval_secs", &self.sweep_interval_secs)
            .field("max_batch", &self.max_batch)
            .field("rule_pack", &self.rule_pack)
            .field("public_url", &self.public_url)
            .field("log_key_file", &self.log_key_file)
            .field("log_origin", &self.log_origin)
            .field("secure_cookies", &self.secure_cookies)
            .finish()
    }
}

/// Hides the password in `postgres://user:password@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// Loads defaults, the file, and the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut cfg = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", p.display()))?
            }
            None => Config::default(),
        };
        let env = |k: &str| {
            std::env::var(format!("LIANZHENG_{k}"))
                .ok()
                .filter(|v| !v.is_empty())
        };
        if let Some(v) = env("DB") {
            cfg.db = v;
        }
        if let Some(v) = env("LISTEN") {
            cfg.listen = v;
        }
        if let Some(v) = env("LOG_FORMAT") {
            cfg.log_format = v;
        }
        if let Some(v) = env("SWEEP_INTERVAL_SECS") {
            cfg.sweep_interval_secs = v
                .parse()
                .context("LIANZHENG_SWEEP_INTERVAL_SECS must be a number")?;
        }
        if let Some(v) = env("LOG_KEY_FILE") {
            cfg.log_key_file = v;
        }
        if let Some(v) = env("RULE_PACK") {
            cfg.rule_pack = Some(v);
        }
        Ok(cfg)
    }

    /// Checks the values.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(self.db.starts_with("sqlite://")
            || self.db.starts_with("postgres://")
            || self.db.starts_with("postgresql://"))
        {
            bail!(
                "db `{}` must start with sqlite:// or postgres://",
                redact_url(&self.db)
            );
        }
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            bail!(
                "listen `{}` must be an address like 127.0.0.1:8080",
                self.listen
            );
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!("log_format `{}` must be text or json", self.log_format);
        }
        if self.sweep_interval_secs == 0 || self.max_batch == 0 {
            bail!("sweep_interval_secs and max_batch must be above 0");
        }
        Ok(())
    }

    /// A commented example with the defaults.
    pub fn print_default() -> String {
        let d = Config::default();
        format!(
            "# Lianzheng configuration. Every key is optional; shown are the defaults.\n\
             # Each can also be set by an environment variable LIANZHENG_<KEY> (e.g. LIANZHENG_DB)\n\
             # and by a command-line flag, which wins.\n\n\
             # Database: sqlite://PATH (embedded, created and migrated on start) or\n\
             # postgres://USER[:PASSWORD]@HOST:PORT/DB (run `lianzheng migrate --db URL` first).\n\
             db = {:?}\n\n\
             # Address the HTTP server listens on.\n\
             listen = {:?}\n\n\
             # Log format: text or json (one JSON object per line).\n\
             log_format = {:?}\n\n\
             # Seconds between deadline sweeps (yellow and red cards fire from the sweep).\n\
             sweep_interval_secs = {}\n\n\
             # Largest batch of events accepted in one API call.\n\
             max_batch = {}\n\n\
             # A rule pack to load at start (TOML; `lianzheng rules print-default` prints one).\n\
             # rule_pack = \"/etc/lianzheng/rules.toml\"\n\n\
             # Public base URL of this server.\n\
             public_url = {:?}\n\n\
             # The transparency log's signing key (C2SP signer-key text). Generated on first start\n\
             # when the file does not exist; keep it secret and backed up apart from the database.\n\
             log_key_file = {:?}\n\n\
             # The log's origin, also the key name, for a newly generated key. One per yearly shard.\n\
             log_origin = {:?}\n\n\
             # Mark console session cookies Secure: set to true when users reach the server over TLS.\n\
             secure_cookies = {}\n",
            d.db,
            d.listen,
            d.log_format,
            d.sweep_interval_secs,
            d.max_batch,
            d.public_url,
            d.log_key_file,
            d.log_origin,
            d.secure_cookies
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_example_parses_back() {
        let parsed: Config = toml::from_str(&Config::print_default()).unwrap_or_default();
        assert_eq!(parsed, Config::default());
        assert!(Config::default().validate().is_ok());
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
