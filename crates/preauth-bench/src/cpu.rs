//! Time per operation of the pure, sans-I/O paths: many iterations per round, several rounds,
//! the median round. The library's and the baseline's rounds alternate (and swap order every
//! round), so that a noisy neighbour or a frequency change hits both alike.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct CpuConfig {
    /// Rounds per side; the median is reported.
    pub rounds: usize,
    /// The target duration of one round.
    pub round_time: Duration,
}

impl CpuConfig {
    /// The full run: 9 rounds of about 100 ms per side and operation.
    pub fn full() -> Self {
        CpuConfig {
            rounds: 9,
            round_time: Duration::from_millis(100),
        }
    }

    /// The smoke run: 3 rounds of about 20 ms.
    pub fn quick() -> Self {
        CpuConfig {
            rounds: 3,
            round_time: Duration::from_millis(20),
        }
    }
}

/// The median nanoseconds per operation of both sides.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    /// The library.
    pub library_ns: u64,
    /// The baseline.
    pub baseline_ns: u64,
    /// Iterations per library round.
    pub library_iters: u64,
    /// Iterations per baseline round.
    pub baseline_iters: u64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// How many iterations of `f` take about `target`.
fn calibrate(f: &mut impl FnMut() -> bool, target: Duration) -> u64 {
    let mut n: u64 = 1;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            black_box(f());
        }
        let took = nanos(t.elapsed()).max(1);
        if took >= nanos(target) / 10 || n >= 1 << 30 {
            let per_op = (took / n).max(1);
            return (nanos(target) / per_op).max(1);
        }
        n *= 2;
    }
}

/// One round: nanoseconds per operation.
fn round(f: &mut impl FnMut() -> bool, iters: u64) -> u64 {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    nanos(t.elapsed()) / iters
}

/// The median of `v`.
pub fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Measures `library` against `baseline`, each returning whether the operation succeeded.
///
/// # Errors
/// When either fails once before timing (a broken fixture).
pub fn measure_pair(
    cfg: CpuConfig,
    mut library: impl FnMut() -> bool,
    mut baseline: impl FnMut() -> bool,
) -> Result<Pair, String> {
    if !library() {
        return Err("the library's operation failed on the canned traffic".into());
    }
    if !baseline() {
        return Err("the baseline's operation failed on the canned traffic".into());
    }
    let library_iters = calibrate(&mut library, cfg.round_time);
    let baseline_iters = calibrate(&mut baseline, cfg.round_time);
    let mut lib = Vec::with_capacity(cfg.rounds);
    let mut base = Vec::with_capacity(cfg.rounds);
    for r in 0..cfg.rounds {
        if r % 2 == 0 {
            lib.push(round(&mut library, library_iters));
            base.push(round(&mut baseline, baseline_iters));
        } else {
            base.push(round(&mut baseline, baseline_iters));
            lib.push(round(&mut library, library_iters));
        }
    }
    Ok(Pair {
        library_ns: median(&mut lib),
        baseline_ns: median(&mut base),
        library_iters,
        baseline_iters,
    })
}
