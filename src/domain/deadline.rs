//! Deadlines: a date-only deadline ends at the end of that day in the deployment time zone.

use chrono::{Days, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::dates;
use chrono_tz::Tz;

/// The instant a deadline given as `raw` passes: an RFC 3339 instant as is, or a
/// date (`YYYY-MM-DD`) at the following local midnight; within [`dates`]' range, or the
/// message to show.
pub fn parse_deadline(raw: &str, tz: Tz) -> Result<NaiveDateTime, crate::domain::validation::Message> {
    if let Some(t) = dates::parse_rfc3339(raw) {
        return t;
    }
    let date = dates::instant_date(raw)?;
    let end = end_of_day(date, tz);
    if dates::in_range(end.date()) { Ok(end) } else { Err(dates::out_of_range()) }
}

/// The first instant after `date` in `tz`, as UTC.
pub fn end_of_day(date: NaiveDate, tz: Tz) -> NaiveDateTime {
    let next = date.checked_add_days(Days::new(1)).unwrap_or(date).and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&next).earliest().map(|t| t.with_timezone(&Utc).naive_utc()).unwrap_or(next)
}

/// The local day a deadline is written as when it ends at a local midnight (a date-only
/// deadline: the day given, not the midnight after it), else `None`.
pub fn as_date(deadline: NaiveDateTime, tz: Tz) -> Option<NaiveDate> {
    use chrono::Timelike;
    let local = deadline.and_utc().with_timezone(&tz);
    (local.hour() == 0 && local.minute() == 0 && local.second() == 0).then(|| local.date_naive().pred_opt()).flatten()
}

/// A deadline as people read it: "31/12/2030" for a date-only one, else "31/12/2030 17:00",
/// in the deployment's time zone. Pages, emails and exports all write it so.
pub fn shown(deadline: NaiveDateTime, tz: Tz) -> String {
    match as_date(deadline, tz) {
        Some(day) => day.format("%d/%m/%Y").to_string(),
        None => deadline.and_utc().with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string(),
    }
}

/// The review deadline of a case logged at `logged_at`.
pub fn review_deadline(logged_at: NaiveDateTime, review_days: u32) -> NaiveDateTime {
    logged_at + chrono::Duration::days(i64::from(review_days))
}

/// Overdue: in a state that can be, with its deadline passed.
pub fn is_overdue(can_be_overdue: bool, deadline: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    can_be_overdue && deadline.is_some_and(|d| d <= now)
}

#[cfg(test)]
mod shown_tests {
    use super::*;

    #[test]
    fn a_date_only_deadline_is_shown_as_the_date_given() {
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let end = parse_deadline("2030-12-31", tz).unwrap();
        assert_eq!(shown(end, tz), "31/12/2030");
        let instant = parse_deadline("2030-12-31T10:00:00Z", tz).unwrap();
        assert_eq!(shown(instant, tz), "31/12/2030 17:00");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_ends_at_local_midnight() {
        // 2024-10-15 ends at 2024-10-16 00:00 in Hanoi (UTC+7) = 2024-10-15 17:00 UTC.
        let d = parse_deadline("2024-10-15", chrono_tz::Asia::Ho_Chi_Minh).unwrap();
        assert_eq!(d.to_string(), "2024-10-15 17:00:00");
        let i = parse_deadline("2024-10-15T03:00:00Z", chrono_tz::Asia::Ho_Chi_Minh).unwrap();
        assert_eq!(i.to_string(), "2024-10-15 03:00:00");
        assert!(parse_deadline("15/10/2024", chrono_tz::Asia::Ho_Chi_Minh).is_err());
        assert!(parse_deadline("+99999-12-31", chrono_tz::Asia::Ho_Chi_Minh).is_err());
        // The last day of year 9999 ends in year 10000 in UTC: outside the range.
        assert!(parse_deadline("9999-12-31", chrono_tz::UTC).is_err());
    }

    #[test]
    fn overdue_needs_a_passed_deadline_in_an_open_state() {
        let d = parse_deadline("2024-10-15T03:00:00Z", chrono_tz::UTC).unwrap();
        assert!(!is_overdue(true, Some(d), d - chrono::Duration::seconds(1)));
        assert!(is_overdue(true, Some(d), d));
        assert!(!is_overdue(false, Some(d), d));
        assert!(!is_overdue(true, None, d));
    }
}
