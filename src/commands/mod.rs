//! One module per subcommand, each with a `run` that returns an exit status.

pub mod audit;
pub mod inspect;
pub mod mark_sent;
pub mod policy;
