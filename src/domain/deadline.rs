//! Deadlines: a date-only deadline ends at the end of that day in the deployment time zone.

use chrono::{Days, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::calendar::WorkingCalendar;
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

/// The review deadline of a case logged at `logged_at`: `review_days` working days on
/// `calendar` (the end of that local day) when days are counted so, else that many
/// days to the hour.
pub fn review_deadline(
    logged_at: NaiveDateTime,
    review_days: u32,
    tz: Tz,
    calendar: Option<&WorkingCalendar>,
) -> NaiveDateTime {
    match calendar {
        Some(c) => {
            let logged_on = logged_at.and_utc().with_timezone(&tz).date_naive();
            end_of_day(c.step(logged_on, i64::from(review_days)), tz)
        }
        None => logged_at + chrono::Duration::days(i64::from(review_days)),
    }
}

/// The deadline `n` working days after `today`: the end of that local day.
pub fn in_working_days(today: NaiveDate, n: i64, tz: Tz, calendar: &WorkingCalendar) -> NaiveDateTime {
    end_of_day(calendar.step(today, n), tz)
}

/// The latest deadline for which a level `offset_days` after the deadline (before it when
/// negative) is due at `now`: `now` moved back by the offset, in working days on
/// `calendar` when given (the same local time of the day it lands on).
pub fn level_threshold(
    now: NaiveDateTime,
    offset_days: i64,
    tz: Tz,
    calendar: Option<&WorkingCalendar>,
) -> NaiveDateTime {
    match calendar {
        Some(c) if offset_days != 0 => {
            let local = now.and_utc().with_timezone(&tz);
            let day = c.step(local.date_naive(), -offset_days);
            tz.from_local_datetime(&day.and_time(local.time()))
                .earliest()
                .map(|t| t.with_timezone(&Utc).naive_utc())
                .unwrap_or(now)
        }
        Some(_) => now,
        None => now - chrono::Duration::days(offset_days),
    }
}

/// Overdue: in a state that can be, with its deadline passed.
pub fn is_overdue(can_be_overdue: bool, deadline: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    can_be_overdue && deadline.is_some_and(|d| d <= now)
}

#[cfg(test)]
mod working_day_tests {
    use super::*;
    use crate::domain::calendar::{CalendarFile, DEFAULT_CALENDAR, WorkingWeek};

    fn vn() -> (Tz, WorkingCalendar) {
        let week = WorkingWeek::monday_to_friday();
        let file = CalendarFile::from_toml(DEFAULT_CALENDAR, &week).unwrap();
        ("Asia/Ho_Chi_Minh".parse().unwrap(), WorkingCalendar::new(week, file.years.into_values()))
    }

    fn local(tz: Tz, s: &str) -> NaiveDateTime {
        let t: NaiveDateTime = s.parse().unwrap();
        tz.from_local_datetime(&t).unwrap().with_timezone(&Utc).naive_utc()
    }

    #[test]
    fn a_review_deadline_spans_a_weekend_a_holiday_and_a_make_up_saturday() {
        let (tz, c) = vn();
        // Logged Thursday 24 April 2025 at 10:00; three working days: Fri 25, Sat 26 (make-up),
        // Mon 28; the deadline ends with Monday 28 April, local time.
        let due = review_deadline(local(tz, "2025-04-24T10:00:00"), 3, tz, Some(&c));
        assert_eq!(due, local(tz, "2025-04-29T00:00:00"));
        assert_eq!(shown(due, tz), "28/04/2025");
        // In calendar days it is three days to the hour.
        assert_eq!(review_deadline(local(tz, "2025-04-24T10:00:00"), 3, tz, None), local(tz, "2025-04-27T10:00:00"));
    }

    #[test]
    fn levels_count_working_days_from_the_deadline() {
        let (tz, c) = vn();
        // Seven working days after a deadline that ended with Friday 24 January 2025 (Tết
        // follows): the escalation is due from Wednesday 12 February.
        let deadline = local(tz, "2025-01-25T00:00:00");
        let due_at = |now: &str| deadline <= level_threshold(local(tz, now), 7, tz, Some(&c));
        assert!(!due_at("2025-02-11T09:00:00"));
        assert!(due_at("2025-02-12T09:00:00"));
        // A reminder three working days before: from Wednesday 22 January.
        let remind = |now: &str| deadline <= level_threshold(local(tz, now), -3, tz, Some(&c));
        assert!(!remind("2025-01-21T09:00:00"));
        assert!(remind("2025-01-22T09:00:00"));
    }
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
