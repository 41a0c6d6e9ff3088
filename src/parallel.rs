//! Loops that polars has no expression for, split over the machine's cores with scoped
//! threads: a list is two cores' work on the small machines this runs on, and one thread leaves
//! half of it idle.

use std::ops::Range;

/// The cores to split work over.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `work` of every item, each on a thread of its own (the last on this one); the results in
/// the items' order. A panic in any of them goes on in the caller.
pub fn map<I: Send, T: Send>(items: Vec<I>, work: impl Fn(I) -> T + Sync) -> Vec<T> {
    let mut items = items;
    let Some(last) = items.pop() else {
        return Vec::new();
    };
    std::thread::scope(|scope| {
        let work = &work;
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
    })
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
