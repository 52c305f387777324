//! Checks on free text typed by users (names, codes, email addresses).

use super::validation::{Message, msg};

/// Trims and checks a required text field; returns the message when unusable.
pub fn clean_required(value: &str, max_chars: usize) -> Result<String, Message> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(msg::empty());
    }
    if trimmed.chars().count() > max_chars {
        return Err(msg::too_long(max_chars));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(msg::control_chars());
    }
    Ok(trimmed.to_string())
}

/// Usernames: 3–64 of a–z, 0–9, dot, dash, underscore; stored lower-case.
pub fn clean_username(value: &str) -> Result<String, Message> {
    let name = value.trim().to_lowercase();
    let ok_chars = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !(3..=64).contains(&name.len()) || !ok_chars {
        return Err(msg::username_form());
    }
    Ok(name)
}

/// Unit codes: 1–32 of A–Z, 0–9, dot, dash, underscore; stored upper-case.
pub fn clean_code(value: &str) -> Result<String, Message> {
    let code = value.trim().to_uppercase();
    let ok_chars = code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "._-".contains(c));
    if !(1..=32).contains(&code.len()) || !ok_chars {
        return Err(msg::code_form());
    }
    Ok(code)
}

/// An email address lettre can send to.
pub fn clean_email(value: &str) -> Result<String, Message> {
    let addr = value.trim();
    if addr.len() > 254 || addr.parse::<lettre::Address>().is_err() {
        return Err(msg::email_invalid());
    }
    Ok(addr.to_string())
}

/// New passwords: 10–128 characters and not the username.
pub fn check_new_password(password: &str, username: &str) -> Result<(), Message> {
    let n = password.chars().count();
    if n < super::limits::PASSWORD_MIN {
        return Err(msg::password_short());
    }
    if n > super::limits::PASSWORD_MAX {
        return Err(msg::password_long());
    }
    if password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(msg::password_username());
    }
    Ok(())
}

/// Text from a client, fit for a log line: at most `max` characters, every control
/// character and quote escaped, so it cannot forge a line or a field.
pub fn loggable(text: &str, max: usize) -> String {
    let cut: String = text.chars().take(max).collect();
    let escaped: String = cut.chars().flat_map(char::escape_debug).collect();
    if text.chars().count() > max { format!("{escaped}…") } else { escaped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_text_is_kept_and_trimmed() {
        assert_eq!(clean_required("  Phường Điện Biên ", 100).unwrap(), "Phường Điện Biên");
        assert!(clean_required("   ", 100).is_err());
        assert!(clean_required(&"ă".repeat(101), 100).is_err());
    }

    #[test]
    fn usernames_and_codes_are_normalised() {
        assert_eq!(clean_username(" Nguyen.Van-A ").unwrap(), "nguyen.van-a");
        assert!(clean_username("ng").is_err());
        assert!(clean_username("nguyễn").is_err());
        assert_eq!(clean_code("ba-dinh").unwrap(), "BA-DINH");
        assert!(clean_code("ba dinh").is_err());
    }

    #[test]
    fn passwords_need_length_and_not_the_username() {
        assert!(check_new_password("short", "an").is_err());
        assert!(check_new_password("xx-nguyenvana-xx", "nguyenvana").is_err());
        assert!(check_new_password("correct horse battery", "nguyenvana").is_ok());
    }
}
