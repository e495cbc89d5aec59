//! Repository automation, in Rust, with no dependencies: `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks: fmt, clippy `-D warnings` on all targets and features, the
//!   tests, rustdoc `-D warnings`, no pending insta snapshots, cargo-deny.
//! - `deny`: cargo-deny with the offline advisory database from `../shared/advisory-db`.
//! - `bench`: the performance report (see BENCHMARKS.md).

#![allow(clippy::print_stderr)] // a command-line tool reports on stderr

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod deny;
mod tidy;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("ci") => ci(&args[1..]),
        Some("deny") => deny::check(&root()),
        Some("bench") => bench(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <ci [--skip-tests] | deny | bench [--quick]>");
            return ExitCode::from(2);
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's folder).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs a command in the workspace root, failing with its name when it fails.
fn run(name: &str, cmd: &mut Command) -> Result {
    eprintln!("xtask: == {name}");
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("{name}: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn ci(args: &[String]) -> Result {
    let skip_tests = args.iter().any(|a| a == "--skip-tests");
    run("fmt", cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    if !skip_tests {
        run(
            "test",
            cargo()
                .args(["test", "--workspace", "--all-features"])
                .env("INSTA_UPDATE", "no")
                .env("CI", "true"),
        )?;
    }
    run(
        "doc",
        cargo()
            .args(["doc", "--workspace", "--all-features", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    eprintln!("xtask: == snapshots");
    tidy::no_pending_snapshots(&root())?;
    deny::check(&root())?;
    eprintln!("xtask: ci passed");
    Ok(())
}

fn bench(args: &[String]) -> Result {
    let mut cmd = cargo();
    cmd.args(["run", "--release", "-p", "preauth-bench", "--"]);
    cmd.args(args);
    run("bench", &mut cmd)
}
