//! A copy of a SQLite installation that can be put back: `casetrack backup DIR` while the
//! service runs, `casetrack restore DIR` into an empty data folder. The database holds
//! the evidence files too; the generated signing secret is copied beside it. (On
//! PostgreSQL, `pg_dump` and `pg_restore` do this: docs/OPERATIONS.md.)

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::Settings;

/// The database file inside a backup folder.
pub const DATABASE_FILE: &str = "casetrack.db";
/// The generated signing secret, beside the database (when it was not configured).
pub const SECRET_FILE: &str = "jwt_secret";
/// What the backup holds, written last: a folder without it is not a finished backup.
pub const MANIFEST_FILE: &str = "backup.json";

/// What went wrong: a mistake in what was asked (exit code 2, nothing changed) or a failure.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

fn failed(what: &str) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Failed(format!("{what}: {e}"))
}

/// The contents of `backup.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// The version of casetrack that wrote the backup.
    pub version: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub cases: i64,
    pub attachment_files: i64,
    /// Whether the generated signing secret is in the backup.
    pub secret: bool,
}

/// The SQLite file `settings` name, or a refusal saying what to use instead.
fn database_file(settings: &Settings, command: &str) -> Result<PathBuf, BackupError> {
    let url = settings.db_url().map_err(|e| BackupError::Refused(e.to_string()))?;
    url.sqlite_path().ok_or_else(|| {
        BackupError::Refused(format!(
            "{command} copies a SQLite database; on PostgreSQL use pg_dump and pg_restore \
             (the evidence files are in the database; see docs/OPERATIONS.md)"
        ))
    })
}

/// The generated secret's file beside `db`, unless the configuration gives the secret.
fn secret_file(settings: &Settings, db: &Path) -> Option<PathBuf> {
    settings.auth.jwt_secret.is_none().then(|| db.parent().unwrap_or(Path::new(".")).join(SECRET_FILE))
}

fn is_empty_dir(dir: &Path) -> Result<bool, BackupError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(BackupError::Failed(format!("cannot read {}: {e}", dir.display()))),
    }
}

/// Opens a SQLite file as it is, without creating it or applying migrations.
fn open(path: &Path) -> Result<SqliteConnection, BackupError> {
    let url = format!("file:{}?mode=ro", path.display());
    let mut conn = SqliteConnection::establish(&url)
        .map_err(|e| BackupError::Failed(format!("cannot open {}: {e}", path.display())))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")
        .map_err(|e| BackupError::Failed(format!("{}: {e}", path.display())))?;
    Ok(conn)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    quick_check: String,
}

/// Checks a copied database file and counts what it holds.
fn inspect(path: &Path) -> Result<(i64, i64), BackupError> {
    let mut conn = open(path)?;
    let bad = |e: diesel::result::Error| BackupError::Failed(format!("{}: {e}", path.display()));
    let check: Vec<Check> = diesel::sql_query("PRAGMA quick_check").load(&mut conn).map_err(bad)?;
    if check.iter().map(|c| c.quick_check.as_str()).ne(["ok"]) {
        let found: Vec<&str> = check.iter().map(|c| c.quick_check.as_str()).collect();
        return Err(BackupError::Failed(format!("{} is damaged: {}", path.display(), found.join("; "))));
    }
    let count = |conn: &mut SqliteConnection, table: &str| {
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result::<Count>(conn).map(|c| c.n)
    };
    Ok((count(&mut conn, "cases").map_err(bad)?, count(&mut conn, "attachment_files").map_err(bad)?))
}

/// Where a file is written before it is flushed and renamed into place.
fn partial_of(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    to.with_file_name(name)
}

/// Flushes the finished `partial_of(to)` to disk and renames it to `to`, so `to` is
/// never a half-written file.
fn put_in_place(to: &Path) -> Result<(), BackupError> {
    let partial = partial_of(to);
    std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(failed("cannot flush the copy"))?;
    std::fs::rename(&partial, to).map_err(failed(&format!("cannot write {}", to.display())))
}

/// Copies `from` to `to` through a flushed temporary file in `to`'s folder, readable by
/// its owner only.
fn copy_durably(from: &Path, to: &Path) -> Result<(), BackupError> {
    let partial = partial_of(to);
    std::fs::copy(from, &partial).map_err(failed(&format!("cannot copy {}", from.display())))?;
    owner_only(&partial, 0o600)?;
    put_in_place(to)
}

/// Limits `path` to its owner (`mode` 0600 for a file, 0700 for a folder): a backup holds
/// password hashes, evidence and people's records, whatever the operator's umask says.
fn owner_only(path: &Path, mode: u32) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(failed(&format!("cannot restrict {}", path.display())))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn sql_text(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "''"))
}

/// Writes a consistent copy of the running installation into `dir`: the database as of
/// one moment (SQLite's `VACUUM INTO`, which writers do not wait for), checked, and the
/// generated secret. A folder that is not empty is refused unless `force`.
pub fn backup(settings: &Settings, dir: &Path, force: bool) -> Result<Manifest, BackupError> {
    let db = database_file(settings, "backup")?;
    if !db.exists() {
        return Err(BackupError::Refused(format!("there is no database at {}", db.display())));
    }
    if !is_empty_dir(dir)? && !force {
        return Err(BackupError::Refused(format!(
            "{} is not empty; choose an empty folder, or pass --force to replace the backup there",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(failed(&format!("cannot create {}", dir.display())))?;
    owner_only(dir, 0o700)?;
    let _ = std::fs::remove_file(dir.join(MANIFEST_FILE));
    let copy = dir.join(DATABASE_FILE);
    let partial = partial_of(&copy);
    let _ = std::fs::remove_file(&partial);
    let mut conn = open(&db)?;
    conn.batch_execute(&format!("VACUUM INTO {}", sql_text(&partial)))
        .map_err(|e| BackupError::Failed(format!("copying {}: {e}", db.display())))?;
    drop(conn);
    owner_only(&partial, 0o600)?;
    let (cases, attachment_files) = inspect(&partial)?;
    put_in_place(&copy)?;
    let secret = match secret_file(settings, &db) {
        Some(file) if file.exists() => {
            copy_durably(&file, &dir.join(SECRET_FILE))?;
            true
        }
        _ => {
            let _ = std::fs::remove_file(dir.join(SECRET_FILE));
            false
        }
    };
    let manifest = Manifest {
        version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now(),
        cases,
        attachment_files,
        secret,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| BackupError::Failed(e.to_string()))?;
    let manifest_file = dir.join(MANIFEST_FILE);
    std::fs::write(partial_of(&manifest_file), text + "\n").map_err(failed("cannot write the manifest"))?;
    owner_only(&partial_of(&manifest_file), 0o600)?;
    put_in_place(&manifest_file)?;
    Ok(manifest)
}

/// Puts the backup in `dir` back as the database `settings` name, with its secret.
/// Refused when a database is already there, unless `force` (stop the service first).
pub fn restore(settings: &Settings, dir: &Path, force: bool) -> Result<Manifest, BackupError> {
    let db = database_file(settings, "restore")?;
    let manifest: Manifest = match std::fs::read_to_string(dir.join(MANIFEST_FILE)) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| BackupError::Refused(format!("{}: not a backup manifest: {e}", dir.display())))?,
        Err(_) => {
            return Err(BackupError::Refused(format!(
                "{} holds no finished backup ({MANIFEST_FILE} is missing)",
                dir.display()
            )));
        }
    };
    let exists = std::fs::metadata(&db).is_ok_and(|m| m.len() > 0);
    if exists && !force {
        return Err(BackupError::Refused(format!(
            "a database is already at {}; restore puts a backup into an empty data folder \
             (move it away, or stop the service and pass --force to replace it)",
            db.display()
        )));
    }
    inspect(&dir.join(DATABASE_FILE))?;
    let folder = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(failed(&format!("cannot create {}", folder.display())))?;
    // A write-ahead log left by the database being replaced would be replayed into the copy.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    copy_durably(&dir.join(DATABASE_FILE), &db)?;
    if manifest.secret
        && let Some(file) = secret_file(settings, &db)
    {
        copy_durably(&dir.join(SECRET_FILE), &file)?;
    }
    Ok(manifest)
}
