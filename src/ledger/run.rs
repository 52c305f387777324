//! The ledger's operations as the command line, the sweeper and the API call them.

use std::path::PathBuf;

use chrono::NaiveDateTime;

use super::checkpoint::{self, Keys};
use super::verify::{self, Report};
use crate::config::Settings;
use crate::db::DbConn;

/// The deployment's signing key, created on first use.
pub fn keys(settings: &Settings) -> Result<Keys, String> {
    Keys::load(&checkpoint::key_path(settings), &settings.audit.origin, true)
}

/// The verifier key of the deployment's signing key, if this server holds that key.
pub fn verifier_key(settings: &Settings) -> Result<String, String> {
    Keys::load(&checkpoint::key_path(settings), &settings.audit.origin, false).map(|k| k.vkey)
}

/// Seals what is visible and signs a checkpoint of it (kept, appended to the file, and
/// mailed as `mail` says).
pub fn checkpoint_now(
    conn: &mut DbConn,
    settings: &Settings,
    now: NaiveDateTime,
    mail: checkpoint::Mail,
) -> Result<checkpoint::Kept, String> {
    let keys = keys(settings)?;
    checkpoint::make(conn, &keys, settings, now, mail)
}

/// Marks the database as restored from a backup taken at `backup_taken` (see
/// [`checkpoint::mark_restore`]), with the deployment's signing key, which must exist.
pub fn mark_restore(
    conn: &mut DbConn,
    settings: &Settings,
    backup_taken: &str,
    now: NaiveDateTime,
) -> Result<checkpoint::Kept, String> {
    let keys = Keys::load(&checkpoint::key_path(settings), &settings.audit.origin, false)?;
    checkpoint::mark_restore(conn, &keys, settings, backup_taken, now)
}

/// The checkpoints of restores the database keeps, whose signatures hold under `vkey`:
/// they tell a restored backup from a truncation whichever copies are checked.
fn restores_kept(conn: &mut DbConn, vkey: &str, origin: &str) -> Result<Vec<checkpoint::Opened>, String> {
    let kept = checkpoint::list(conn, i64::MAX).map_err(|e| e.to_string())?;
    Ok(kept
        .iter()
        .filter_map(|k| checkpoint::open(k.note.as_bytes(), vkey, origin).ok())
        .filter(|o| o.restored_from.is_some())
        .collect())
}

/// The signed notes in a file: one, or many one after the other (the copies file).
pub fn notes_in(text: &str) -> Vec<String> {
    let mut notes = Vec::new();
    let mut current = String::new();
    let mut signed = false;
    let mut in_sigs = false;
    for line in text.lines() {
        if in_sigs {
            if line.starts_with("\u{2014} ") {
                current.push_str(line);
                current.push('\n');
                signed = true;
                continue;
            }
            if signed {
                notes.push(std::mem::take(&mut current));
            }
            in_sigs = false;
            signed = false;
            if line.is_empty() {
                continue;
            }
        }
        if line.is_empty() {
            if !current.is_empty() {
                current.push('\n');
                in_sigs = true;
            }
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    if signed {
        notes.push(current);
    }
    notes
}

/// What `casetrack audit verify` found, for printing, and whether everything held.
pub struct Verdict {
    pub report: Option<Report>,
    pub problems: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.report.as_ref().is_some_and(Report::ok)
    }
}

/// Verifies the database's ledger and each checkpoint in `files` against the verifier
/// key `vkey` (or the one of the deployment's signing key). Never writes.
pub fn verify(
    conn: &mut DbConn,
    settings: &Settings,
    files: &[PathBuf],
    vkey: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
) -> Verdict {
    let mut problems = Vec::new();
    let vkey = match vkey {
        Some(k) => k.to_string(),
        None => match verifier_key(settings) {
            Ok(k) => k,
            Err(e) => {
                problems.push(format!("no key to check checkpoints with: {e} (give --key)"));
                String::new()
            }
        },
    };
    let mut opened = Vec::new();
    for file in files {
        match std::fs::read_to_string(file) {
            Err(e) => problems.push(format!("{}: cannot read: {e}", file.display())),
            Ok(text) => {
                let notes = notes_in(&text);
                if notes.is_empty() {
                    problems.push(format!("{}: holds no signed checkpoint", file.display()));
                }
                for note in notes {
                    match checkpoint::open(note.as_bytes(), &vkey, &settings.audit.origin) {
                        Ok(c) => opened.push(c),
                        Err(e) => problems.push(format!("{}: {e}", file.display())),
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        return Verdict { report: None, problems };
    }
    match restores_kept(conn, &vkey, &settings.audit.origin) {
        Ok(r) => opened.extend(r),
        Err(e) => problems.push(format!("cannot read the checkpoints kept: {e}")),
    }
    match verify::verify(conn, &opened, progress) {
        Ok(report) => Verdict { report: Some(report), problems },
        Err(e) => {
            problems.push(format!("cannot read the ledger: {e}"));
            Verdict { report: None, problems }
        }
    }
}

/// What `GET /cases/{id}/audit-proof` gives: the case's sealed entries with the proof
/// that each is in the latest signed checkpoint. 404 outside the caller's scope (403 for
/// administrators, who do not read cases), 409 before the first checkpoint. The export
/// is audited.
pub fn case_proof(
    conn: &mut DbConn,
    ctx: &crate::casework::Ctx,
    caller: &crate::auth::CurrentUser,
    id: &str,
) -> Result<super::proof::CaseProof, crate::error::Error> {
    use crate::error::{Error, msg};
    let vkey = verifier_key(&ctx.settings).ok();
    crate::db::write_tx(conn, |conn| {
        let (case, _) = crate::casework::visible(conn, caller, id)?;
        let proof = super::proof::for_case(conn, &case.id, vkey)?.ok_or(Error::conflict(msg::no_checkpoint()))?;
        let detail = serde_json::json!({"entries": proof.entries.len(), "not_yet_covered": proof.not_yet_covered});
        crate::model::audit::AuditEntry::record(
            conn,
            &caller.actor(),
            ctx.now(),
            "export_proof",
            "case",
            &case.id,
            None,
            Some(detail),
        )?;
        Ok(proof)
    })
}

/// A verification the service ran (the console's button), kept in memory.
#[derive(Clone)]
pub struct LastCheck {
    pub started_at: NaiveDateTime,
    /// `None` while it runs.
    pub outcome: Option<Result<Report, String>>,
}

/// Verifies the database against every checkpoint it keeps, with the deployment's key.
pub fn verify_kept(conn: &mut DbConn, settings: &Settings) -> Result<Report, String> {
    let vkey = verifier_key(settings)?;
    let mut opened = Vec::new();
    for kept in checkpoint::list(conn, i64::MAX).map_err(|e| e.to_string())? {
        opened.push(checkpoint::open(kept.note.as_bytes(), &vkey, &settings.audit.origin).map_err(|e| e.to_string())?);
    }
    verify::verify(conn, &opened, &mut |_, _| {}).map_err(|e| e.to_string())
}
