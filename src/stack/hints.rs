//! "Did you mean" hints and name listings within a budget: each costs a pass over the candidate
//! names, so a file with thousands of mistakes among thousands of names could otherwise take
//! quadratic time. When the budget is spent, diagnostics simply come without suggestions.

use crate::diag::did_you_mean;
use std::cell::Cell;

/// Candidate names that may still be compared during one load.
const BUDGET: usize = 1_000_000;

/// Names shown in a listing before "and N more".
const LISTED: usize = 12;

/// The budget of one load.
#[derive(Debug)]
pub struct Hints {
    left: Cell<usize>,
}

impl Default for Hints {
    fn default() -> Self {
        Hints {
            left: Cell::new(BUDGET),
        }
    }
}

impl Hints {
    /// Takes `n` from the budget; false (and nothing taken) when not enough is left.
    pub fn allow(&self, n: usize) -> bool {
        let left = self.left.get();
        if n > left {
            self.left.set(0);
            return false;
        }
        self.left.set(left - n);
        true
    }

    /// `did you mean `X`?` for the nearest candidate, within the budget.
    pub fn nearest<'a, I>(&self, given: &str, candidates: I) -> Option<String>
    where
        I: IntoIterator<Item = &'a str>,
        I::IntoIter: ExactSizeIterator,
    {
        let it = candidates.into_iter();
        if !self.allow(it.len()) {
            return None;
        }
        did_you_mean(given, it)
    }

    /// Up to a dozen names joined, with a count of the rest (`none` when empty); `None` when
    /// the budget is spent.
    pub fn listing<'a, I>(&self, names: I) -> Option<String>
    where
        I: IntoIterator<Item = &'a str>,
        I::IntoIter: ExactSizeIterator,
    {
        let it = names.into_iter();
        let total = it.len();
        if !self.allow(total) {
            return None;
        }
        Some(listing(it, total))
    }
}

/// Joins the first names of `names` (which holds `total`).
pub fn listing<'a>(names: impl Iterator<Item = &'a str>, total: usize) -> String {
    if total == 0 {
        return "none".to_string();
    }
    let shown: Vec<&str> = names.take(LISTED).collect();
    let mut out = shown.join(", ");
    if total > LISTED {
        out.push_str(&format!(" and {} more", total - LISTED));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_runs_out() {
        let h = Hints::default();
        assert!(h.allow(BUDGET - 1));
        assert!(h.nearest("ab", ["abc", "x"]).is_none());
        assert!(h.allow(0));
    }

    #[test]
    fn listings_are_short() {
        let names: Vec<String> = (0..20).map(|i| format!("n{i}")).collect();
        let l = listing(names.iter().map(String::as_str), names.len());
        assert!(l.ends_with("n11 and 8 more"), "{l}");
    }
}
