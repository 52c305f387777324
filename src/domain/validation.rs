//! Checking input field by field: every bad field is collected before one answer.

use crate::i18n::{Lang, catalogs};

/// One bad field of a request, with a message meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: Message,
}

impl FieldError {
    pub fn new(field: &str, message: Message) -> Self {
        FieldError { field: field.into(), message }
    }
}

/// What is wrong with a value, as a catalog key (`err-<key>` in `locales/*.ftl`) and the
/// values it is filled with, so it is said in the reader's language when it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

/// A value a message is filled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Shown as it is (a number, a name the person typed).
    Text(String),
    /// A word of the catalogs, shown in the reader's language (`status-open`).
    Word(String),
}

impl Message {
    fn keyed(key: &'static str, args: Vec<(&'static str, Arg)>) -> Self {
        Message { key, args }
    }

    /// The message in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let c = catalogs();
        let args: Vec<(&str, String)> = self
            .args
            .iter()
            .map(|(k, v)| match v {
                Arg::Text(t) => (*k, t.clone()),
                Arg::Word(w) => (*k, c.text(lang, w, &[])),
            })
            .collect();
        c.text(lang, &format!("err-{}", self.key), &args)
    }
}

/// In English: what the command line and the logs say.
impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

fn text(v: impl ToString) -> Arg {
    Arg::Text(v.to_string())
}

fn word(key: String) -> Arg {
    Arg::Word(key)
}

/// Every message, each made in one place: `name "key" (params) [arguments]`. The catalogs
/// say `err-<key>` in each language; a test checks every key is in every catalog.
macro_rules! messages {
    ($( $(#[$doc:meta])* $name:ident $key:literal ($($p:ident : $t:ty),*) [$($arg:ident = $v:expr),*] ;)*) => {
        /// Every key a [`Message`] is made with.
        pub const KEYS: &[&str] = &[$($key),*];
        $(
            $(#[$doc])*
            pub fn $name($($p: $t),*) -> Message {
                Message::keyed($key, vec![$((stringify!($arg), $v)),*])
            }
        )*
    };
}

/// The messages a field, a refused request or a clash can carry.
pub mod msg {
    use super::{Message, text, word};

    messages! {
        required "required" () [];
        empty "empty" () [];
        too_long "too-long" (max: usize) [max = text(max)];
        length_range "length-range" (max: usize) [max = text(max)];
        control_chars "control-chars" () [];
        /// A value outside a fixed list, which the message names.
        one_of "one-of" (values: &[&str]) [values = text(values.join(", "))];
        date_form "date-form" () [];
        instant_form "instant-form" () [];
        date_range "date-range" (min: i32, max: i32) [min = text(min), max = text(max)];
        not_future "not-future" () [];
        must_be_future "must-be-future" () [];
        not_before_start "not-before-start" () [];
        number_range "number-range" (min: i64, max: i64) [min = text(min), max = text(max)];
        password_short "password-short" () [];
        password_long "password-long" () [];
        password_username "password-username" () [];
        password_wrong "password-wrong" () [];
        note_required "note-required" () [];
        name_responsible_unit "name-responsible-unit" () [];
        set_deadline "set-deadline" () [];
        record_decision "record-decision" () [];
        set_on_acceptance "set-on-acceptance" () [];
        reviewer_only "reviewer-only" () [];
        no_unit "no-unit" () [];
        no_responsible_unit "no-responsible-unit" () [];
        unit_not_targeted "unit-not-targeted" () [];
        outside_own_unit "outside-own-unit" () [];
        person_name_needed "person-name-needed" () [];
        cite_indicator "cite-indicator" () [];
        no_indicator "no-indicator" () [];
        indicator_other_directive "indicator-other-directive" () [];
        indicator_retired "indicator-retired" () [];
        before_campaign "before-campaign" () [];
        no_campaign "no-campaign" () [];
        campaign_concluded "campaign-concluded" () [];
        campaign_fixed "campaign-fixed" () [];
        campaign_needs_target "campaign-needs-target" () [];
        no_directive "no-directive" () [];
        lead_role "lead-role" () [];
        no_active_user "no-active-user" () [];
        file_empty "file-empty" () [];
        file_type "file-type" (content_type: &str, accepted: &[String])
            [content_type = text(content_type), accepted = text(accepted.join(", "))];
        file_content "file-content" (content_type: &str) [content_type = text(content_type)];
        file_too_large "file-too-large" (max_bytes: usize) [mb = text(max_bytes / (1024 * 1024))];
        file_field "file-field" () [];
        username_form "username-form" () [];
        code_form "code-form" () [];
        email_invalid "email-invalid" () [];
        unit_required "unit-required" () [];
        no_user "no-user" () [];
        user_inactive "user-inactive" () [];
        unit_cycle "unit-cycle" () [];
        one_deadline "one-deadline" () [];
        working_days_range "working-days-range" (max: i64) [max = text(max)];
        time_form "time-form" () [];
        bad_cursor "bad-cursor" () [];
        bad_id "bad-id" () [];
        too_many_rows "too-many-rows" (max: i64) [max = text(max)];
        /// A file that is neither a workbook nor a readable CSV.
        not_a_register "not-a-register" () [];
        register_rows "register-rows" (max: i64) [max = text(max)];
        /// A cell no encoding explains, at row `line`, column `column` ("F").
        text_unreadable "text-unreadable" (line: usize, column: &str) [line = text(line), column = text(column)];
        unknown_column "unknown-column" () [];
        no_campaign_named "no-campaign-named" () [];
        position_for_people "position-for-people" () [];
        /// No indicator `code` in the directive whose code is `directive`.
        no_indicator_code "no-indicator-code" (code: &str, directive: &str) [code = text(code), directive = text(directive)];
        register_date "register-date" () [];
        due_before_detection "due-before-detection" () [];
        decision_before_detection "decision-before-detection" () [];
        status_needs_decision "status-needs-decision" () [];
        /// A row that repeats row `first` of the same file.
        row_twice "row-twice" (first: usize) [first = text(first)];
        /// A header given again; `first` is the column that has it first.
        column_twice "column-twice" (first: &str) [first = text(first)];
        column_missing "column-missing" (header: &str) [header = text(header)];
        date_of_year "date-of-year" (year: i32) [year = text(year)];
        date_twice "date-twice" () [];
        makeup_day "makeup-day" () [];
        appears_twice "appears-twice" () [];
        catalog_needs_indicator "catalog-needs-indicator" () [];
        not_a_group "not-a-group" () [];
        not_recognised "not-recognised" () [];
        /// A value of the wrong JSON kind; `expected` is a `value-…` word when serde names one.
        wrong_kind "wrong-kind" (expected: super::Arg) [expected = expected];
        /// A value the parser refused, in its own (English) words.
        not_valid "not-valid" (detail: &str) [detail = text(detail)];
        nul "nul" () [];
        body_unreadable "body-unreadable" () [];
        body_object "body-object" () [];
        body_json "body-json" (line: usize, column: usize) [line = text(line), column = text(column)];
        form_unreadable "form-unreadable" () [];
        form_utf8 "form-utf8" () [];
        send_json "send-json" () [];
        send_multipart "send-multipart" () [];
        not_editable "not-editable" (status: &str) [status = word(format!("status-{status}"))];
        no_evidence_now "no-evidence-now" (status: &str) [status = word(format!("status-{status}"))];
        outside_scope "outside-scope" () [];
        /// A measure of another system than the decision names.
        measure_other_system "measure-other-system" (system: &str) [system = word(system.to_string())];
        measure_not_for_subject "measure-not-for-subject" () [];
        measure_not_in_force "measure-not-in-force" () [];
        unknown_measure "unknown-measure" () [];
        unknown_severity "unknown-severity" () [];
        no_decision_now "no-decision-now" (status: &str) [status = word(format!("status-{status}"))];
        decision_corrected "decision-corrected" () [];
        subject_twice "subject-twice" () [];
        no_subject "no-subject" () [];
        identifier_other_person "identifier-other-person" () [];
        identifier_for_people "identifier-for-people" () [];
        body_for_organisations "body-for-organisations" () [];
        identifier_taken "identifier-taken" () [];
        merge_into_itself "merge-into-itself" () [];
        merge_other_kind "merge-other-kind" () [];
        member_role "member-role" () [];
        head_of_unit "head-of-unit" () [];
        concurrent_change "concurrent-change" () [];
        no_checkpoint "no-checkpoint" () [];
        transition_not_allowed "transition-not-allowed" (action: &str, status: &str)
            [action = word(format!("action-{action}")), status = word(format!("status-{status}"))];
        not_retryable "not-retryable" (status: &str) [status = word(format!("outbox-{status}"))];
        unit_code_taken "unit-code-taken" (code: &str) [code = text(code)];
        username_taken "username-taken" (username: &str) [username = text(username)];
        own_admin_account "own-admin-account" () [];
        last_admin "last-admin" () [];
        already_exists "already-exists" () [];
        unknown_unit_code "unknown-unit-code" (code: &str) [code = text(code)];
        /// A unit that ended (on `on`, as dd/mm/yyyy) named where a living unit is needed.
        unit_ended "unit-ended" (code: &str, on: &str) [code = text(code), on = text(on)];
        unit_not_yet "unit-not-yet" (code: &str, on: &str) [code = text(code), on = text(on)];
        successor_ends "successor-ends" (code: &str) [code = text(code)];
        succeeds_itself "succeeds-itself" (code: &str) [code = text(code)];
        alive_children "alive-children" (code: &str, children: &str) [code = text(code), children = text(children)];
        unplaced_cases "unplaced-cases" (count: usize, numbers: &str) [count = text(count), numbers = text(numbers)];
        place_not_successor "place-not-successor" (code: &str) [code = text(code)];
        place_unknown "place-unknown" () [];
        parent_ends "parent-ends" (code: &str) [code = text(code)];
        unit_gone_on "unit-gone-on" (on: &str) [on = text(on)];
        ended_unit_fixed "ended-unit-fixed" () [];
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
    pub fn add(&mut self, field: &str, message: Message) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: Message) {
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

    /// Reads an instant filter: RFC 3339, or a date (its start, UTC); records a bad value.
    pub fn instant(&mut self, field: &str, raw: Option<&str>) -> Option<chrono::NaiveDateTime> {
        crate::domain::dates::parse_instant(raw?).map_err(|m| self.add(field, m)).ok()
    }

    /// Reads a `from`/`to` pair of dates (both inclusive), recording bad values and a
    /// reversed period.
    pub fn period(
        &mut self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) {
        let mut date = |field: &str, raw: Option<&str>| {
            raw.and_then(|r| crate::domain::dates::parse_date(r).map_err(|m| self.add(field, m)).ok())
        };
        let (from, to) = (date("from", from), date("to", to));
        if let (Some(f), Some(t)) = (from, to) {
            self.check(f <= t, "to", msg::not_before_start());
        }
        (from, to)
    }

    /// How many problems are recorded so far.
    pub fn count(&self) -> usize {
        self.errors.len()
    }

    /// True when `field` already has a problem recorded.
    pub fn has(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Every problem recorded, in order.
    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    /// Ok when nothing was recorded, else every bad field (a 422 over HTTP).
    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() { Ok(()) } else { Err(Invalid(self.errors)) }
    }
}

/// For PATCH fields that may be cleared: absent → None, null → Some(None), value → Some(Some(v)).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(de).map(Some)
}
