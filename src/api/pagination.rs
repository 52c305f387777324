//! Keyset pagination: `?limit=&cursor=`, answered as `{items, next_cursor}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

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

pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

impl PageRequest {
    /// Checks `limit` (1..=500) and decodes `cursor`; both errors name their parameter.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let mut v = crate::error::Validator::new();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        v.check((1..=MAX_LIMIT).contains(&limit), "limit", format!("Must be between 1 and {MAX_LIMIT}."));
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                // Every list is keyed by id: a cursor decodes to one, checked here before it
                // reaches SQL (PostgreSQL cannot even compare text holding a NUL byte).
                let decoded = URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|key| uuid::Uuid::parse_str(key).is_ok_and(|u| u.to_string() == *key));
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

    /// Cuts the fetched rows to the page and makes the cursor from the last key.
    pub fn page<R, T>(&self, mut rows: Vec<R>, key: impl Fn(&R) -> String, view: impl FnMut(R) -> T) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more { rows.last().map(|r| cursor_for(&key(r))) } else { None };
        Page { items: rows.into_iter().map(view).collect(), next_cursor }
    }
}
