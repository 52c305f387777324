//! Keyset pagination: `?limit=&cursor=`, answered as `{items, next_cursor}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::error::Error;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// `?limit=&cursor=` alone, for lists that take no filter.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A page of a list; `next_cursor` is null on the last page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The validated limit and the key after which the page starts.
/// The cursor that continues a list after the row with this key.
pub fn cursor_for(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// The key a cursor of [`cursor_for`] holds; `None` for anything that is not one.
pub fn key_of(cursor: &str) -> Option<String> {
    URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|b| String::from_utf8(b).ok())
}

pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

impl PageRequest {
    /// Checks `limit` (1..=500) and decodes `cursor`; both errors name their parameter.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, Error> {
        // Every list is keyed by id: a cursor decodes to one, checked here before it
        // reaches SQL (PostgreSQL cannot even compare text holding a NUL byte).
        Self::parse_keyed(limit, cursor, |key| uuid::Uuid::parse_str(key).is_ok_and(|u| u.to_string() == key))
    }

    /// Like [`PageRequest::parse`] for a list keyed by something else than an id: `valid`
    /// says which keys a cursor may hold.
    pub fn parse_keyed(limit: Option<i64>, cursor: Option<&str>, valid: impl Fn(&str) -> bool) -> Result<Self, Error> {
        let mut v = crate::error::Validator::new();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        v.check((1..=MAX_LIMIT).contains(&limit), "limit", crate::error::msg::number_range(1, MAX_LIMIT));
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let decoded = key_of(c).filter(|key| valid(key));
                v.check(decoded.is_some(), "cursor", crate::error::msg::bad_cursor());
                decoded
            }
        };
        v.finish()?;
        Ok(PageRequest { limit, after })
    }

    /// How many rows to fetch: one more than the page, to learn whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// A page of a short list held whole in memory (a catalog, a case's files), in the
    /// list's own order: the rows after the cursor's key (none when that row is gone).
    pub fn page_of_all<R, T>(&self, rows: Vec<R>, key: impl Fn(&R) -> String, view: impl FnMut(R) -> T) -> Page<T> {
        let start = match &self.after {
            None => 0,
            Some(after) => rows.iter().position(|r| key(r) == *after).map_or(rows.len(), |i| i + 1),
        };
        let rest: Vec<R> = rows.into_iter().skip(start).take(self.fetch() as usize).collect();
        self.page(rest, key, view)
    }

    /// Cuts the fetched rows to the page and makes the cursor from the last key.
    pub fn page<R, T>(&self, mut rows: Vec<R>, key: impl Fn(&R) -> String, view: impl FnMut(R) -> T) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more { rows.last().map(|r| cursor_for(&key(r))) } else { None };
        Page { items: rows.into_iter().map(view).collect(), next_cursor }
    }
}
