//! Catalog reads that every case write would otherwise repeat — the working-day calendar
//! and the severity levels — kept per application (one database) for a short while.
//!
//! A change made through this process forgets them at once ([`Memo::forget`], called by
//! the operations that change them); another instance on the same database, or the
//! command line, is seen within [`FRESH_FOR`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use diesel::QueryResult;
use parking_lot::Mutex;

use crate::db::DbConn;
use crate::domain::calendar::{WorkingCalendar, WorkingWeek};

/// How long a kept read is used before it is read again.
pub const FRESH_FOR: Duration = Duration::from_secs(30);

/// A value read at `at` for `key`.
struct Kept<K, V> {
    key: K,
    at: Instant,
    value: Arc<V>,
}

/// The severity levels in use, as (code, aliases separated by spaces).
pub type Levels = Vec<(String, String)>;

/// The kept reads of one application.
#[derive(Default)]
pub struct Memo {
    calendar: Mutex<Option<Kept<(WorkingWeek, NaiveDate), WorkingCalendar>>>,
    levels: Mutex<Option<Kept<(), Levels>>>,
}

impl Memo {
    /// The calendar deadlines around `today` are counted in, for `week`.
    pub fn calendar(
        &self,
        conn: &mut DbConn,
        week: WorkingWeek,
        today: NaiveDate,
    ) -> QueryResult<Arc<WorkingCalendar>> {
        let key = (week, today);
        kept(&self.calendar, key, |(week, today)| crate::model::calendar::around(conn, week.clone(), *today))
    }

    /// The severity levels in use, as (code, aliases separated by spaces).
    pub fn levels(&self, conn: &mut DbConn) -> QueryResult<Arc<Levels>> {
        kept(&self.levels, (), |()| crate::model::handling::levels_in_use(conn))
    }

    /// Forgets every kept read: after this process changed a catalog or the calendar.
    pub fn forget(&self) {
        *self.calendar.lock() = None;
        *self.levels.lock() = None;
    }
}

/// The value kept in `slot` for `key` if read less than [`FRESH_FOR`] ago; otherwise
/// read afresh with `read` (outside the lock, so a slow read holds nobody up) and kept.
fn kept<K: PartialEq, V>(
    slot: &Mutex<Option<Kept<K, V>>>,
    key: K,
    read: impl FnOnce(&K) -> QueryResult<V>,
) -> QueryResult<Arc<V>> {
    if let Some(k) = slot.lock().as_ref().filter(|k| k.key == key && k.at.elapsed() < FRESH_FOR) {
        return Ok(k.value.clone());
    }
    let at = Instant::now();
    let value = Arc::new(read(&key)?);
    *slot.lock() = Some(Kept { key, at, value: value.clone() });
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_is_kept_for_its_key_and_read_again_for_another_or_once_forgotten() {
        let slot: Mutex<Option<Kept<u32, u32>>> = Mutex::new(None);
        let mut reads = 0;
        let mut read = |k: u32| {
            kept(&slot, k, |k| {
                reads += 1;
                Ok(k * 10)
            })
            .map(|v| *v)
        };
        assert_eq!(read(1), Ok(10));
        assert_eq!(read(1), Ok(10));
        assert_eq!(read(2), Ok(20));
        assert_eq!(reads, 2);
        // Stale: kept longer ago than FRESH_FOR.
        if let Some(k) = slot.lock().as_mut() {
            k.at = Instant::now() - FRESH_FOR - Duration::from_secs(1);
        }
        assert_eq!(kept(&slot, 2, |_| Ok(99)).map(|v| *v), Ok(99));
        *slot.lock() = None;
        assert_eq!(kept(&slot, 2, |_| Ok(7)).map(|v| *v), Ok(7));
    }
}
