//! The working-day calendar: which days count for an administrative deadline. A year is
//! data (public holidays, and the make-up working days the government moves onto
//! weekends); the working week comes from configuration (Monday to Friday by default).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::validation::{FieldError, Validator, msg};

/// The Vietnamese calendar shipped with the service (see the file's header).
pub const DEFAULT_CALENDAR: &str = include_str!("../../config/calendars/vietnam.toml");

/// A named day of a year's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NamedDay {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub name: String,
    /// Set in the shipped file for days to check against the year's official announcement.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provisional: bool,
}

/// One year of the calendar, as the API, the CLI and the file take it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CalendarYear {
    #[serde(default)]
    pub holidays: Vec<NamedDay>,
    #[serde(default)]
    pub working_weekend_days: Vec<NamedDay>,
}

/// A calendar file: years by number (`[years.2026]`).
#[derive(Debug, Deserialize)]
pub struct CalendarFile {
    pub years: BTreeMap<i32, CalendarYear>,
}

impl CalendarFile {
    /// Reads a calendar file (TOML), checking every year.
    pub fn from_toml(text: &str, week: &WorkingWeek) -> Result<CalendarFile, String> {
        let file: CalendarFile = toml::from_str(text).map_err(|e| format!("the calendar file cannot be read: {e}"))?;
        for (year, days) in &file.years {
            days.validate(*year, week).map_err(|errors| {
                errors.iter().map(|e| format!("{year}: {}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
            })?;
        }
        Ok(file)
    }
}

/// The days of the week that are working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingWeek(pub BTreeSet<u32>);

impl WorkingWeek {
    /// Monday to Friday.
    pub fn monday_to_friday() -> Self {
        WorkingWeek((0..5).collect())
    }

    /// From names (`mon` … `sun`); `None` names the first unknown one.
    pub fn parse(names: &[String]) -> Result<Self, String> {
        const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let mut days = BTreeSet::new();
        for n in names {
            let i = NAMES.iter().position(|x| x.eq_ignore_ascii_case(n)).ok_or_else(|| n.clone())?;
            days.insert(i as u32);
        }
        Ok(WorkingWeek(days))
    }

    pub fn includes(&self, day: Weekday) -> bool {
        self.0.contains(&day.num_days_from_monday())
    }
}

impl CalendarYear {
    /// Every problem at once: a date outside `year`, a date given twice, a make-up
    /// working day that is not a day off of the week, a blank or long name.
    pub fn validate(&self, year: i32, week: &WorkingWeek) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        let mut seen = BTreeSet::new();
        for (list, days) in [("holidays", &self.holidays), ("working_weekend_days", &self.working_weekend_days)] {
            for (i, d) in days.iter().enumerate() {
                let field = format!("{list}[{i}]");
                v.check(d.date.year() == year, &format!("{field}.date"), msg::date_of_year(year));
                v.check(seen.insert(d.date), &format!("{field}.date"), msg::date_twice());
                let name = d.name.trim();
                v.check(
                    !name.is_empty() && name.chars().count() <= 200,
                    &format!("{field}.name"),
                    msg::length_range(200),
                );
                if list == "working_weekend_days" {
                    v.check(!week.includes(d.date.weekday()), &format!("{field}.date"), msg::makeup_day());
                }
            }
        }
        v.finish().map_err(|i| i.0)
    }
}

/// The calendar deadlines are counted in: the working week, and the years known.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    week: WorkingWeek,
    holidays: BTreeSet<NaiveDate>,
    make_up: BTreeSet<NaiveDate>,
}

impl WorkingCalendar {
    pub fn new(week: WorkingWeek, years: impl IntoIterator<Item = CalendarYear>) -> Self {
        let (mut holidays, mut make_up) = (BTreeSet::new(), BTreeSet::new());
        for y in years {
            holidays.extend(y.holidays.into_iter().map(|d| d.date));
            make_up.extend(y.working_weekend_days.into_iter().map(|d| d.date));
        }
        WorkingCalendar { week, holidays, make_up }
    }

    /// Whether `day` is a working day: a make-up day, or a day of the working week that
    /// is not a holiday.
    pub fn is_working(&self, day: NaiveDate) -> bool {
        self.make_up.contains(&day) || (self.week.includes(day.weekday()) && !self.holidays.contains(&day))
    }

    /// The day `n` working days after `from` (before it when `n` is negative); each step
    /// lands on the next working day, so from a Friday one working day is the Monday.
    pub fn step(&self, from: NaiveDate, n: i64) -> NaiveDate {
        let mut day = from;
        let forward = n >= 0;
        let mut left = n.unsigned_abs();
        // A calendar with no working day at all would never end: a year of steps is the most.
        let mut guard = 0;
        while left > 0 && guard < 3660 {
            day = if forward { day.succ_opt() } else { day.pred_opt() }.unwrap_or(day);
            guard += 1;
            if self.is_working(day) {
                left -= 1;
            }
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn day(date: &str, name: &str) -> NamedDay {
        NamedDay { date: d(date), name: name.into(), provisional: false }
    }

    fn calendar_2025() -> WorkingCalendar {
        let file = CalendarFile::from_toml(DEFAULT_CALENDAR, &WorkingWeek::monday_to_friday()).unwrap();
        WorkingCalendar::new(WorkingWeek::monday_to_friday(), file.years.into_values())
    }

    #[test]
    fn a_deadline_skips_the_weekend_a_holiday_and_counts_a_make_up_saturday() {
        let c = calendar_2025();
        // Thursday 24 April 2025: Friday 25, (weekend), Saturday 26 is a make-up working day,
        // Monday 28, Tuesday 29; 30 April and 1–2 May are off; then Monday 5 May.
        assert_eq!(c.step(d("2025-04-24"), 1), d("2025-04-25"));
        assert_eq!(c.step(d("2025-04-24"), 2), d("2025-04-26"));
        assert_eq!(c.step(d("2025-04-24"), 4), d("2025-04-29"));
        assert_eq!(c.step(d("2025-04-24"), 5), d("2025-05-05"));
        assert!(!c.is_working(d("2025-04-27")));
    }

    #[test]
    fn tet_is_a_week_off() {
        let c = calendar_2025();
        // Friday 24 January 2025, the last working day before Tết: the next is 3 February.
        assert_eq!(c.step(d("2025-01-24"), 1), d("2025-02-03"));
        assert_eq!(c.step(d("2025-02-03"), -1), d("2025-01-24"));
    }

    #[test]
    fn the_shipped_file_covers_2025_to_2027_and_marks_what_to_check() {
        let file = CalendarFile::from_toml(DEFAULT_CALENDAR, &WorkingWeek::monday_to_friday()).unwrap();
        assert_eq!(file.years.keys().copied().collect::<Vec<_>>(), vec![2025, 2026, 2027]);
        for (year, y) in &file.years {
            assert!(y.holidays.len() >= 11, "{year}: at least the Labour Code's 11 days");
            assert!(y.holidays.iter().any(|h| h.provisional), "{year}: Tết is to be checked");
        }
    }

    #[test]
    fn a_bad_year_names_each_entry() {
        let week = WorkingWeek::monday_to_friday();
        let y = CalendarYear {
            holidays: vec![
                day("2026-01-01", "Tết Dương lịch"),
                day("2025-05-01", "Quốc tế Lao động"),
                day("2026-01-01", "Lặp"),
            ],
            working_weekend_days: vec![day("2026-01-05", "Thứ Hai")],
        };
        let fields: Vec<String> = y.validate(2026, &week).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["holidays[1].date", "holidays[2].date", "working_weekend_days[0].date"]);
    }

    #[test]
    fn working_weeks_are_named_by_day() {
        assert_eq!(WorkingWeek::parse(&["mon".into(), "Tue".into()]).unwrap().0.len(), 2);
        assert_eq!(WorkingWeek::parse(&["someday".into()]).unwrap_err(), "someday");
    }
}
