//! The subcommands of the `casetrack` binary.

use std::io::Read;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::accounts;
use crate::app::{Application, prepare_database};
use crate::auth::password;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::DbConn;
use crate::error::Error;
use crate::ledger::checkpoint::Mail;
use crate::model::Actor;
use crate::model::user::User;

#[derive(Parser)]
#[command(
    name = "casetrack",
    version,
    about = "Directive compliance: inspection campaigns, violation cases, escalation"
)]
pub struct Cli {
    /// Folder holding default.toml and the profile files [default: config, when present].
    #[arg(long, global = true, env = "CASETRACK_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP.
    Serve {
        /// Do not run the overdue sweep in this process.
        #[arg(long)]
        no_sweeper: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Run the overdue sweep and deliver the outbox.
    Escalate {
        /// One sweep and one delivery pass, then exit (for cron).
        #[arg(long)]
        once: bool,
    },
    /// Load a realistic demo dataset and print the demo logins.
    Demo {
        /// Add the demo even if the database already holds cases.
        #[arg(long)]
        force: bool,
        /// How many cases to generate.
        #[arg(long, default_value_t = 900)]
        cases: usize,
    },
    /// Manage directive catalogs.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Manage the handling catalog: severity levels and decision measures.
    Measures {
        #[command(subcommand)]
        command: MeasuresCommand,
    },
    /// Manage the working-day calendar.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The sealed audit trail: seal, sign a checkpoint, verify.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Bring in registers kept elsewhere.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Maintain what reports read.
    Reports {
        #[command(subcommand)]
        command: ReportsCommand,
    },
    /// Write a consistent copy of the SQLite database (evidence files included) and the
    /// generated secret into an empty folder, while the service runs.
    Backup {
        /// The folder to write into (created if missing; must be empty).
        dir: PathBuf,
        /// Replace a backup already in the folder.
        #[arg(long)]
        force: bool,
    },
    /// Put a backup back into an empty data folder (the service stopped).
    Restore {
        /// The folder `casetrack backup` wrote.
        dir: PathBuf,
        /// Replace the database that is there.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Seal every entry written since the last seal and sign a checkpoint now.
    Checkpoint,
    /// Recompute the sealed trail from the database and check it; exits 0 only when it
    /// holds, and names the first entry that breaks otherwise.
    Verify {
        /// A signed checkpoint to check the database against (a copy kept elsewhere);
        /// a file may hold several. Repeat for more files.
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
        /// The verifier key (`name+id+key`, as GET /api/v1/audit/checkpoints gives it);
        /// by default the one of the deployment's signing key.
        #[arg(long)]
        key: Option<String>,
    },
    /// Record that the database was restored from a backup (after `pg_restore`; `casetrack
    /// restore` does it itself): a signed checkpoint of the log as restored, so that
    /// verification tells the restore from a truncation.
    MarkRestore {
        /// When the backup was taken, as its file or manifest says (e.g. 2026-12-01T02:00Z).
        #[arg(long)]
        backup_taken: String,
    },
    /// Check a case's proof file (GET /api/v1/cases/{id}/audit-proof) without the
    /// database: the checkpoint's signature, then each entry against its root.
    CheckProof {
        /// The proof file (JSON).
        file: PathBuf,
        /// The verifier key; by default the one the file names.
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import a register of cases (XLSX, or CSV in UTF-8) as `POST /api/v1/imports/cases`
    /// does: every problem listed first; nothing written while one remains, unless
    /// `--skip-invalid`.
    Cases {
        /// The register file.
        file: PathBuf,
        /// The account the import is made as (an administrator, or a reviewer for their
        /// own scope); it is recorded on each case's timeline and in the audit log.
        #[arg(long = "as")]
        username: String,
        /// Check and say what would be created; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the good rows and list the others.
        #[arg(long)]
        skip_invalid: bool,
    },
}

#[derive(Subcommand)]
pub enum ReportsCommand {
    /// Recount the report rollup from the cases (after cases were loaded or repaired in SQL).
    Recount,
}

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Load or update a directive with its indicators from a catalog file (see config/catalogs/).
    Import {
        /// The catalog file (TOML).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum MeasuresCommand {
    /// Replace the handling catalog from a file (format: config/measures/vietnam.toml).
    Import {
        /// The catalog file (TOML).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum CalendarCommand {
    /// Replace the years a calendar file holds (format: config/calendars/vietnam.toml).
    Import {
        /// The calendar file (TOML).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account; without --password-stdin a strong password is generated and printed once.
    Create {
        #[arg(long)]
        username: String,
        /// admin, inspector, reviewer or unit_head.
        #[arg(long)]
        role: String,
        /// Code of the user's unit.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        full_name: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts: username, role, unit, whether active, email.
    List {
        /// Only this role.
        #[arg(long)]
        role: Option<String>,
        /// Include deactivated accounts.
        #[arg(long)]
        all: bool,
    },
    /// Give an account a new password (generated and printed once, or from standard
    /// input); every sign-in of the account ends. Audited.
    ResetPassword {
        username: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Deactivate an account: its sign-ins end at once; the last administrator stays. Audited.
    Deactivate { username: String },
}

/// Reads a password from standard input (its one line, without the line end).
fn password_from_stdin() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin().read_to_string(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Changes an account as the system, through the same operation the API uses.
fn change_account(
    conn: &mut DbConn,
    username: &str,
    change: accounts::AccountChange,
    hash: Option<String>,
) -> CliResult {
    let user = User::find_by_username(conn, &username.trim().to_lowercase())
        .map_err(|e| e.to_string())?
        .ok_or_else(|| Failure::usage(format!("no account named {username}")))?;
    let now = Clock::system().now_naive();
    accounts::apply_change(conn, now, &Actor::system(), None, &user.id, None, change, Ok(hash))
        .map_err(|e| problems(e, str::to_string))?;
    Ok(())
}

/// An operation's refusal as one line, each field named as the command line calls it; a
/// refusal (bad input, a clash) is the caller's mistake, anything else a failure.
fn problems(e: Error, flag: impl Fn(&str) -> String) -> Failure {
    match e {
        Error::Validation(errors) => Failure::usage(
            errors.iter().map(|f| format!("{}: {}", flag(&f.field), f.message)).collect::<Vec<_>>().join("; "),
        ),
        Error::Conflict { detail, .. } => Failure::usage(detail.to_string()),
        other => Failure::from(other.to_string()),
    }
}

type CliResult = Result<(), Failure>;

/// How a command failed; a `usage` mistake (what was asked cannot be done) changed
/// nothing and exits with code 2, any other failure with 1.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub usage: bool,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure { message: message.into(), usage: true }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure { message, usage: false }
    }
}

impl From<crate::backup::BackupError> for Failure {
    fn from(e: crate::backup::BackupError) -> Self {
        let usage = matches!(e, crate::backup::BackupError::Refused(_));
        Failure { message: e.to_string(), usage }
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli, settings: Settings) -> Result<(), Failure> {
    match &cli.command {
        Command::Backup { dir, force } => {
            let m = crate::backup::backup(&settings, dir, *force)?;
            println!(
                "Backup written to {}: {} cases, {} evidence files{}.",
                dir.display(),
                m.cases,
                m.attachment_files,
                if m.secret { ", the signing secret" } else { "" }
            );
            Ok(())
        }
        Command::Restore { dir, force } => {
            let m = crate::backup::restore(&settings, dir, *force)?;
            println!(
                "Restored the backup of {} (casetrack {}): {} cases, {} evidence files{}.",
                m.created_at.format("%Y-%m-%d %H:%M UTC"),
                m.version,
                m.cases,
                m.attachment_files,
                if m.secret { ", the signing secret" } else { "" }
            );
            // The restore, signed into the audit trail; without the key it cannot be, and
            // verification will report the log as truncated until it is.
            let taken = m.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let marked = prepare_database(&settings).map_err(|e| e.to_string()).and_then(|pool| {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                crate::ledger::run::mark_restore(&mut conn, &settings, &taken, Clock::system().now().naive_utc())
            });
            match marked {
                Ok(kept) => println!("{}", restore_marked(&settings, &kept)),
                Err(e) => eprintln!(
                    "warning: the restore is not marked in the audit trail ({e}); with the signing key in place, \
                     run: casetrack audit mark-restore --backup-taken {taken}"
                ),
            }
            Ok(())
        }
        _ => run_command(cli, settings).await,
    }
}

async fn run_command(cli: Cli, settings: Settings) -> CliResult {
    match cli.command {
        Command::Backup { .. } | Command::Restore { .. } => unreachable!("handled by run"),
        Command::Serve { no_sweeper } => serve(settings, no_sweeper).await,
        Command::Escalate { once } => {
            let pool = prepare_database(&settings)?;
            let mailer = crate::mail::Mailer::from_settings(&settings.mail)?;
            let clock = Clock::system();
            loop {
                let (s, d) =
                    crate::jobs::run_once(&pool, &settings, &mailer, &clock).await.map_err(|e| e.to_string())?;
                println!(
                    "Sweep: {} step(s), {} alert(s), {} message(s) queued{}. Delivery: {} sent, {} to retry, {} failed, {} cancelled{}.",
                    s.steps,
                    s.alerts,
                    s.messages,
                    if s.ran { "" } else { " (another instance was sweeping)" },
                    d.sent,
                    d.retried,
                    d.failed,
                    d.cancelled,
                    if d.outside_window { " (outside the sending window)" } else { "" }
                );
                if once {
                    return Ok(());
                }
                tokio::time::sleep(std::time::Duration::from_secs(settings.escalation.interval_secs)).await;
            }
        }
        Command::Demo { force, cases } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let summary = crate::demo::load(&mut conn, &settings, Clock::system().now_naive(), force, cases)?;
            println!("Demo data loaded: {} units, {} cases, 3 campaigns.", summary.units, summary.cases);
            println!("Demo logins (every demo user has the password {}):", summary.password);
            for (username, what) in summary.logins {
                println!("  {username:<16} {what}");
            }
            println!(
                "  truong.<unit code> for every unit's head (truong.hoan-kiem, truong.so-tc, …), thanhtra1..3 for inspectors."
            );
            Ok(())
        }
        Command::Import { command: ImportCommand::Cases { file, username, dry_run, skip_invalid } } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            import_cases(
                &mut conn,
                &settings,
                &file,
                &username,
                crate::import::register::Options { dry_run, skip_invalid },
            )
        }
        Command::Audit { command: AuditCommand::Checkpoint } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let now = Clock::system().now().naive_utc();
            let kept = crate::ledger::run::checkpoint_now(&mut conn, &settings, now, Mail::Now)?;
            println!(
                "Checkpoint of {} sealed entries, root {}, appended to {}{}.",
                kept.size,
                kept.root,
                crate::ledger::checkpoint::file_path(&settings).display(),
                mailed(&settings)
            );
            Ok(())
        }
        Command::Audit { command: AuditCommand::MarkRestore { backup_taken } } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let now = Clock::system().now().naive_utc();
            let kept = crate::ledger::run::mark_restore(&mut conn, &settings, &backup_taken, now)?;
            println!("{}", restore_marked(&settings, &kept));
            Ok(())
        }
        Command::Audit { command: AuditCommand::CheckProof { file, key } } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let proof: crate::ledger::proof::CaseProof = serde_json::from_str(&text)
                .map_err(|e| Failure::usage(format!("{} is not a proof file: {e}", file.display())))?;
            let key =
                key.or(proof.verifier_key.clone()).ok_or_else(|| Failure::usage("give the verifier key (--key)"))?;
            let n = crate::ledger::proof::check(&proof, &key, &settings.audit.origin)
                .map_err(|e| format!("the proof does not hold: {e}"))?;
            println!(
                "The proof holds: {n} entries of case {} are in the checkpoint signed by {key}. \
                 Compare that key with the one kept with your copies of the checkpoints.",
                proof.case_id
            );
            Ok(())
        }
        Command::Audit { command: AuditCommand::Verify { checkpoint, key } } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            audit_verify(&mut conn, &settings, &checkpoint, key.as_deref())
        }
        Command::Reports { command: ReportsCommand::Recount } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            crate::model::rollup::rebuild(&mut conn).map_err(|e| format!("recount failed: {e}"))?;
            println!("Report figures recounted from the cases.");
            Ok(())
        }
        Command::Migrate => {
            prepare_database(&settings)?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::Calendar { command: CalendarCommand::Import { file } } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let week = settings.escalation.week();
            let calendar = crate::domain::calendar::CalendarFile::from_toml(&text, &week)
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let ctx = crate::casework::Ctx::new(std::sync::Arc::new(settings.clone()), Clock::system().now());
            for (year, days) in calendar.years {
                let (holidays, make_up) = (days.holidays.len(), days.working_weekend_days.len());
                crate::administration::replace_calendar_year(&mut conn, &ctx, &Actor::system(), year, days)
                    .map_err(|e| Failure::usage(format!("{}: {year}: {e}", file.display())))?;
                println!("{year}: {holidays} holidays, {make_up} make-up working days.");
            }
            Ok(())
        }
        Command::Measures { command: MeasuresCommand::Import { file } } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let catalog = crate::domain::handling::HandlingCatalog::from_toml(&text)
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let now = Clock::system().now_naive();
            let s = crate::db::write_tx(&mut conn, |conn| {
                crate::model::handling::Handling::import(conn, &catalog, &Actor::system(), now)
            })
            .map_err(|e| format!("import failed: {e}"))?;
            println!(
                "Handling catalog {}: levels {} added, {} updated, {} retired; measures {} added, {} updated, {} retired.",
                s.version,
                s.levels_added,
                s.levels_updated,
                s.levels_retired,
                s.measures_added,
                s.measures_updated,
                s.measures_retired
            );
            Ok(())
        }
        Command::Catalog { command: CatalogCommand::Import { file } } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let catalog = crate::domain::catalog::Catalog::from_toml(&text)
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let now = Clock::system().now_naive();
            let (directive, summary) = crate::db::write_tx(&mut conn, |conn| {
                crate::model::directive::Directive::import(conn, &catalog, &Actor::system(), now)
            })
            .map_err(|e| format!("import failed: {e}"))?;
            println!(
                "{} {} (catalog {}): {} indicators added, {} updated, {} retired.",
                if summary.created { "Loaded" } else { "Updated" },
                directive.code,
                directive.catalog_version,
                summary.indicators_added,
                summary.indicators_updated,
                summary.indicators_retired
            );
            Ok(())
        }
        Command::User { command: UserCommand::Create { username, role, unit, email, full_name, password_stdin } } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let password = if password_stdin { Some(password_from_stdin()?) } else { None };
            let request = NewAccount { username, role, unit, email, full_name, password };
            let (user, generated) = create_account(&mut conn, request)?;
            println!("Created user {} ({}).", user.username, user.role);
            if let Some(pw) = generated {
                println!("Password (shown once): {pw}");
            }
            Ok(())
        }
        Command::User { command: UserCommand::List { role, all } } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let filter = crate::model::user::UserFilter { role, unit_id: None, active: (!all).then_some(true) };
            let units: std::collections::HashMap<String, String> =
                crate::model::unit::Unit::list(&mut conn, &Default::default(), None, 100_000)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(|u| (u.id, u.code))
                    .collect();
            println!("{:<24} {:<10} {:<16} {:<8} email", "username", "role", "unit", "active");
            let mut after: Option<String> = None;
            loop {
                let page = User::list(&mut conn, &filter, after.as_deref(), 500).map_err(|e| e.to_string())?;
                for u in &page {
                    let unit = u.unit_id.as_ref().and_then(|id| units.get(id)).map_or("-", String::as_str);
                    let active = if u.active { "yes" } else { "no" };
                    println!(
                        "{:<24} {:<10} {:<16} {:<8} {}",
                        u.username,
                        u.role,
                        unit,
                        active,
                        u.email.as_deref().unwrap_or("-")
                    );
                }
                match page.last() {
                    Some(last) if page.len() == 500 => after = Some(last.id.clone()),
                    _ => break,
                }
            }
            Ok(())
        }
        Command::User { command: UserCommand::ResetPassword { username, password_stdin } } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let (pw, generated) =
                if password_stdin { (password_from_stdin()?, false) } else { (password::generate(), true) };
            crate::domain::text::check_new_password(&pw, &username)
                .map_err(|m| Failure::usage(format!("password: {m}")))?;
            let hash = password::hash(&pw)?;
            let change = accounts::AccountChange { password: Some(pw.clone()), ..Default::default() };
            change_account(&mut conn, &username, change, Some(hash))?;
            println!("New password set for {username}; its sign-ins have ended.");
            if generated {
                println!("Password (shown once): {pw}");
            }
            Ok(())
        }
        Command::User { command: UserCommand::Deactivate { username } } => {
            let pool = prepare_database(&settings)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            change_account(
                &mut conn,
                &username,
                accounts::AccountChange { active: Some(false), ..Default::default() },
                None,
            )?;
            println!("Deactivated {username}; its sign-ins have ended.");
            Ok(())
        }
    }
}

/// What `user create` was given.
pub struct NewAccount {
    pub username: String,
    pub role: String,
    pub unit: Option<String>,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub password: Option<String>,
}

/// Validates and creates an account (through `accounts`, as the API does); returns the
/// generated password when none was given. Problems name the command's flags.
pub fn create_account(conn: &mut DbConn, a: NewAccount) -> Result<(User, Option<String>), Failure> {
    let full_name = a.full_name.or_else(|| Some(a.username.clone()));
    let account = accounts::NewAccount {
        username: Some(a.username),
        full_name,
        email: a.email,
        role: Some(a.role),
        unit: a.unit.map(accounts::UnitRef::Code),
        password: a.password,
    };
    let flag = |field: &str| match field {
        "full_name" => "--full-name".to_string(),
        "unit" | "unit_id" => "--unit".to_string(),
        "password" => "password".to_string(),
        other => format!("--{other}"),
    };
    let checked = accounts::check(conn, account).map_err(|e| problems(e, flag))?;
    let hash = password::hash(&checked.password)?;
    let user = accounts::create(conn, &Actor::system(), checked.input, hash, Clock::system().now_naive())
        .map_err(|e| problems(e, flag))?;
    Ok((user, checked.generated.then_some(checked.password)))
}

/// The file the first administrator's password is written to when no terminal is
/// attached: in the data folder (the SQLite database's folder; `data/` with PostgreSQL).
pub const FIRST_PASSWORD_FILE: &str = "first-admin-password";

/// Creates the first administrator when there is none. On a terminal its password is
/// shown once; otherwise (a service manager keeps standard output in its journal) it is
/// written to a file only the operator can read, and only that file's path is printed:
/// a banner, or one JSON line when logs are JSON.
fn bootstrap_admin(conn: &mut DbConn, settings: &Settings) -> CliResult {
    use std::io::IsTerminal;
    if User::active_admins(conn).map_err(|e| e.to_string())? > 0 {
        return Ok(());
    }
    let account = NewAccount {
        username: "admin".into(),
        role: "admin".into(),
        unit: None,
        email: None,
        full_name: Some("Administrator".into()),
        password: None,
    };
    let (user, password) = create_account(conn, account)?;
    let password = password.unwrap_or_default();
    let public_url = settings.server.public_url.trim_end_matches('/');
    let shown = if std::io::stdout().is_terminal() {
        Ok(password)
    } else {
        let file = settings.data_dir().map_err(|e| e.to_string())?.join(FIRST_PASSWORD_FILE);
        let _ = std::fs::remove_file(&file);
        crate::app::write_private(&file, &format!("{password}\n"))
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        Err(file)
    };
    if settings.log.format == "json" {
        let mut fields = serde_json::json!({
            "message": "created the first administrator account",
            "username": user.username,
            "change_at": format!("{public_url}/account/password"),
        });
        match &shown {
            Ok(pw) => fields["password"] = pw.clone().into(),
            Err(file) => fields["password_file"] = file.display().to_string().into(),
        }
        let line = serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "level": "WARN",
            "fields": fields,
            "target": "casetrack::cli",
        });
        println!("{line}");
        return Ok(());
    }
    println!("==============================================================");
    println!(" casetrack: created the first administrator account");
    println!("   username: {}", user.username);
    match &shown {
        Ok(pw) => {
            println!("   password: {pw}");
            println!(" It is shown only this once.");
        }
        Err(file) => {
            println!("   password file: {}", file.display());
            println!(" Only the account that runs casetrack can read that file. Delete it");
            println!(" once you have signed in and changed the password.");
        }
    }
    println!(" Sign in at {public_url} and change the password under Đổi mật khẩu");
    println!(" (or POST /api/v1/me/password).");
    println!("==============================================================");
    Ok(())
}

async fn serve(settings: Settings, no_sweeper: bool) -> CliResult {
    let mailer = crate::mail::Mailer::from_settings(&settings.mail)?;
    let app = Application::build(settings.clone(), Clock::system())?;
    // The key that signs the audit trail's checkpoints: made on first start, kept outside
    // the database.
    crate::ledger::run::keys(&settings)?;
    if !no_sweeper {
        crate::jobs::spawn_background(app.state.pool.clone(), settings, mailer, Clock::system());
    }
    let s = app.state.settings.clone();
    {
        let mut conn = app.state.pool.get().map_err(|e| e.to_string())?;
        bootstrap_admin(&mut conn, &s)?;
    }
    let url = s.db_url().map_err(|e| e.to_string())?;
    let files: Vec<String> = s.files.iter().map(|f| f.display().to_string()).collect();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        backend = ?url.backend,
        database = url.describe(),
        config_files = if files.is_empty() { "(built-in defaults only)".to_string() } else { files.join(", ") },
        mail = s.mail.transport.as_str(),
        sweep = if no_sweeper { "off".to_string() } else { format!("every {} s", s.escalation.interval_secs) },
        bind = %s.server.bind,
        port = app.port(),
        "casetrack is serving"
    );
    Ok(app.run_until_stopped().await.map_err(|e| e.to_string())?)
}

/// What the command line says after marking a restore.
fn restore_marked(settings: &Settings, kept: &crate::ledger::checkpoint::Kept) -> String {
    format!(
        "The restore is marked in the audit trail: a checkpoint of the {} entries restored, appended to {}{}.",
        kept.size,
        crate::ledger::checkpoint::file_path(settings).display(),
        mailed(settings)
    )
}

/// ", and queued for …" when checkpoints are mailed.
fn mailed(settings: &Settings) -> String {
    match settings.audit.mail_to.len() {
        0 => String::new(),
        n => format!(", and queued for {n} address(es) in audit.mail_to"),
    }
}

/// `casetrack audit verify`: a progress bar on a terminal, then what held or what broke.
fn audit_verify(conn: &mut DbConn, settings: &Settings, files: &[PathBuf], key: Option<&str>) -> CliResult {
    use std::io::IsTerminal;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} entries ({eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut progress = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let verdict = crate::ledger::run::verify(conn, settings, files, key, &mut progress);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for p in &verdict.problems {
        println!("FAILED: {p}");
    }
    if let Some(r) = &verdict.report {
        println!("Sealed entries: {}; written and not sealed yet: {}.", r.size, r.unsealed);
        println!("Root: {}.", hex::encode(r.root.0));
        for size in &r.held {
            println!("Checkpoint of {size} entries: holds.");
        }
        for (size, epoch, taken) in &r.restores {
            println!(
                "Restored from a backup taken {taken}: the log went on from its first {size} entries (epoch {epoch}); \
                 what was sealed after them before the restore is not in this database."
            );
        }
        for (size, epoch, at) in &r.superseded {
            println!("Checkpoint of {size} entries (epoch {epoch}): superseded by the restore at {at} entries.");
        }
        if let Some(b) = &r.first_break {
            let which = match (&b.entry, b.seq) {
                (Some((stream, id)), Some(seq)) => format!("entry {seq} ({stream} {id})"),
                (Some((stream, id)), None) => format!("{stream} {id}"),
                (None, Some(seq)) => format!("entry {seq}"),
                (None, None) => "the ledger".to_string(),
            };
            println!("FAILED: {} at {which}: {}.", b.kind.as_str(), b.detail);
        }
    }
    if verdict.ok() {
        println!("The audit trail verifies.");
        Ok(())
    } else {
        Err(Failure::from("the audit trail does not verify".to_string()))
    }
}

/// `casetrack import cases`: the register read and checked with a progress bar on a
/// terminal (plain progress lines otherwise), then what was or would be created, or
/// every problem.
fn import_cases(
    conn: &mut DbConn,
    settings: &Settings,
    file: &std::path::Path,
    username: &str,
    opts: crate::import::register::Options,
) -> CliResult {
    use crate::auth::CurrentUser;
    use crate::domain::role::Role;
    use std::io::IsTerminal;
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let user = crate::model::user::User::find_by_username(conn, username)
        .map_err(|e| e.to_string())?
        .filter(|u| u.active)
        .ok_or_else(|| format!("no active account {username}"))?;
    let role = Role::parse(&user.role).ok_or_else(|| format!("{username} has no known role"))?;
    let unit_ended = match &user.unit_id {
        Some(u) => {
            crate::model::unit::Unit::find(conn, u).map_err(|e| e.to_string())?.is_some_and(|u| u.ended_on.is_some())
        }
        None => false,
    };
    let caller =
        CurrentUser { user, role, session_id: "cli".into(), client_addr: "casetrack import".into(), unit_ended };
    let ctx = crate::casework::Ctx::new(std::sync::Arc::new(settings.clone()), Clock::system().now());
    let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let terminal = std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} rows")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut last_line = 0;
    let mut progress = |stage: &str, done: u64, total: u64| match &bar {
        Some(b) => {
            b.set_message(stage.to_string());
            b.set_length(total);
            b.set_position(done);
        }
        // A line each tenth of the way, and at the end.
        None if done == total || done >= last_line + total.max(10) / 10 => {
            last_line = done;
            eprintln!("{stage}: {done}/{total} rows");
        }
        None => {}
    };
    let outcome = crate::import::register::import_with_progress(
        conn,
        &ctx,
        &caller,
        &name,
        &bytes,
        opts,
        crate::i18n::Lang::En,
        &mut progress,
    )
    .map_err(|e| e.to_string())?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for p in &outcome.problems {
        println!("{}", p.text);
    }
    for a in &outcome.already_imported {
        println!("Row {}: already imported as case {}.", a.row, a.case_number);
    }
    let verb = if outcome.id.is_some() { "Created" } else { "Would create" };
    println!(
        "{verb}: {} case(s), {} new subject(s) ({} already on record), {} decision(s); {} row(s) already imported{}.",
        outcome.cases,
        outcome.subjects_new,
        outcome.subjects_matched,
        outcome.decisions,
        outcome.already_imported.len(),
        match &outcome.converted_from {
            Some(e) => format!("; text converted from {e}"),
            None => String::new(),
        }
    );
    match (&outcome.id, outcome.problems.is_empty(), opts.dry_run) {
        (Some(id), _, _) => {
            println!("Import {id}: {} row(s) skipped.", outcome.skipped_rows.len());
            Ok(())
        }
        (None, true, _) => Ok(()),
        (None, false, true) => Err(Failure::from(format!("{} problem(s) in the file", outcome.problems.len()))),
        (None, false, false) => {
            Err(Failure::from(format!("nothing imported: {} problem(s) in the file", outcome.problems.len())))
        }
    }
}
