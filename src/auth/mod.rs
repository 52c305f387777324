//! Passwords, tokens and the authenticated caller.

pub mod current_user;
pub mod password;
pub mod token;

pub use current_user::{CurrentUser, TokenOnly};
