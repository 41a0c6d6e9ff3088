//! Resolved settings: the command line (and later the policy file) turned into one value the
//! pipeline reads. clap's types stop here.

use std::path::PathBuf;

use chrono::NaiveDate;
use thiserror::Error;

use crate::cli::PolicyOptions;
use crate::cli::{AuditArgs, IngestArgs};
use crate::fields::Field;
use crate::ingest::profile;
use crate::ingest::{Encoding, IngestOptions};
use crate::policy::file::{PolicyError, resolve};
use crate::policy::{Preset, Resolved};

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
    #[error("--preset: {0}")]
    Preset(String),
    #[error("--max-delete {0} is not a percentage\n\nhint: a number from 0 to 100")]
    MaxDelete(f64),
    #[error(
        "--encoding `{0}` is not an encoding listaudit reads\n\nhint: utf-8, utf-16le, utf-16be or windows-1252"
    )]
    Encoding(String),
    #[error(
        "--delimiter `{0}` is not a delimiter\n\nhint: one character, or tab (e.g. --delimiter ';')"
    )]
    Delimiter(String),
    #[error(
        "--assume `{0}` is not INPUT:FIELD=VALUE\n\nhint: e.g. --assume shopify.csv:double_opt_in=yes"
    )]
    Assume(String),
    #[error("{0}")]
    Lang(String),
}

/// The ingest flags of `audit` and `inspect`, checked.
pub fn ingest_options(args: &IngestArgs, max_reject_pct: f64) -> Result<IngestOptions, UsageError> {
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
    let encoding = match &args.encoding {
        None => None,
        Some(name) => {
            Some(Encoding::parse(name).ok_or_else(|| UsageError::Encoding(name.clone()))?)
        }
    };
    let delimiter = match &args.delimiter {
        None => None,
        Some(d) => Some(parse_delimiter(d).ok_or_else(|| UsageError::Delimiter(d.clone()))?),
    };
    let mut assume = Vec::new();
    for given in &args.assume {
        assume.push(parse_assume(given)?);
    }
    Ok(IngestOptions {
        overrides,
        format,
        max_reject_pct,
        encoding,
        delimiter,
        assume,
        check_while_reading: false,
    })
}

/// `--delimiter`: one character, or `tab`.
fn parse_delimiter(text: &str) -> Option<u8> {
    match text {
        "tab" | "TAB" | "\\t" | "\t" => Some(b'\t'),
        t if t.len() == 1 && t.is_ascii() => Some(t.as_bytes()[0]),
        _ => None,
    }
}

/// `--assume INPUT:FIELD=VALUE`; the input may itself hold `:`, the field may not.
fn parse_assume(given: &str) -> Result<(String, Field, String), UsageError> {
    let bad = || UsageError::Assume(given.to_string());
    let (target, value) = given.split_once('=').ok_or_else(bad)?;
    let (input, field) = target.rsplit_once(':').ok_or_else(bad)?;
    if input.trim().is_empty() || value.trim().is_empty() {
        return Err(bad());
    }
    let field: Field = field
        .trim()
        .parse()
        .map_err(|problem| UsageError::MapField {
            given: given.to_string(),
            problem,
        })?;
    Ok((input.trim().to_string(), field, value.trim().to_string()))
}

/// The policy the user asked for: `--preset`, then `--policy`.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub preset: Option<Preset>,
    pub file: Option<PathBuf>,
}

impl PolicySource {
    pub fn from_options(options: &PolicyOptions) -> Result<PolicySource, UsageError> {
        let preset = match &options.preset {
            None => None,
            Some(p) => Some(p.parse().map_err(UsageError::Preset)?),
        };
        Ok(PolicySource {
            preset,
            file: options.policy.clone(),
        })
    }

    /// The effective policy, starting from `preset` instead of the user's where given.
    pub fn resolve(&self, preset: Option<Preset>) -> Result<Resolved, PolicyError> {
        resolve(preset.or(self.preset), self.file.as_deref())
    }
}

/// Everything `audit` needs to know.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub inputs: Vec<PathBuf>,
    pub activity: Vec<PathBuf>,
    pub out: PathBuf,
    pub as_of: NaiveDate,
    pub policy: Resolved,
    pub policy_source: PolicySource,
    pub preset_by_country: bool,
    pub ingest: IngestOptions,
    pub state: Option<PathBuf>,
    pub suppression: Vec<PathBuf>,
    pub renewed: Vec<PathBuf>,
    pub max_delete: f64,
    pub lock_timeout: std::time::Duration,
    pub force: bool,
    pub dry_run: bool,
    pub excel: bool,
    pub quiet: bool,
    pub json: bool,
    pub fail_on_findings: bool,
}

/// Why `audit` cannot start: a usage error or a policy error, both exit 2.
#[derive(Debug, Error)]
pub enum SettingsError {
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl AuditSettings {
    pub fn resolve(args: AuditArgs, today: NaiveDate) -> Result<AuditSettings, SettingsError> {
        let as_of = match &args.as_of {
            None => today,
            Some(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| UsageError::AsOf(text.clone()))?,
        };
        let policy_source = PolicySource::from_options(&args.policy)?;
        let policy = policy_source.resolve(None)?;
        Ok(AuditSettings {
            inputs: args.files.inputs,
            activity: args.files.activity,
            // `--out 'out/{date}'`: a dated folder per run.
            out: PathBuf::from(
                args.out
                    .to_string_lossy()
                    .replace("{date}", &as_of.format("%Y-%m-%d").to_string()),
            ),
            as_of,
            // The audit reads a contacts file that looks clean without checking it first.
            ingest: IngestOptions {
                check_while_reading: true,
                ..ingest_options(&args.ingest, policy.policy.max_reject_pct)?
            },
            state: args.state,
            suppression: args.suppression,
            renewed: args.renewed,
            max_delete: if (0.0..=100.0).contains(&args.max_delete) {
                args.max_delete
            } else {
                return Err(UsageError::MaxDelete(args.max_delete).into());
            },
            lock_timeout: std::time::Duration::from_secs(args.lock_timeout),
            policy,
            policy_source,
            preset_by_country: args.preset_by_country,
            force: args.force,
            dry_run: args.dry_run,
            excel: args.excel,
            quiet: args.quiet,
            json: args.json,
            fail_on_findings: args.fail_on_findings,
        })
    }
}
