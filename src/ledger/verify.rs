//! Verification: the ledger recomputed from the entries as they are stored now, against
//! the hashes sealed and the checkpoints given. It reads, never writes, and streams (a
//! page of the ledger at a time; the root is folded, not held).

use std::collections::HashMap;

use diesel::prelude::*;
use tlog_tiles::Hash;

use super::checkpoint::Opened;
use super::record::Stream;
use super::tree::{self, Fold};
use crate::db::DbConn;
use crate::db::schema::{ledger, ledger_hashes};

/// How many sealed entries are read at a time.
const PAGE: i64 = 5_000;

/// What changed where verification first failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A sealed entry's content differs from what was sealed.
    Edited,
    /// A sealed entry (or its place in the ledger) is gone.
    Missing,
    /// An entry that claims a place among the sealed ones was never sealed.
    Inserted,
    /// Sealed entries are in another order than they were sealed in.
    Reordered,
    /// The ledger is shorter than a checkpoint that was signed.
    Truncated,
    /// The entries up to a checkpoint no longer give its root (entries changed together
    /// with their sealed hashes).
    Rewritten,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Edited => "edited",
            Kind::Missing => "missing",
            Kind::Inserted => "inserted",
            Kind::Reordered => "reordered",
            Kind::Truncated => "truncated",
            Kind::Rewritten => "rewritten",
        }
    }
}

/// The first place verification failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub kind: Kind,
    /// The ledger position, when the break has one.
    pub seq: Option<i64>,
    /// `audit`, `event` or `file`, and the entry's id, when one entry is named.
    pub entry: Option<(String, String)>,
    pub detail: String,
}

/// What verification found.
#[derive(Debug, Clone)]
pub struct Report {
    /// Sealed entries.
    pub size: i64,
    /// Entries written and not sealed yet (not protected until they are).
    pub unsealed: i64,
    /// The root recomputed from the entries.
    pub root: Hash,
    /// The checkpoint sizes that were checked and held.
    pub held: Vec<u64>,
    /// Restores of a backup that were signed: (size the log was restored at, its epoch,
    /// when the backup was taken).
    pub restores: Vec<(u64, u32, String)>,
    /// Checkpoints of an earlier epoch, larger than a later restore, that the restore
    /// superseded (not checked: the entries past the restore point went with it):
    /// (size, epoch, the size of the restore that superseded it).
    pub superseded: Vec<(u64, u32, u64)>,
    pub first_break: Option<Break>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.first_break.is_none()
    }
}

fn broke(kind: Kind, seq: Option<i64>, entry: Option<(&str, &str)>, detail: String) -> Option<Break> {
    Some(Break { kind, seq, entry: entry.map(|(s, i)| (s.to_string(), i.to_string())), detail })
}

/// Recomputes the ledger from the entries and checks it against its sealed hashes and
/// against `checkpoints` (already opened and their signatures checked). A checkpoint that
/// a signed restore of a later epoch superseded is reported, not checked.
/// `progress` is told (entries done, entries in all) after each page.
pub fn verify(conn: &mut DbConn, checkpoints: &[Opened], progress: &mut dyn FnMut(u64, u64)) -> QueryResult<Report> {
    let size = super::size(conn)?;
    let mut report = Report {
        size,
        unsealed: 0,
        root: tlog_tiles::EMPTY_HASH,
        held: Vec::new(),
        restores: Vec::new(),
        superseded: Vec::new(),
        first_break: None,
    };
    let restores: Vec<&Opened> = checkpoints.iter().filter(|c| c.restored_from.is_some()).collect();
    let mut wanted: Vec<(u64, Hash)> = Vec::new();
    for c in checkpoints {
        match restores.iter().filter(|r| r.epoch > c.epoch && c.size > r.size).min_by_key(|r| r.epoch) {
            Some(r) => report.superseded.push((c.size, c.epoch, r.size)),
            None => wanted.push((c.size, c.root)),
        }
    }
    for r in restores {
        report.restores.push((r.size, r.epoch, r.restored_from.clone().unwrap_or_default()));
    }
    wanted.sort_by_key(|c| c.0);
    wanted.dedup();
    report.superseded.sort();
    report.superseded.dedup();
    report.restores.sort();
    report.restores.dedup();
    let mut fold = Fold::default();
    let mut last: HashMap<Stream, (i64, String)> = HashMap::new();
    let mut next = 0i64;
    let mut check_at = wanted.iter().peekable();
    // A checkpoint of an empty ledger is checked before anything is read.
    while let Some(&&(0, r)) = check_at.peek() {
        if r != tlog_tiles::EMPTY_HASH {
            report.first_break = broke(Kind::Rewritten, None, None, "checkpoint of size 0".into());
            return Ok(report);
        }
        report.held.push(0);
        check_at.next();
    }
    'pages: while next < size {
        let rows: Vec<super::Sealed> = ledger::table
            .filter(ledger::seq.ge(next))
            .order(ledger::seq)
            .limit(PAGE)
            .select(super::Sealed::as_select())
            .load(conn)?;
        if rows.is_empty() {
            report.first_break =
                broke(Kind::Missing, Some(next), None, format!("the ledger has no entry {next} of {size}"));
            break;
        }
        let mut entries = HashMap::new();
        for stream in Stream::ALL {
            let ids: Vec<&str> =
                rows.iter().filter(|r| r.stream == stream.as_str()).map(|r| r.entry_id.as_str()).collect();
            if !ids.is_empty() {
                entries.insert(stream, stream.by_ids(conn, &ids)?);
            }
        }
        let idx: Vec<i64> = rows.iter().map(|r| tlog_tiles::stored_hash_index(0, r.seq as u64) as i64).collect();
        let sealed: HashMap<i64, String> = ledger_hashes::table
            .filter(ledger_hashes::idx.eq_any(&idx))
            .select((ledger_hashes::idx, ledger_hashes::hash))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect();
        for (row, i) in rows.iter().zip(idx) {
            let place = Some((row.stream.as_str(), row.entry_id.as_str()));
            if row.seq != next {
                report.first_break = broke(Kind::Missing, Some(next), None, format!("ledger entry {next} is gone"));
                break 'pages;
            }
            let Some(stream) = Stream::parse(&row.stream) else {
                report.first_break = broke(Kind::Edited, Some(row.seq), place, "unknown stream".into());
                break 'pages;
            };
            let Some(entry) = entries.get(&stream).and_then(|m| m.get(&row.entry_id)) else {
                report.first_break = broke(Kind::Missing, Some(row.seq), place, "the sealed entry is gone".into());
                break 'pages;
            };
            let leaf = tlog_tiles::record_hash(&entry.data);
            let Some(stored) = sealed.get(&i).and_then(|h| tree::parse(h)) else {
                report.first_break = broke(Kind::Missing, Some(row.seq), place, "its sealed hash is gone".into());
                break 'pages;
            };
            if leaf != stored {
                let elsewhere: Option<i64> = ledger_hashes::table
                    .filter(ledger_hashes::hash.eq(hex::encode(leaf.0)))
                    .select(ledger_hashes::idx)
                    .first(conn)
                    .optional()?;
                report.first_break = match elsewhere.map(|i| tlog_tiles::split_stored_hash_index(i as u64)) {
                    Some((0, n)) => broke(
                        Kind::Reordered,
                        Some(row.seq),
                        place,
                        format!("this entry was sealed at position {n}, not {}", row.seq),
                    ),
                    _ => broke(Kind::Edited, Some(row.seq), place, "its content differs from what was sealed".into()),
                };
                break 'pages;
            }
            let key = (entry.mark, entry.id.clone());
            if entry.mark != row.mark || last.get(&stream).is_some_and(|l| *l >= key) {
                report.first_break =
                    broke(Kind::Reordered, Some(row.seq), place, "out of the order it was written in".into());
                break 'pages;
            }
            last.insert(stream, key);
            fold.push(leaf);
            next += 1;
            while let Some(&&(at, r)) = check_at.peek() {
                if at != fold.size() {
                    break;
                }
                if fold.root() != r {
                    report.first_break = broke(
                        Kind::Rewritten,
                        Some(row.seq),
                        None,
                        format!("the first {at} entries do not give the root the checkpoint signed"),
                    );
                    break 'pages;
                }
                report.held.push(at);
                check_at.next();
            }
        }
        progress(next as u64, size as u64);
    }
    report.root = fold.root();
    if report.first_break.is_none()
        && let Some(&(at, _)) = check_at.next()
    {
        report.first_break = broke(
            Kind::Truncated,
            Some(size),
            None,
            format!("the ledger holds {size} entries; a checkpoint signed {at}"),
        );
    }
    for stream in Stream::ALL {
        if report.first_break.is_none()
            && let Some(l) = last.get(&stream)
            && let Some(id) = stream.slipped_in(conn, l, 1)?.pop()
        {
            report.first_break = broke(
                Kind::Inserted,
                None,
                Some((stream.as_str(), &id)),
                "written among the sealed entries but never sealed".into(),
            );
        }
        report.unsealed += stream.unsealed_count(conn, last.get(&stream).cloned())?;
    }
    Ok(report)
}
