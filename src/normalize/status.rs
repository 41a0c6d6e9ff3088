//! Statuses as ranks: how restrictive each is, so that the most restrictive of several is the
//! largest (SPEC §2.4). Rows and contacts hold the status as its rank.

use crate::fields::Status;

/// A rank per status, higher is more restrictive; unsubscribed outranks complained only so that
/// the merged status is stable (both withdraw).
pub fn rank_of(status: Status) -> i32 {
    status.restrictiveness() * 2 + i32::from(status == Status::Unsubscribed)
}

/// The status names by rank (empty where no status has the rank), for spelling a column of
/// ranks.
pub fn names_by_rank() -> Vec<String> {
    let top = Status::ALL.iter().map(|s| rank_of(*s)).max().unwrap_or(0);
    (0..=top)
        .map(|r| {
            Status::ALL
                .iter()
                .find(|s| rank_of(**s) == r)
                .map_or_else(String::new, |s| s.name().to_string())
        })
        .collect()
}
