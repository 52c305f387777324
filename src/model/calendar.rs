//! The working-day calendar's rows: a year read, a year replaced, the years deadlines need.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::calendar_days;
use crate::domain::calendar::{CalendarYear, NamedDay, WorkingCalendar, WorkingWeek};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_days)]
struct CalendarDay {
    day: NaiveDate,
    year: i32,
    kind: String,
    name: String,
    provisional: bool,
}

/// The days of `year` as stored (empty lists for a year never loaded).
pub fn year(conn: &mut DbConn, year: i32) -> QueryResult<CalendarYear> {
    let rows: Vec<CalendarDay> = calendar_days::table
        .filter(calendar_days::year.eq(year))
        .order(calendar_days::day)
        .select(CalendarDay::as_select())
        .load(conn)?;
    let mut out = CalendarYear::default();
    for r in rows {
        let d = NamedDay { date: r.day, name: r.name, provisional: r.provisional };
        if r.kind == "holiday" { out.holidays.push(d) } else { out.working_weekend_days.push(d) }
    }
    Ok(out)
}

/// Whether any day of `year` is stored.
pub fn has_year(conn: &mut DbConn, year: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(calendar_days::table.filter(calendar_days::year.eq(year)))).get_result(conn)
}

/// Replaces `year` with `days` (already validated); call inside the change's transaction.
pub fn replace_year(conn: &mut DbConn, year: i32, days: &CalendarYear) -> QueryResult<()> {
    diesel::delete(calendar_days::table.filter(calendar_days::year.eq(year))).execute(conn)?;
    let row = |kind: &str, d: &NamedDay| CalendarDay {
        day: d.date,
        year,
        kind: kind.into(),
        name: d.name.trim().to_string(),
        provisional: d.provisional,
    };
    let rows: Vec<CalendarDay> = days
        .holidays
        .iter()
        .map(|d| row("holiday", d))
        .chain(days.working_weekend_days.iter().map(|d| row("working", d)))
        .collect();
    for r in rows {
        diesel::insert_into(calendar_days::table).values(&r).execute(conn)?;
    }
    Ok(())
}

/// The calendar for deadlines around `today`: last year to three years on, in one query.
pub fn around(conn: &mut DbConn, week: WorkingWeek, today: NaiveDate) -> QueryResult<WorkingCalendar> {
    let rows: Vec<CalendarDay> = calendar_days::table
        .filter(calendar_days::year.between(today.year() - 1, today.year() + 3))
        .select(CalendarDay::as_select())
        .load(conn)?;
    let mut days = CalendarYear::default();
    for r in rows {
        let d = NamedDay { date: r.day, name: r.name, provisional: r.provisional };
        if r.kind == "holiday" { days.holidays.push(d) } else { days.working_weekend_days.push(d) }
    }
    Ok(WorkingCalendar::new(week, [days]))
}

/// Loads every year of the shipped calendar that the database does not hold yet (an
/// administrator's own version of a year is never overwritten); returns the years loaded.
pub fn seed_default(conn: &mut DbConn) -> Result<Vec<i32>, String> {
    let file = crate::domain::calendar::CalendarFile::from_toml(
        crate::domain::calendar::DEFAULT_CALENDAR,
        &WorkingWeek::monday_to_friday(),
    )?;
    crate::db::write_tx(conn, |conn| {
        crate::db::migrate::lock_setup(conn)?;
        let mut loaded = Vec::new();
        for (y, days) in &file.years {
            if !has_year(conn, *y)? {
                replace_year(conn, *y, days)?;
                loaded.push(*y);
            }
        }
        Ok(loaded)
    })
    .map_err(|e: diesel::result::Error| format!("cannot load the default calendar: {e}"))
}
