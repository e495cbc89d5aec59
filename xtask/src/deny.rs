//! `cargo xtask deny`: cargo-deny with the offline RustSec database.
//!
//! The machines have no network beyond the package registries, so the advisory database is
//! the copy in `../shared/advisory-db` (see its ORIGIN.md), turned into the git repository
//! cargo-deny expects under `target/advisory-dbs/`. Where the copy is absent (a clone used
//! outside this workspace), advisories are skipped with a message and the other checks run.

use std::path::Path;
use std::process::Command;

use crate::{Result, cargo, run};

/// The folder name cargo-deny derives from the default advisory-db URL.
const DB_DIR: &str = "advisory-db-3157b0e258782691";

pub(crate) fn check(root: &Path) -> Result {
    let installed = Command::new("cargo-deny")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !installed {
        return Err("cargo-deny is not installed: run `cargo install --locked cargo-deny`".into());
    }
    let shared = root.join("../shared/advisory-db");
    let mut checks = vec!["bans", "licenses", "sources"];
    if shared.is_dir() {
        prepare_db(root, &shared)?;
        checks.insert(0, "advisories");
    } else {
        eprintln!(
            "xtask: ../shared/advisory-db is absent: skipping the advisories check (bans, licenses and sources still run)"
        );
    }
    // `--offline` keeps cargo-deny from fetching the advisory database (no git host is
    // reachable); it then needs every platform's crates in the local registry cache, which
    // `cargo fetch` downloads from crates.io.
    run("fetch", cargo().args(["fetch", "--quiet"]))?;
    let mut cmd = cargo();
    cmd.args(["deny", "--offline", "check"]).args(&checks);
    run("deny", &mut cmd)
}

fn prepare_db(root: &Path, shared: &Path) -> Result {
    let dst = root.join("target/advisory-dbs").join(DB_DIR);
    if dst.join(".git").is_dir() {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(&dst).map_err(|e| format!("create {}: {e}", dst.display()))?;
    copy_dir(shared, &dst)?;
    let git = |args: &[&str]| -> Result {
        let ok = Command::new("git")
            .arg("-C")
            .arg(&dst)
            .args(args)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(format!("git {args:?} in the advisory db failed"))
        }
    };
    git(&["init", "-q"])?;
    git(&["add", "-A"])?;
    git(&[
        "-c",
        "user.name=db",
        "-c",
        "user.email=db@localhost",
        "commit",
        "-qm",
        "db",
    ])?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result {
    for entry in std::fs::read_dir(from).map_err(|e| format!("read {}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
