//! Signed checkpoints: the ledger's size and root as a C2SP tlog checkpoint, signed as a
//! C2SP signed note with an Ed25519 key kept in a file outside the database.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::{Checkpoint, Hash};

use crate::config::Settings;
use crate::db::schema::ledger_checkpoints;
use crate::db::{DbConn, write_tx};

/// The signing key and the verifier key (public) that goes with it.
pub struct Keys {
    signer: StandardSigner,
    /// `name+keyid+base64(0x01 ‖ public key)`: what a verifier needs.
    pub vkey: String,
}

impl Keys {
    /// The key in `path`; with `create`, a new one is made there (mode 0600) when the file
    /// does not exist. `origin` names the log and the key.
    pub fn load(path: &Path, origin: &str, create: bool) -> Result<Keys, String> {
        let skey = match std::fs::read_to_string(path) {
            Ok(text) => text.trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let skey = new_signing_key(origin)?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                }
                crate::app::write_private(path, &format!("{skey}\n"))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                skey
            }
            Err(e) => return Err(format!("cannot read the audit signing key {}: {e}", path.display())),
        };
        let signer = StandardSigner::new(&skey)
            .map_err(|e| format!("the audit signing key {} is not a signed-note key: {e}", path.display()))?;
        // PRIVATE+KEY+name+id+key: the name holds no '+', the base64 key may.
        let seed = skey.splitn(5, '+').nth(4).and_then(|k| BASE64.decode(k).ok()).unwrap_or_default();
        let sk = ed25519_dalek::SigningKey::try_from(seed.get(1..).unwrap_or_default())
            .map_err(|_| format!("the audit signing key {} is not an Ed25519 key", path.display()))?;
        let name = skey.split('+').nth(2).unwrap_or_default();
        if name != origin {
            return Err(format!(
                "the audit signing key {} is for the log \"{name}\", not \"{origin}\" (audit.origin)",
                path.display()
            ));
        }
        Ok(Keys { signer, vkey: signed_note::new_ed25519_verifier_key(name, &sk.verifying_key()) })
    }

    /// Signs a checkpoint of `size` records with root `root` and the extension lines
    /// `extension` (each ending in a newline, or none): the note's text.
    pub fn sign(&self, origin: &str, size: u64, root: Hash, extension: &str) -> Result<String, String> {
        let text = Checkpoint::new(origin, size, root, extension).map_err(|e| e.to_string())?.to_bytes();
        let mut note = Note::new(&text, &[]).map_err(|e| e.to_string())?;
        note.add_sigs(&[&self.signer as &dyn signed_note::Signer]).map_err(|e| e.to_string())?;
        String::from_utf8(note.to_bytes()).map_err(|e| e.to_string())
    }
}

/// A new signing key named `origin`, in signed-note form.
fn new_signing_key(origin: &str) -> Result<String, String> {
    if !signed_note::is_key_name_valid(origin) {
        return Err(format!("audit.origin \"{origin}\" cannot name a key (no spaces or '+')"));
    }
    let mut seed = [0u8; 32];
    rand::fill(&mut seed);
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    let public = [&[1u8][..], sk.verifying_key().as_bytes()].concat();
    let private = [&[1u8][..], &seed[..]].concat();
    Ok(format!("PRIVATE+KEY+{origin}+{:08x}+{}", signed_note::key_id(origin, &public), BASE64.encode(private)))
}

/// Where the key and the checkpoint copies live: as configured, or next to the
/// database file (SQLite) or in `data/` (PostgreSQL).
pub fn key_path(settings: &Settings) -> PathBuf {
    if !settings.audit.signing_key_file.is_empty() {
        return PathBuf::from(&settings.audit.signing_key_file);
    }
    data_dir(settings).join("audit_signing_key")
}

/// The file checkpoints are appended to.
pub fn file_path(settings: &Settings) -> PathBuf {
    if !settings.audit.checkpoint_file.is_empty() {
        return PathBuf::from(&settings.audit.checkpoint_file);
    }
    let key = key_path(settings);
    key.parent().unwrap_or(Path::new(".")).join("audit_checkpoints.txt")
}

fn data_dir(settings: &Settings) -> PathBuf {
    let sqlite = settings.db_url().ok().and_then(|u| u.sqlite_path());
    match sqlite.as_deref().and_then(Path::parent).filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_path_buf(),
        None if sqlite.is_some() => PathBuf::from("."),
        None => PathBuf::from("data"),
    }
}

/// A checkpoint as kept.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_checkpoints)]
pub struct Kept {
    pub size: i64,
    pub root: String,
    pub note: String,
    pub made_at: NaiveDateTime,
}

/// Seals what is visible, then signs the ledger as it stands, keeps the checkpoint in the
/// database, queues it for `audit.mail_to` (when `mail` says so) and appends it to the
/// copies file; returns it. An unchanged ledger is signed again only if it has no
/// checkpoint yet.
pub fn make(
    conn: &mut DbConn,
    keys: &Keys,
    settings: &Settings,
    now: NaiveDateTime,
    mail: Mail,
) -> Result<Kept, String> {
    super::seal_all(conn, now).map_err(|e| e.to_string())?;
    let size = super::size(conn).map_err(|e| e.to_string())?;
    let latest = latest(conn).map_err(|e| e.to_string())?;
    if let Some(k) = latest.as_ref().filter(|k| k.size == size) {
        return Ok(k.clone());
    }
    let epoch = latest.map_or(1, |k| epoch_of(&k.note));
    let root = super::tree::root(conn, size as u64).map_err(|e| e.to_string())?;
    let note = keys.sign(&settings.audit.origin, size as u64, root, &extension(epoch, None))?;
    let kept = Kept { size, root: hex::encode(root.0), note, made_at: now };
    let inserted = write_tx(conn, |conn| {
        let inserted = crate::per_backend!(conn, |c| diesel::insert_into(ledger_checkpoints::table)
            .values(&kept)
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 1 {
            queue_mail(conn, settings, &kept, mail)?;
        }
        Ok::<_, diesel::result::Error>(inserted)
    })
    .map_err(|e| e.to_string())?;
    if inserted == 1 {
        append(&file_path(settings), &kept.note)?;
    }
    Ok(kept)
}

/// Whether a new checkpoint is mailed to `audit.mail_to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mail {
    /// When none was mailed in the last `audit.mail_every_secs` (the service's loop).
    WhenDue,
    /// Always (an operator's `audit checkpoint`, a restore).
    Now,
}

/// Queues one message per `audit.mail_to` address that sends `kept`, in the caller's
/// transaction; the outbox delivers it like an alert.
fn queue_mail(conn: &mut DbConn, settings: &Settings, kept: &Kept, mail: Mail) -> QueryResult<()> {
    use crate::db::schema::outbox;
    if settings.audit.mail_to.is_empty() {
        return Ok(());
    }
    if mail == Mail::WhenDue {
        let last: Option<NaiveDateTime> = outbox::table
            .filter(outbox::checkpoint_size.is_not_null())
            .select(diesel::dsl::max(outbox::created_at))
            .first(conn)?;
        let every = chrono::Duration::seconds(settings.audit.mail_every_secs as i64);
        if last.is_some_and(|at| kept.made_at - at < every) {
            return Ok(());
        }
    }
    let domain = crate::jobs::mail_domain(settings);
    let messages: Vec<crate::model::alert::OutboxMessage> = settings
        .audit
        .mail_to
        .iter()
        .filter_map(|to| to.parse::<lettre::message::Mailbox>().ok())
        .map(|to| {
            let id = crate::model::new_id();
            crate::model::alert::OutboxMessage {
                message_id: format!("<{id}@{domain}>"),
                id,
                recipient_email: to.email.to_string(),
                recipient_name: to.name.unwrap_or_default(),
                status: "pending".into(),
                attempts: 0,
                next_attempt_at: kept.made_at,
                claimed_until: None,
                last_error: None,
                subject: None,
                created_at: kept.made_at,
                sent_at: None,
                checkpoint_size: Some(kept.size),
            }
        })
        .collect();
    crate::per_backend!(conn, |c| diesel::insert_into(outbox::table).values(&messages).execute(c)).map(drop)
}

/// The checkpoint kept at `size`, if any.
pub fn at_size(conn: &mut DbConn, size: i64) -> QueryResult<Option<Kept>> {
    ledger_checkpoints::table.find(size).select(Kept::as_select()).first(conn).optional()
}

/// The extension lines casetrack adds to a checkpoint: the epoch after a restore (none
/// before the first), and on the checkpoint a restore makes, when the backup was taken.
fn extension(epoch: u32, restored_from: Option<&str>) -> String {
    let mut ext = String::new();
    if epoch > 1 {
        ext.push_str(&format!("{EPOCH} {epoch}\n"));
    }
    if let Some(from) = restored_from {
        ext.push_str(&format!("{RESTORED} {from}\n"));
    }
    ext
}

/// The extension line naming the log's epoch: one more at each restore of a backup.
const EPOCH: &str = "casetrack-epoch";
/// The extension line of the checkpoint a restore makes: when the restored backup was taken.
const RESTORED: &str = "casetrack-restored-from";

/// The epoch a checkpoint's text names (1 when it names none); its signature unchecked.
fn epoch_of(note: &str) -> u32 {
    let Ok(n) = Note::from_bytes(note.as_bytes()) else { return 1 };
    let Ok(cp) = Checkpoint::from_bytes(n.text()) else { return 1 };
    parse_extension(cp.extension()).0
}

fn parse_extension(ext: &str) -> (u32, Option<String>) {
    let mut epoch = 1;
    let mut restored = None;
    for line in ext.lines() {
        if let Some(n) = line.strip_prefix(EPOCH).map(str::trim).and_then(|n| n.parse().ok()) {
            epoch = n;
        }
        if let Some(from) = line.strip_prefix(RESTORED) {
            restored = Some(from.trim().to_string());
        }
    }
    (epoch, restored)
}

/// Marks a restore of a backup in the log: signs a checkpoint of the ledger exactly as
/// restored (nothing is sealed first), in a new epoch, naming when the backup was taken
/// (`backup_taken`), and records the restore in the audit log. Checkpoints of earlier
/// epochs that are larger than it are then reported as superseded by this restore, not
/// as tampering; every other checkpoint must still hold. Needs the signing key: a
/// restore nobody signed is indistinguishable from a truncation, and is reported as one.
pub fn mark_restore(
    conn: &mut DbConn,
    keys: &Keys,
    settings: &Settings,
    backup_taken: &str,
    now: NaiveDateTime,
) -> Result<Kept, String> {
    let size = super::size(conn).map_err(|e| e.to_string())?;
    let root = super::tree::root(conn, size as u64).map_err(|e| e.to_string())?;
    // Epochs already used, in the database and in the copies file (which may hold
    // checkpoints made after the backup was taken).
    let file = file_path(settings);
    let copies = std::fs::read_to_string(&file).unwrap_or_default();
    let kept_notes = list(conn, i64::MAX).map_err(|e| e.to_string())?;
    let seen = kept_notes
        .iter()
        .map(|k| epoch_of(&k.note))
        .chain(super::run::notes_in(&copies).iter().map(|n| epoch_of(n)))
        .max()
        .unwrap_or(1);
    let taken = backup_taken.split_whitespace().collect::<Vec<_>>().join("_");
    let note = keys.sign(&settings.audit.origin, size as u64, root, &extension(seen + 1, Some(&taken)))?;
    let kept = Kept { size, root: hex::encode(root.0), note, made_at: now };
    write_tx(conn, |conn| {
        // The backup may hold a checkpoint of this very size: the restore's takes its place.
        diesel::delete(ledger_checkpoints::table.find(size)).execute(conn)?;
        crate::per_backend!(conn, |c| diesel::insert_into(ledger_checkpoints::table).values(&kept).execute(c))?;
        let detail = serde_json::json!({"size": size, "epoch": seen + 1, "backup_taken": taken});
        crate::model::audit::AuditEntry::record(
            conn,
            &crate::model::Actor::system(),
            now,
            "restore",
            "audit_log",
            &size.to_string(),
            None,
            Some(detail),
        )?;
        queue_mail(conn, settings, &kept, Mail::Now)
    })
    .map_err(|e| e.to_string())?;
    append(&file, &kept.note)?;
    Ok(kept)
}

/// Appends a checkpoint's note to the copies file (a blank line between notes).
fn append(file: &Path, note: &str) -> Result<(), String> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    writeln!(f, "{note}").and_then(|_| f.sync_all()).map_err(|e| format!("cannot write {}: {e}", file.display()))
}

/// The latest checkpoint kept, if any.
pub fn latest(conn: &mut DbConn) -> QueryResult<Option<Kept>> {
    ledger_checkpoints::table.order(ledger_checkpoints::size.desc()).select(Kept::as_select()).first(conn).optional()
}

/// Checkpoints kept, newest first, up to `limit`.
pub fn list(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Kept>> {
    ledger_checkpoints::table.order(ledger_checkpoints::size.desc()).limit(limit).select(Kept::as_select()).load(conn)
}

/// Why a checkpoint cannot be trusted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not a signed note with a checkpoint in it.
    Unreadable(String),
    /// Not signed by the key given (another key, or a bad signature).
    NotSigned(String),
    /// A checkpoint of another log.
    OtherLog(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Unreadable(e) => write!(f, "unreadable checkpoint: {e}"),
            Refused::NotSigned(e) => write!(f, "checkpoint not signed by the log's key: {e}"),
            Refused::OtherLog(o) => write!(f, "checkpoint of another log: {o}"),
        }
    }
}

/// A checkpoint whose signature and origin were checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    pub size: u64,
    pub root: Hash,
    /// 1 until a backup is restored; one more at each restore.
    pub epoch: u32,
    /// On the checkpoint a restore made: when the restored backup was taken.
    pub restored_from: Option<String>,
}

/// Reads a signed checkpoint, checks its signature against `vkey` and its origin.
pub fn open(note: &[u8], vkey: &str, origin: &str) -> Result<Opened, Refused> {
    let verifier = StandardVerifier::new(vkey).map_err(|e| Refused::NotSigned(format!("verifier key: {e}")))?;
    let note = Note::from_bytes(note).map_err(|e| Refused::Unreadable(e.to_string()))?;
    let known = VerifierList::new(vec![Box::new(verifier) as Box<dyn signed_note::Verifier>]);
    note.verify(&known).map_err(|e| Refused::NotSigned(e.to_string()))?;
    let cp = Checkpoint::from_bytes(note.text()).map_err(|e| Refused::Unreadable(e.to_string()))?;
    if cp.origin() != origin {
        return Err(Refused::OtherLog(cp.origin().to_string()));
    }
    let (epoch, restored_from) = parse_extension(cp.extension());
    Ok(Opened { size: cp.size(), root: *cp.hash(), epoch, restored_from })
}
