//! The proof, for one case, that its sealed entries are in a signed checkpoint: what an
//! appeal file carries, checked without the database (`casetrack audit check-proof`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint;
use super::record::Stream;
use crate::db::DbConn;
use crate::db::schema::{audit_log, case_attachments, case_events, ledger};

/// One sealed entry and the hashes that lead from it to the checkpoint's root.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntryProof {
    /// `audit`, `event` or `file`.
    pub stream: String,
    pub id: String,
    /// Its place in the sealed log.
    pub seq: i64,
    /// The exact text that was hashed (a JSON array: the stream, then the stored columns).
    pub record: String,
    /// The RFC 6962 inclusion proof, base64 hashes from the leaf up.
    pub proof: Vec<String>,
}

/// A case's sealed entries with their inclusion proofs against one signed checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseProof {
    pub case_id: String,
    /// The signed checkpoint (C2SP signed note) the proofs lead to.
    pub checkpoint: String,
    /// The key that signed it (`name+id+key`), when this server holds it.
    pub verifier_key: Option<String>,
    pub entries: Vec<EntryProof>,
    /// Entries of the case written after that checkpoint (not covered yet).
    pub not_yet_covered: i64,
}

/// The proof for case `case_id` against the latest checkpoint; `None` before the first.
pub fn for_case(conn: &mut DbConn, case_id: &str, verifier_key: Option<String>) -> QueryResult<Option<CaseProof>> {
    let Some(kept) = checkpoint::latest(conn)? else { return Ok(None) };
    let audit = audit_log::table.filter(audit_log::entity_type.eq("case")).filter(audit_log::entity_id.eq(case_id));
    let events = case_events::table.filter(case_events::case_id.eq(case_id));
    let files = case_attachments::table.filter(case_attachments::case_id.eq(case_id));
    // Per stream: the case's entries, their places, and their records, in three reads.
    let mut sealed: Vec<(i64, Stream, super::record::Record)> = Vec::new();
    for (stream, ids) in [
        (Stream::Audit, audit.select(audit_log::id).load::<String>(conn)?),
        (Stream::Event, events.select(case_events::id).load::<String>(conn)?),
        (Stream::File, files.select(case_attachments::id).load::<String>(conn)?),
    ] {
        let places: Vec<(i64, String)> = ledger::table
            .filter(ledger::stream.eq(stream.as_str()))
            .filter(ledger::entry_id.eq_any(&ids))
            .select((ledger::seq, ledger::entry_id))
            .load(conn)?;
        let mut records = stream.by_ids(conn, &places.iter().map(|(_, id)| id.as_str()).collect::<Vec<_>>())?;
        sealed.extend(places.into_iter().filter_map(|(seq, id)| records.remove(&id).map(|r| (seq, stream, r))));
    }
    sealed.sort_by_key(|(seq, _, _)| *seq);
    let mut entries = Vec::new();
    let mut not_yet_covered = 0;
    for (seq, stream, record) in sealed {
        if seq >= kept.size {
            not_yet_covered += 1;
            continue;
        }
        let proof = super::tree::inclusion(conn, kept.size as u64, seq as u64)?;
        entries.push(EntryProof {
            stream: stream.as_str().to_string(),
            id: record.id,
            seq,
            record: String::from_utf8_lossy(&record.data).into_owned(),
            proof: proof.iter().map(|h| BASE64.encode(h.0)).collect(),
        });
    }
    Ok(Some(CaseProof { case_id: case_id.to_string(), checkpoint: kept.note, verifier_key, entries, not_yet_covered }))
}

/// Checks a proof without the database: the checkpoint's signature with `vkey`, then
/// each entry's record against the checkpoint's root. The number of entries proved.
pub fn check(proof: &CaseProof, vkey: &str, origin: &str) -> Result<usize, String> {
    let opened = checkpoint::open(proof.checkpoint.as_bytes(), vkey, origin).map_err(|e| e.to_string())?;
    let (size, root) = (opened.size, opened.root);
    for e in &proof.entries {
        let hashes = e
            .proof
            .iter()
            .map(|h| {
                let bytes: [u8; 32] =
                    BASE64.decode(h).ok().and_then(|b| b.try_into().ok()).ok_or("a proof hash is not base64")?;
                Ok(tlog_tiles::Hash(bytes))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let leaf = tlog_tiles::record_hash(e.record.as_bytes());
        tlog_tiles::check_record(&hashes, size, root, e.seq as u64, leaf).map_err(|_| {
            format!("{} {} (entry {}) is not in the checkpoint of {size} entries", e.stream, e.id, e.seq)
        })?;
    }
    Ok(proof.entries.len())
}
