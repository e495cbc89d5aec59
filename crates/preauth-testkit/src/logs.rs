//! Captures every tracing event and span field of a test binary, so tests can assert that no
//! secret ever reaches a log line.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// The captured output of the whole test binary.
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Everything logged so far.
    pub fn contents(&self) -> String {
        let g = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&g).into_owned()
    }
}

struct Writer(LogBuffer);

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut g = (self.0)
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once per process) a global subscriber that records every event at TRACE level,
/// with the fields of every enclosing span, and returns its buffer.
pub fn capture() -> LogBuffer {
    static BUFFER: OnceLock<LogBuffer> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = LogBuffer::default();
            let b = buffer.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
                .with_writer(move || Writer(b.clone()))
                .finish();
            let _ = tracing::subscriber::set_global_default(subscriber);
            buffer
        })
        .clone()
}

/// Panics naming the first `secrets` entry found in `text` (where it was seen is `what`).
///
/// # Panics
/// When a secret appears.
#[allow(clippy::panic)]
#[track_caller]
pub fn assert_no_secrets(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!s.is_empty(), "an empty secret proves nothing");
        if text.contains(s) {
            let at = text.find(s).unwrap_or(0);
            let from = at.saturating_sub(80);
            let context: String = text[from..].chars().take(200).collect();
            panic!("{what} contains the secret {s:?}: …{context}…");
        }
    }
}
