//! What a console form sends: text fields (normalised to NFC), read without ever failing,
//! so a bad value is answered with the form again, never with a bare error.

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;

use crate::error::Error;
use crate::i18n::Lang;

/// The fields of a submitted form, in the order sent.
#[derive(Default, Clone)]
pub struct FormData {
    pairs: Vec<(String, String)>,
}

impl FormData {
    /// Reads `application/x-www-form-urlencoded` bytes.
    pub fn parse(body: &[u8]) -> Self {
        let pairs = form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.nfc().collect())).collect();
        FormData { pairs }
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        FormData { pairs }
    }

    /// A field's value, if sent and not blank.
    pub fn get(&self, name: &str) -> Option<String> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.trim().is_empty())
    }

    /// Every value of a repeated field (checkboxes, multiple selects).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty()).collect()
    }

    /// The CSRF token the form carries.
    /// The version of the record the form showed (its `If-Match`), when it carries one.
    pub fn version(&self) -> Option<i64> {
        self.get("version").and_then(|v| v.parse().ok())
    }

    pub fn csrf(&self) -> Option<String> {
        self.get("_csrf")
    }

    /// The fields as a map, to fill the form again after a refusal.
    pub fn values(&self) -> BTreeMap<String, String> {
        self.pairs.iter().filter(|(k, _)| k != "_csrf" && !k.contains("password")).cloned().collect()
    }
}

/// A refusal's field messages in `lang`, by field, to show beside each field; any other
/// failure is handed back to become its page.
pub fn field_errors(lang: Lang, err: Error) -> Result<BTreeMap<String, String>, Error> {
    match err {
        Error::Validation(errors) => {
            let mut map = BTreeMap::new();
            for e in &errors {
                // Indexed fields (indicator_ids[2]) are shown beside their list.
                let field = e.field.split('[').next().unwrap_or(&e.field).to_string();
                map.entry(field).or_insert_with(|| e.message.text(lang));
            }
            Ok(map)
        }
        other => Err(other),
    }
}
