//! Loops that polars has no expression for, split over the machine's cores: a list is two
//! cores' work on the small machines this runs on, and one thread leaves half of it idle.

use std::ops::Range;

/// The cores to split work over.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The threads [`map`] runs its items on, one a core, started once and woken for each call.
///
/// A thread started for each call was put by Linux on the caller's core even where the other
/// core ran only the input's hash, at idle priority (`ingest::digest`): for tens of
/// milliseconds the two shared one core, and the hash had the other. A thread woken from sleep
/// is put on a core that runs nothing else, or only idle-priority work. Reproduced outside the
/// program (two threads spinning 0.2 s beside an idle-priority spinner): started afresh, they
/// got 0.13–0.20 s each of the cores; woken in a pool, 0.197–0.200 s.
static POOL: std::sync::LazyLock<Option<rayon::ThreadPool>> = std::sync::LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .num_threads(cores())
        .thread_name(|i| format!("listaudit-{i}"))
        .build()
        .ok()
});

/// `work` of every item, the last on this thread and each other on one of [`POOL`]'s (on a
/// thread started for it where the pool could not be started); the results in the items'
/// order. A panic in any of them goes on in the caller.
pub fn map<I: Send, T: Send>(items: Vec<I>, work: impl Fn(I) -> T + Sync) -> Vec<T> {
    let mut items = items;
    let Some(last) = items.pop() else {
        return Vec::new();
    };
    let work = &work;
    let Some(pool) = POOL.as_ref() else {
        return std::thread::scope(|scope| {
            let handles: Vec<_> = items
                .into_iter()
                .map(|item| scope.spawn(move || work(item)))
                .collect();
            let last = work(last);
            let mut results: Vec<T> = handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect();
            results.push(last);
            results
        });
    };
    let mut results: Vec<Option<T>> = items.iter().map(|_| None).collect();
    let last = pool.in_place_scope(|scope| {
        for (item, result) in items.into_iter().zip(results.iter_mut()) {
            scope.spawn(move |_| *result = Some(work(item)));
        }
        work(last)
    });
    // The scope returns once every item is done (each has its result), or goes on with the
    // first panic.
    let mut results: Vec<T> = results
        .into_iter()
        .map(|result| result.expect("a pool item ended without its result"))
        .collect();
    results.push(last);
    results
}

/// `here()` on this thread and `there()` on one of [`POOL`]'s side by side (one after the other
/// where the pool could not be started); both results.
pub fn join<A, B: Send>(here: impl FnOnce() -> A, there: impl FnOnce() -> B + Send) -> (A, B) {
    let Some(pool) = POOL.as_ref() else {
        let here = here();
        return (here, there());
    };
    let mut done = None;
    let here = pool.in_place_scope(|scope| {
        scope.spawn(|_| done = Some(there()));
        here()
    });
    // The scope returns once `there` is done, or goes on with its panic.
    (
        here,
        done.expect("the pool's work ended without its result"),
    )
}

/// `work` of each of [`cores`] consecutive ranges that together cover `0..len`, none shorter
/// than `min` but the last (so that a short input is not split at all); the results in order.
/// An empty `len` is one empty range.
pub fn over_ranges<T: Send>(
    len: usize,
    min: usize,
    work: impl Fn(Range<usize>) -> T + Sync,
) -> Vec<T> {
    let per = len.div_ceil(cores()).max(min).max(1);
    let parts = len.div_ceil(per).max(1);
    map((0..parts).collect(), |i| {
        work(i * per..((i + 1) * per).min(len))
    })
}
