//! Fault injection for the crash tests: `LISTAUDIT_FAULT=abort@POINT` aborts the process (no
//! destructors, no cleanup, as a SIGKILL would) when the commit reaches POINT (`staged`,
//! `journal`, `renaming`, `renamed`); `LISTAUDIT_FAULT=enospc` fails the first file write with
//! "No space left on device"; `LISTAUDIT_FAULT=hold@lock:MS` holds the state lock for MS
//! milliseconds. Unset in normal use; read once per process.

use std::sync::OnceLock;

fn fault() -> Option<&'static str> {
    static FAULT: OnceLock<Option<String>> = OnceLock::new();
    FAULT
        .get_or_init(|| std::env::var("LISTAUDIT_FAULT").ok())
        .as_deref()
}

/// Aborts here when asked to.
pub fn point(name: &str) {
    if fault().is_some_and(|f| f.strip_prefix("abort@") == Some(name)) {
        std::process::abort();
    }
}

/// Fails an I/O step when asked to.
pub fn io(_step: &str) -> std::io::Result<()> {
    if fault() == Some("enospc") {
        return Err(std::io::Error::from_raw_os_error(28));
    }
    Ok(())
}

/// How long to hold the lock, when asked to.
pub fn hold(name: &str) -> Option<std::time::Duration> {
    let ms = fault()?
        .strip_prefix("hold@")?
        .strip_prefix(name)?
        .strip_prefix(':')?;
    ms.parse().ok().map(std::time::Duration::from_millis)
}
