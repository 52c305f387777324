//! Bringing in the registers agencies already keep (issue 31): spreadsheets of cases
//! and their handling, read with the text as people typed it.

pub mod columns;
pub mod legacy;
pub mod register;
pub mod sheet;
pub mod template;
