//! Rows and their queries, one file per aggregate.

pub mod alert;
pub mod attachment;
pub mod audit;
pub mod calendar;
pub mod campaign;
pub mod case;
pub mod decision;
pub mod directive;
pub mod handling;
pub mod imports;
pub mod login_failure;
pub mod reorganisation;
pub mod report;
pub mod rollup;
pub mod session;
pub mod subject;
pub mod tree_at;
pub mod unit;
pub mod user;

/// An id as the service writes them (a UUID, lower-case and hyphenated), if `raw` is one.
pub fn canonical_id(raw: &str) -> Option<String> {
    uuid::Uuid::parse_str(raw).ok().map(|u| u.to_string())
}

/// A path id: anything that is not a UUID cannot name a record, so it is a 404.
pub fn parse_id(raw: &str) -> Result<String, crate::error::Error> {
    canonical_id(raw).ok_or(crate::error::Error::NotFound)
}

/// A new time-ordered id (UUID v7), so ordering by id follows creation.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Who performs a write, and from where: stamped on its audit record.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<String>,
    pub client_addr: Option<String>,
}

impl Actor {
    /// Work done by the command line or the service itself.
    pub fn system() -> Self {
        Actor::default()
    }
}
