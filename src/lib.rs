//! listaudit: audit exported mailing lists under the GDPR (AVG) and prune them.
//!
//! ```text
//!  INPUT files ──► ingest ──► normalize ──► decide ──► outputs ──► out/*.csv, report.json
//!   (CSV, dirs)    sniff,      e-mail key,   merge per   tables,    staged, renamed
//!                  profile,    status,       person,     formula    together, mode 0600
//!                  mapping,    dates         evidence,   guard,
//!                  structure                 reasons,    hashes
//!                  check                     outcome
//! ```
//!
//! Data flows one way; the rules of SPEC §3 are data in [`decide::rules`], answered over the
//! whole frame a condition at a time ([`decide::evaluate`]).

pub mod bytes;
pub mod cli;
pub mod commands;
pub mod decide;
pub mod exit;
pub mod fault;
pub mod fields;
pub mod ingest;
pub mod memory;
pub mod normalize;
pub mod outputs;
pub mod parallel;
pub mod policy;
pub mod printer;
pub mod report;
pub mod settings;
pub mod state;

use exit::ExitStatus;

/// Runs one command line; errors come back for `main` to print.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        cli::Command::Audit(args) => {
            let printer = printer::Printer { quiet: args.quiet };
            let today = chrono::Utc::now().date_naive();
            let settings = settings::AuditSettings::resolve(args, today)?;
            commands::audit::run(&settings, &printer)
        }
        cli::Command::Inspect(args) => {
            commands::inspect::run(&args, &printer::Printer { quiet: false })
        }
        cli::Command::MarkSent(args) => {
            commands::mark_sent::run(&args, &printer::Printer { quiet: false })
        }
        cli::Command::Policy(args) => {
            commands::policy::run(&args, &printer::Printer { quiet: false })
        }
    }
}

/// The exit status an error stands for (SPEC §6).
pub fn exit_status_of(error: &anyhow::Error) -> ExitStatus {
    for cause in error.chain() {
        if cause.is::<settings::UsageError>()
            || cause.is::<settings::SettingsError>()
            || cause.is::<policy::file::PolicyError>()
        {
            return ExitStatus::Usage;
        }
        if let Some(outputs::OutputError::Exists { .. }) = cause.downcast_ref() {
            return ExitStatus::Usage;
        }
        if let Some(state::StateError::Backwards { .. }) = cause.downcast_ref() {
            return ExitStatus::Usage;
        }
        if cause.is::<commands::audit::Refused>() {
            return ExitStatus::Refused;
        }
    }
    ExitStatus::Failure
}
