//! Checking input field by field: every bad field is collected before one answer.

use serde::Serialize;

/// One bad field of a request, with a message meant for the person who typed it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    /// The message's key in the console's catalogs (`err-…`), when it has one.
    #[serde(skip)]
    #[schema(ignore)]
    pub key: Option<&'static str>,
    /// The values the catalog's message is filled with.
    #[serde(skip)]
    #[schema(ignore)]
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<Message>) -> Self {
        let m = message.into();
        FieldError { field: field.into(), message: m.text, key: m.key, args: m.args }
    }
}

/// What is wrong with a value: the English text the API sends, and (for the messages
/// people meet in the console) a catalog key and arguments to say it in their language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub key: Option<&'static str>,
    pub args: Vec<(&'static str, String)>,
}

impl Message {
    fn keyed(key: &'static str, text: impl Into<String>, args: Vec<(&'static str, String)>) -> Self {
        Message { text: text.into(), key: Some(key), args }
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message { text: text.into(), key: None, args: Vec::new() }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message { text, key: None, args: Vec::new() }
    }
}

impl From<&String> for Message {
    fn from(text: &String) -> Self {
        text.as_str().into()
    }
}

/// The messages with a catalog key, each made in one place. The console shows
/// `err-<key>` from its catalogs; a test checks every key is in every language.
pub mod msg {
    use super::Message;

    /// Every key a [`Message`] is made with.
    pub const KEYS: &[&str] = &[
        "required",
        "empty",
        "too-long",
        "control-chars",
        "one-of",
        "date-form",
        "instant-form",
        "date-range",
        "not-future",
        "must-be-future",
        "password-short",
        "password-long",
        "password-username",
        "password-wrong",
        "note-required",
        "name-responsible-unit",
        "set-deadline",
        "record-decision",
        "no-unit",
        "no-responsible-unit",
        "unit-not-targeted",
        "person-name-needed",
        "cite-indicator",
        "no-indicator",
        "indicator-other-directive",
        "indicator-retired",
        "before-campaign",
        "no-campaign",
        "file-empty",
        "file-type",
        "file-content",
        "file-too-large",
    ];

    pub fn required() -> Message {
        Message::keyed("required", "This field is required.", vec![])
    }
    pub fn empty() -> Message {
        Message::keyed("empty", "Must not be empty.", vec![])
    }
    pub fn too_long(max: usize) -> Message {
        Message::keyed("too-long", format!("Must be at most {max} characters."), vec![("max", max.to_string())])
    }
    pub fn control_chars() -> Message {
        Message::keyed("control-chars", "Must not contain control characters.", vec![])
    }
    /// A value outside a fixed list; the console offers the list, so it names none.
    pub fn one_of(values: &[&str]) -> Message {
        Message::keyed("one-of", format!("Must be one of: {}.", values.join(", ")), vec![])
    }
    pub fn date_form() -> Message {
        Message::keyed("date-form", "Use a date like 2024-09-25.", vec![])
    }
    pub fn instant_form() -> Message {
        Message::keyed("instant-form", "Use a date (2024-09-25) or an instant (2024-09-25T03:00:00Z).", vec![])
    }
    pub fn date_range(min_year: i32, max_year: i32) -> Message {
        Message::keyed(
            "date-range",
            format!("Must be between {min_year}-01-01 and {max_year}-12-31."),
            vec![("min", min_year.to_string()), ("max", max_year.to_string())],
        )
    }
    pub fn not_future() -> Message {
        Message::keyed("not-future", "Must not be in the future.", vec![])
    }
    pub fn must_be_future() -> Message {
        Message::keyed("must-be-future", "Must be in the future.", vec![])
    }
    pub fn password_short() -> Message {
        Message::keyed("password-short", "Must be at least 10 characters long.", vec![])
    }
    pub fn password_long() -> Message {
        Message::keyed("password-long", "Must be at most 128 characters long.", vec![])
    }
    pub fn password_username() -> Message {
        Message::keyed("password-username", "Must not contain the username.", vec![])
    }
    pub fn password_wrong() -> Message {
        Message::keyed("password-wrong", "The current password is not correct.", vec![])
    }
    pub fn note_required() -> Message {
        Message::keyed("note-required", "A note is required for this action.", vec![])
    }
    pub fn name_responsible_unit() -> Message {
        Message::keyed("name-responsible-unit", "Name the unit responsible for handling the case.", vec![])
    }
    pub fn set_deadline() -> Message {
        Message::keyed("set-deadline", "Set the deadline for handling.", vec![])
    }
    pub fn record_decision() -> Message {
        Message::keyed("record-decision", "Record the decision: its measure and the date it was taken.", vec![])
    }
    pub fn no_unit() -> Message {
        Message::keyed("no-unit", "There is no unit with this id.", vec![])
    }
    pub fn no_responsible_unit() -> Message {
        Message::keyed("no-responsible-unit", "This case has no responsible unit yet; name one.", vec![])
    }
    pub fn unit_not_targeted() -> Message {
        Message::keyed("unit-not-targeted", "This unit is not among the campaign's target units or below them.", vec![])
    }
    pub fn person_name_needed() -> Message {
        Message::keyed("person-name-needed", "An individual subject needs a name.", vec![])
    }
    pub fn cite_indicator() -> Message {
        Message::keyed("cite-indicator", "Cite at least one indicator.", vec![])
    }
    pub fn no_indicator() -> Message {
        Message::keyed("no-indicator", "There is no indicator with this id.", vec![])
    }
    pub fn indicator_other_directive() -> Message {
        Message::keyed(
            "indicator-other-directive",
            "This indicator belongs to another directive than the campaign's.",
            vec![],
        )
    }
    pub fn indicator_retired() -> Message {
        Message::keyed("indicator-retired", "This indicator has been retired.", vec![])
    }
    pub fn before_campaign() -> Message {
        Message::keyed("before-campaign", "Must not be before the campaign starts.", vec![])
    }
    pub fn no_campaign() -> Message {
        Message::keyed("no-campaign", "There is no campaign with this id that you belong to.", vec![])
    }
    pub fn file_empty() -> Message {
        Message::keyed("file-empty", "The file is empty.", vec![])
    }
    pub fn file_type(content_type: &str, accepted: &[String]) -> Message {
        Message::keyed(
            "file-type",
            format!("Files of type \"{content_type}\" are not accepted. Accepted: {}.", accepted.join(", ")),
            vec![("type", content_type.to_string())],
        )
    }
    pub fn file_content(content_type: &str) -> Message {
        Message::keyed(
            "file-content",
            format!("The file's content is not a valid {content_type} file."),
            vec![("type", content_type.to_string())],
        )
    }
    pub fn username_form() -> Message {
        Message::keyed("username-form", "Use 3 to 64 characters: letters a–z, digits, dot, dash or underscore.", vec![])
    }
    pub fn code_form() -> Message {
        Message::keyed("code-form", "Use 1 to 32 characters: letters A–Z, digits, dot, dash or underscore.", vec![])
    }
    pub fn email_invalid() -> Message {
        Message::keyed("email-invalid", "Is not a valid email address.", vec![])
    }
    pub fn unit_required() -> Message {
        Message::keyed("unit-required", "Reviewers and unit heads must belong to a unit.", vec![])
    }
    pub fn no_user() -> Message {
        Message::keyed("no-user", "There is no user with this id.", vec![])
    }
    pub fn user_inactive() -> Message {
        Message::keyed("user-inactive", "This user is deactivated.", vec![])
    }
    pub fn unit_cycle() -> Message {
        Message::keyed("unit-cycle", "A unit cannot be placed under itself or under one of its own sub-units.", vec![])
    }
    pub fn one_deadline() -> Message {
        Message::keyed("one-deadline", "Give either due_at or due_in_working_days, not both.", vec![])
    }
    pub fn working_days_range(max: i64) -> Message {
        Message::keyed("working-days-range", format!("Must be between 1 and {max}."), vec![("max", max.to_string())])
    }
    pub fn time_form() -> Message {
        Message::keyed("time-form", "Use a time of day like 07:30.", vec![])
    }
    pub fn bad_cursor() -> Message {
        Message::keyed("bad-cursor", "Is not a cursor this service handed out.", vec![])
    }
    pub fn file_too_large(max_bytes: usize) -> Message {
        Message::keyed(
            "file-too-large",
            format!("The file is larger than {} MB.", max_bytes / (1024 * 1024)),
            vec![("mb", (max_bytes / (1024 * 1024)).to_string())],
        )
    }
}

/// Every bad field of an input, in the order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

/// Collects every bad field of a request before answering 422 once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a bad field.
    pub fn add(&mut self, field: &str, message: impl Into<Message>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<Message>) {
        if !ok {
            self.add(field, message);
        }
    }

    /// A required value: records "is required" when missing.
    pub fn require<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.add(field, msg::required());
        }
        value
    }

    /// True when `field` already has a problem recorded.
    pub fn has(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Ok when nothing was recorded, else every bad field (a 422 over HTTP).
    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() { Ok(()) } else { Err(Invalid(self.errors)) }
    }
}
