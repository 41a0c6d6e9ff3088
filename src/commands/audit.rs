//! `listaudit audit`: ingest → normalize → decide → outputs and report.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, Result};

/// Adds a message to a polars error (polars has a `context` method of its own).
fn ctx<T>(result: PolarsResult<T>, message: &'static str) -> Result<T> {
    result.map_err(anyhow::Error::from).context(message)
}
use chrono::{Datelike, SecondsFormat, Utc};
use polars::prelude::*;

use crate::decide::{self, col, rules};
use crate::exit::ExitStatus;
use crate::fields::Field;
use crate::ingest::{self, Input, Reject, Role, StatusSource};
use crate::normalize::date::start_of_day_millis;
use crate::normalize::{self, DateColumn, DateDecision};
use crate::outputs::{self, Content, CsvStyle, Output};
use crate::policy::Preset;
use crate::printer::Printer;
use crate::report::{self, RunSummary};
use crate::settings::AuditSettings;

/// Runs the audit.
pub fn run(settings: &AuditSettings, printer: &Printer) -> Result<ExitStatus> {
    let started = Instant::now();
    let started_at = Utc::now();
    let as_of = start_of_day_millis(
        settings.as_of.year(),
        settings.as_of.month(),
        settings.as_of.day(),
    );
    let written_names: Vec<&str> = if settings.dry_run {
        vec!["report.json"]
    } else {
        outputs::OUTPUT_FILES
            .iter()
            .copied()
            .filter(|n| *n != "report.html")
            .collect()
    };
    outputs::check_overwrite(&settings.out, &written_names, settings.force)?;

    let mut rejects: Vec<Reject> = Vec::new();
    let mut staged = ingest::Staged::default();
    let inputs = read_inputs(settings, &mut staged, &mut rejects)?;

    let mut date_columns: Vec<DateColumn> = Vec::new();
    let mut decisions: Vec<Vec<DateDecision>> = Vec::new();
    let mut row_frames = Vec::new();
    let mut activity_frames = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let decided = ctx(
            normalize::date_decisions(input, &settings.policy.policy),
            "cannot read the date columns",
        )?;
        let dates = match input.role {
            Role::Contacts => {
                let file = u32::try_from(index).context("too many input files")?;
                let (frame, dates) = normalize::rows(input, file, &decided);
                row_frames.push(frame);
                dates
            }
            Role::Activity => {
                let (frame, dates) = normalize::activity(input, &decided);
                activity_frames.push(frame);
                dates
            }
        };
        date_columns.extend(dates);
        decisions.push(decided);
    }
    let rows = ctx(
        concat(row_frames, UnionArgs::default()),
        "cannot combine the inputs",
    )?;
    let activity = if activity_frames.is_empty() {
        None
    } else {
        Some(ctx(
            concat(activity_frames, UnionArgs::default()),
            "cannot combine the activity files",
        )?)
    };
    let decision = if settings.preset_by_country {
        let mut policies = Vec::new();
        for preset in Preset::ALL {
            policies.push((preset, settings.policy_source.resolve(Some(preset))?.policy));
        }
        ctx(
            decide::decide_by_country(
                rows,
                activity,
                settings.policy.policy.preset,
                &policies,
                as_of,
            ),
            "cannot decide the contacts",
        )?
    } else {
        ctx(
            decide::decide(rows, activity, &settings.policy.policy, as_of),
            "cannot decide the contacts",
        )?
    };
    let tables = ctx(
        outputs::tables(&decision.contacts, &rejects, as_of),
        "cannot build the outputs",
    )?;

    let mut summary = summarize(
        settings,
        &inputs,
        &rejects,
        &decision,
        &date_columns,
        &decisions,
    )?;
    summary.run.started_at = started_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    summary.outputs = tables
        .iter()
        .map(|(name, frame)| report::OutputSummary {
            file: (*name).to_string(),
            rows: frame.height() as u64,
        })
        .collect();
    summary.run.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

    let mut files: Vec<Output> = Vec::new();
    if !settings.dry_run {
        files.extend(tables.into_iter().map(|(name, frame)| Output {
            name,
            content: Content::Table(frame),
        }));
    }
    files.push(Output {
        name: "report.json",
        content: Content::Bytes(summary.to_json()),
    });
    outputs::commit(
        &settings.out,
        files,
        CsvStyle {
            excel: settings.excel,
        },
    )?;

    printer.info(&summary.to_terminal(&settings.out.display().to_string()));
    if settings.json {
        printer.data(&summary.to_json_summary())?;
    }
    let findings = summary
        .counts
        .outcomes
        .iter()
        .any(|(outcome, n)| outcome != "keep" && *n > 0);
    Ok(if settings.fail_on_findings && findings {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

/// Every contacts input, then every activity input, read and mapped.
pub fn read_inputs(
    settings: &AuditSettings,
    staged: &mut ingest::Staged,
    rejects: &mut Vec<Reject>,
) -> Result<Vec<Input>> {
    let mut inputs = Vec::new();
    for (given, role) in settings
        .inputs
        .iter()
        .map(|p| (p, Role::Contacts))
        .chain(settings.activity.iter().map(|p| (p, Role::Activity)))
    {
        for member in ingest::expand(given, staged)? {
            inputs.push(ingest::read_input(
                &member,
                role,
                &settings.ingest,
                rejects,
            )?);
        }
    }
    Ok(inputs)
}

fn bool_count(frame: &DataFrame, name: &str) -> Result<u64> {
    Ok(frame.column(name)?.bool()?.sum().unwrap_or(0) as u64)
}

fn value_counts(frame: &DataFrame, name: &str) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for value in frame.column(name)?.str()?.iter().flatten() {
        *counts.entry(value.to_string()).or_insert(0) += 1;
    }
    Ok(counts)
}

fn summarize(
    settings: &AuditSettings,
    inputs: &[Input],
    rejects: &[Reject],
    decision: &decide::Decision,
    dates: &[DateColumn],
    decisions: &[Vec<DateDecision>],
) -> Result<RunSummary> {
    let contacts = &decision.contacts;
    let contact_inputs = || inputs.iter().filter(|i| i.role == Role::Contacts);
    let rows: u64 = contact_inputs().map(|i| i.rows).sum();
    let used: u64 = contact_inputs()
        .map(|i| i.rows - i.form_rejects - i.no_email)
        .sum();
    let n = contacts.height() as u64;

    let mut outcomes = value_counts(contacts, col::OUTCOME)?;
    for outcome in rules::Outcome::ALL {
        outcomes.entry(outcome.name().to_string()).or_insert(0);
    }
    let mut reasons = BTreeMap::new();
    for reason in decide::reasons() {
        reasons.insert(
            reason.name().to_string(),
            bool_count(contacts, &reason.column())?,
        );
    }
    let mut evidence = value_counts(contacts, col::EVIDENCE)?;
    for e in rules::Evidence::ALL {
        evidence.entry(e.name().to_string()).or_insert(0);
    }
    let import_artifacts = bool_count(contacts, col::IMPORT_ARTIFACT)?;
    let assessable = bool_count(contacts, col::INACTIVITY_ASSESSABLE)?;

    let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
    for value in contacts
        .column(col::STATUS_UNKNOWN_VALUE)?
        .str()?
        .iter()
        .flatten()
    {
        *unknown.entry(value.to_string()).or_insert(0) += 1;
    }
    let mut unknown_statuses: Vec<report::ValueCount> = unknown
        .into_iter()
        .map(|(value, contacts)| report::ValueCount { value, contacts })
        .collect();
    unknown_statuses.sort_by(|a, b| b.contacts.cmp(&a.contacts).then(a.value.cmp(&b.value)));

    let mut assumptions = Vec::new();
    for input in inputs {
        match &input.status_source {
            StatusSource::FileName(s) => assumptions.push(format!(
                "{}: status `{s}` taken from the file name",
                input.name
            )),
            StatusSource::Columns(s) => assumptions.push(format!(
                "{}: status `{s}` taken from the service's per-status columns",
                input.name
            )),
            StatusSource::None if input.role == Role::Contacts => assumptions.push(format!(
                "{}: no status column, so its contacts are read as subscribed (unless a withdrawal or bounce time says otherwise)",
                input.name
            )),
            _ => {}
        }
    }
    let decided = |file: &str, field: Field| {
        inputs
            .iter()
            .zip(decisions)
            .find(|(i, _)| i.name == file)
            .and_then(|(_, ds)| ds.iter().find(|d| d.field == field))
    };
    let date_summaries: Vec<report::DateSummary> = dates
        .iter()
        .map(|d| {
            let (values, unparseable, naive) = d.stats.snapshot();
            let decision = decided(&d.file, d.field);
            report::DateSummary {
                file: d.file.clone(),
                column: d.header.clone(),
                field: d.field.name().to_string(),
                order: match d.order {
                    normalize::date::DateOrder::DayFirst => "day-first",
                    normalize::date::DateOrder::MonthFirst => "month-first",
                },
                order_reason: decision.map_or_else(String::new, |d| d.reason.clone()),
                format: decision.map_or_else(String::new, |d| d.format.clone()),
                values,
                unparseable,
                naive_read_as_utc: naive,
            }
        })
        .collect();
    for d in &date_summaries {
        if d.order_reason.starts_with("ambiguous") {
            assumptions.push(format!(
                "{} `{}`: {} read {} ({})",
                d.file, d.column, d.values, d.order, d.order_reason
            ));
        }
        if d.naive_read_as_utc > 0 {
            assumptions.push(format!(
                "{} `{}`: {} values without a time zone read as UTC",
                d.file, d.column, d.naive_read_as_utc
            ));
        }
        if d.unparseable > 0 {
            assumptions.push(format!(
                "{} `{}`: {} values could not be read as dates and were treated as missing",
                d.file, d.column, d.unparseable
            ));
        }
    }
    for input in inputs {
        for (field, value) in &input.assumed {
            assumptions.push(format!(
                "{}: you declared {field} = {value} for every row without one (your attestation, --assume)",
                input.name
            ));
        }
        for warning in &input.warnings {
            assumptions.push(format!("{}: {warning}", input.name));
        }
    }
    let not_assessable = n - assessable;
    let hint = (not_assessable > 0).then(|| {
        format!(
            "inactivity could not be judged for {not_assessable} contacts: their exports have no engagement column (a Mailchimp audience export has none); add the service's activity export with --activity"
        )
    });
    if let Some(hint) = &hint {
        assumptions.push(hint.clone());
    }

    let mut rule_list = Vec::new();
    for d in rules::row_facts().into_iter().chain(rules::contact_facts()) {
        rule_list.push(report::RuleSummary {
            table: "fact",
            name: d.name.to_string(),
            when: d.when.to_string(),
            source: d.source,
        });
    }
    for r in rules::evidence_table() {
        rule_list.push(report::RuleSummary {
            table: "evidence",
            name: r.value.name().to_string(),
            when: r.when.to_string(),
            source: r.source,
        });
    }
    for r in rules::reason_table() {
        rule_list.push(report::RuleSummary {
            table: "reason",
            name: r.value.name().to_string(),
            when: r.when.to_string(),
            source: r.source,
        });
    }
    for r in rules::outcome_table() {
        rule_list.push(report::RuleSummary {
            table: "outcome",
            name: r.value.name().to_string(),
            when: r.when.to_string(),
            source: r.source,
        });
    }

    let input_summaries = inputs
        .iter()
        .map(|input| report::InputSummary {
            file: input.name.clone(),
            role: match input.role {
                Role::Contacts => "contacts",
                Role::Activity => "activity",
            },
            sha256: input.sha256.clone(),
            service: input.profile.service,
            detected_by: input.matched.clone(),
            encoding: input.encoding,
            delimiter: ingest::delimiter_name(input.delimiter),
            rows: input.rows,
            rejected: input.form_rejects,
            without_email: input.no_email,
            status_from: super::inspect::status_from(&input.status_source),
            engagement_columns: input.has_engagement(),
            mapping: input
                .mapping
                .iter()
                .map(|m| (m.field.name().to_string(), m.header.clone()))
                .collect(),
        })
        .collect();
    let _ = Field::Email;

    Ok(RunSummary {
        tool: report::Tool {
            name: "listaudit",
            version: env!("CARGO_PKG_VERSION"),
        },
        run: report::Run {
            as_of: settings.as_of.format("%Y-%m-%d").to_string(),
            started_at: String::new(),
            duration_ms: 0,
            dry_run: settings.dry_run,
        },
        policy: settings.policy.clone(),
        presets_by_country: if settings.preset_by_country {
            value_counts(contacts, decide::PRESET)?
        } else {
            BTreeMap::new()
        },
        inputs: input_summaries,
        counts: report::Counts {
            rows,
            contacts: n,
            duplicates: used.saturating_sub(n),
            rejects: rejects.len() as u64,
            activity_rows_without_contact: decision.activity_only,
            import_artifacts,
            outcomes,
            reasons,
            evidence,
            suppressed: bool_count(contacts, col::SUPPRESS)?,
        },
        dates: date_summaries,
        unknown_statuses,
        inactivity: report::Inactivity {
            assessable,
            not_assessable,
            hint,
        },
        assumptions,
        rules: rule_list,
        outputs: Vec::new(),
        next_steps: report::next_steps(),
        disclaimer: report::DISCLAIMER,
    })
}

/// Whether `path` names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}
