//! What the report's figures mean (the contract's definitions), folded from grouped counts.

use serde::Serialize;

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
        match status {
            "dismissed" => self.dismissed += n,
            other => {
                self.detected += n;
                match other {
                    "closed" => self.handled += n,
                    "open" => self.open += n,
                    "in_handling" => self.in_handling += n,
                    "remediated" => self.remediated += n,
                    _ => {}
                }
            }
        }
    }
}

/// handled / detected over cases, to four decimals; 0 when nothing was detected.
pub fn handling_rate(c: &Counts) -> f64 {
    if c.detected == 0 { 0.0 } else { (c.handled as f64 / c.detected as f64 * 10_000.0).round() / 10_000.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

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
