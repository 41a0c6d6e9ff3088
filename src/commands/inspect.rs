//! `listaudit inspect`: what ingest would do with each input, without writing anything.

use std::fmt::Write as _;

use crate::report::{DateColumnSummary, InputSummary, MappedColumn};
use anyhow::Result;

use crate::cli::InspectArgs;
use crate::exit::ExitStatus;
use crate::ingest::{self, Input, Reject, Role, StatusSource};
use crate::normalize::{self, DateDecision};
use crate::printer::Printer;
use crate::settings::{PolicySource, ingest_options};

/// How the status of a file's rows is found, in words.
pub fn status_from(source: &StatusSource) -> String {
    match source {
        StatusSource::Column(h) => format!("column `{h}`"),
        StatusSource::FileName(s) => format!("file name ({s})"),
        StatusSource::Columns(s) => format!("per-status columns ({s})"),
        StatusSource::StatusColumns(headers) => format!(
            "columns {}",
            headers
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        StatusSource::None => "none (read as subscribed)".to_string(),
    }
}

/// An input as the report and `inspect` describe it.
pub fn input_summary(input: &Input, dates: &[DateDecision]) -> InputSummary {
    let status_columns: Vec<&str> = input.status_columns().iter().map(|(c, _)| *c).collect();
    let mapped: Vec<usize> = input
        .mapping
        .iter()
        .map(|m| m.index)
        .chain(
            input
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| status_columns.contains(&c.as_str()))
                .map(|(i, _)| i),
        )
        .collect();
    let mut warnings = input.warnings.clone();
    if input.role == Role::Contacts && !input.has_engagement() {
        warnings.push(
            "no engagement column: inactivity cannot be judged from this file (add an activity export with --activity)"
                .to_string(),
        );
    }
    if matches!(input.status_source, StatusSource::None) && input.role == Role::Contacts {
        warnings.push("no status column: every row is read as subscribed".to_string());
    }
    InputSummary {
        file: input.name.clone(),
        role: match input.role {
            Role::Contacts => "contacts",
            Role::Activity => "activity",
        },
        service: input.profile.service,
        label: input.profile.label,
        detected_by: input.matched.clone(),
        sha256: input.sha256.clone(),
        encoding: input.encoding,
        delimiter: ingest::delimiter_name(input.delimiter),
        rows: input.rows,
        rejected: input.form_rejects,
        without_email: input.no_email,
        status_from: status_from(&input.status_source),
        engagement_columns: input.has_engagement(),
        mapping: input
            .mapping
            .iter()
            .map(|m| MappedColumn {
                field: m.field.name(),
                column: m.header.clone(),
                by_map: m.by_user,
            })
            .collect(),
        unmapped: input
            .headers
            .iter()
            .enumerate()
            .filter(|(i, _)| !mapped.contains(i))
            .map(|(_, h)| h.clone())
            .collect(),
        dates: dates
            .iter()
            .map(|d| DateColumnSummary {
                column: d.header.clone(),
                field: d.field.name(),
                format: d.format.clone(),
                order: d.order.name(),
                order_reason: d.reason.clone(),
                examples: d.examples.clone(),
            })
            .collect(),
        warnings,
    }
}

fn render(all: &[InputSummary]) -> String {
    let mut s = String::new();
    for (n, i) in all.iter().enumerate() {
        if n > 0 {
            s.push('\n');
        }
        let _ = writeln!(s, "{} ({})", i.file, i.role);
        let why = if i.detected_by.is_empty() {
            String::new()
        } else {
            format!(", recognised by {}", i.detected_by.join(", "))
        };
        let _ = writeln!(s, "  service    {}{why}", i.label);
        let _ = writeln!(s, "  encoding   {}", i.encoding);
        let _ = writeln!(s, "  delimiter  {}", i.delimiter);
        let _ = writeln!(
            s,
            "  rows       {} ({} rejected, {} without e-mail)",
            i.rows, i.rejected, i.without_email
        );
        let _ = writeln!(s, "  status     {}", i.status_from);
        let _ = writeln!(s, "  mapping");
        for m in &i.mapping {
            let by = if m.by_map { "  (--map)" } else { "" };
            let _ = writeln!(s, "    {:<18} <- {}{by}", m.field, m.column);
        }
        if !i.unmapped.is_empty() {
            let _ = writeln!(s, "  not used   {}", i.unmapped.join(", "));
        }
        if !i.dates.is_empty() {
            let _ = writeln!(s, "  dates");
            for d in &i.dates {
                let order = if d.order_reason == normalize::NO_DAY_MONTH {
                    String::new()
                } else {
                    format!("; {} ({})", d.order, d.order_reason)
                };
                let _ = writeln!(
                    s,
                    "    {} ({}): {}{order}; e.g. {}",
                    d.column,
                    d.field,
                    d.format,
                    d.examples.join(" | ")
                );
            }
        }
        for w in &i.warnings {
            let _ = writeln!(s, "  warning    {w}");
        }
    }
    s
}

pub fn run(args: &InspectArgs, printer: &Printer) -> Result<ExitStatus> {
    let policy = PolicySource::from_options(&args.policy)?.resolve(None)?;
    let options = ingest_options(&args.ingest, policy.policy.max_reject_pct)?;
    let mut staged = ingest::Staged::default();
    let mut rejects: Vec<Reject> = Vec::new();
    let mut all = Vec::new();
    for input in ingest::read_all(
        &args.files.inputs,
        &args.files.activity,
        &options,
        &mut staged,
        &mut rejects,
    )? {
        let dates = normalize::date_decisions(&input, &policy.policy)?;
        all.push(input_summary(&input, &dates));
    }
    if args.json {
        let mut bytes = serde_json::to_vec_pretty(&all)?;
        bytes.push(b'\n');
        printer.data(&bytes)?;
    } else {
        printer.data(render(&all).as_bytes())?;
    }
    Ok(ExitStatus::Success)
}
