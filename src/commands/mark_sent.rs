//! `listaudit mark-sent LIST --on DATE --state DIR`: record when a re-permission campaign went
//! out, so that the grace period can run (SPEC §8). Nobody expires who was never asked.

use std::collections::HashSet;

use anyhow::Result;
use chrono::NaiveDate;

use crate::cli::MarkSentArgs;
use crate::exit::ExitStatus;
use crate::outputs::commit::{self, Target};
use crate::outputs::{Content, CsvStyle, Output};
use crate::printer::Printer;
use crate::settings::UsageError;
use crate::state::lock::Lock;
use crate::state::{REPERMISSION, State, StateError, read_hash_list};

pub fn run(args: &MarkSentArgs, printer: &Printer) -> Result<ExitStatus> {
    let on = NaiveDate::parse_from_str(args.on.trim(), "%Y-%m-%d")
        .map_err(|_| UsageError::AsOf(args.on.clone()))?;
    if !args.state.is_dir() {
        return Err(StateError::Io {
            path: args.state.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no state folder here; run listaudit audit --state first",
            ),
        }
        .into());
    }
    let _lock = Lock::acquire(
        &args.state,
        std::time::Duration::from_secs(args.lock_timeout),
    )?;
    commit::recover(&args.state)?;
    let mut state = State::load(&args.state)?;
    let sent: HashSet<String> = read_hash_list(&args.list)?.into_iter().collect();
    let (mut marked, mut already) = (0u64, 0u64);
    for (hash, listed) in state.repermission.iter_mut() {
        if sent.contains(hash) {
            match listed.sent_on {
                None => {
                    listed.sent_on = Some(on);
                    marked += 1;
                }
                Some(_) => already += 1,
            }
        }
    }
    let unknown = sent.len() as u64 - marked - already;
    commit::commit(
        vec![Target {
            dir: args.state.clone(),
            outputs: vec![Output {
                name: REPERMISSION,
                content: Content::Bytes(State::repermission_csv(&state.repermission)),
            }],
        }],
        &args.state,
        CsvStyle::default(),
    )?;
    printer.info(&format!(
        "marked {marked} contacts as sent on {on}; {already} were already marked, {unknown} in the list are not listed for re-permission\n"
    ));
    Ok(ExitStatus::Success)
}
