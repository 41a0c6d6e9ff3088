//! One module per subcommand, each with a `run` that returns an exit status.

pub mod audit;
pub mod inspect;
pub mod policy;
