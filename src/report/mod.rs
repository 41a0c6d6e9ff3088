//! The report (SPEC §5): the record of a run as plain data, rendered as `report.json` and as
//! the short summary a person sees at the end of a run. Rendering is pure; writing is the
//! outputs' job.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::policy::Resolved;

pub const DISCLAIMER: &str = "listaudit applies documented rules to the data you gave it. This report is not legal advice; decide with your own adviser where the rules or the data leave room for doubt.";

/// Everything a run did and found, in the words of SPEC §5.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub tool: Tool,
    pub run: Run,
    /// The effective policy and where each value came from.
    pub policy: Resolved,
    /// Contacts per preset, with `--preset-by-country`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub presets_by_country: BTreeMap<String, u64>,
    pub inputs: Vec<InputSummary>,
    pub counts: Counts,
    pub dates: Vec<DateSummary>,
    pub unknown_statuses: Vec<ValueCount>,
    pub inactivity: Inactivity,
    pub assumptions: Vec<String>,
    pub rules: Vec<RuleSummary>,
    pub outputs: Vec<OutputSummary>,
    /// With `--state`: where the run is recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<StateSummary>,
    pub next_steps: Vec<String>,
    pub disclaimer: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Run {
    pub as_of: String,
    pub started_at: String,
    pub duration_ms: u64,
    /// How long each stage took, for finding where the time goes (not stable between runs).
    pub stages_ms: Vec<(&'static str, u64)>,
    pub dry_run: bool,
}

/// One input as ingest read it: the same record in `report.json` and `listaudit inspect`.
#[derive(Debug, Serialize)]
pub struct InputSummary {
    pub file: String,
    pub role: &'static str,
    pub service: &'static str,
    pub label: &'static str,
    /// The service's fixed columns that identified it (empty for the generic profile).
    pub detected_by: Vec<String>,
    pub sha256: String,
    pub encoding: &'static str,
    pub delimiter: String,
    pub rows: u64,
    pub rejected: u64,
    pub without_email: u64,
    pub status_from: String,
    pub engagement_columns: bool,
    pub mapping: Vec<MappedColumn>,
    pub unmapped: Vec<String>,
    pub dates: Vec<DateColumnSummary>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct MappedColumn {
    pub field: &'static str,
    pub column: String,
    pub by_map: bool,
}

/// How one date column is read: its form, the order of day and month and why, examples.
#[derive(Debug, Serialize)]
pub struct DateColumnSummary {
    pub column: String,
    pub field: &'static str,
    pub format: String,
    pub order: &'static str,
    pub order_reason: String,
    pub examples: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub rows: u64,
    pub contacts: u64,
    pub duplicates: u64,
    pub rejects: u64,
    pub activity_rows_without_contact: u64,
    pub import_artifacts: u64,
    pub outcomes: BTreeMap<String, u64>,
    pub reasons: BTreeMap<String, u64>,
    pub evidence: BTreeMap<String, u64>,
    pub suppressed: u64,
}

#[derive(Debug, Serialize)]
pub struct DateSummary {
    pub file: String,
    pub column: String,
    pub field: String,
    pub order: &'static str,
    pub order_reason: String,
    pub format: String,
    pub values: u64,
    pub unparseable: u64,
    pub naive_read_as_utc: u64,
}

#[derive(Debug, Serialize)]
pub struct ValueCount {
    pub value: String,
    pub contacts: u64,
}

#[derive(Debug, Serialize)]
pub struct Inactivity {
    pub assessable: u64,
    pub not_assessable: u64,
    pub hint: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RuleSummary {
    pub table: &'static str,
    pub name: String,
    pub when: String,
    pub source: &'static str,
}

/// The run's place in the state folder; `run` is its line in `runs.jsonl`.
#[derive(Debug, Serialize)]
pub struct StateSummary {
    pub dir: String,
    pub runs_file: &'static str,
    pub run: usize,
    pub suppressed_hashes: u64,
    pub listed_for_repermission: u64,
    pub waiting_without_send: u64,
}

#[derive(Debug, Serialize)]
pub struct OutputSummary {
    pub file: String,
    pub rows: u64,
}

impl RunSummary {
    /// `report.json`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The machine summary `--json` prints on stdout.
    pub fn to_json_summary(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Summary<'a> {
            as_of: &'a str,
            counts: &'a Counts,
            outputs: &'a [OutputSummary],
        }
        let mut bytes = serde_json::to_vec(&Summary {
            as_of: &self.run.as_of,
            counts: &self.counts,
            outputs: &self.outputs,
        })
        .unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The short table a person sees on stderr at the end of a run.
    pub fn to_terminal(&self, out_dir: &str) -> String {
        let c = &self.counts;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "listaudit {}: {} from {} in {}, as of {} (preset {})",
            self.tool.version,
            counted(c.contacts, "contact", "contacts"),
            counted(c.rows, "row", "rows"),
            counted(self.inputs.len() as u64, "file", "files"),
            self.run.as_of,
            self.policy.policy.preset
        );
        for outcome in ["keep", "repermission", "no-marketing", "delete"] {
            let n = c.outcomes.get(outcome).copied().unwrap_or(0);
            let pct = if c.contacts == 0 {
                0.0
            } else {
                n as f64 * 100.0 / c.contacts as f64
            };
            let _ = writeln!(s, "  {outcome:<14}{n:>9}  {pct:>5.1}%");
        }
        let mut top: Vec<(&String, &u64)> = c.reasons.iter().filter(|(_, n)| **n > 0).collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        if !top.is_empty() {
            let list: Vec<String> = top
                .iter()
                .take(5)
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            let _ = writeln!(s, "  top reasons: {}", list.join(", "));
        }
        if c.duplicates > 0 || c.rejects > 0 {
            let _ = writeln!(
                s,
                "  {} merged, {} rejected (see rejects.csv)",
                counted(c.duplicates, "duplicate row", "duplicate rows"),
                counted(c.rejects, "row", "rows")
            );
        }
        if let Some(hint) = &self.inactivity.hint {
            let _ = writeln!(s, "  note: {hint}");
        }
        if self.run.dry_run {
            let _ = writeln!(s, "  dry run: only {out_dir}/report.json was written");
        } else {
            let _ = writeln!(s, "  outputs in {out_dir}/");
        }
        s
    }
}

/// `n` and the noun in its number: "1 row", "2 rows".
pub(crate) fn counted(n: u64, one: &str, more: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { more })
}

/// What to do next, in plain words (SPEC §5).
pub fn next_steps() -> Vec<String> {
    vec![
        "Send the re-permission campaign only to repermission.csv, with an unsubscribe link and no sales pitch; everyone who does not answer is deleted after the grace period.".into(),
        "Import deletion.csv into your mailing service and delete (not just unsubscribe) those contacts.".into(),
        "Keep suppression.csv: it holds only hashes, and stops a deleted address from being imported again.".into(),
        "no-marketing.csv may still receive service mail (orders, invoices), never newsletters or a re-permission mail.".into(),
        "Invoices and order records may have to be kept for other laws (in the Netherlands 7 years for the tax office); this audit concerns the mailing list only.".into(),
    ]
}
