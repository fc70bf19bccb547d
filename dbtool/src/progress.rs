//! Human progress lines on stderr; data goes to stdout elsewhere.

/// Writes one line per event to stderr, or nothing when quiet (library callers).
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    quiet: bool,
}

impl Progress {
    pub fn stderr() -> Progress {
        Progress { quiet: false }
    }

    pub fn quiet() -> Progress {
        Progress { quiet: true }
    }

    pub fn line(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }
}

/// Milliseconds with one decimal, for "applied V3__x (12.4 ms)".
pub fn millis(elapsed: std::time::Duration) -> String {
    format!("{:.1} ms", elapsed.as_secs_f64() * 1000.0)
}
