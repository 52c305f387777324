//! HTTP plumbing that the API and the console share: who the client is, and the span a
//! request's log lines carry.

pub mod client;
pub mod download;
pub mod extract;
pub mod files;
pub mod lang;
pub mod middleware;
pub mod problem;
pub mod span;

pub use client::{Proxies, client_addr};
