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

/// Seals what is visible and signs a checkpoint of it (kept, and appended to the file).
pub fn checkpoint_now(conn: &mut DbConn, settings: &Settings, now: NaiveDateTime) -> Result<checkpoint::Kept, String> {
    let keys = keys(settings)?;
    checkpoint::make(conn, &keys, &settings.audit.origin, &checkpoint::file_path(settings), now)
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
) -> Result<super::proof::CaseProof, crate::error::ApiError> {
    use crate::error::{ApiError, msg};
    let vkey = verifier_key(&ctx.settings).ok();
    crate::db::write_tx(conn, |conn| {
        let (case, _) = crate::casework::visible(conn, caller, id)?;
        let proof = super::proof::for_case(conn, &case.id, vkey)?.ok_or(ApiError::conflict(msg::no_checkpoint()))?;
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
