//! Typed settings, layered from files and environment, validated with key names in errors.

use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::db::DbUrl;

/// The built-in defaults: the same file that ships as `config/default.toml`.
const BUILT_IN: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub mail: MailSettings,
    pub cases: CaseSettings,
    pub escalation: EscalationSettings,
    pub log: LogSettings,
    pub audit: AuditSettings,
    /// The configuration files read, in layer order (for the startup summary).
    #[serde(skip)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// May carry a password, hence secret; `Settings::db_url` parses it.
    pub url: SecretString,
    pub pool_size: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub bind: String,
    pub public_url: String,
    pub body_limit_bytes: usize,
    /// The older switch: `true` with no `trusted_proxies` trusts a proxy on this machine.
    pub trust_forwarded_for: bool,
    /// Proxies whose forwarding header is believed (addresses or CIDR ranges; a list, or
    /// one string with commas from an environment variable).
    #[serde(default, deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// The header they set: `x-forwarded-for` or `forwarded`.
    pub forwarded_header: String,
    pub timezone: String,
    /// When set, `GET /metrics` on the main listener asks for it as a bearer token.
    #[serde(default)]
    pub metrics_token: Option<SecretString>,
    /// When set, a listener of its own, on a loopback address, serves `GET /metrics`.
    #[serde(default)]
    pub metrics_bind: Option<String>,
}

/// A list, or a string of comma-separated items (what an environment variable can say).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Either::deserialize(de)? {
        Either::List(l) => l,
        Either::Text(t) => t.split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect(),
    })
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub jwt_secret: Option<SecretString>,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// How long a console sign-in lasts without use; each visit past half of it renews it.
    pub console_idle_secs: i64,
    pub max_failures_per_username: i64,
    pub max_failures_per_address: i64,
    pub failure_window_secs: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    pub transport: String,
    pub outbox_dir: PathBuf,
    /// May carry credentials, hence secret.
    pub smtp_url: Option<SecretString>,
    pub from: String,
    /// How long the SMTP client waits to connect and for each reply of the server.
    pub timeout_secs: u64,
    /// How long one message may take in all, however the server dawdles.
    pub send_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CaseSettings {
    pub attachment_dir: PathBuf,
    pub attachment_max_bytes: usize,
    /// The most cases one CSV/XLSX export may hold; a larger one is refused with a 422.
    pub export_max_rows: i64,
    pub attachment_types: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EscalationSettings {
    pub interval_secs: u64,
    pub review_days: u32,
    /// `working` (skip weekends and the calendar's holidays) or `calendar` days.
    pub day_kind: String,
    /// The working week's days (`mon` … `sun`).
    pub working_week: Vec<String>,
    pub digest: bool,
    /// The most cases one digest lists; it then says how many more there are.
    pub digest_max_items: usize,
    pub send_window: String,
    pub max_attempts: i32,
    pub retry_base_secs: i64,
    pub levels: Vec<LevelSetting>,
}

/// One escalation level: when (relative to the deadline) and whom to alert.
#[derive(Debug, Clone, Deserialize)]
pub struct LevelSetting {
    pub name: String,
    /// Shown in messages; defaults to the name.
    #[serde(default)]
    pub label: String,
    pub offset_days: i64,
    pub notify: Vec<String>,
}

/// Who a level can notify.
impl EscalationSettings {
    /// The working week configured (validated at startup).
    pub fn week(&self) -> crate::domain::calendar::WorkingWeek {
        crate::domain::calendar::WorkingWeek::parse(&self.working_week)
            .unwrap_or_else(|_| crate::domain::calendar::WorkingWeek::monday_to_friday())
    }

    /// Whether deadlines count working days.
    pub fn working_days(&self) -> bool {
        self.day_kind == "working"
    }
}

pub const NOTIFY_KINDS: [&str; 4] = ["responsible_head", "parent_head", "reviewers", "city_reviewers"];

impl EscalationSettings {
    /// The sending window as local (start, end) times, when one is set.
    pub fn window(&self) -> Result<Option<(chrono::NaiveTime, chrono::NaiveTime)>, ConfigError> {
        let w = self.send_window.trim();
        if w.is_empty() {
            return Ok(None);
        }
        let parse = |t: &str| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
        match w.split_once('-').map(|(a, b)| (parse(a), parse(b))) {
            Some((Some(a), Some(b))) if a < b => Ok(Some((a, b))),
            _ => Err(bad("escalation.send_window", "must be empty or HH:MM-HH:MM with the start before the end")),
        }
    }
}

/// The sealed audit trail's signed checkpoints (`src/ledger/`).
#[derive(Debug, Clone, Deserialize)]
pub struct AuditSettings {
    /// The log's name in checkpoints, and the signing key's.
    pub origin: String,
    /// The signing key's file; empty: beside the database (`data/` with PostgreSQL).
    pub signing_key_file: String,
    /// The file checkpoints are appended to; empty: beside the key.
    pub checkpoint_file: String,
    pub checkpoint_every_secs: u64,
    /// Addresses (`name <address>` or `address`) each new checkpoint is mailed to.
    pub mail_to: Vec<String>,
    /// The least time between two checkpoints mailed by the service's loop.
    pub mail_every_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: String,
    pub level: String,
}

/// A configuration problem, always naming the key (or the file) at fault.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ConfigError {
    pub key: String,
    pub message: String,
    /// The file at fault, when it is the file itself (unreadable, not TOML).
    pub file: Option<PathBuf>,
}

impl ConfigError {
    fn describe(&self) -> String {
        match &self.file {
            Some(f) => format!("configuration file {}: {}", f.display(), self.message),
            None if self.key.starts_with("--") => format!("{}: {}", self.key, self.message),
            None => format!("configuration key `{}`: {}", self.key, self.message),
        }
    }
}

fn bad(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { key: key.to_string(), message: message.into(), file: None }
}

fn in_file(path: &Path, message: String) -> ConfigError {
    ConfigError { key: String::new(), message, file: Some(path.to_path_buf()) }
}

impl Settings {
    /// Loads the layers from `config_dir` (default `config`, which may then be missing) and
    /// the process environment, then validates. Refuses a folder or profile file that is
    /// not there, a file that is not TOML (naming file and line), and any key no setting
    /// has (naming it, and the environment variable it came from).
    pub fn load(config_dir: Option<&Path>) -> Result<Self, ConfigError> {
        if let Some(dir) = config_dir
            && !dir.is_dir()
        {
            return Err(bad("--config-dir", format!("{} is not a folder", dir.display())));
        }
        let dir = config_dir.unwrap_or(Path::new("config"));
        let mut builder = Config::builder().add_source(File::from_str(BUILT_IN, FileFormat::Toml));
        let mut files = vec![(dir.join("default.toml"), false)];
        if let Ok(profile) = std::env::var("CASETRACK_PROFILE") {
            files.push((dir.join(format!("{profile}.toml")), true));
        }
        let mut read = Vec::new();
        for (path, required) in files {
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => continue,
                Err(e) => return Err(in_file(&path, format!("cannot be read ({e})"))),
            };
            // toml's own message names the line and column and shows the line.
            if let Err(e) = text.parse::<toml::Table>() {
                return Err(in_file(&path, e.to_string().trim_end().to_string()));
            }
            builder = builder.add_source(File::from_str(&text, FileFormat::Toml));
            read.push(path);
        }
        let built = builder
            .add_source(Environment::with_prefix("CASETRACK").prefix_separator("__").separator("__").try_parsing(true))
            .set_override_option("database.url", std::env::var("DATABASE_URL").ok())
            .and_then(|b| b.build())
            .map_err(config_error)?;
        let mut unknown = Vec::new();
        let mut settings: Settings =
            serde_ignored::deserialize(built, |path| unknown.push(path.to_string())).map_err(config_error)?;
        settings.files = read;
        if let Some(key) = unknown.into_iter().next() {
            let var = format!("CASETRACK__{}", key.replace('.', "__").to_uppercase());
            let from = if std::env::var_os(&var).is_some() { format!(" (from {var})") } else { String::new() };
            return Err(bad(&key, format!("is not a setting{from}: check its spelling against config/default.toml")));
        }
        settings.validate()?;
        Ok(settings)
    }

    /// The built-in defaults alone, validated (what tests start from).
    pub fn defaults() -> Self {
        let built = Config::builder()
            .add_source(File::from_str(BUILT_IN, FileFormat::Toml))
            .build()
            .expect("built-in configuration parses");
        built.try_deserialize().expect("built-in configuration is complete")
    }

    /// Refuses any value the service could not use.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let db = self.db_url()?;
        if self.database.pool_size == 0 {
            return Err(bad("database.pool_size", "must be at least 1"));
        }
        if self.audit.origin.is_empty() || self.audit.origin.chars().any(|c| c.is_whitespace() || c == '+') {
            return Err(bad("audit.origin", "must be a name without spaces or '+', e.g. ubkt.hanoi.gov.vn/casetrack"));
        }
        if self.audit.checkpoint_every_secs < 60 {
            return Err(bad("audit.checkpoint_every_secs", "must be at least 60"));
        }
        if let Some(to) = self.audit.mail_to.iter().find(|to| to.parse::<lettre::message::Mailbox>().is_err()) {
            return Err(bad("audit.mail_to", format!("\"{to}\" is not an email address")));
        }
        if self.server.bind.trim().is_empty() || !self.server.bind.contains(':') {
            return Err(bad("server.bind", "must be HOST:PORT, e.g. 127.0.0.1:8080"));
        }
        match url::Url::parse(&self.server.public_url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            _ => return Err(bad("server.public_url", "must be an http:// or https:// URL")),
        }
        if self.server.body_limit_bytes < 1024 {
            return Err(bad("server.body_limit_bytes", "must be at least 1024"));
        }
        self.time_zone()?;
        if self.server.metrics_token.as_ref().is_some_and(|t| t.expose_secret().len() < 16) {
            return Err(bad("server.metrics_token", "must be at least 16 characters long"));
        }
        if let Some(bind) = &self.server.metrics_bind {
            match bind.parse::<std::net::SocketAddr>() {
                Ok(a) if a.ip().is_loopback() => {}
                _ => {
                    return Err(bad(
                        "server.metrics_bind",
                        "must be a loopback address and port, e.g. 127.0.0.1:9464 (metrics are not public; \
                         to scrape from elsewhere set server.metrics_token instead)",
                    ));
                }
            }
        }
        self.proxies()?;
        match &self.auth.jwt_secret {
            Some(secret) if secret.expose_secret().len() < 32 => {
                return Err(bad("auth.jwt_secret", "must be at least 32 characters long"));
            }
            // A SQLite database keeps a generated secret in a file beside it; a server's
            // instances share no folder.
            None if db.sqlite_path().is_none() => {
                return Err(bad(
                    "auth.jwt_secret",
                    "is required with PostgreSQL, so that every instance signs tokens alike \
                     (set CASETRACK__AUTH__JWT_SECRET)",
                ));
            }
            _ => {}
        }
        for (key, value) in [
            ("auth.access_token_ttl_secs", self.auth.access_token_ttl_secs),
            ("auth.refresh_token_ttl_secs", self.auth.refresh_token_ttl_secs),
            ("auth.console_idle_secs", self.auth.console_idle_secs),
            ("auth.max_failures_per_username", self.auth.max_failures_per_username),
            ("auth.max_failures_per_address", self.auth.max_failures_per_address),
            ("auth.failure_window_secs", self.auth.failure_window_secs),
        ] {
            if value <= 0 {
                return Err(bad(key, "must be a positive number"));
            }
        }
        match self.mail.transport.as_str() {
            "file" => {}
            "smtp" => {
                let Some(url) = &self.mail.smtp_url else {
                    return Err(bad("mail.smtp_url", "is required when mail.transport is \"smtp\""));
                };
                let parsed = url::Url::parse(url.expose_secret())
                    .map_err(|_| bad("mail.smtp_url", "is not a valid URL (e.g. smtp://127.0.0.1:2525)"))?;
                if parsed.scheme() != "smtp" && parsed.scheme() != "smtps" {
                    return Err(bad("mail.smtp_url", "must start with smtp:// or smtps://"));
                }
            }
            other => {
                return Err(bad(
                    "mail.transport",
                    format!("unknown transport \"{other}\" (expected \"file\" or \"smtp\")"),
                ));
            }
        }
        for (key, value) in
            [("mail.timeout_secs", self.mail.timeout_secs), ("mail.send_timeout_secs", self.mail.send_timeout_secs)]
        {
            if !(1..=600).contains(&value) {
                return Err(bad(key, "must be between 1 and 600 seconds"));
            }
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad("mail.from", "is not a valid email address"));
        }
        if !(1..=1_000_000).contains(&self.cases.export_max_rows) {
            return Err(bad("cases.export_max_rows", "must be between 1 and 1000000"));
        }
        if self.cases.attachment_max_bytes == 0 {
            return Err(bad("cases.attachment_max_bytes", "must be at least 1"));
        }
        if self.cases.attachment_types.iter().any(|t| !t.contains('/')) {
            return Err(bad("cases.attachment_types", "must be MIME types such as application/pdf"));
        }
        if self.escalation.interval_secs == 0 {
            return Err(bad("escalation.interval_secs", "must be at least 1"));
        }
        if !["working", "calendar"].contains(&self.escalation.day_kind.as_str()) {
            return Err(bad("escalation.day_kind", "must be \"working\" or \"calendar\""));
        }
        match crate::domain::calendar::WorkingWeek::parse(&self.escalation.working_week) {
            Err(name) => {
                return Err(bad("escalation.working_week", format!("\"{name}\" is not a day (mon, tue, … sun)")));
            }
            Ok(w) if w.0.is_empty() => return Err(bad("escalation.working_week", "must name at least one day")),
            Ok(_) => {}
        }
        if self.escalation.review_days == 0 {
            return Err(bad("escalation.review_days", "must be at least 1"));
        }
        self.escalation.window()?;
        if self.escalation.max_attempts < 1 {
            return Err(bad("escalation.max_attempts", "must be at least 1"));
        }
        if self.escalation.retry_base_secs < 1 {
            return Err(bad("escalation.retry_base_secs", "must be at least 1"));
        }
        let levels = &self.escalation.levels;
        for (i, level) in levels.iter().enumerate() {
            let key = format!("escalation.levels[{i}]");
            if level.name.trim().is_empty() || levels.iter().filter(|l| l.name == level.name).count() > 1 {
                return Err(bad(&key, "each level needs a unique name"));
            }
            if i > 0 && level.offset_days <= levels[i - 1].offset_days {
                return Err(bad(&key, "levels must be listed in increasing offset_days"));
            }
            if level.notify.is_empty() || level.notify.iter().any(|n| !NOTIFY_KINDS.contains(&n.as_str())) {
                return Err(bad(&key, format!("notify must list some of: {}", NOTIFY_KINDS.join(", "))));
            }
        }
        if self.log.format != "plain" && self.log.format != "json" {
            return Err(bad("log.format", "must be \"plain\" or \"json\""));
        }
        Ok(())
    }

    /// The parsed database URL.
    pub fn db_url(&self) -> Result<DbUrl, ConfigError> {
        DbUrl::parse(self.database.url.expose_secret()).map_err(|m| bad("database.url", m))
    }

    /// The proxies whose forwarding header names the client (`server.trusted_proxies`; with
    /// only the older `trust_forwarded_for = true`, a proxy on this machine).
    pub fn proxies(&self) -> Result<crate::web::Proxies, ConfigError> {
        let s = &self.server;
        let loopback = ["127.0.0.1".to_string(), "::1".to_string()];
        let entries =
            if s.trusted_proxies.is_empty() && s.trust_forwarded_for { &loopback[..] } else { &s.trusted_proxies };
        crate::web::Proxies::parse(entries, &s.forwarded_header).map_err(|m| {
            let key =
                if m.starts_with("unknown header") { "server.forwarded_header" } else { "server.trusted_proxies" };
            bad(key, m)
        })
    }

    /// The data folder: the SQLite database's folder, or `data` under the working folder
    /// with PostgreSQL; created (owner only) when missing.
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        let dir = match self.db_url()?.sqlite_path() {
            Some(db) => db.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf(),
            None => PathBuf::from("data"),
        };
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(&dir).map_err(|e| bad("database.url", format!("cannot create {}: {e}", dir.display())))?;
        }
        Ok(dir)
    }

    /// The deployment time zone.
    pub fn time_zone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.server
            .timezone
            .parse()
            .map_err(|_| bad("server.timezone", "is not a known IANA time zone, e.g. Asia/Ho_Chi_Minh"))
    }
}

/// Maps the layering crate's errors (which name the key where they can) to ours.
fn config_error(err: config::ConfigError) -> ConfigError {
    let text = err.to_string();
    let key = text.split("for key `").nth(1).and_then(|rest| rest.split('`').next()).unwrap_or("(configuration)");
    bad(key, text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::defaults().validate().unwrap();
    }

    #[test]
    fn unusable_values_name_their_key() {
        let mut s = Settings::defaults();
        s.mail.transport = "pigeon".into();
        assert_eq!(s.validate().unwrap_err().key, "mail.transport");

        let mut s = Settings::defaults();
        s.database.url = SecretString::from("mysql://localhost/x");
        assert_eq!(s.validate().unwrap_err().key, "database.url");

        let mut s = Settings::defaults();
        s.database.url = SecretString::from("postgres://postgres@127.0.0.1/x");
        assert_eq!(s.validate().unwrap_err().key, "auth.jwt_secret");

        let mut s = Settings::defaults();
        s.mail.transport = "smtp".into();
        assert_eq!(s.validate().unwrap_err().key, "mail.smtp_url");
        let mut s = Settings::defaults();
        s.mail.send_timeout_secs = 0;
        assert_eq!(s.validate().unwrap_err().key, "mail.send_timeout_secs");

        let mut s = Settings::defaults();
        s.server.timezone = "Mars/Olympus".into();
        assert_eq!(s.validate().unwrap_err().key, "server.timezone");

        let mut s = Settings::defaults();
        s.escalation.send_window = "17:00-08:00".into();
        assert_eq!(s.validate().unwrap_err().key, "escalation.send_window");

        let mut s = Settings::defaults();
        s.escalation.levels[1].notify = vec!["the_mayor".into()];
        assert_eq!(s.validate().unwrap_err().key, "escalation.levels[1]");

        let mut s = Settings::defaults();
        s.server.trusted_proxies = vec!["10.0.0.0/8".into(), "proxy.example".into()];
        assert_eq!(s.validate().unwrap_err().key, "server.trusted_proxies");
        let mut s = Settings::defaults();
        s.server.forwarded_header = "x-real-ip".into();
        assert_eq!(s.validate().unwrap_err().key, "server.forwarded_header");
        let mut s = Settings::defaults();
        s.server.metrics_bind = Some("0.0.0.0:9464".into());
        assert_eq!(s.validate().unwrap_err().key, "server.metrics_bind");

        let mut s = Settings::defaults();
        s.escalation.levels.swap(0, 1);
        assert_eq!(s.validate().unwrap_err().key, "escalation.levels[1]");
    }

    #[test]
    fn secrets_do_not_print() {
        let mut s = Settings::defaults();
        s.auth.jwt_secret = Some(SecretString::from("a-very-secret-value-that-is-long-enough"));
        let printed = format!("{s:?}");
        assert!(!printed.contains("a-very-secret-value"));
    }
}
