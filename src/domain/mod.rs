//! Rules with no I/O.

pub mod role;
pub mod text;
