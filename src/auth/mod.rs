//! Passwords, tokens and the authenticated caller.

pub mod current_user;
pub mod password;
pub mod token;

pub use current_user::{CurrentUser, TokenOnly};

/// Compares two secrets (tokens, CSRF values) in time that does not depend on where
/// they differ.
pub fn constant_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
