//! Statuses as polars expressions: how restrictive each is, and the most restrictive of several
//! (SPEC §2.4).

use polars::prelude::*;

use super::text;
use crate::fields::Status;

/// A rank per status, higher is more restrictive; unsubscribed outranks complained only so that
/// the merged status is stable (both withdraw).
pub fn rank_of(status: Status) -> i32 {
    status.restrictiveness() * 2 + i32::from(status == Status::Unsubscribed)
}

/// The rank of a status name (null for null).
pub fn rank(status: Expr) -> Expr {
    let ranks = Status::ALL
        .iter()
        .map(|s| (s.name().to_string(), rank_of(*s)))
        .collect();
    text::lookup(status, ranks, None)
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

/// The status name of a rank (null for null).
pub fn from_rank(rank: Expr) -> Expr {
    rank.map(
        |c: Column| {
            let ranks = c.i32()?;
            let name = |r: i32| {
                Status::ALL
                    .iter()
                    .find(|s| rank_of(**s) == r)
                    .map(|s| s.name())
            };
            let names: StringChunked = ranks.iter().map(|r| r.and_then(name)).collect();
            Ok(names.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}
