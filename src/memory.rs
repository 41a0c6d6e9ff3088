//! Handing freed memory back to the system.

/// Returns the memory freed so far to the system now, rather than on the allocator's own
/// schedule. mimalloc, the binary's allocator, keeps freed pages for a while to reuse them, and
/// pages freed by one thread for another's heap wait until that heap allocates again. Where a
/// step frees a large structure and the next allocates a new one (a column of ten million
/// contacts put in order, the rows once merged), the process held both for a while: on ten
/// million rows that was about a fifth of the peak, and the peak is what a small server must
/// have. A call took 0.01–12 ms on ten million rows (about 80 ms for the whole run).
pub fn release() {
    // SAFETY: `mi_collect` only frees what mimalloc holds as free; it may be called at any
    // time, from any thread, whichever allocator the program uses.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
