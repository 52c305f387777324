//! The limits on what a person types, in one place: the checks in the core enforce them
//! and the console's forms state them (`maxlength`, `min`, `max`), so the two never differ.

/// A case's title, in characters.
pub const TITLE_MAX: usize = 300;
/// A case's description.
pub const DESCRIPTION_MAX: usize = 10_000;
/// A person's or body's name, a position, a unit's or an account holder's name.
pub const NAME_MAX: usize = 200;
/// The identifier an agency gives a person (a personnel number).
pub const IDENTIFIER_MAX: usize = 50;
/// The note of a step in a case's handling.
pub const NOTE_MAX: usize = 5_000;
/// A comment on a case.
pub const COMMENT_MAX: usize = 5_000;
/// The authority that decided a measure.
pub const AUTHORITY_MAX: usize = 200;
/// A decision's reference number.
pub const REFERENCE_MAX: usize = 100;
/// A decision's note.
pub const DECISION_NOTE_MAX: usize = 2_000;
/// The text a search looks for.
pub const QUERY_MAX: usize = 200;
/// The longest handling period `due_in_working_days` may set: about a year and a half.
pub const WORKING_DAYS_MAX: i64 = 365;
/// A new password's shortest length.
pub const PASSWORD_MIN: usize = 10;
/// A new password's longest length.
pub const PASSWORD_MAX: usize = 128;
