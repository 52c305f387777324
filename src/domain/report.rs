//! What the report's figures mean (the contract's definitions), folded from grouped counts.

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

use super::workflow::Status;

/// Case counts of one report row.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// Every logged case whose violation stands: all but dismissed ones.
    pub detected: i64,
    /// Closed with a decision.
    pub handled: i64,
    pub dismissed: i64,
    pub open: i64,
    pub in_handling: i64,
    pub remediated: i64,
    /// Open or in handling with the deadline passed.
    pub overdue: i64,
}

impl Counts {
    /// Adds `n` cases in `status`.
    pub fn add(&mut self, status: &str, n: i64) {
        let Some(status) = Status::parse(status) else { return };
        if !status.stands() {
            self.dismissed += n;
            return;
        }
        self.detected += n;
        match status {
            Status::Closed => self.handled += n,
            Status::Open => self.open += n,
            Status::InHandling => self.in_handling += n,
            Status::Remediated => self.remediated += n,
            Status::Dismissed => {}
        }
    }
}

/// handled / detected over cases, to four decimals; 0 when nothing was detected.
pub fn handling_rate(c: &Counts) -> f64 {
    if c.detected == 0 { 0.0 } else { (c.handled as f64 / c.detected as f64 * 10_000.0).round() / 10_000.0 }
}

/// A date range; `None` leaves that end open.
pub type Period = (Option<NaiveDate>, Option<NaiveDate>);

/// A report period cut into the whole months the rollup answers and the days around
/// them, which are read from the cases themselves.
#[derive(Debug, PartialEq, Eq)]
pub struct PeriodSplit {
    /// First days of the first and last whole month (inclusive), if any month is whole.
    pub months: Option<Period>,
    /// At most two runs of days outside those months.
    pub days: Vec<Period>,
}

fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("every month has a first day")
}

/// Cuts `from..=to` into whole months and the days left over at either end.
pub fn split_period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> PeriodSplit {
    let first = from.map(|d| if d.day() == 1 { d } else { month_of(d) + Months::new(1) });
    let next_after_to = to.map(|d| d.succ_opt().unwrap_or(d));
    let last = next_after_to.map(|n| month_of(n) - Months::new(1));
    if let (Some(f), Some(l)) = (first, last)
        && f > l
    {
        return PeriodSplit { months: None, days: vec![(from, to)] };
    }
    let mut days = Vec::new();
    if let (Some(d), Some(f)) = (from, first)
        && d < f
    {
        days.push((Some(d), f.pred_opt()));
    }
    if let (Some(d), Some(n)) = (to, next_after_to)
        && n.day() != 1
    {
        days.push((Some(month_of(d)), Some(d)));
    }
    PeriodSplit { months: Some((first, last)), days }
}

/// The sentence officials quote, counting subjects (tổ chức, cá nhân): "Phát hiện 873 tổ
/// chức, cá nhân có vi phạm; đã xử lý 368 tổ chức, cá nhân (42,2%)."
pub fn official_sentence(lang: crate::i18n::Lang, detected: i64, handled: i64) -> String {
    use crate::i18n;
    let args = [
        ("detected", i18n::number(lang, detected)),
        ("handled", i18n::number(lang, handled)),
        ("rate", i18n::percent(lang, handled, detected)),
    ];
    i18n::catalogs().text(lang, "report-line", &args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn an_open_period_is_all_whole_months() {
        assert_eq!(split_period(None, None), PeriodSplit { months: Some((None, None)), days: vec![] });
        assert_eq!(
            split_period(Some(d("2024-03-01")), Some(d("2024-06-30"))),
            PeriodSplit { months: Some((Some(d("2024-03-01")), Some(d("2024-06-01")))), days: vec![] }
        );
    }

    #[test]
    fn ragged_ends_are_read_day_by_day() {
        assert_eq!(
            split_period(Some(d("2024-03-15")), Some(d("2024-06-10"))),
            PeriodSplit {
                months: Some((Some(d("2024-04-01")), Some(d("2024-05-01")))),
                days: vec![
                    (Some(d("2024-03-15")), Some(d("2024-03-31"))),
                    (Some(d("2024-06-01")), Some(d("2024-06-10")))
                ],
            }
        );
        assert_eq!(
            split_period(None, Some(d("2024-02-28"))),
            PeriodSplit {
                months: Some((None, Some(d("2024-01-01")))),
                days: vec![(Some(d("2024-02-01")), Some(d("2024-02-28")))],
            }
        );
        assert_eq!(
            split_period(Some(d("2024-12-31")), None),
            PeriodSplit {
                months: Some((Some(d("2025-01-01")), None)),
                days: vec![(Some(d("2024-12-31")), Some(d("2024-12-31")))]
            }
        );
    }

    #[test]
    fn a_period_short_of_a_whole_month_is_all_days() {
        for (from, to) in [("2024-03-02", "2024-03-30"), ("2024-03-15", "2024-04-10")] {
            let (from, to) = (Some(d(from)), Some(d(to)));
            assert_eq!(split_period(from, to), PeriodSplit { months: None, days: vec![(from, to)] });
        }
        let march = Some(d("2024-03-01"));
        assert_eq!(
            split_period(march, Some(d("2024-03-31"))),
            PeriodSplit { months: Some((march, march)), days: vec![] }
        );
    }

    #[test]
    fn dismissed_cases_are_not_detected_and_closed_ones_are_handled() {
        let mut c = Counts::default();
        c.add("open", 2);
        c.add("closed", 3);
        c.add("dismissed", 4);
        c.add("remediated", 1);
        assert_eq!((c.detected, c.handled, c.dismissed, c.open, c.remediated), (6, 3, 4, 2, 1));
        assert_eq!(handling_rate(&c), 0.5);
    }

    #[test]
    fn the_public_figure_rounds_as_reported() {
        let c = Counts { detected: 873, handled: 368, ..Counts::default() };
        assert_eq!(handling_rate(&c), 0.4215);
    }
}
