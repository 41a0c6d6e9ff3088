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

    /// A progress line for long runs: stages and rows, on stderr, drawn only on a terminal and
    /// never under `--quiet`. The message is cut at the terminal's width (`wide_msg`): a line
    /// that wrapped would be redrawn as two, and the callers put the counts before the names.
    pub fn progress(&self) -> Progress {
        let bar = if self.quiet {
            indicatif::ProgressBar::hidden()
        } else {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr_with_hz(4),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {elapsed:>4} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(250));
            bar
        };
        Progress { bar }
    }

    /// Data for machines on stdout.
    pub fn data(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()
    }
}

/// The progress of one run; cleared when dropped.
pub struct Progress {
    bar: indicatif::ProgressBar,
}

impl Progress {
    pub fn stage(&self, message: impl Into<String>) {
        self.bar.set_message(message.into());
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
