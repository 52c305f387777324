//! Time as a dependency, so deadline and expiry logic is tested without sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

/// The source of "now": the system clock, or a manual one tests move by hand.
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The real clock.
    pub fn system() -> Self {
        Clock { manual: None }
    }

    /// A clock standing still at `at` until advanced.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Clock { manual: Some(Arc::new(Mutex::new(at))) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.manual {
            Some(t) => *t.lock().expect("clock lock"),
            None => Utc::now(),
        }
    }

    /// Now as stored in the database (UTC, without zone).
    pub fn now_naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }

    /// Sets a manual clock to `at`; the system clock cannot be set.
    pub fn set(&self, at: DateTime<Utc>) {
        let t = self.manual.as_ref().expect("only a manual clock can be set");
        *t.lock().expect("clock lock") = at;
    }

    /// Moves a manual clock forward; the system clock cannot be moved.
    pub fn advance(&self, by: Duration) {
        let t = self.manual.as_ref().expect("only a manual clock can be advanced");
        let mut guard = t.lock().expect("clock lock");
        *guard += by;
    }
}
