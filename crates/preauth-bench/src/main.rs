//! `preauth-bench`: the performance report (see `BENCHMARKS.md`). `--quick` for a smoke run.

use std::process::ExitCode;

use preauth_bench::report::note;
use preauth_bench::run::{Options, run};

fn main() -> ExitCode {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(usage) => {
            note(&usage);
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            note(&format!("failed: {e}"));
            ExitCode::FAILURE
        }
    }
}
