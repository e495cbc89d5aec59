//! The comparison is honest: for the same order at the same time, the baseline sends what the
//! library sends (same URL, same body bytes, so the same signatures), and reads the same
//! answers into the same status, reference and amounts. Runs against the simulators on
//! loopback, in debug, in a second or two.

mod equivalence;
