//! A file's SHA-256 taken on the machine's idle time, for a file the audit reads without the
//! structure check (see [`super::scan::lines`]), which took the hash beside it.
//!
//! The hash cannot be split over cores (each block of SHA-256 starts from the one before), and
//! on ten million rows it is about a second of one core: beside the readers it took that
//! second from them. So it runs on a thread that the system gives only the time no other
//! thread wants (Linux's `SCHED_IDLE`): while the first batch is read alone, in the gaps of
//! deciding, while writing waits on the disk. Whoever needs the hash ([`Hashing::finish`])
//! takes over where that thread got to, at its own priority, so that a busy machine delays
//! the hash by no more than hashing it would.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::scan;

/// The bytes hashed between two hand-overs of the state.
const WINDOW: usize = 8 << 20;

/// A file's hash being taken; see the module's documentation.
pub struct Hashing {
    path: PathBuf,
    window: usize,
    /// What the thread has hashed so far: the state after `bytes` bytes. It only ever holds
    /// the lock to replace the state, never while hashing.
    done: Mutex<(Sha256, usize)>,
    stop: AtomicBool,
    hex: OnceLock<Result<String, String>>,
}

impl Hashing {
    /// Starts hashing the file at `path` on idle time.
    pub fn start(path: PathBuf) -> Arc<Hashing> {
        Hashing::start_with(path, WINDOW)
    }

    /// [`Hashing::start`], handing the state over every `window` bytes (a test hands it over
    /// often).
    pub fn start_with(path: PathBuf, window: usize) -> Arc<Hashing> {
        let hashing = Arc::new(Hashing {
            path,
            window: window.max(1),
            done: Mutex::new((Sha256::new(), 0)),
            stop: AtomicBool::new(false),
            hex: OnceLock::new(),
        });
        let on_idle = Arc::clone(&hashing);
        std::thread::spawn(move || {
            idle_priority();
            // A file that cannot be read now is found out by `finish`, which reads it again.
            let _ = on_idle.run();
        });
        hashing
    }

    /// Hashes the file a window at a time, handing each window's state over, until done or
    /// told to stop. Done, it gives the hash itself: the file need not be there when the hash
    /// is asked for (a cron job may move it on once it is read).
    fn run(&self) -> std::io::Result<()> {
        let map = super::parts::map_file(&self.path)?;
        let mut hasher = Sha256::new();
        let mut reached = 0;
        scan::hash_on(&map, &mut hasher, 0, self.window, |hasher, at| {
            if let Ok(mut done) = self.done.lock() {
                *done = (hasher.clone(), at);
            }
            reached = at;
            !self.stop.load(Ordering::Relaxed)
        });
        if reached == scan::Source::bytes(&map).len() {
            // Whoever took over meanwhile gives the same hash; the first one given stays.
            let _ = self.hex.set(Ok(crate::bytes::hex(&hasher.finalize())));
        }
        Ok(())
    }

    /// Whether the hash is known (taken to the end, or asked for).
    pub fn is_done(&self) -> bool {
        self.hex.get().is_some()
    }

    /// The file's hash (lower-case hex), hashing on from where the idle thread got to on this
    /// thread; the same answer to every later call.
    pub fn finish(&self) -> std::io::Result<String> {
        let hex = self.hex.get_or_init(|| {
            self.stop.store(true, Ordering::Relaxed);
            // The idle thread holds the lock only to hand a state over; should it be kept
            // from running just then, the hash starts afresh rather than wait for it.
            let (mut hasher, at) = match self.done.try_lock() {
                Ok(done) => done.clone(),
                Err(_) => (Sha256::new(), 0),
            };
            let map = super::parts::map_file(&self.path)
                .map_err(|e| format!("cannot hash {}: {e}", self.path.display()))?;
            scan::hash_on(&map, &mut hasher, at, self.window, |_, _| true);
            Ok(crate::bytes::hex(&hasher.finalize()))
        });
        hex.clone().map_err(std::io::Error::other)
    }
}

/// Gives the calling thread only the time no other thread wants. Elsewhere than on Linux the
/// thread keeps its priority (it then shares the cores as any thread does).
fn idle_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread, and `param` is a valid sched_param that the call
        // only reads. A refusal leaves the thread as it was.
        unsafe {
            libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
        }
    }
}
