//! Prometheus metrics, served at `GET /metrics` in the text format.
//!
//! Counted as things happen: requests by route template, method and status with their
//! latency; waits for a pooled connection; sweeps (runs, duration, alerts decided) and
//! deliveries by outcome. Read at each scrape: the pool's connections in use and idle,
//! outbox messages by status, cases by status (from the all-time status rollup, a few
//! hundred rows). One registry per process: the jobs count into it as the handlers do.

use std::sync::LazyLock;

use diesel::dsl::{count_star, sum};
use diesel::prelude::*;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::db::schema::{outbox, status_stats};
use crate::db::{DbConn, DbPool};

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    pool_wait_seconds: Histogram,
    pool_connections: IntGaugeVec,
    sweeps: IntCounter,
    sweep_seconds: Histogram,
    sweep_alerts: IntCounter,
    deliveries: IntCounterVec,
    outbox_messages: IntGaugeVec,
    cases: IntGaugeVec,
    faults: IntCounterVec,
}

/// The methods counted by name.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new_custom(Some("casetrack".into()), None).expect("a valid prefix");
        let ms = |v: &[f64]| v.iter().map(|x| x / 1000.0).collect::<Vec<f64>>();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by route template, method and status"),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let request_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer an HTTP request")
                .buckets(ms(&[1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0])),
            &["route", "method"],
        )
        .expect("valid metric");
        let pool_wait_seconds = Histogram::with_opts(
            HistogramOpts::new("db_pool_wait_seconds", "Time a request waited for a pooled database connection")
                .buckets(ms(&[0.1, 0.5, 1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0])),
        )
        .expect("valid metric");
        let pool_connections = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Pooled database connections, by state (in_use, idle)"),
            &["state"],
        )
        .expect("valid metric");
        let sweeps = IntCounter::new("sweep_runs_total", "Overdue sweeps run by this process").expect("valid metric");
        let sweep_seconds = Histogram::with_opts(
            HistogramOpts::new("sweep_duration_seconds", "Time an overdue sweep took")
                .buckets(ms(&[10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0])),
        )
        .expect("valid metric");
        let sweep_alerts =
            IntCounter::new("sweep_alerts_total", "Alerts the sweeps decided to send").expect("valid metric");
        let deliveries = IntCounterVec::new(
            Opts::new("outbox_deliveries_total", "Delivery attempts, by outcome (sent, retried, failed, cancelled)"),
            &["outcome"],
        )
        .expect("valid metric");
        let outbox_messages = IntGaugeVec::new(Opts::new("outbox_messages", "Outbox messages, by status"), &["status"])
            .expect("valid metric");
        let cases = IntGaugeVec::new(Opts::new("cases", "Cases, by status"), &["status"]).expect("valid metric");
        let faults = IntCounterVec::new(
            Opts::new("faults_total", "Requests answered 503 because the database was unreachable or its storage full"),
            &["kind"],
        )
        .expect("valid metric");
        for kind in [crate::db::fault::Fault::Database, crate::db::fault::Fault::Storage] {
            faults.with_label_values(&[kind.as_str()]);
        }
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(request_seconds.clone()),
            Box::new(pool_wait_seconds.clone()),
            Box::new(pool_connections.clone()),
            Box::new(sweeps.clone()),
            Box::new(sweep_seconds.clone()),
            Box::new(sweep_alerts.clone()),
            Box::new(deliveries.clone()),
            Box::new(outbox_messages.clone()),
            Box::new(cases.clone()),
            Box::new(faults.clone()),
        ] {
            registry.register(c).expect("each metric registered once");
        }
        Metrics {
            registry,
            requests,
            request_seconds,
            pool_wait_seconds,
            pool_connections,
            sweeps,
            sweep_seconds,
            sweep_alerts,
            deliveries,
            outbox_messages,
            cases,
            faults,
        }
    }

    /// One answered request (`route` is the template, never the address). Every label
    /// takes its values from a fixed set, whatever a client sends: the routes the service
    /// has, the standard methods (`other` for the rest), the statuses it answers.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let method = METHODS.iter().find(|m| **m == method).copied().unwrap_or("other");
        self.requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.request_seconds.with_label_values(&[route, method]).observe(seconds);
    }

    /// One request refused for a fault of the database.
    pub fn fault(&self, fault: crate::db::fault::Fault) {
        self.faults.with_label_values(&[fault.as_str()]).inc();
    }

    /// One wait for a pooled connection.
    pub fn pool_wait(&self, seconds: f64) {
        self.pool_wait_seconds.observe(seconds);
    }

    /// One sweep that ran, and the alerts it decided.
    pub fn sweep(&self, seconds: f64, alerts: u64) {
        self.sweeps.inc();
        self.sweep_seconds.observe(seconds);
        self.sweep_alerts.inc_by(alerts);
    }

    /// One delivery pass's outcomes.
    pub fn delivered(&self, sent: u64, retried: u64, failed: u64, cancelled: u64) {
        for (outcome, n) in [("sent", sent), ("retried", retried), ("failed", failed), ("cancelled", cancelled)] {
            self.deliveries.with_label_values(&[outcome]).inc_by(n);
        }
    }

    /// Reads what is counted at scrape time, then renders everything in the text format.
    pub fn render(&self, pool: &DbPool, conn: &mut DbConn) -> QueryResult<String> {
        let state = pool.state();
        self.pool_connections.with_label_values(&["idle"]).set(i64::from(state.idle_connections));
        // This scrape's own connection is counted as in use.
        self.pool_connections.with_label_values(&["in_use"]).set(i64::from(state.connections - state.idle_connections));
        let by_status: Vec<(String, i64)> =
            outbox::table.group_by(outbox::status).select((outbox::status, count_star())).load(conn)?;
        self.outbox_messages.reset();
        for (status, n) in by_status {
            self.outbox_messages.with_label_values(&[&status]).set(n);
        }
        let cases: Vec<(String, Option<i64>)> = status_stats::table
            .group_by(status_stats::status)
            .select((status_stats::status, sum(status_stats::cases)))
            .load(conn)?;
        self.cases.reset();
        for (status, n) in cases {
            self.cases.with_label_values(&[&status]).set(n.unwrap_or(0));
        }
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out).expect("the text format encodes");
        Ok(String::from_utf8(out).expect("the text format is UTF-8"))
    }
}
