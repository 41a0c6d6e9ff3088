//! `listaudit policy`: the effective policy as TOML that `--policy` takes back unchanged, or in
//! plain English or Dutch with `--explain`.

use anyhow::Result;

use crate::cli::PolicyArgs;
use crate::exit::ExitStatus;
use crate::policy::explain::{Lang, explain};
use crate::printer::Printer;
use crate::settings::{PolicySource, UsageError};

pub fn run(args: &PolicyArgs, printer: &Printer) -> Result<ExitStatus> {
    let source = PolicySource::from_options(&args.source)?;
    let resolved = source.resolve(None)?;
    let text = if args.explain {
        let env_lang = std::env::var("LANG").ok();
        let lang =
            Lang::resolve(args.lang.as_deref(), env_lang.as_deref()).map_err(UsageError::Lang)?;
        explain(&resolved.policy, lang)
    } else {
        resolved.to_toml()
    };
    printer.data(text.as_bytes())?;
    Ok(ExitStatus::Success)
}
