//! The command line, as clap derive types. Doc comments are the `--help` text; nothing here
//! outlives [`crate::settings`], which turns it into resolved settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Audit exported mailing lists under the GDPR (AVG) and prune them.
///
/// listaudit reads the subscriber CSVs your mailing service exports, decides for every contact
/// whether you may keep mailing them, and writes the lists you act on. It is not legal advice.
#[derive(Debug, Parser)]
#[command(name = "listaudit", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest, decide, and write every output and the report.
    #[command(after_help = AUDIT_EXAMPLES)]
    Audit(AuditArgs),
    /// Show what ingest would do with each input: service, encoding, delimiter, mapping, date
    /// formats, rows and warnings. Writes nothing.
    Inspect(InspectArgs),
    /// Record that a re-permission campaign went out to the contacts of LIST on DATE.
    MarkSent(MarkSentArgs),
    /// Print the effective policy as TOML (or in plain words with --explain).
    #[command(after_help = POLICY_EXAMPLES)]
    Policy(PolicyArgs),
}

const POLICY_EXAMPLES: &str = "\
Examples:
  listaudit policy --preset de > policy.toml      # save, edit, pass back with --policy
  listaudit policy --policy policy.toml --explain --lang nl";

#[derive(Debug, Args)]
pub struct MarkSentArgs {
    /// The list the campaign went to: a repermission.csv, or any file of addresses or hashes.
    #[arg(value_name = "LIST")]
    pub list: PathBuf,

    /// The day the campaign went out (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub on: String,

    /// The cron state folder.
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,

    /// Wait up to SECONDS for another run holding the state lock.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,
}

/// How inputs are read; shared by `audit` and `inspect`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Use COLUMN for FIELD, overriding detection (e.g. --map email=Mailadres).
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub maps: Vec<String>,

    /// Read every input as this service's export instead of detecting it.
    #[arg(long, value_name = "SERVICE")]
    pub format: Option<String>,

    /// Read every input in this encoding: utf-8, utf-16le, utf-16be, windows-1252.
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<String>,

    /// Read every input with this delimiter (one character, or `tab`).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,

    /// Declare a fact an export does not carry, e.g. shopify.csv:double_opt_in=yes; recorded
    /// in the report as your attestation.
    #[arg(long, value_name = "INPUT:FIELD=VALUE")]
    pub assume: Vec<String>,
}

/// The exports to read; shared by `audit` and `inspect`.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Subscriber exports: CSV files, directories of them (read in path order), ZIP archives,
    /// or - for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Separate engagement exports (e-mail and date columns), joined by e-mail address.
    #[arg(long, value_name = "FILE")]
    pub activity: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub files: InputArgs,

    #[command(flatten)]
    pub ingest: IngestArgs,

    #[command(flatten)]
    pub policy: PolicyOptions,

    /// Print JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Where the policy comes from; shared by `audit` and `policy`.
#[derive(Debug, Args)]
pub struct PolicyOptions {
    /// The jurisdiction preset: nl (default), eu, de, fr, uk.
    #[arg(long, value_name = "PRESET")]
    pub preset: Option<String>,

    /// A policy TOML file whose values override the preset's.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(flatten)]
    pub source: PolicyOptions,

    /// Print the policy in plain words, for a privacy statement or a record of processing.
    #[arg(long)]
    pub explain: bool,

    /// The language of --explain: en or nl (default from LANG, else en).
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,
}

const AUDIT_EXAMPLES: &str = "\
Examples:
  listaudit audit export.csv --out out
  listaudit audit mailchimp-export/ --activity activity.csv --out out --as-of 2026-12-01
  listaudit audit leden.csv --map email=Mailadres --out out --dry-run
  listaudit audit export.zip --state state --out 'out/{date}'     # monthly cron

Exit codes: 0 done, 1 input or data error (nothing written), 2 usage error,
3 findings with --fail-on-findings, 4 refused by the deletion guard (nothing written).";

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub files: InputArgs,

    /// The folder to write the outputs to; created when missing.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// The reference date (YYYY-MM-DD); default today, UTC.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,

    #[command(flatten)]
    pub ingest: IngestArgs,

    #[command(flatten)]
    pub policy: PolicyOptions,

    /// Judge each contact with a country column (Mailchimp's CC) by that country's preset
    /// where one exists (NL, DE, FR, GB), else by --preset.
    #[arg(long)]
    pub preset_by_country: bool,

    /// The cron state folder: suppression memory, re-permission follow-through, run log.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// An existing suppression list (plain addresses or SHA-256 hashes) to honour.
    #[arg(long, value_name = "FILE")]
    pub suppression: Vec<PathBuf>,

    /// Addresses, with dates, that answered yes to a re-permission mail (the "yes, keep me"
    /// clicks exported from the mailing service).
    #[arg(long, value_name = "FILE")]
    pub renewed: Vec<PathBuf>,

    /// Refuse the run (exit 4, nothing written) when more than PCT percent would be deleted.
    #[arg(long, value_name = "PCT", default_value_t = 50.0)]
    pub max_delete: f64,

    /// Wait up to SECONDS for another run holding the state lock (default: fail at once).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,

    /// Replace the outputs of an earlier run in --out.
    #[arg(long)]
    pub force: bool,

    /// Decide and write only report.json, no lists.
    #[arg(long)]
    pub dry_run: bool,

    /// Write the CSV files for Excel: a BOM and `;` as the delimiter.
    #[arg(long)]
    pub excel: bool,

    /// Print nothing on stderr but errors.
    #[arg(long, short)]
    pub quiet: bool,

    /// Print a machine summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,

    /// Exit with 3 when any contact is not `keep`.
    #[arg(long)]
    pub fail_on_findings: bool,
}
