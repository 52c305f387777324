//! Rules with no I/O.

pub mod calendar;
pub mod catalog;
pub mod dates;
pub mod deadline;
pub mod fold;
pub mod report;
pub mod role;
pub mod text;
pub mod validation;
pub mod workflow;
