//! Exit codes (SPEC §6), one enum so that every path of the program ends in a documented code.

use std::process::ExitCode;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done (also for inputs without contacts).
    Success,
    /// 1: input or data error (unreadable file, no e-mail column, too many rejects, write
    /// failure); nothing was written.
    Failure,
    /// 2: usage or policy error, including existing outputs without `--force`.
    Usage,
    /// 3: done, findings present, and `--fail-on-findings` given.
    Findings,
    /// 4: refused by the deletion guard; nothing was written.
    Refused,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Findings => 3,
            ExitStatus::Refused => 4,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}
