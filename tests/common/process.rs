//! A server run as a child process: a free port, waiting until it is ready, stopping it
//! when the caller ends. Shared by the tests (`common::binary`) and the benchmark
//! (`benches/api.rs` includes this file), so both start the binary the same way.

use std::time::{Duration, Instant};

/// A child process that is stopped if the test (or the run) fails before it does.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until the server on `port` says it is ready (`/readyz` answers 2xx).
pub async fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let http = reqwest::Client::new();
    loop {
        let probe = http.get(format!("http://127.0.0.1:{port}/readyz")).send().await;
        if probe.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(Instant::now() < deadline, "the server on port {port} did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
