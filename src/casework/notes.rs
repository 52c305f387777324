//! What is added to a case without changing it: comments and evidence files.

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Ctx, visible};
use crate::auth::CurrentUser;
use crate::db::{DbConn, write_tx};
use crate::domain::limits::COMMENT_MAX;
use crate::domain::text;
use crate::domain::workflow::{self, Addition};
use crate::error::Error;
use crate::error::msg;
use crate::model::attachment::{Attachment, AttachmentFile};
use crate::model::audit::AuditEntry;
use crate::model::case::{CaseEvent, Comment};
use crate::model::new_id;

/// Adds a comment to a case the caller may see; returns its id and cleaned text.
pub fn comment(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    id: &str,
    body: Option<&str>,
) -> Result<(String, String), Error> {
    super::scope_of(caller)?;
    let case_id = super::parse_id(id)?;
    let text = match body.map(|b| text::clean_required(b, COMMENT_MAX)) {
        Some(Ok(t)) => t,
        Some(Err(m)) => return Err(Error::field("body", m)),
        None => return Err(Error::field("body", msg::required())),
    };
    let now = ctx.now();
    write_tx(conn, |conn| {
        let (case, _) = visible(conn, caller, &case_id)?;
        if !workflow::accepts(Addition::Comment, case.status) {
            return Err(Error::conflict(msg::not_editable(case.status.as_str())));
        }
        let comment_id = new_id();
        Comment::insert(conn, &comment_id, &case_id, &caller.user.id, &text, now)?;
        let detail = json!({"comment_id": comment_id, "body": text});
        CaseEvent::record(conn, &case_id, Some(&caller.user.id), now, "comment", detail.clone())?;
        AuditEntry::record(conn, &caller.actor(), now, "comment", "case", &case_id, None, Some(detail))?;
        Ok((comment_id, text))
    })
}

/// An evidence file as received.
pub struct Upload {
    pub file_name: String,
    /// The type the sender declared; checked against the content.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Adds several evidence files to a case in one transaction: one refused file keeps none.
pub fn attach_all(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    id: &str,
    uploads: Vec<Upload>,
) -> Result<Vec<Attachment>, Error> {
    write_tx(conn, |conn| uploads.into_iter().map(|u| attach(conn, ctx, caller, id, u)).collect())
}

/// Attaches an evidence file to a case the caller may see: checks its type and content,
/// stores it under its SHA-256 (outside the database, once per content), then records it.
pub fn attach(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    id: &str,
    upload: Upload,
) -> Result<Attachment, Error> {
    let limits = &ctx.settings.cases;
    check_upload(limits, &upload)?;
    let Upload { file_name, content_type, bytes } = upload;
    let (case, _) = visible(conn, caller, id)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let now = ctx.now();
    write_tx(conn, |conn| {
        // Read again inside the transaction: a case concluded meanwhile takes nothing more.
        let (case, _) = visible(conn, caller, &case.id)?;
        if !workflow::accepts(Addition::Evidence, case.status) {
            return Err(Error::conflict(msg::no_evidence_now(case.status.as_str())));
        }
        AttachmentFile::put(conn, &sha256, &bytes, now)?;
        let a = Attachment {
            id: new_id(),
            case_id: case.id.clone(),
            uploaded_by: caller.user.id.clone(),
            file_name,
            content_type,
            size_bytes: bytes.len() as i64,
            sha256,
            created_at: now,
        };
        a.insert(conn)?;
        let detail =
            json!({"attachment_id": a.id, "file_name": a.file_name, "size_bytes": a.size_bytes, "sha256": a.sha256});
        CaseEvent::record(conn, &case.id, Some(&caller.user.id), now, "attachment", detail.clone())?;
        AuditEntry::record(conn, &caller.actor(), now, "attach", "case", &case.id, None, Some(detail))?;
        Ok(a)
    })
}

/// Whether an evidence file would be accepted (size, declared type, content), before
/// anything is stored: `attach` checks it, and the console checks a new case's files
/// with it before logging the case.
pub fn check_upload(limits: &crate::config::CaseSettings, upload: &Upload) -> Result<(), Error> {
    let (content_type, bytes) = (&upload.content_type, &upload.bytes);
    if bytes.is_empty() {
        return Err(Error::field("file", msg::file_empty()));
    }
    if bytes.len() > limits.attachment_max_bytes {
        return Err(Error::PayloadTooLarge { max_bytes: limits.attachment_max_bytes });
    }
    if !limits.attachment_types.iter().any(|t| t == content_type) {
        return Err(Error::field("file", msg::file_type(content_type, &limits.attachment_types)));
    }
    if !content_matches(content_type, bytes) {
        return Err(Error::field("file", msg::file_content(content_type)));
    }
    Ok(())
}

/// Does the content look like what it claims to be? (Types without a signature pass.)
fn content_matches(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "application/pdf" => bytes.starts_with(b"%PDF-"),
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        t if t.starts_with("text/") => std::str::from_utf8(bytes).is_ok_and(|s| !s.contains('\0')),
        _ => true,
    }
}

/// Where an earlier version kept a file with this digest, under `cases.attachment_dir`.
fn folder_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(sha256.get(..2).unwrap_or("")).join(sha256)
}

/// Moves into the database the files an earlier version kept in `dir`, a batch at a time;
/// each file is checked against its digest, and the folder is left as it was. Returns
/// how many were moved; a file that is missing or does not match is logged and skipped.
pub fn adopt_files(conn: &mut DbConn, dir: &Path, now: chrono::NaiveDateTime) -> Result<usize, Error> {
    let mut moved = 0;
    let mut skipped = std::collections::BTreeSet::new();
    loop {
        let batch: Vec<String> = AttachmentFile::missing(conn, 100 + skipped.len() as i64)?
            .into_iter()
            .filter(|d| !skipped.contains(d))
            .collect();
        if batch.is_empty() {
            return Ok(moved);
        }
        for sha256 in batch {
            let path = folder_path(dir, &sha256);
            match std::fs::read(&path) {
                Ok(bytes) if hex::encode(Sha256::digest(&bytes)) == sha256 => {
                    write_tx(conn, |conn| Ok::<_, Error>(AttachmentFile::put(conn, &sha256, &bytes, now)?))?;
                    moved += 1;
                }
                other => {
                    let why = other
                        .map(|_| "content does not match its digest".to_string())
                        .unwrap_or_else(|e| e.to_string());
                    tracing::error!(file = %path.display(), error = %why, "an attachment's file cannot be moved into the database");
                    skipped.insert(sha256);
                }
            }
        }
    }
}
