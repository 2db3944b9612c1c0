//! `lianzheng`: the server and command-line tool of the Lianzheng integrity-supervision platform.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use jiff::civil::Date;
use lianzheng::{config::Config, demo, web};
use lianzheng_app::ingest::Incoming;
use lianzheng_app::{App, Principal};
use lianzheng_core::calendar::Calendar;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "lianzheng",
    version,
    about = "廉政: an open integrity-supervision platform for city governments"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
struct ServeArgs {
    /// Configuration file (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long)]
    db: Option<String>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web pages and the API.
    Serve(ServeArgs),
    /// Build a synthetic demo city (a year of cases) and serve it.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// Random seed; the same seed and --until give the same city.
        #[arg(long, default_value_t = 2008)]
        seed: u64,
        /// `small` (tests: 2 months, a twentieth of the volume), `city` (a year, about 417,000
        /// cases) or `province` (a year at 24 times the city's volume, about 10 million cases).
        #[arg(long, default_value = "city")]
        scale: String,
        /// Simulate this many days up to --until instead of the scale's length.
        #[arg(long)]
        days: Option<i64>,
        /// Last day of the simulated year (default: yesterday).
        #[arg(long)]
        until: Option<Date>,
        /// Only build the database.
        #[arg(long)]
        no_serve: bool,
        /// How often the simulated data exchange platform pushes the departments' events, in
        /// hours (1 to 24, dividing a day; default 1, and 24 for the province): each push is
        /// one batch, followed by the deadline sweep. Actions that concern a case with events
        /// not yet pushed wait for the push; with pushes less often than hourly, all ratings
        /// come with the push and are written together.
        #[arg(long)]
        push_hours: Option<i64>,
    },
    /// Apply database migrations (PostgreSQL; SQLite migrates on open).
    Migrate {
        /// Database URL.
        #[arg(long)]
        db: String,
    },
    /// Configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Rule packs.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Console users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API keys for department systems.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// The working-day calendar.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Import events or catalog items from files.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Benchmarks: figures next to a baseline measured in the same run.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// The transparency log: verifier key, checkpoints, consistency.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Recompute every record's leaf from the database and check it against the log, and
    /// recount the published statistics' running totals from the rows; exits non-zero when
    /// anything was edited, inserted, reordered or deleted, or the totals differ.
    Audit {
        /// Database URL (default: the configured `db`).
        #[arg(long)]
        db: Option<String>,
        /// The log's verifier key text (default: derived from the configured key file).
        #[arg(long)]
        vkey: Option<String>,
        /// Configuration file (for the key file).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Verify things offline.
    Verify {
        #[command(subcommand)]
        command: VerifyCommand,
    },
    /// Erase the personal data of a case or a complaint under a legal basis; the log stays
    /// valid and the erasure is on record.
    Erase {
        /// Database URL.
        #[arg(long)]
        db: String,
        /// 办件编号.
        #[arg(
            long,
            required_unless_present = "complaint",
            conflicts_with = "complaint"
        )]
        case: Option<String>,
        /// 投诉编号: the complainant's identity and contact and the complaint's text.
        #[arg(long)]
        complaint: Option<String>,
        /// The legal basis of the erasure.
        #[arg(long)]
        basis: String,
    },
    /// Write an online, consistent copy of a SQLite database (PostgreSQL: use pg_dump, see
    /// docs/operations.md).
    Backup {
        /// Database URL (sqlite://PATH).
        #[arg(long)]
        db: String,
        /// The copy to write (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a SQLite backup to a new database file, then audit it.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// The database URL to create (sqlite://PATH; must not exist).
        #[arg(long)]
        db: String,
        /// The log's verifier key, to check the newest checkpoint (default: from the key file).
        #[arg(long)]
        vkey: Option<String>,
    },
    /// Fire the deadlines that are due now.
    Sweep {
        /// Database URL.
        #[arg(long)]
        db: String,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Events per second through the API path, next to a raw batched insert of the same rows.
    Ingest {
        /// A directory as sqlite://DIR, or a PostgreSQL URL (a new schema is used).
        #[arg(long, default_value = "sqlite:///tmp/lianzheng-bench")]
        db: String,
        /// Cases (6 events each).
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
        /// Events per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Inclusion and consistency proof times at a given log size.
    Proofs {
        /// A directory as sqlite://DIR, or a PostgreSQL URL.
        #[arg(long, default_value = "sqlite:///tmp/lianzheng-bench")]
        db: String,
        /// Leaves in the log.
        #[arg(long, default_value_t = 1_000_000)]
        leaves: u64,
    },
    /// `audit` throughput next to SHA-256 over the same bytes.
    Audit {
        /// A directory as sqlite://DIR, or a PostgreSQL URL.
        #[arg(long, default_value = "sqlite:///tmp/lianzheng-bench")]
        db: String,
        /// Cases (6 events each).
        #[arg(long, default_value_t = 50_000)]
        cases: usize,
    },
    /// Sweep time with many open cases and a fixed number crossing their deadlines.
    Sweep {
        /// A directory as sqlite://DIR, or a PostgreSQL URL.
        #[arg(long, default_value = "sqlite:///tmp/lianzheng-bench")]
        db: String,
        /// Open cases in all.
        #[arg(long, default_value_t = 1_000_000)]
        open: usize,
        /// Cases whose deadlines have passed.
        #[arg(long, default_value_t = 1_000)]
        crossing: usize,
    },
}

#[derive(Subcommand)]
enum LogCommand {
    /// Print the log's verifier key (generating the signing key if the file is missing).
    Vkey {
        /// Configuration file (for the key file and origin).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Sign a checkpoint of the current log now.
    Checkpoint {
        /// Database URL.
        #[arg(long)]
        db: String,
        /// Configuration file (for the key file).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Start a new shard with a new key and origin (key rotation, a new log per year): signs
    /// the final checkpoint with the current key, records it in the log, and signs the first
    /// checkpoint with the new key. Then point `log_key_file` at the new key and restart.
    Rotate {
        /// Database URL.
        #[arg(long)]
        db: String,
        /// Configuration file (for the current key file).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The new origin, e.g. log.example.gov.cn/jiaozuo/2027.
        #[arg(long)]
        new_origin: String,
        /// Where to write the new key (must not exist).
        #[arg(long)]
        new_key_file: PathBuf,
    },
    /// Check that a checkpoint you kept is a prefix of the log now (consistency proof).
    Verify {
        /// Database URL.
        #[arg(long)]
        db: String,
        /// The checkpoint note you kept.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Configuration file (for the key file).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum VerifyCommand {
    /// Verify a `.tlog-proof` receipt offline: signature, inclusion, and the commitment to the
    /// record it carries.
    Receipt {
        /// The receipt file.
        file: PathBuf,
        /// The log's verifier key text (`lianzheng log vkey` prints it; `/log/vkey` serves it).
        #[arg(long)]
        vkey: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented configuration with the defaults.
    PrintDefault,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Print the default rule pack (every rule, its level, basis and parameters).
    PrintDefault,
    /// Store a rule pack file as the new version in force.
    Set {
        /// Database URL.
        #[arg(long)]
        db: String,
        /// The rule pack (TOML).
        file: PathBuf,
        /// Why it changes.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a console user; the password is read from standard input.
    Add {
        /// Database URL.
        #[arg(long)]
        db: String,
        /// Login name.
        #[arg(long)]
        username: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// admin, clerk, officer, leader, supervisor or auditor.
        #[arg(long)]
        role: String,
        /// Department code (clerks, officers and leaders).
        #[arg(long)]
        department: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create an API key; the key is printed alone on the last line.
    Create {
        /// Database URL.
        #[arg(long)]
        db: String,
        /// A name for the key.
        #[arg(long)]
        name: String,
        /// Limit it to one department; without it the key may submit for any department.
        #[arg(long)]
        department: Option<String>,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Print `yes` or `no` for a date, or one line per day of a range.
    IsWorkday {
        /// The date (YYYY-MM-DD).
        date: Option<Date>,
        /// First day of a range.
        #[arg(long, requires = "to")]
        from: Option<Date>,
        /// Last day of a range.
        #[arg(long, requires = "from")]
        to: Option<Date>,
        /// Use the calendar stored in this database (years loaded by an administrator).
        #[arg(long)]
        db: Option<String>,
    },
    /// Print the date N working days after DATE, the start day not counted.
    AddWorkdays {
        /// The start date.
        date: Date,
        /// Working days to add.
        days: u32,
        /// Use the calendar stored in this database.
        #[arg(long)]
        db: Option<String>,
    },
    /// Load a year's notice from a CSV file (`date,kind,name,notice`).
    SetYear {
        /// Database URL.
        #[arg(long)]
        db: String,
        /// The year.
        year: i16,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Load case events from a JSON Lines file, through the same path as the API.
    Events {
        /// The file: one event per line.
        file: PathBuf,
        /// Database URL.
        #[arg(long)]
        db: String,
        /// Submit as this department (default: as the system, for any department).
        #[arg(long)]
        department: Option<String>,
        /// Events per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// After each committed batch, print `ack ID` for every event id it stored (for
        /// durability tests and scripts that resume).
        #[arg(long)]
        print_acks: bool,
    },
    /// Import departments from CSV (`code,credit_code,name,short_name,phone`) or a JSON array.
    Departments {
        /// The file (.csv or .json).
        file: PathBuf,
        /// Database URL.
        #[arg(long)]
        db: String,
    },
    /// Import catalog items from CSV or JSON, all or nothing.
    Catalog {
        /// The file (.csv or .json).
        file: PathBuf,
        /// Database URL.
        #[arg(long)]
        db: String,
    },
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn init_logs(format: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

fn load_config(args: &ServeArgs) -> anyhow::Result<Config> {
    let mut cfg = Config::load(args.config.as_deref())?;
    if let Some(db) = &args.db {
        cfg.db = db.clone();
    }
    if let Some(l) = &args.listen {
        cfg.listen = l.clone();
    }
    cfg.validate()?;
    Ok(cfg)
}

fn open(url: &str) -> anyhow::Result<App> {
    App::open(url).with_context(|| format!("opening {}", lianzheng::config::redact_url(url)))
}

fn admin() -> Principal {
    Principal::Admin { name: "cli".into() }
}

/// The log's signing key: read from the key file, or generated and written there on first use.
fn log_signer(cfg: &Config) -> anyhow::Result<lianzheng_tlog::checkpoint::LogSigner> {
    use lianzheng_tlog::checkpoint::LogSigner;
    let path = std::path::Path::new(&cfg.log_key_file);
    if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return LogSigner::from_skey(text.trim())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let signer = LogSigner::generate(&cfg.log_origin, &mut rand_core::OsRng)
        .map_err(|e| anyhow::anyhow!("log_origin `{}`: {e}", cfg.log_origin))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(f, "{}", signer.skey_text())?;
    f.sync_all()?;
    tracing::info!(file = %path.display(), vkey = %signer.vkey_text(), "generated a new log signing key");
    Ok(signer)
}

fn serve(app: App, cfg: &Config) -> anyhow::Result<()> {
    let app = Arc::new(app);
    if let Some(path) = &cfg.rule_pack {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading rule pack {path}"))?;
        if lianzheng_core::rules::RulePack::from_toml(&text)? != *app.rule_pack() {
            app.set_rule_pack_text(&admin(), &text, &format!("loaded from {path} at start-up"))?;
        }
    }
    let signer = Arc::new(log_signer(cfg)?);
    let rt = tokio::runtime::Runtime::new()?;
    println!("Lianzheng is serving at http://{}/", cfg.listen);
    println!("log verifier key: {}", signer.vkey_text());
    rt.block_on(web::serve(
        app,
        &cfg.listen,
        Duration::from_secs(cfg.sweep_interval_secs),
        Some(signer),
        cfg.secure_cookies,
    ))
}

fn calendar_for(db: Option<&str>) -> anyhow::Result<Arc<Calendar>> {
    Ok(match db {
        Some(url) => open(url)?.calendar(),
        None => Arc::new(Calendar::builtin()?),
    })
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let cfg = load_config(&args)?;
            init_logs(&cfg.log_format);
            tracing::info!(config = ?cfg, "starting");
            serve(open(&cfg.db)?, &cfg)
        }
        Command::Demo {
            serve: args,
            seed,
            scale,
            until,
            days,
            no_serve,
            push_hours,
        } => {
            let mut cfg = load_config(&args)?;
            if args.db.is_none() && std::env::var("LIANZHENG_DB").is_err() && args.config.is_none()
            {
                cfg.db = "sqlite://lianzheng-demo.db".into();
            }
            init_logs(&cfg.log_format);
            let scale = demo::Scale::parse(&scale)?;
            let push_hours = push_hours.unwrap_or(scale.push_hours());
            // By default the simulated year ends yesterday, so that nothing in it lies in the
            // future of the server that then serves it.
            let until = until.unwrap_or_else(|| {
                let today = lianzheng_core::time::local_date(jiff::Timestamp::now());
                lianzheng_core::time::civil_from_days(
                    lianzheng_core::time::days_from_civil(today) - 1,
                )
            });
            let signer = log_signer(&cfg)?;
            let summary =
                demo::build(&cfg.db, seed, scale, until, days, push_hours, Some(&signer))?;
            println!("{summary}");
            if no_serve {
                return Ok(());
            }
            serve(open(&cfg.db)?, &cfg)
        }
        Command::Migrate { db } => {
            let d = lianzheng_app::Db::open(&db)?;
            let v = d.migrate()?;
            println!("schema at version {v}");
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::PrintDefault,
        } => {
            print!("{}", Config::print_default());
            Ok(())
        }
        Command::Rules { command } => match command {
            RulesCommand::PrintDefault => {
                print!("{}", lianzheng_core::rules::RulePack::default().to_toml());
                Ok(())
            }
            RulesCommand::Set { db, file, reason } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                let v = open(&db)?.set_rule_pack_text(&admin(), &text, &reason)?;
                println!("rule pack version {v} in force");
                Ok(())
            }
        },
        Command::User {
            command:
                UserCommand::Add {
                    db,
                    username,
                    name,
                    role,
                    department,
                },
        } => {
            eprintln!("password (at least 10 characters), then Enter:");
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            open(&db)?.add_user(
                &username,
                &name,
                &role,
                department.as_deref(),
                password.trim_end_matches(['\r', '\n']),
            )?;
            println!("user `{username}` added");
            Ok(())
        }
        Command::Apikey {
            command:
                ApikeyCommand::Create {
                    db,
                    name,
                    department,
                },
        } => {
            let k = open(&db)?.create_api_key(&name, department.as_deref())?;
            match &k.department {
                Some(d) => println!("key `{}` (id {}) for department {d}:", k.name, k.id),
                None => println!("key `{}` (id {}) for any department:", k.name, k.id),
            }
            println!("{}", k.key);
            Ok(())
        }
        Command::Calendar { command } => calendar(command),
        Command::Import { command } => import(command),
        Command::Bench { command } => {
            let line = match command {
                BenchCommand::Ingest { db, cases, batch } => {
                    lianzheng::bench::ingest(&db, cases, batch)?
                }
                BenchCommand::Proofs { db, leaves } => lianzheng::bench::proofs(&db, leaves)?,
                BenchCommand::Audit { db, cases } => lianzheng::bench::audit(&db, cases)?,
                BenchCommand::Sweep { db, open, crossing } => {
                    lianzheng::bench::sweep(&db, open, crossing)?
                }
            };
            println!("{line}");
            Ok(())
        }
        Command::Log { command } => match command {
            LogCommand::Vkey { config } => {
                let cfg = Config::load(config.as_deref())?;
                println!("{}", log_signer(&cfg)?.vkey_text());
                Ok(())
            }
            LogCommand::Checkpoint { db, config } => {
                let cfg = Config::load(config.as_deref())?;
                let signer = log_signer(&cfg)?;
                match open(&db)?.checkpoint(&signer)? {
                    Some(cp) => print!("{}", cp.note),
                    None => println!("the newest checkpoint already covers the whole log"),
                }
                Ok(())
            }
            LogCommand::Rotate {
                db,
                config,
                new_origin,
                new_key_file,
            } => {
                let cfg = Config::load(config.as_deref())?;
                let old = log_signer(&cfg)?;
                if new_key_file.exists() {
                    bail!(
                        "{} exists; choose a new file for the new key",
                        new_key_file.display()
                    );
                }
                let app = open(&db)?;
                app.checkpoint(&old)?;
                let last = app
                    .latest_checkpoint()?
                    .context("the log is empty; nothing to rotate")?;
                let new_cfg = Config {
                    log_key_file: new_key_file.display().to_string(),
                    log_origin: new_origin,
                    ..cfg
                };
                let new = log_signer(&new_cfg)?;
                let seq =
                    app.link_shard(&admin(), &last.note, &old.vkey_text(), &new.vkey_text())?;
                let first = app.checkpoint(&new)?.context("no new checkpoint")?;
                println!(
                    "shard linked at record {seq}: the final checkpoint of {} (size {}) is in the log",
                    old.name(),
                    last.size
                );
                println!("new verifier key: {}", new.vkey_text());
                print!("{}", first.note);
                println!(
                    "now set log_key_file = {:?} and restart the server",
                    new_key_file.display().to_string()
                );
                Ok(())
            }
            LogCommand::Verify {
                db,
                checkpoint,
                config,
            } => {
                let cfg = Config::load(config.as_deref())?;
                let vkey = log_signer(&cfg)?.vkey_text();
                let kept = std::fs::read_to_string(&checkpoint)
                    .with_context(|| format!("reading {}", checkpoint.display()))?;
                let old = lianzheng_tlog::checkpoint::verify_checkpoint(&kept, &vkey)
                    .map_err(|e| anyhow::anyhow!("the kept checkpoint does not verify: {e}"))?;
                let app = open(&db)?;
                let now = app
                    .latest_checkpoint()?
                    .context("the log has no checkpoint")?;
                let new = lianzheng_tlog::checkpoint::verify_checkpoint(&now.note, &vkey)
                    .map_err(|e| anyhow::anyhow!("the current checkpoint does not verify: {e}"))?;
                if old.size > new.size {
                    bail!(
                        "the kept checkpoint ({}) is larger than the current one ({}): the log was truncated",
                        old.size,
                        new.size
                    );
                }
                let proof = if old.size == new.size {
                    Vec::new()
                } else {
                    app.consistency_proof(old.size, new.size)?
                };
                lianzheng_tlog::merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof)
                    .map_err(|e| anyhow::anyhow!("INCONSISTENT: the log of size {} does not extend the kept checkpoint of size {}: {e}", new.size, old.size))?;
                println!(
                    "consistent: the log of size {} extends the kept checkpoint of size {}",
                    new.size, old.size
                );
                Ok(())
            }
        },
        Command::Audit { db, vkey, config } => {
            let cfg = Config::load(config.as_deref())?;
            let db = db.unwrap_or_else(|| cfg.db.clone());
            let vkey = match vkey {
                Some(v) => v,
                None => log_signer(&cfg)?.vkey_text(),
            };
            let started = std::time::Instant::now();
            let app = open(&db)?;
            let report = app.audit(Some(&vkey))?;
            let secs = started.elapsed().as_secs_f64();
            for p in &report.problems {
                println!("PROBLEM seq {}: {}", p.seq, p.problem);
            }
            println!(
                "{} events, {} leaves, {} erased under a recorded basis, checkpoint {}: {} problems ({:.1} s, {:.0} records/s)",
                report.events,
                report.leaves,
                report.erased,
                report
                    .checkpoint_size
                    .map_or_else(|| "none".to_string(), |s| s.to_string()),
                report.problems.len(),
                secs,
                report.events as f64 / secs.max(1e-9)
            );
            // The published statistics' running totals, recounted from the rows.
            let started = std::time::Instant::now();
            let drift = app.check_statistics()?;
            for d in drift.iter().take(20) {
                println!("STATISTICS {d}");
            }
            println!(
                "statistics: {} differences between the running totals and the rows ({:.1} s)",
                drift.len(),
                started.elapsed().as_secs_f64()
            );
            if !report.is_clean() || !drift.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Verify {
            command: VerifyCommand::Receipt { file, vkey },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let receipt = lianzheng_tlog::receipt::Receipt::parse(&text)
                .map_err(|e| anyhow::anyhow!("not a receipt: {e}"))?;
            let rec = receipt
                .verify_self_contained(&vkey)
                .map_err(|e| anyhow::anyhow!("receipt does NOT verify: {e}"))?;
            println!(
                "receipt verified: leaf {} is in the log {} of size {} (signed by {}); schema {}, recorded at {} ms",
                receipt.index,
                rec.checkpoint.origin,
                rec.checkpoint.size,
                vkey.split('+').next().unwrap_or(""),
                rec.leaf.schema,
                rec.leaf.recorded_at_ms
            );
            println!("{}", String::from_utf8_lossy(&rec.payload));
            Ok(())
        }
        Command::Erase {
            db,
            case,
            complaint,
            basis,
        } => {
            let app = open(&db)?;
            match (case, complaint) {
                (Some(case), _) => {
                    let n = app.erase_case(&admin(), &case, &basis)?;
                    println!(
                        "personal data of case {case} erased from {n} records; the erasure is on record"
                    );
                }
                (None, Some(no)) => {
                    app.erase_complaint(&admin(), &no, &basis)?;
                    println!(
                        "the complainant's data and the text of complaint {no} erased; the erasure is on record"
                    );
                }
                (None, None) => bail!("name a --case or a --complaint"),
            }
            Ok(())
        }
        Command::Backup { db, to } => {
            let Some(_) = db.strip_prefix("sqlite://") else {
                bail!(
                    "backup copies SQLite databases; for PostgreSQL use pg_dump (docs/operations.md)"
                );
            };
            if to.exists() {
                bail!("{} exists; choose a new file", to.display());
            }
            let d = lianzheng_app::Db::open(&db)?;
            let lianzheng_app::Db::Sqlite(s) = &d else {
                bail!("not a SQLite database")
            };
            let dest = to.to_str().context("the backup path must be UTF-8")?;
            s.backup_to(dest)?;
            let size = std::fs::metadata(&to)?.len();
            println!(
                "backup written to {} ({size} bytes); it is a complete database: `lianzheng restore --from {} --db sqlite://NEW.db`",
                to.display(),
                to.display()
            );
            Ok(())
        }
        Command::Restore { from, db, vkey } => {
            let Some(path) = db.strip_prefix("sqlite://") else {
                bail!(
                    "restore creates SQLite databases; for PostgreSQL use pg_restore (docs/operations.md)"
                );
            };
            if std::path::Path::new(path).exists() {
                bail!("{path} exists; restore only into a new file");
            }
            std::fs::copy(&from, path).with_context(|| format!("copying {}", from.display()))?;
            let vkey = match vkey {
                Some(v) => Some(v),
                None => Config::load(None)
                    .ok()
                    .filter(|c| std::path::Path::new(&c.log_key_file).exists())
                    .map(|c| log_signer(&c))
                    .transpose()?
                    .map(|s| s.vkey_text()),
            };
            let report = open(&db)?.audit(vkey.as_deref())?;
            for p in &report.problems {
                println!("PROBLEM seq {}: {}", p.seq, p.problem);
            }
            if !report.is_clean() {
                bail!("the restored database does not audit clean");
            }
            println!(
                "restored to {path}: {} records audit clean (checkpoint {})",
                report.events,
                report
                    .checkpoint_size
                    .map_or_else(|| "none".into(), |s| s.to_string())
            );
            Ok(())
        }
        Command::Sweep { db } => {
            let r = open(&db)?.sweep(500)?;
            println!(
                "{} deadlines crossed, {} findings opened",
                r.crossed, r.fired
            );
            Ok(())
        }
    }
}

fn calendar(command: CalendarCommand) -> anyhow::Result<()> {
    let out = std::io::stdout();
    let mut out = out.lock();
    match command {
        CalendarCommand::IsWorkday { date, from, to, db } => {
            let cal = calendar_for(db.as_deref())?;
            let yes = |d: Date| if cal.is_workday(d).value { "yes" } else { "no" };
            match (date, from, to) {
                (Some(d), None, None) => writeln!(out, "{}", yes(d))?,
                (None, Some(a), Some(b)) => {
                    if b < a {
                        bail!("--to {b} is before --from {a}");
                    }
                    let mut d = a;
                    while d <= b {
                        writeln!(out, "{d} {}", yes(d))?;
                        d = d.tomorrow()?;
                    }
                }
                _ => bail!("give a DATE, or --from and --to"),
            }
        }
        CalendarCommand::AddWorkdays { date, days, db } => {
            let cal = calendar_for(db.as_deref())?;
            let r = cal.add_workdays(date, days);
            writeln!(out, "{}", r.value)?;
            if r.provisional {
                eprintln!("provisional: a year on the way has no holiday notice loaded");
            }
        }
        CalendarCommand::SetYear { db, year, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let rows = lianzheng_core::calendar::parse_holidays_csv(&text)?;
            let n = open(&db)?.set_calendar_year(&admin(), year, rows)?;
            writeln!(out, "year {year} loaded; {n} open cases recomputed")?;
        }
    }
    Ok(())
}

fn import(command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Events {
            file,
            db,
            department,
            print_acks,
            batch,
        } => {
            let app = open(&db)?;
            let principal = match department {
                Some(d) => Principal::Department {
                    name: format!("import:{}", file.display()),
                    department: d,
                },
                None => Principal::Admin {
                    name: format!("import:{}", file.display()),
                },
            };
            let f = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            let size = f.metadata()?.len();
            let bar = indicatif::ProgressBar::new(size);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {per_sec} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let reader = std::io::BufReader::new(f);
            let (mut accepted, mut duplicate, mut rejected) = (0usize, 0usize, 0usize);
            let mut errors: Vec<String> = Vec::new();
            let mut chunk: Vec<(usize, Result<Incoming, String>)> = Vec::new();
            let mut flush =
                |chunk: &mut Vec<(usize, Result<Incoming, String>)>| -> anyhow::Result<()> {
                    if chunk.is_empty() {
                        return Ok(());
                    }
                    let lines: Vec<usize> = chunk.iter().map(|(l, _)| *l).collect();
                    let events = chunk.drain(..).map(|(_, e)| e).collect();
                    let results = app.submit(&principal, events)?;
                    // The batch is committed (durably) when `submit` returns.
                    if print_acks {
                        let out = std::io::stdout();
                        let mut out = out.lock();
                        for r in results.iter().filter(|r| r.status != "rejected") {
                            if let Some(id) = &r.event_id {
                                writeln!(out, "ack {id}")?;
                            }
                        }
                        out.flush()?;
                    }
                    for r in results {
                        match r.status.as_str() {
                            "accepted" => accepted += 1,
                            "duplicate" => duplicate += 1,
                            _ => {
                                rejected += 1;
                                if errors.len() < 20
                                    && let Some(e) = &r.error
                                {
                                    errors.push(format!(
                                        "line {}: {}: {}",
                                        lines.get(r.index).copied().unwrap_or(0),
                                        e.code,
                                        e.message
                                    ));
                                }
                            }
                        }
                    }
                    Ok(())
                };
            for (i, line) in reader.lines().enumerate() {
                let line = line?;
                bar.inc(line.len() as u64 + 1);
                if line.trim().is_empty() {
                    continue;
                }
                chunk.push((
                    i + 1,
                    serde_json::from_str::<Incoming>(&line)
                        .map_err(|e| format!("malformed event: {e}")),
                ));
                if chunk.len() >= batch {
                    flush(&mut chunk)?;
                }
            }
            flush(&mut chunk)?;
            bar.finish_and_clear();
            for e in &errors {
                eprintln!("{e}");
            }
            println!("{accepted} accepted, {duplicate} duplicate, {rejected} rejected");
            if rejected > 0 {
                std::process::exit(2);
            }
            Ok(())
        }
        ImportCommand::Departments { file, db } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let deps: Vec<lianzheng_app::catalog::Department> =
                if file.extension().is_some_and(|e| e == "csv") {
                    let mut rdr = csv::ReaderBuilder::new()
                        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
                    let mut out = Vec::new();
                    for (i, rec) in rdr.deserialize().enumerate() {
                        out.push(rec.with_context(|| format!("row {}", i + 1))?);
                    }
                    out
                } else {
                    serde_json::from_str(&text).context("expected a JSON array of departments")?
                };
            let n = open(&db)?.upsert_departments(&admin(), &deps)?;
            println!("{n} departments saved");
            Ok(())
        }
        ImportCommand::Catalog { file, db } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let parsed = if file.extension().is_some_and(|e| e == "csv") {
                lianzheng_app::catalog::parse_csv_import(&text)
            } else {
                lianzheng_app::catalog::parse_json_import(&text)
            };
            let report = match parsed {
                Ok(changes) => open(&db)?.save_items(&admin(), changes)?,
                Err(errors) => lianzheng_app::catalog::ImportReport {
                    rows: 0,
                    written: 0,
                    errors,
                },
            };
            for e in &report.errors {
                eprintln!("row {} `{}`: {}", e.row, e.code, e.errors.join("; "));
            }
            if !report.errors.is_empty() {
                bail!("{} bad rows; nothing was imported", report.errors.len());
            }
            println!("{} item versions written", report.written);
            Ok(())
        }
    }
}
