//! Output: Markdown tables (so a run can be pasted into `BENCHMARKS.md`), integer formatting
//! of rates and ratios (no floating point), progress notes on stderr.

use std::io::Write;

/// A Markdown table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headings.
    pub fn new(head: &[&str]) -> Self {
        Table {
            head: head.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as Markdown, columns padded.
    pub fn render(&self) -> String {
        let cols = self.head.len();
        let width = |i: usize| {
            self.rows
                .iter()
                .filter_map(|r| r.get(i))
                .chain(self.head.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
                .max(3)
        };
        let widths: Vec<usize> = (0..cols).map(width).collect();
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for (i, w) in widths.iter().enumerate() {
                let c = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = w.saturating_sub(c.chars().count());
                s.push(' ');
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
                s.push_str(" |");
            }
            s.push('\n');
            s
        };
        let mut out = line(&self.head);
        out.push('|');
        for w in &widths {
            out.push_str(&"-".repeat(w + 2));
            out.push('|');
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

/// `num / den` with two decimals (`"1.07"`), rounded; `"n/a"` when `den` is 0.
pub fn ratio(num: u128, den: u128) -> String {
    if den == 0 {
        return "n/a".into();
    }
    let hundredths = (num * 100 + den / 2) / den;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Whether `num / den <= limit_percent / 100`.
pub fn at_most(num: u128, den: u128, limit_percent: u128) -> bool {
    num * 100 <= den * limit_percent
}

/// Nanoseconds as milliseconds with two decimals.
pub fn ms(ns: u64) -> String {
    let hundredths = (ns + 5_000) / 10_000;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Nanoseconds as microseconds with one decimal.
pub fn us(ns: u64) -> String {
    let tenths = (ns + 50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Events per second of `count` events in `elapsed_ns`.
pub fn per_second(count: u64, elapsed_ns: u128) -> u128 {
    (u128::from(count) * 1_000_000_000)
        .checked_div(elapsed_ns)
        .unwrap_or(0)
}

/// Writes to stdout (the report).
pub fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

/// Writes a progress note to stderr.
pub fn note(s: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "preauth-bench: {s}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        assert_eq!(ratio(107, 100), "1.07");
        assert_eq!(ratio(2, 3), "0.67");
        assert_eq!(ratio(1, 0), "n/a");
        assert!(at_most(120, 100, 120));
        assert!(!at_most(121, 100, 120));
        assert_eq!(ms(1_234_567), "1.23");
        assert_eq!(us(12_345), "12.3");
        assert_eq!(per_second(1000, 2_000_000_000), 500);
        let mut t = Table::new(&["a", "bb"]);
        t.row(vec!["1".into(), "2".into()]);
        assert_eq!(t.render(), "| a   | bb  |\n|-----|-----|\n| 1   | 2   |\n");
    }
}
