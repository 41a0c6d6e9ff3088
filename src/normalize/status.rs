//! Statuses as polars expressions: how restrictive each is, and the most restrictive of several
//! (SPEC §2.4).

use polars::prelude::*;

use crate::fields::Status;

/// A rank per status, higher is more restrictive; unsubscribed outranks complained only so that
/// the merged status is stable (both withdraw).
fn rank_of(status: Status) -> i32 {
    status.restrictiveness() * 2 + i32::from(status == Status::Unsubscribed)
}

/// The rank of a status name (null for null).
pub fn rank(status: Expr) -> Expr {
    let (names, ranks): (Vec<&str>, Vec<i32>) =
        Status::ALL.iter().map(|s| (s.name(), rank_of(*s))).unzip();
    status.replace_strict(
        lit(Series::new("names".into(), names)),
        lit(Series::new("ranks".into(), ranks)),
        None::<Expr>,
        Some(DataType::Int32),
    )
}

/// The status name of a rank (null for null).
pub fn from_rank(rank: Expr) -> Expr {
    let (ranks, names): (Vec<i32>, Vec<&str>) =
        Status::ALL.iter().map(|s| (rank_of(*s), s.name())).unzip();
    rank.replace_strict(
        lit(Series::new("ranks".into(), ranks)),
        lit(Series::new("names".into(), names)),
        None::<Expr>,
        Some(DataType::String),
    )
}
