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

use crate::db::DbConn;
use crate::db::schema::ledger_checkpoints;

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

    /// Signs a checkpoint of `size` records with root `root`: the note's text.
    pub fn sign(&self, origin: &str, size: u64, root: Hash) -> Result<String, String> {
        let text = Checkpoint::new(origin, size, root, "").map_err(|e| e.to_string())?.to_bytes();
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
pub fn key_path(settings: &crate::config::Settings) -> PathBuf {
    if !settings.audit.signing_key_file.is_empty() {
        return PathBuf::from(&settings.audit.signing_key_file);
    }
    data_dir(settings).join("audit_signing_key")
}

/// The file checkpoints are appended to.
pub fn file_path(settings: &crate::config::Settings) -> PathBuf {
    if !settings.audit.checkpoint_file.is_empty() {
        return PathBuf::from(&settings.audit.checkpoint_file);
    }
    let key = key_path(settings);
    key.parent().unwrap_or(Path::new(".")).join("audit_checkpoints.txt")
}

fn data_dir(settings: &crate::config::Settings) -> PathBuf {
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
/// database and appends it to `file`; returns it. An unchanged ledger is signed again
/// only if it has no checkpoint yet.
pub fn make(conn: &mut DbConn, keys: &Keys, origin: &str, file: &Path, now: NaiveDateTime) -> Result<Kept, String> {
    super::seal_all(conn, now).map_err(|e| e.to_string())?;
    let size = super::size(conn).map_err(|e| e.to_string())?;
    if let Some(k) = latest(conn).map_err(|e| e.to_string())?.filter(|k| k.size == size) {
        return Ok(k);
    }
    let root = super::tree::root(conn, size as u64).map_err(|e| e.to_string())?;
    let note = keys.sign(origin, size as u64, root)?;
    let kept = Kept { size, root: hex::encode(root.0), note, made_at: now };
    let inserted = crate::per_backend!(conn, |c| diesel::insert_into(ledger_checkpoints::table)
        .values(&kept)
        .on_conflict_do_nothing()
        .execute(c))
    .map_err(|e| e.to_string())?;
    if inserted == 1 {
        append(file, &kept.note)?;
    }
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

/// Reads a signed checkpoint, checks its signature against `vkey` and its origin:
/// (size, root).
pub fn open(note: &[u8], vkey: &str, origin: &str) -> Result<(u64, Hash), Refused> {
    let verifier = StandardVerifier::new(vkey).map_err(|e| Refused::NotSigned(format!("verifier key: {e}")))?;
    let note = Note::from_bytes(note).map_err(|e| Refused::Unreadable(e.to_string()))?;
    let known = VerifierList::new(vec![Box::new(verifier) as Box<dyn signed_note::Verifier>]);
    note.verify(&known).map_err(|e| Refused::NotSigned(e.to_string()))?;
    let cp = Checkpoint::from_bytes(note.text()).map_err(|e| Refused::Unreadable(e.to_string()))?;
    if cp.origin() != origin {
        return Err(Refused::OtherLog(cp.origin().to_string()));
    }
    Ok((cp.size(), *cp.hash()))
}
