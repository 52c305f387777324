//! casetrack: directive compliance tracking — campaigns, violation cases, handling, escalation.

pub mod accounts;
pub mod administration;
pub mod api;
pub mod app;
pub mod auth;
pub mod backup;
pub mod campaigns;
pub mod casework;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod signin;
pub mod state;
pub mod telemetry;
pub mod unit_tree;
pub mod web;
