//! Repository invariants that are cheap to check by reading files, run by `cargo xtask ci` and
//! by `cargo test -p xtask`.

use std::path::{Path, PathBuf};

use crate::Result;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(&root.join("crates"), &mut out);
    walk(&root.join("xtask"), &mut out);
    out
}

/// Fails when an insta snapshot awaits review (`.snap.new`, `.pending-snap`).
pub(crate) fn no_pending_snapshots(root: &Path) -> Result {
    let pending: Vec<String> = files(root)
        .into_iter()
        .filter(|p| {
            let s = p.to_string_lossy();
            s.ends_with(".snap.new") || s.ends_with(".pending-snap")
        })
        .map(|p| p.display().to_string())
        .collect();
    if pending.is_empty() {
        Ok(())
    } else {
        Err(format!("unreviewed snapshots: {}", pending.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rust_files() -> Vec<PathBuf> {
        files(&crate::root())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect()
    }

    /// Every Rust file starts with `//!` docs saying what it is for.
    #[test]
    fn every_rust_file_has_module_docs() {
        let missing: Vec<String> = rust_files()
            .into_iter()
            .filter(|p| {
                let s = std::fs::read_to_string(p).unwrap_or_default();
                !s.trim_start().starts_with("//!")
            })
            .map(|p| p.display().to_string())
            .collect();
        assert!(missing.is_empty(), "files without //! docs: {missing:#?}");
    }

    /// No test is hidden: no ignore attribute, no should-panic attribute.
    #[test]
    fn no_ignored_or_should_panic_tests() {
        let bad: Vec<String> = rust_files()
            .into_iter()
            .filter(|p| {
                let s = std::fs::read_to_string(p).unwrap_or_default();
                s.contains(concat!("#[", "ignore")) || s.contains(concat!("#[", "should_panic"))
            })
            .map(|p| p.display().to_string())
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
    }

    /// Money never touches a float: no `f32`/`f64` in library sources, except in the signature
    /// of serde's `Visitor::visit_f64`, which a hand-written JSON reader must implement (the
    /// readers refuse or ignore the float; they never keep it).
    #[test]
    fn no_floats_in_library_code() {
        let bad: Vec<String> = rust_files()
            .into_iter()
            .filter(|p| p.components().any(|c| c.as_os_str() == "src"))
            .filter(|p| !p.to_string_lossy().contains("xtask"))
            .filter(|p| !p.to_string_lossy().contains("preauth-bench"))
            .filter(|p| {
                let s = std::fs::read_to_string(p).unwrap_or_default();
                s.lines()
                    .filter(|l| !l.contains("fn visit_f64") && !l.contains("fn visit_f32"))
                    .any(|l| {
                        l.contains(": f64")
                            || l.contains(": f32")
                            || l.contains("as f64")
                            || l.contains("as f32")
                            || l.contains("from_f64")
                    })
            })
            .map(|p| p.display().to_string())
            .collect();
        assert!(bad.is_empty(), "floats in {bad:#?}");
    }

    #[test]
    fn no_pending_snapshots_now() {
        no_pending_snapshots(&crate::root()).unwrap_or_else(|e| panic!("{e}"));
    }
}
