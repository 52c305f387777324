//! The real binary, run as an operator would: in a folder of its own, against a test database.

use std::process::Command;

use casetrack::db::Backend;

use super::{JWT_SECRET, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_casetrack");

/// The binary, run in `dir` against `db`, with nothing inherited from a developer's configuration.
pub fn casetrack(db: &TestDb, dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .env_remove("CASETRACK_PROFILE")
        .env_remove("CASETRACK_CONFIG_DIR");
    if db.backend() == Backend::Postgres {
        cmd.env("CASETRACK__AUTH__JWT_SECRET", JWT_SECRET);
    }
    cmd
}
