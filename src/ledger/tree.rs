//! The Merkle tree's stored hashes, read from `ledger_hashes` (and, while sealing, from
//! the hashes of the same transaction not written yet), and the root of a run of
//! records folded as they stream past.

use std::cell::RefCell;
use std::collections::BTreeMap;

use diesel::prelude::*;
use tlog_tiles::{Hash, HashReader};

use crate::db::DbConn;
use crate::db::schema::ledger_hashes;

/// Hashes stored by earlier seals, plus those of the seal under way.
#[derive(Default)]
pub struct DbHashes {
    /// Computed in this transaction, by stored index.
    pub pending: BTreeMap<u64, Hash>,
}

impl DbHashes {
    /// The hashes to store for record `n` whose record hash is `leaf`.
    pub fn append(&self, conn: &mut DbConn, n: u64, leaf: Hash) -> QueryResult<Vec<(u64, Hash)>> {
        let reader = Reader { conn: RefCell::new(conn), pending: &self.pending };
        let hashes = tlog_tiles::stored_hashes_for_record_hash(n, leaf, &reader).map_err(fault)?;
        let first = tlog_tiles::stored_hash_index(0, n);
        Ok(hashes.into_iter().enumerate().map(|(k, h)| (first + k as u64, h)).collect())
    }
}

/// The root of the tree of the first `size` records, from the stored hashes.
pub fn root(conn: &mut DbConn, size: u64) -> QueryResult<Hash> {
    let pending = BTreeMap::new();
    let reader = Reader { conn: RefCell::new(conn), pending: &pending };
    tlog_tiles::tree_hash(size, &reader).map_err(fault)
}

/// The proof that record `n` is in the tree of `size` records.
pub fn inclusion(conn: &mut DbConn, size: u64, n: u64) -> QueryResult<Vec<Hash>> {
    let pending = BTreeMap::new();
    let reader = Reader { conn: RefCell::new(conn), pending: &pending };
    tlog_tiles::prove_record(size, n, &reader).map_err(fault)
}

/// The first stored index of record `n`: every hash stored for it and after it is at this
/// index or above.
pub fn first_index(n: u64) -> u64 {
    tlog_tiles::stored_hash_index(0, n)
}

/// A hash from its hex form.
pub fn parse(hex_text: &str) -> Option<Hash> {
    let bytes: [u8; 32] = hex::decode(hex_text).ok()?.try_into().ok()?;
    Some(Hash(bytes))
}

fn fault(e: tlog_tiles::Error) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("ledger tree: {e}").into())
}

struct Reader<'a> {
    conn: RefCell<&'a mut DbConn>,
    pending: &'a BTreeMap<u64, Hash>,
}

impl HashReader for Reader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let wanted: Vec<i64> = indexes.iter().filter(|i| !self.pending.contains_key(i)).map(|&i| i as i64).collect();
        let mut found: BTreeMap<u64, Hash> = BTreeMap::new();
        if !wanted.is_empty() {
            let mut conn = self.conn.borrow_mut();
            let rows: Vec<(i64, String)> = ledger_hashes::table
                .filter(ledger_hashes::idx.eq_any(&wanted))
                .select((ledger_hashes::idx, ledger_hashes::hash))
                .load(&mut **conn)
                .map_err(|e| tlog_tiles::Error::InvalidInput(e.to_string()))?;
            for (i, h) in rows {
                found.insert(i as u64, parse(&h).ok_or(tlog_tiles::Error::MalformedHash)?);
            }
        }
        indexes
            .iter()
            .map(|i| {
                self.pending
                    .get(i)
                    .or_else(|| found.get(i))
                    .copied()
                    .ok_or_else(|| tlog_tiles::Error::InvalidInput(format!("stored hash {i} is missing")))
            })
            .collect()
    }
}

/// The root of records folded one by one, keeping only the roots of the complete
/// subtrees (at most one per bit of the count): memory does not grow with the log.
#[derive(Default, Clone)]
pub struct Fold {
    size: u64,
    /// (height, hash) of complete subtrees, largest first.
    stack: Vec<(u32, Hash)>,
}

impl Fold {
    /// Adds the next record hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(h, left)) = self.stack.last() {
            if h != node.0 {
                break;
            }
            self.stack.pop();
            node = (h + 1, tlog_tiles::node_hash(left, node.1));
        }
        self.stack.push(node);
        self.size += 1;
    }

    /// How many records were folded.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the records folded so far (RFC 6962).
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        let Some(&(_, mut acc)) = it.next() else { return tlog_tiles::EMPTY_HASH };
        for &(_, left) in it {
            acc = tlog_tiles::node_hash(left, acc);
        }
        acc
    }
}
