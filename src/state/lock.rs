//! The state folder's lock: one run at a time. A second run waits up to `--lock-timeout` and
//! then fails with the other run's PID and start time; a lock left by a dead process is taken
//! over.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::StateError;

pub const LOCK: &str = "lock";

#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    started_at: String,
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

fn alive(pid: u32) -> bool {
    // Linux: a live process has a folder in /proc. (No other platform is supported.)
    Path::new(&format!("/proc/{pid}")).exists()
}

impl Lock {
    /// Takes the lock of `dir`, waiting up to `timeout`.
    pub fn acquire(dir: &Path, timeout: Duration) -> Result<Lock, StateError> {
        let path = dir.join(LOCK);
        let start = Instant::now();
        let me = Holder {
            pid: std::process::id(),
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let body = serde_json::to_vec(&me).unwrap_or_default();
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(&body)
                        .and_then(|()| file.sync_all())
                        .map_err(|source| StateError::Io {
                            path: path.display().to_string(),
                            source,
                        })?;
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder: Option<Holder> = std::fs::read(&path)
                        .ok()
                        .and_then(|b| serde_json::from_slice(&b).ok());
                    match holder {
                        Some(h) if alive(h.pid) && h.pid != me.pid => {
                            if start.elapsed() >= timeout {
                                return Err(StateError::Locked {
                                    dir: dir.display().to_string(),
                                    pid: h.pid,
                                    started_at: h.started_at,
                                });
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                        // A dead holder, or a lock file cut short by a crash: stale.
                        _ => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(source) => {
                    return Err(StateError::Io {
                        path: path.display().to_string(),
                        source,
                    });
                }
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
