//! `listaudit audit`: ingest → normalize → decide → outputs and report.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
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
use crate::ingest::digest::Hashing;
use crate::ingest::{self, Input, Reject, Role, StatusSource};
use crate::normalize::date::format_instant;
use crate::normalize::date::start_of_day_millis;
use crate::normalize::text::{self, Dictionary};
use crate::normalize::{self, DateColumn, DateDecision};
use crate::outputs::commit::{self, Target};
use crate::outputs::{self, Content, CsvStyle, Output};
use crate::policy::Preset;
use crate::printer::Printer;
use crate::report::{self, RunSummary};
use crate::settings::AuditSettings;
use crate::state::lock::Lock;
use crate::state::{
    Listed, REPERMISSION, RUNS, SUPPRESSION, State, StateError, Suppressed, read_hash_list,
};

/// Runs the audit.
pub fn run(settings: &AuditSettings, printer: &Printer) -> Result<ExitStatus> {
    let started = Instant::now();
    let started_at = Utc::now();
    let as_of = start_of_day_millis(
        settings.as_of.year(),
        settings.as_of.month(),
        settings.as_of.day(),
    );
    // One run at a time on a state folder; an interrupted commit is finished or undone first.
    let _lock = match &settings.state {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| StateError::Io {
                path: dir.display().to_string(),
                source,
            })?;
            let lock = Lock::acquire(dir, settings.lock_timeout)?;
            if let Some(hold) = crate::fault::hold("lock") {
                std::thread::sleep(hold);
            }
            commit::recover(dir)?;
            Some(lock)
        }
        None => None,
    };
    if settings.out.is_dir() {
        commit::recover(&settings.out)?;
    }
    let state = match &settings.state {
        Some(dir) => {
            let state = State::load(dir)?;
            state.check_forward(settings.as_of)?;
            Some(state)
        }
        None => None,
    };
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
    let progress = printer.progress();
    let mut stages: Vec<(&'static str, Instant)> = vec![("check", Instant::now())];
    progress.stage("reading the inputs");
    let mut inputs = ingest::read_all(
        &settings.inputs,
        &settings.activity,
        &settings.ingest,
        &mut staged,
        &mut rejects,
    )?;
    // Of a file read without the check, estimated (its rows are counted as they are read).
    let estimated = about(!inputs.iter().any(unchecked));
    let total: u64 = inputs.iter().map(|i| i.rows).sum();
    stages.push(("scan", Instant::now()));
    let files = inputs.len();
    let policy = &settings.policy.policy;
    // Without --preset-by-country every row is judged by one policy as it is read; with it,
    // the policy depends on the whole contact, so the rows are judged after.
    let judge = (!settings.preset_by_country).then_some((policy, as_of));
    let mut date_columns: Vec<DateColumn> = Vec::new();
    let mut coded = Coded::default();
    let mut decisions: Vec<Vec<DateDecision>> = Vec::new();
    let mut row_frames = Vec::new();
    let mut activity_frames = Vec::new();
    crate::memory::reading(true);
    for (index, input) in inputs.iter_mut().enumerate() {
        // The counts first and the file's name last, so that a narrow terminal cuts the name.
        let (label, name) = (format!("reading {}/{files}", index + 1), input.name.clone());
        progress.stage(format!("{label}: {estimated}{total} rows in all ({name})"));
        let (dates, decided) = match input.role {
            Role::Contacts => {
                let file = u32::try_from(index).context("too many input files")?;
                let read = |rows: u64, of: u64, counted: bool| {
                    let about = about(counted);
                    progress.stage(format!("{label}: {rows} of {about}{of} rows ({name})"));
                };
                let read = match contact_rows(input, file, policy, judge, &mut coded, &read)? {
                    Some(read) => read,
                    None => {
                        // Not clean after all: checked, and read as every such file is.
                        *input = ingest::read_checked(input, &settings.ingest, &mut rejects)?;
                        contact_rows(input, file, policy, judge, &mut coded, &read)?
                            .context("a checked file was not read")?
                    }
                };
                // Still the file read unchecked (not read again checked): its rows counted.
                if unchecked(input) {
                    input.rows = read.records;
                    input.no_email = read.no_email.len() as u64;
                    for (line, raw) in read.no_email {
                        rejects.push(Reject::no_email(&input.name, line, raw));
                    }
                }
                row_frames.push(read.frame);
                (read.dates, read.decided)
            }
            Role::Activity => {
                ctx(input.materialize(), "cannot read the input")?;
                let decided = ctx(
                    normalize::date_decisions(input, policy),
                    "cannot read the date columns",
                )?;
                let dates = DateColumn::of(input, &decided);
                let frame = normalize::activity(input, input.frame.clone(), &dates);
                activity_frames.push(ctx(frame.collect(), "cannot read the activity file")?);
                (dates, decided)
            }
        };
        input.release();
        date_columns.extend(dates);
        decisions.push(decided);
    }
    // Rejects in the order of the inputs, as ingest found them, wherever reading found them.
    let order = |r: &Reject| inputs.iter().position(|i| i.name == r.file);
    rejects.sort_by_key(|r| order(r).unwrap_or(usize::MAX));
    stages.push(("read", Instant::now()));
    // What reading freed (each batch's raw text and steps) goes back before deciding.
    crate::memory::reading(false);
    let rows = ctx(normalize::stack(row_frames), "cannot combine the inputs")?.lazy();
    let activity = if activity_frames.is_empty() {
        None
    } else {
        Some(
            ctx(
                normalize::stack(activity_frames),
                "cannot combine the activity files",
            )?
            .lazy(),
        )
    };

    // What earlier runs remember, plus --suppression lists and --renewed answers.
    let mut earlier = state
        .as_ref()
        .map(|s| s.suppression.clone())
        .unwrap_or_default();
    for path in &settings.suppression {
        for hash in read_hash_list(path)? {
            earlier.entry(hash).or_insert_with(|| Suppressed {
                reason: "imported list".to_string(),
                since: format_instant(as_of),
            });
        }
    }
    let renewed = read_renewed(settings, &mut staged, &mut rejects)?;
    let memory = if state.is_some() || !settings.suppression.is_empty() || renewed.is_some() {
        let listed = state
            .as_ref()
            .map(|s| s.repermission.clone())
            .unwrap_or_default();
        Some(ctx(
            decide::Memory::new(&earlier, &listed, renewed),
            "cannot read the state",
        )?)
    } else {
        None
    };

    let total: u64 = inputs.iter().map(|i| i.rows).sum();
    progress.stage(format!("deciding {total} rows"));
    let decision = if settings.preset_by_country {
        let mut policies = Vec::new();
        for preset in Preset::ALL {
            policies.push((preset, settings.policy_source.resolve(Some(preset))?.policy));
        }
        ctx(
            decide::decide_by_country(
                rows,
                activity,
                memory.as_ref(),
                settings.policy.policy.preset,
                &policies,
                as_of,
            ),
            "cannot decide the contacts",
        )?
    } else {
        ctx(
            decide::decide(
                rows,
                activity,
                memory.as_ref(),
                &settings.policy.policy,
                as_of,
            ),
            "cannot decide the contacts",
        )?
    };
    guard(&decision.contacts, settings.max_delete)?;

    progress.stage(format!(
        "writing the lists of {} contacts",
        decision.contacts.height()
    ));
    stages.push(("decide", Instant::now()));
    crate::memory::release();
    let tables = ctx(
        outputs::tables(
            &decision,
            &rejects,
            as_of,
            &inputs.iter().map(|i| i.name.clone()).collect::<Vec<_>>(),
            &coded.names.names(),
            &normalize::consent_column_names(&inputs),
            memory.is_some().then_some(&earlier),
        ),
        "cannot build the outputs",
    )?;

    let mut hashing: Vec<(usize, Arc<Hashing>)> = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, input)| input.hashing.clone().map(|h| (i, h)))
        .collect();
    let mut summary = summarize(
        settings,
        &inputs,
        &rejects,
        &decision,
        &date_columns,
        &decisions,
        &coded.unknown_statuses.names(),
    )?;
    // The hashes still being taken on idle time go on while the lists are written (the
    // report is written last), unless the state's run line needs them now.
    if state.is_some() {
        with_hashes(&mut summary, &hashing).context("cannot hash the inputs")?;
        hashing.clear();
    }
    summary.run.started_at = started_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    stages.push(("tables", Instant::now()));
    summary.run.stages_ms = stages
        .windows(2)
        .map(|w| {
            (
                w[1].0,
                u64::try_from((w[1].1 - w[0].1).as_millis()).unwrap_or(u64::MAX),
            )
        })
        .collect();
    summary.outputs = ctx(
        tables
            .iter()
            .map(|(name, table)| {
                Ok(report::OutputSummary {
                    file: (*name).to_string(),
                    rows: table.count()?,
                })
            })
            .collect::<PolarsResult<_>>(),
        "cannot count the outputs",
    )?;

    let mut targets = Vec::new();
    if let Some(state) = &state
        && !settings.dry_run
    {
        let (files, line, waiting) = ctx(
            next_state(
                state,
                &earlier,
                &decision.contacts,
                settings,
                &summary,
                &started_at,
            ),
            "cannot update the state",
        )?;
        summary.state = Some(report::StateSummary {
            dir: state.dir.display().to_string(),
            runs_file: RUNS,
            run: line,
            suppressed_hashes: summary_count(&files, SUPPRESSION),
            listed_for_repermission: summary_count(&files, REPERMISSION),
            waiting_without_send: waiting,
        });
        if waiting > 0 {
            let warning = format!(
                "{waiting} contacts were listed for re-permission more than {} days ago and no send is recorded: nobody expires who was never asked (record the send with listaudit mark-sent)",
                settings.policy.policy.repermission_grace_days
            );
            printer.warn(&warning);
            summary.assumptions.push(warning);
        }
        targets.push(Target {
            dir: state.dir.clone(),
            outputs: files,
        });
    }
    summary.run.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

    // The report, made last where it waits for hashes, is the summary's until then.
    let summary = Arc::new(Mutex::new(summary));
    let mut files: Vec<Output> = Vec::new();
    if !settings.dry_run {
        files.extend(tables.into_iter().map(|(name, frame)| Output {
            name,
            content: Content::Table(frame),
        }));
    }
    let content = if hashing.is_empty() {
        let summary = summary.lock();
        Content::Bytes(
            summary
                .map_err(|_| anyhow::anyhow!("the report was lost"))?
                .to_json(),
        )
    } else {
        Content::Later(Box::new({
            let (summary, hashing) = (Arc::clone(&summary), hashing.clone());
            move || {
                let mut summary = summary
                    .lock()
                    .map_err(|_| std::io::Error::other("the report was lost"))?;
                with_hashes(&mut summary, &hashing)?;
                Ok(summary.to_json())
            }
        }))
    };
    files.push(Output {
        name: "report.json",
        content,
    });
    targets.insert(
        0,
        Target {
            dir: settings.out.clone(),
            outputs: files,
        },
    );
    let journal_dir = settings
        .state
        .clone()
        .unwrap_or_else(|| settings.out.clone());
    commit::commit(
        targets,
        &journal_dir,
        CsvStyle {
            excel: settings.excel,
        },
    )?;
    let mut summary = Arc::into_inner(summary)
        .and_then(|s| s.into_inner().ok())
        .context("the report was lost")?;
    with_hashes(&mut summary, &hashing)?;

    drop(progress);
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

/// What goes before a number of rows on the progress line: "about " where it is estimated.
fn about(counted: bool) -> &'static str {
    if counted { "" } else { "about " }
}

/// Whether `input` is a file read without the structure check.
fn unchecked(input: &Input) -> bool {
    input.parts.as_ref().is_some_and(|p| !p.checked)
}

/// Fills in the inputs' hashes taken on idle time (see [`ingest::digest`]), each as soon as
/// it is done: `hashing` holds (input, its hash).
fn with_hashes(summary: &mut RunSummary, hashing: &[(usize, Arc<Hashing>)]) -> std::io::Result<()> {
    for (input, hash) in hashing {
        if let Some(summary) = summary.inputs.get_mut(*input) {
            summary.sha256 = hash.finish()?;
        }
    }
    Ok(())
}

/// An input's canonical rows, read: see [`contact_rows`].
struct ContactRows {
    frame: DataFrame,
    dates: Vec<DateColumn>,
    decided: Vec<DateDecision>,
    /// The file's records, every one.
    records: u64,
    /// The rows without an e-mail that reading found (line, raw text): those of a file read
    /// without the structure check (ingest rejected the others').
    no_email: Vec<(u64, String)>,
}

/// One contacts input as canonical rows, read, normalised and (with `judge`) [`decide::prepare`]d
/// a batch at a time, so that only one batch of the file's own columns is held at once; with
/// the date columns as read and their decisions.
///
/// The order of day and month is decided from all of a column's values (SPEC §2.3), which
/// are only all seen at the end. The batches are read with the decision the first batch
/// gives; should the whole file decide a column otherwise (its first day above 12 comes
/// later), the file is read again with the whole file's decision. The unknown status values
/// and the names become codes in `coded`. `read` hears how many of the
/// file's rows are read so far, and of how many (whether they were counted, or are estimated),
/// for the progress line.
///
/// `None` when the file was read without the structure check and a batch is not clean: the
/// caller has it checked and read again. The batches read before are thrown away (their
/// names were coded already, in the order the second reading codes them again).
fn contact_rows(
    input: &Input,
    file: u32,
    policy: &crate::policy::Policy,
    judge: Option<(&crate::policy::Policy, i64)>,
    coded: &mut Coded,
    read: &dyn Fn(u64, u64, bool),
) -> Result<Option<ContactRows>> {
    let batches = input
        .parts
        .as_ref()
        .map(ingest::parts::Parts::batches)
        .unwrap_or_default();
    if batches.is_empty() {
        let (frame, dates, decided) = text_contact_rows(input, file, policy, judge, coded)?;
        return Ok(Some(ContactRows {
            frame,
            dates,
            decided,
            records: input.rows,
            no_email: Vec::new(),
        }));
    }
    let mut read_as: Option<Vec<DateDecision>> = None;
    loop {
        let mut survey = normalize::DateSurvey::new(input);
        // The first batch is read with the order the policy gives and the orders its own
        // values decide, read again with those when they differ; the rest with those.
        let first = &batches[0];
        let given = read_as.is_some();
        let mut decisions = read_as
            .clone()
            .unwrap_or_else(|| survey.decisions(input, policy));
        let mut dates = DateColumn::of(input, &decisions);
        let Some((mut frame, mut found)) = ctx(
            normalize::read::batch(first, &normalize::read::Plan::new(input, &dates)),
            "cannot read the input",
        )?
        else {
            return Ok(None);
        };
        survey.add_found(&found);
        let mut no_email = std::mem::take(&mut found.no_email);
        if !given {
            let decided = survey.decisions(input, policy);
            if !same_orders(&decided, &decisions) {
                dates = DateColumn::of(input, &decided);
                let plan = normalize::read::Plan::new(input, &dates);
                // The same bytes, read before: clean.
                let again = ctx(
                    normalize::read::batch(first, &plan),
                    "cannot read the input",
                )?
                .context("the first batch changed")?;
                (frame, found.names) = (again.0, again.1.names);
            }
            decisions = decided;
        }
        let plan = normalize::read::Plan::new(input, &dates);
        let rows = ctx(
            normalize::typed_rows(input, frame.lazy(), file),
            "cannot read the input",
        )?;
        let rows = prepared(rows, judge)?;
        let mut frames = vec![coded.finish(rows, &found.names)?];
        // A batch of a file read unchecked counts its records from its own start (nothing
        // counted them before): its lines are moved on by the records before it here, in turn.
        let unchecked = !first.checked;
        let mut done = found.records;
        read(done, input.rows, !unchecked);
        // The next batches are read and prepared on threads of their own, one batch each in
        // turn, while this one codes their text: reading alone or coding alone leaves a core
        // idle. A read batch waits in its reader's hand-over (a channel of no capacity).
        // Preparing a batch was on this thread too, and kept it busy for 2.4 s of the 2.9 s
        // of reading ten million rows, with the readers beside it.
        let clean = std::thread::scope(|scope| -> Result<bool> {
            let (rest, plan) = (&batches[1..], &plan);
            let readers = crate::parallel::cores().clamp(1, 2);
            let handovers: Vec<_> = (0..readers)
                .map(|reader| {
                    let (parsed, to_normalize) = std::sync::mpsc::sync_channel(0);
                    scope.spawn(move || {
                        for batch in rest.iter().skip(reader).step_by(readers) {
                            let read =
                                ctx(normalize::read::batch(batch, plan), "cannot read the input")
                                    .and_then(|read| {
                                        let Some((frame, found)) = read else {
                                            return Ok(None);
                                        };
                                        let rows = ctx(
                                            normalize::typed_rows(input, frame.lazy(), file),
                                            "cannot read the input",
                                        )?;
                                        Ok(Some((prepared(rows, judge)?, found)))
                                    });
                            if parsed.send(read).is_err() {
                                break;
                            }
                        }
                    });
                    to_normalize
                })
                .collect();
            for n in 0..rest.len() {
                let batch = handovers[n % readers]
                    .recv()
                    .map_err(|_| anyhow::anyhow!("a reader of the input stopped"))?;
                // A batch not clean: the readers stop at their next hand-over.
                let Some((mut rows, mut found)) = batch? else {
                    return Ok(false);
                };
                survey.add_found(&found);
                if unchecked {
                    rows = lines_after(rows, done)?;
                    found
                        .no_email
                        .iter_mut()
                        .for_each(|(line, _)| *line += done);
                }
                no_email.append(&mut found.no_email);
                frames.push(coded.finish(rows, &found.names)?);
                done += found.records;
                read(done, input.rows, !unchecked);
            }
            Ok(true)
        })?;
        if !clean {
            return Ok(None);
        }
        let decided = survey.decisions(input, policy);
        if same_orders(&decided, &decisions) {
            return Ok(Some(ContactRows {
                frame: ctx(normalize::stack(frames), "cannot read the input")?,
                dates,
                decided,
                records: done,
                no_email,
            }));
        }
        read_as = Some(decided);
    }
}

/// `rows` with their lines `by` further on.
fn lines_after(rows: DataFrame, by: u64) -> Result<DataFrame> {
    let by = IdxSize::try_from(by).context("too many records")?;
    let lines = rows.column(col::LINE)?.idx()?;
    let lines = lines.apply_values(|line| line.saturating_add(by));
    let mut rows = rows;
    rows.with_column(lines.into_column())?;
    Ok(rows)
}

/// Whether two sets of decisions read every date column in the same order.
fn same_orders(a: &[DateDecision], b: &[DateDecision]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.order == b.order)
}

/// A batch's canonical rows, with `judge` [`decide::prepare`]d, for [`Coded::finish`].
fn prepared(rows: LazyFrame, judge: Option<(&crate::policy::Policy, i64)>) -> Result<DataFrame> {
    let rows = match judge {
        Some((policy, as_of)) => ctx(
            decide::prepare(rows, policy, as_of),
            "cannot judge the contacts",
        )?,
        None => rows,
    };
    ctx(rows.collect(), "cannot read the input")
}

/// [`contact_rows`] of an input whose rows are text columns in memory (a file read record
/// by record, or one with no records): one batch.
fn text_contact_rows(
    input: &Input,
    file: u32,
    policy: &crate::policy::Policy,
    judge: Option<(&crate::policy::Policy, i64)>,
    coded: &mut Coded,
) -> Result<(DataFrame, Vec<DateColumn>, Vec<DateDecision>)> {
    let mut survey = normalize::DateSurvey::new(input);
    let mut frames = Vec::new();
    for batch in ctx(input.batches(), "cannot read the input")? {
        ctx(survey.add(batch.clone()), "cannot read the date columns")?;
        frames.push(batch);
    }
    let decisions = survey.decisions(input, policy);
    let dates = DateColumn::of(input, &decisions);
    let mut rows = Vec::new();
    for batch in frames {
        let batch = ctx(
            normalize::rows(input, batch, file, &dates),
            "cannot read the input",
        )?;
        rows.push(coded.finish(prepared(batch, judge)?, &[])?);
    }
    Ok((
        ctx(normalize::stack(rows), "cannot read the input")?,
        dates,
        decisions,
    ))
}

/// The text columns the rows hold as codes ([`Dictionary`]), with the text of every code.
#[derive(Default)]
struct Coded {
    /// The values of [`col::STATUS_UNKNOWN_VALUE`].
    unknown_statuses: Dictionary,
    /// The first and last names, in one dictionary.
    names: Dictionary,
}

impl Coded {
    /// A batch's [`prepared`] rows as they are kept: the unknown status values and the names
    /// as codes, the addresses' text fitted, and a column of one value held as a constant.
    /// Names the reader coded already are codes into `names`, the batch's own.
    fn finish(&mut self, rows: DataFrame, names: &[String]) -> Result<DataFrame> {
        ctx(
            self.encode(rows, names)
                .and_then(|rows| text::fitted(rows, Field::Email.name()))
                .and_then(normalize::as_constants),
            "cannot read the input",
        )
    }

    fn encode(&mut self, rows: DataFrame, names: &[String]) -> PolarsResult<DataFrame> {
        let mut rows = self
            .unknown_statuses
            .encode(rows, col::STATUS_UNKNOWN_VALUE)?;
        for name in [Field::FirstName.name(), Field::LastName.name()] {
            rows = match rows.column(name)?.dtype() {
                // As the reader codes them: a name of white space only (trimmed to empty) is
                // none, so that a repeated address takes its first name that is there.
                DataType::String => self.names.encode(text::empty_as_none(rows, name)?, name)?,
                _ => self.names.recode(rows, name, names)?,
            };
        }
        Ok(rows)
    }
}

/// The deletion guard (SPEC §8): more than `max_delete` percent deleted refuses the run.
#[derive(Debug, thiserror::Error)]
#[error(
    "{deleted} of {contacts} contacts ({pct:.1}%) would be deleted, more than --max-delete {max}%: nothing was written\n\nhint: check the inputs; for a first audit of an old list, raise the limit with --max-delete {suggest}"
)]
pub struct Refused {
    deleted: u64,
    contacts: u64,
    pct: f64,
    max: f64,
    suggest: u64,
}

fn guard(contacts: &DataFrame, max_delete: f64) -> Result<()> {
    let n = contacts.height() as u64;
    let delete = rules::Outcome::Delete.code() as usize;
    let deleted = counts_by_code(contacts, col::OUTCOME, delete + 1)?[delete];
    if n == 0 {
        return Ok(());
    }
    let pct = deleted as f64 * 100.0 / n as f64;
    if pct > max_delete {
        return Err(Refused {
            deleted,
            contacts: n,
            pct,
            max: max_delete,
            suggest: pct.ceil() as u64,
        }
        .into());
    }
    Ok(())
}

/// `--renewed` files: addresses with the date they answered yes, as (key, renewed_at).
fn read_renewed(
    settings: &AuditSettings,
    staged: &mut ingest::Staged,
    rejects: &mut Vec<Reject>,
) -> Result<Option<LazyFrame>> {
    let mut frames = Vec::new();
    for given in &settings.renewed {
        for member in ingest::expand(given, staged)? {
            let input = ingest::read_input(&member, Role::Activity, &settings.ingest, rejects)?;
            let decided = ctx(
                normalize::date_decisions(&input, &settings.policy.policy),
                "cannot read the date columns",
            )?;
            let dates = DateColumn::of(&input, &decided);
            let frame = normalize::activity(&input, input.frame.clone(), &dates);
            frames.push(
                frame.select([
                    col(normalize::activity_col::KEY).alias(col::KEY),
                    polars::lazy::dsl::max_horizontal([
                        col(normalize::activity_col::OPEN),
                        col(normalize::activity_col::OTHER),
                    ])?
                    .alias(col::RENEWED_AT),
                ]),
            );
        }
    }
    if frames.is_empty() {
        return Ok(None);
    }
    Ok(Some(ctx(
        concat(frames, UnionArgs::default()),
        "cannot combine the --renewed files",
    )?))
}

fn summary_count(files: &[Output], name: &str) -> u64 {
    files
        .iter()
        .find(|o| o.name == name)
        .map(|o| match &o.content {
            Content::Bytes(b) => b.iter().filter(|c| **c == b'\n').count().saturating_sub(1) as u64,
            Content::Table(t) => t.count().unwrap_or(0),
            // Only the report is made later.
            Content::Later(_) => 0,
        })
        .unwrap_or(0)
}

/// The state after this run: every hash withdrawn or bounced (never removed), every contact
/// listed for re-permission (renewed ones leave the list), and the run appended to runs.jsonl.
/// Returns the files, the run's line in runs.jsonl, and how many listed contacts have waited
/// longer than the grace period without a recorded send.
fn next_state(
    state: &State,
    earlier: &BTreeMap<String, Suppressed>,
    contacts: &DataFrame,
    settings: &AuditSettings,
    summary: &RunSummary,
    started_at: &chrono::DateTime<Utc>,
) -> PolarsResult<(Vec<Output>, usize, u64)> {
    let mut suppression = earlier.clone();
    let mut listed = state.repermission.clone();
    let hashes = contacts.column(col::KEY_SHA256)?.str()?;
    let suppress = contacts.column(col::SUPPRESS)?.bool()?;
    let withdrawn = contacts
        .column(&rules::Reason::Withdrawn.column())?
        .bool()?;
    let since = contacts.column(col::WITHDRAWN_AT)?.i64()?;
    let outcome = contacts.column(col::OUTCOME)?.i32()?;
    let renewed = contacts.column(col::RENEWED)?.bool()?;
    let as_of = start_of_day_millis(
        settings.as_of.year(),
        settings.as_of.month(),
        settings.as_of.day(),
    );
    for i in 0..contacts.height() {
        let Some(hash) = hashes.get(i) else { continue };
        if suppress.get(i) == Some(true) {
            suppression
                .entry(hash.to_string())
                .or_insert_with(|| Suppressed {
                    reason: if withdrawn.get(i) == Some(true) {
                        "withdrawn"
                    } else {
                        "bounced"
                    }
                    .to_string(),
                    since: format_instant(since.get(i).unwrap_or(as_of)),
                });
        }
        if renewed.get(i) == Some(true) {
            listed.remove(hash);
        } else if outcome.get(i) == Some(rules::Outcome::Repermission.code()) {
            listed.entry(hash.to_string()).or_insert(Listed {
                first_listed: settings.as_of,
                sent_on: None,
            });
        }
    }
    let grace = chrono::Duration::days(i64::from(settings.policy.policy.repermission_grace_days));
    let waiting = listed
        .values()
        .filter(|l| l.sent_on.is_none() && l.first_listed + grace <= settings.as_of)
        .count() as u64;
    let line = state.runs.len() + 1;
    let run = serde_json::json!({
        "run": line,
        "tool": summary.tool.version,
        "as_of": summary.run.as_of,
        "started_at": started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "out": settings.out.display().to_string(),
        "policy": summary.policy.policy,
        "inputs": summary.inputs.iter().map(|i| serde_json::json!({"file": i.file, "sha256": i.sha256, "rows": i.rows})).collect::<Vec<_>>(),
        "counts": summary.counts,
        "suppressed_hashes": suppression.len(),
        "listed_for_repermission": listed.len(),
    });
    let mut runs = state.runs.join("\n");
    if !runs.is_empty() {
        runs.push('\n');
    }
    runs.push_str(&run.to_string());
    runs.push('\n');
    Ok((
        vec![
            Output {
                name: SUPPRESSION,
                content: Content::Bytes(State::suppression_csv(&suppression)),
            },
            Output {
                name: REPERMISSION,
                content: Content::Bytes(State::repermission_csv(&listed)),
            },
            Output {
                name: RUNS,
                content: Content::Bytes(runs.into_bytes()),
            },
        ],
        line,
        waiting,
    ))
}

fn bool_count(frame: &DataFrame, name: &str) -> Result<u64> {
    Ok(frame.column(name)?.bool()?.sum().unwrap_or(0) as u64)
}

/// How many contacts hold each name of a code column (`names` by code): every name, with 0
/// where no contact holds it.
fn code_counts(frame: &DataFrame, name: &str, names: &[String]) -> Result<BTreeMap<String, u64>> {
    let counts = counts_by_code(frame, name, names.len())?;
    Ok(names.iter().cloned().zip(counts).collect())
}

/// How many rows hold each code `0..codes` of the `i32` code column `name` (none, and any
/// other code, is not counted), read a chunk at a time: polars' value-by-value iterator took
/// 20-30 ms a column of ten million contacts, on the run's one thread between deciding and
/// writing, and a constant column (unknown statuses, most lists have none) was written out
/// to be iterated.
fn counts_by_code(frame: &DataFrame, name: &str, codes: usize) -> Result<Vec<u64>> {
    let mut counts = vec![0u64; codes];
    let column = frame.column(name)?;
    let mut count = |code: i32, n: u64| {
        if let Some(count) = usize::try_from(code).ok().and_then(|c| counts.get_mut(c)) {
            *count += n;
        }
    };
    if let Column::Scalar(constant) = column {
        if let Some(code) = constant.scalar().value().extract::<i32>() {
            count(code, column.len() as u64);
        }
    } else {
        for array in column.i32()?.downcast_iter() {
            match array.validity().filter(|valid| valid.unset_bits() > 0) {
                None => array.values().iter().for_each(|&code| count(code, 1)),
                Some(valid) => array
                    .values()
                    .iter()
                    .zip(valid.iter())
                    .for_each(|(&code, is)| count(code, u64::from(is))),
            }
        }
    }
    Ok(counts)
}

/// How many rows hold each value of a text column (nulls aside). Counted by reference, so a
/// column of ten million cells and a handful of values allocates a handful of strings.
fn value_counts(frame: &DataFrame, name: &str) -> Result<BTreeMap<String, u64>> {
    let mut counts: PlHashMap<&str, u64> = PlHashMap::new();
    for value in frame.column(name)?.str()?.iter().flatten() {
        *counts.entry(value).or_insert(0) += 1;
    }
    Ok(counts
        .into_iter()
        .map(|(value, n)| (value.to_string(), n))
        .collect())
}

fn summarize(
    settings: &AuditSettings,
    inputs: &[Input],
    rejects: &[Reject],
    decision: &decide::Decision,
    dates: &[DateColumn],
    decisions: &[Vec<DateDecision>],
    unknown_statuses: &[String],
) -> Result<RunSummary> {
    let contacts = &decision.contacts;
    let contact_inputs = || inputs.iter().filter(|i| i.role == Role::Contacts);
    let rows: u64 = contact_inputs().map(|i| i.rows).sum();
    let used: u64 = contact_inputs()
        .map(|i| i.rows - i.form_rejects - i.no_email)
        .sum();
    let n = contacts.height() as u64;

    let outcomes = code_counts(contacts, col::OUTCOME, &rules::Outcome::names())?;
    let mut reasons = BTreeMap::new();
    for reason in decide::reasons() {
        reasons.insert(
            reason.name().to_string(),
            bool_count(contacts, &reason.column())?,
        );
    }
    let evidence = code_counts(contacts, col::EVIDENCE, &rules::Evidence::names())?;
    let import_artifacts = bool_count(contacts, col::IMPORT_ARTIFACT)?;
    let assessable = bool_count(contacts, col::INACTIVITY_ASSESSABLE)?;

    let unknown = code_counts(contacts, col::STATUS_UNKNOWN_VALUE, unknown_statuses)?;
    let mut unknown_statuses: Vec<report::ValueCount> = unknown
        .into_iter()
        .filter(|(_, contacts)| *contacts > 0)
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
                order: d.order.name(),
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
            "inactivity could not be judged for {}: their exports have no engagement column (a Mailchimp audience export has none); add the service's activity export with --activity",
            crate::report::counted(not_assessable, "contact", "contacts")
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
        .zip(decisions)
        .map(|(input, dates)| super::inspect::input_summary(input, dates))
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
            stages_ms: Vec::new(),
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
        state: None,
        next_steps: report::next_steps(),
        disclaimer: report::DISCLAIMER,
    })
}

/// Whether `path` names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}
