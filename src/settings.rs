//! Resolved settings: the command line (and later the policy file) turned into one value the
//! pipeline reads. clap's types stop here.

use std::path::PathBuf;

use chrono::NaiveDate;
use thiserror::Error;

use crate::cli::AuditArgs;
use crate::fields::Field;
use crate::ingest::IngestOptions;
use crate::ingest::profile;
use crate::policy::Policy;

/// A usage error (exit 2), said in words the user can act on.
#[derive(Debug, Error)]
pub enum UsageError {
    #[error("--as-of `{0}` is not a date\n\nhint: write it as YYYY-MM-DD, e.g. --as-of 2026-12-01")]
    AsOf(String),
    #[error("--map `{0}` is not FIELD=COLUMN\n\nhint: e.g. --map email=Mailadres")]
    MapSyntax(String),
    #[error("--map `{given}`: {problem}")]
    MapField { given: String, problem: String },
    #[error("--format `{0}` is not a known service; the services are: {1}")]
    Format(String, String),
}

/// Everything `audit` needs to know.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub inputs: Vec<PathBuf>,
    pub activity: Vec<PathBuf>,
    pub out: PathBuf,
    pub as_of: NaiveDate,
    pub policy: Policy,
    pub ingest: IngestOptions,
    pub force: bool,
    pub dry_run: bool,
    pub excel: bool,
    pub quiet: bool,
    pub json: bool,
    pub fail_on_findings: bool,
}

impl AuditSettings {
    pub fn resolve(args: AuditArgs, today: NaiveDate) -> Result<AuditSettings, UsageError> {
        let as_of = match &args.as_of {
            None => today,
            Some(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| UsageError::AsOf(text.clone()))?,
        };
        let mut overrides = Vec::new();
        for given in &args.maps {
            let (field, column) = given
                .split_once('=')
                .filter(|(f, c)| !f.trim().is_empty() && !c.trim().is_empty())
                .ok_or_else(|| UsageError::MapSyntax(given.clone()))?;
            let field: Field = field
                .trim()
                .parse()
                .map_err(|problem| UsageError::MapField {
                    given: given.clone(),
                    problem,
                })?;
            overrides.push((field, column.trim().to_string()));
        }
        let format = match &args.format {
            None => None,
            Some(name) => Some(profile::by_name(name).ok_or_else(|| {
                let names: Vec<&str> = std::iter::once(&profile::GENERIC)
                    .chain(profile::PROFILES.iter().copied())
                    .map(|p| p.service)
                    .collect();
                UsageError::Format(name.clone(), names.join(", "))
            })?),
        };
        let policy = Policy::nl();
        Ok(AuditSettings {
            inputs: args.inputs,
            activity: args.activity,
            out: args.out,
            as_of,
            ingest: IngestOptions {
                overrides,
                format,
                max_reject_pct: policy.max_reject_pct,
            },
            policy,
            force: args.force,
            dry_run: args.dry_run,
            excel: args.excel,
            quiet: args.quiet,
            json: args.json,
            fail_on_findings: args.fail_on_findings,
        })
    }
}
