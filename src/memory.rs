//! Handing freed memory back to the system.

/// Returns the memory freed so far to the system now, rather than on the allocator's own
/// schedule. mimalloc, the binary's allocator, keeps freed pages for a while to reuse them, and
/// pages freed by one thread for another's heap wait until that heap allocates again. Where a
/// step frees a large structure and the next allocates a new one (reading's batches before
/// deciding, deciding's steps before the lists are written), the process held both for a
/// while: on ten million rows that was about a fifth of the peak, and the peak is what a small
/// server must have. A call took 0.01–12 ms on ten million rows.
pub fn release() {
    // SAFETY: `mi_collect` only frees what mimalloc holds as free; it may be called at any
    // time, from any thread, whichever allocator the program uses.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (15 in its v2 and v3 headers; the
/// crate names only some options).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps freed memory before it hands it back, in milliseconds, unless
/// `MIMALLOC_PURGE_DELAY` says otherwise. Its own default, 10 ms, is shorter than the time
/// between two batches of a large file: each batch's columns were handed back and the next
/// batch's faulted in afresh, zeroed by the kernel, about a tenth of the run's time. The steps
/// that free a large structure still hand it back at once ([`release`]).
const PURGE_DELAY_MS: std::ffi::c_long = 250;

/// How long freed memory is kept while the inputs are read: a few batches' time. Each batch
/// frees what the next one allocates again (its text, its normalising steps), so this is
/// reused rather than handed back and faulted in zeroed; the kernel's zeroing was an eighth
/// of the reading stage. On ten million rows, reading took 9.4–10.3 s against 10.9–12.2 s,
/// and the peak rose from 1.30–1.34 to 1.37–1.38 GB; a minute instead of two seconds saved
/// no more and held up to 1.46 GB.
const READING_PURGE_DELAY_MS: std::ffi::c_long = 2_000;

/// Sets the allocator's options; called first thing in `main`.
pub fn configure() {
    set_purge_delay(PURGE_DELAY_MS);
    without_huge_pages();
}

/// Turns transparent huge pages off for this process, unless `MIMALLOC_ALLOW_THP` says
/// otherwise. mimalloc asks for them on its arenas (`madvise(MADV_HUGEPAGE)`), and then hands
/// freed memory back in 64 KiB pieces: each fault on a fresh arena page then zeroed 2 MiB, and
/// a purge split the page again. On ten million rows the kernel's zeroing of huge pages was
/// 42% of the run's CPU time; with them off, system time fell from 10–12 s to 3–6 s and the
/// wall time from 15.6–17.0 s to 10.9–12.8 s (three paired rounds), at the same peak. mimalloc
/// has this switch (`allow_thp`) but reads it before `main`, so it is set here the way
/// mimalloc itself would, for the process. Other platforms have no such switch.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes no memory; it only stops
        // later faults from taking huge pages. A failure (an old kernel) leaves them on.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

/// Keeps freed memory for the next batch while the inputs are read (`true`), or goes back to
/// [`PURGE_DELAY_MS`] and hands back what reading freed (`false`), so that the later steps'
/// peak is not raised by it.
pub fn reading(on: bool) {
    if on {
        set_purge_delay(READING_PURGE_DELAY_MS);
    } else {
        set_purge_delay(PURGE_DELAY_MS);
        release();
    }
}

fn set_purge_delay(ms: std::ffi::c_long) {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: setting an option is allowed at any time; mimalloc reads it when it purges.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, ms) }
    }
}
