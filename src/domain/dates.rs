//! Dates and instants as the service accepts them: one range for every field and filter.
//!
//! Years 1900 to 9999. Outside it PostgreSQL refuses some values (negative years) that
//! SQLite stores as text and then compares wrongly (`+99999-12-31` sorts before `2024`),
//! so the same input would give different answers on the two databases.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};

use super::validation::{Message, msg};

pub const MIN_YEAR: i32 = 1900;
pub const MAX_YEAR: i32 = 9999;

/// The message for a value outside the range.
pub fn out_of_range() -> Message {
    msg::date_range(MIN_YEAR, MAX_YEAR)
}

/// True for a date within the accepted range.
pub fn in_range(date: NaiveDate) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&date.year())
}

/// A calendar date written `YYYY-MM-DD`, within the range.
pub fn parse_date(raw: &str) -> Result<NaiveDate, Message> {
    let shaped = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().filter(|_| shaped).ok_or_else(msg::date_form)?;
    if in_range(date) { Ok(date) } else { Err(out_of_range()) }
}

/// An RFC 3339 instant (as UTC), within the range.
pub fn parse_rfc3339(raw: &str) -> Option<Result<NaiveDateTime, Message>> {
    let t = DateTime::parse_from_rfc3339(raw).ok()?.naive_utc();
    Some(if in_range(t.date()) { Ok(t) } else { Err(out_of_range()) })
}

/// An instant filter: RFC 3339, or a date meaning its first instant in UTC.
pub fn parse_instant(raw: &str) -> Result<NaiveDateTime, Message> {
    if let Some(t) = parse_rfc3339(raw) {
        return t;
    }
    instant_date(raw).map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// A date where a date or an instant is accepted: as [`parse_date`], but a value of
/// the wrong form is told both forms.
pub fn instant_date(raw: &str) -> Result<NaiveDate, Message> {
    parse_date(raw).map_err(|m| if m == msg::date_form() { msg::instant_form() } else { m })
}

/// An instant as served: RFC 3339 in UTC, to the second.
pub fn instant(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_to_one_form_and_one_range() {
        assert_eq!(parse_date("2024-09-25"), Ok(NaiveDate::from_ymd_opt(2024, 9, 25).unwrap()));
        assert_eq!(parse_date("1900-01-01").map(|d| d.year()), Ok(1900));
        assert_eq!(parse_date("9999-12-31").map(|d| d.year()), Ok(9999));
        for bad in ["-9999-01-01", "+99999-12-31", "2024-9-25", "25/09/2024", "2024-02-30", ""] {
            assert!(parse_date(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(parse_date("1899-12-31"), Err(out_of_range()));
        assert_eq!(parse_date("0000-01-01"), Err(out_of_range()));
    }

    #[test]
    fn instants_keep_to_the_same_range() {
        assert!(parse_instant("2024-09-25T03:00:00Z").is_ok());
        assert_eq!(parse_instant("2024-09-25").unwrap().to_string(), "2024-09-25 00:00:00");
        assert_eq!(parse_instant("0001-01-01T00:00:00Z"), Err(out_of_range()));
        assert_eq!(parse_instant("soon"), Err(msg::instant_form()));
        assert_eq!(parse_instant("-0001-01-01"), Err(msg::instant_form()));
    }
}
