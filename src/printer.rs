//! The one way human-facing text reaches the terminal: stderr, silenced by `--quiet`.
//! stdout carries data only (`--json`).

use std::io::Write;

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub quiet: bool,
}

impl Printer {
    /// A message for people; dropped under `--quiet`. A closed stderr is not an error.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }

    /// A warning; shown even under `--quiet`.
    pub fn warn(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "warning: {text}");
    }

    /// Data for machines on stdout.
    pub fn data(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()
    }
}
