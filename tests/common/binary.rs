//! The real binary, run as an operator would: in a folder of its own, against a test database.

use std::process::Command;
use std::time::{Duration, Instant};

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

/// A child process that is stopped if the test fails before it does.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until the server on `port` answers its readiness probe.
pub async fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await.is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
