//! The HTTP layer the API and the console share: the server that serves both (`app`, also
//! `casetrack::app`), who the client is, problem+json, and the span a request's log lines
//! carry. Nothing below it speaks HTTP.

pub mod app;
pub mod client;
pub mod download;
pub mod extract;
pub mod files;
pub mod lang;
pub mod middleware;
pub mod problem;
pub mod span;

pub use client::{Proxies, client_addr};
