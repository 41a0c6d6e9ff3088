//! Outputs (SPEC §4): build each output table from the decided contacts, and write them all
//! atomically — staged in the output folder, renamed into place only when every file was
//! written, created with mode 0600 because they hold personal data.

pub mod commit;
mod csv;

pub use csv::Cell;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use polars::prelude::*;
use polars_arrow::bitmap::{Bitmap, MutableBitmap};
use thiserror::Error;

use crate::decide::col;
use crate::decide::rules::{Evidence, Outcome, Reason};
use crate::fields::Field;
use crate::ingest::Reject;
use crate::normalize::date::format_instant;
use crate::state::Suppressed;

/// Every file a run writes, in the order they are listed.
pub const OUTPUT_FILES: [&str; 10] = [
    "audit.csv",
    "repermission.csv",
    "deletion.csv",
    "suppression.csv",
    "keep.csv",
    "no-marketing.csv",
    "reengage.csv",
    "rejects.csv",
    "report.json",
    "report.html",
];

/// Why the outputs could not be written. Nothing was replaced in any of these cases.
#[derive(Debug, Error)]
pub enum OutputError {
    #[error(
        "{dir} already holds outputs of an earlier run ({files})\n\nhint: pass --force to replace them, or choose another --out"
    )]
    Exists { dir: String, files: String },
    #[error("cannot write the outputs to {dir}: {source}")]
    Write { dir: String, source: std::io::Error },
    #[error("cannot write {file}: {source}")]
    Csv { file: String, source: PolarsError },
    #[error("cannot build the outputs: {0}")]
    Build(#[from] PolarsError),
}

/// One file of a run, ready to be written.
pub enum Content {
    /// A table, built when it is written.
    Table(Table),
    Bytes(Vec<u8>),
    /// Bytes made when the file is written, after every other file of the commit: the
    /// report, which waits for the inputs' hashes (see `ingest::digest`) while the lists are
    /// written.
    Later(Box<dyn FnOnce() -> std::io::Result<Vec<u8>> + Send>),
}

impl Content {
    fn is_later(&self) -> bool {
        matches!(self, Content::Later(_))
    }
}

pub struct Output {
    pub name: &'static str,
    pub content: Content,
}

/// How CSV files are written.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvStyle {
    /// `--excel`: a BOM and `;`, so Dutch Excel opens the files correctly.
    pub excel: bool,
}

/// An output table: its source rows, which of them it has, the plan that turns any slice of
/// them into the table's rows, and how each of its cells is spelled. It is built and written a
/// slice at a time, so a large list never holds a whole table (at 10M contacts, audit.csv alone
/// is larger than the input).
#[derive(Clone)]
pub struct Table {
    source: DataFrame,
    /// The source rows the table has, where this holds (all without it). It is kept apart from
    /// the plan so that writing spells the rows it selects straight from a slice's columns:
    /// polars' filter copied the columns of six lists first, about 0.24 CPU-s of a run on ten
    /// million contacts (the filter kernels' samples in two runs of each build at 1999 Hz).
    rows: Option<Expr>,
    plan: Arc<dyn Fn(LazyFrame) -> LazyFrame + Send + Sync>,
    cells: Arc<[(&'static str, Cell)]>,
}

/// Source rows per written slice, at most: a slice never crosses a chunk of the contacts
/// ([`crate::normalize::columns::pieces`]), whose columns are then each one array as they are.
const SLICE_ROWS: usize = 1 << 18;

impl Table {
    /// The rows of `source` where `filter` holds (all without one), spelled as `cells` say.
    pub fn of(source: &DataFrame, filter: Option<Expr>, cells: Vec<(&'static str, Cell)>) -> Table {
        let mut read: Vec<String> = Vec::new();
        for (_, cell) in &cells {
            for c in cell.columns() {
                if !read.contains(&c) {
                    read.push(c);
                }
            }
        }
        let select: Vec<Expr> = read.into_iter().map(col).collect();
        Table {
            source: source.clone(),
            rows: filter,
            plan: Arc::new(move |lf: LazyFrame| lf.select(select.clone())),
            cells: cells.into(),
        }
    }

    /// A table that is `frame`, spelled as `cells` say.
    pub fn whole(frame: DataFrame, cells: Vec<(&'static str, Cell)>) -> Table {
        Table {
            source: frame,
            rows: None,
            plan: Arc::new(|lf| lf),
            cells: cells.into(),
        }
    }

    /// The table's plan over its source, its rows selected.
    fn planned(&self) -> LazyFrame {
        let source = self.source.clone().lazy();
        (self.plan)(match &self.rows {
            Some(rows) => source.filter(rows.clone()),
            None => source,
        })
    }

    /// The rows the table will have, without building it.
    pub fn count(&self) -> PolarsResult<u64> {
        let counted = self.planned().select([len()]).collect()?;
        Ok(counted
            .column("len")?
            .cast(&DataType::UInt64)?
            .u64()?
            .get(0)
            .unwrap_or(0))
    }

    /// The rows of `slice` the table has, a bit a row (none when it has them all); a row
    /// where the condition is none is not one.
    fn selected(&self, slice: &DataFrame) -> PolarsResult<Option<Bitmap>> {
        let Some(rows) = &self.rows else {
            return Ok(None);
        };
        let found = slice.clone().lazy().select([rows.clone()]).collect()?;
        let found = found.columns()[0].bool()?;
        polars_ensure!(
            found.len() == slice.height(),
            ComputeError: "a table's rows: {} answers for {} rows", found.len(), slice.height()
        );
        let mut selected = MutableBitmap::with_capacity(found.len());
        for array in found.downcast_iter() {
            match array.validity() {
                Some(valid) => selected.extend_from_bitmap(&(array.values() & valid)),
                None => selected.extend_from_bitmap(array.values()),
            }
        }
        Ok(Some(selected.into()))
    }

    /// Writes the table as CSV in the run's style, slice by slice, spelled on `threads`
    /// threads; a thread of its own hands the text to `writer`, while the next is spelled.
    ///
    /// On one thread the text is spelled into [`csv::Chunk`]s, which a direct writer writes
    /// where they are. On more, each slice is spelled in runs, one a thread, and each run is
    /// copied to be written. A run writes two tables at once, so on two cores each is spelled
    /// on one: audit.csv holds every contact, and the other lists each contact about once
    /// more, so the two writers' shares come out about even. Not quite: on ten million
    /// contacts audit.csv took 1.57-1.84 s and the others 1.3-1.45 s, so once the other writer
    /// is done, audit.csv's slices are spelled with its core's help ([`Table::write_helped`]):
    /// in nine paired 10M rounds the run was faster in seven (by 0.06-0.31 s) and as fast in
    /// two.
    pub fn write(
        &self,
        writer: &mut (impl Write + Send),
        style: CsvStyle,
        threads: usize,
    ) -> PolarsResult<()> {
        if threads > 1 {
            self.write_in_runs(writer, style, threads)
        } else {
            self.write_in_chunks(writer, style, &AtomicUsize::new(0))
        }
    }

    /// [`Table::write`] on this thread, each slice spelled with another core's help while
    /// `spare` counts a core that no other writer spells on: the slice's second half is
    /// spelled on the pool beside the first and copied after it (a copy of half the text, for
    /// the second core's time).
    pub fn write_helped(
        &self,
        writer: &mut (impl Write + Send),
        style: CsvStyle,
        spare: &AtomicUsize,
    ) -> PolarsResult<()> {
        self.write_in_chunks(writer, style, spare)
    }

    /// The slices of the table, each with the rows it has (all without a bitmap).
    fn slices(&self) -> impl Iterator<Item = PolarsResult<(DataFrame, Option<Bitmap>)>> + '_ {
        let pieces = crate::normalize::columns::pieces(&self.source, SLICE_ROWS);
        pieces.into_iter().map(move |rows| {
            let slice = self.source.slice(rows.start as i64, rows.len());
            let selected = self.selected(&slice)?;
            Ok(((self.plan)(slice.lazy()).collect()?, selected))
        })
    }

    /// [`Table::write`] on one thread, a [`csv::Chunk`] at a time.
    fn write_in_chunks(
        &self,
        writer: &mut (impl Write + Send),
        style: CsvStyle,
        spare: &AtomicUsize,
    ) -> PolarsResult<()> {
        Self::pipelined(
            writer,
            3,
            |to_fill, full| {
                let stopped = || polars_err!(ComputeError: "the writer stopped");
                let layout = csv::Layout::new(self.cells.clone(), style)?;
                let mut out: csv::Chunk = to_fill.recv().map_err(|_| stopped())?;
                // The header is the first chunk's start: written apart, it would put every block
                // after it off the alignment.
                out.push(&csv::header(&self.cells, style));
                for slice in self.slices() {
                    let (frame, selected) = slice?;
                    let helped = spare.load(Ordering::Relaxed) > 0;
                    csv::render_into(
                        &frame,
                        selected.as_ref(),
                        &layout,
                        &mut out,
                        helped,
                        |out| {
                            let mut next: csv::Chunk = to_fill.recv().map_err(|_| stopped())?;
                            out.carry_into(&mut next);
                            full.send(std::mem::replace(out, next))
                                .map_err(|_| stopped())
                        },
                    )?;
                }
                full.send(out).map_err(|_| stopped())
            },
            |chunk: &csv::Chunk| vec![chunk.text()],
        )
    }

    /// [`Table::write`] on `threads` threads, each slice in runs.
    fn write_in_runs(
        &self,
        writer: &mut (impl Write + Send),
        style: CsvStyle,
        threads: usize,
    ) -> PolarsResult<()> {
        let io = |e: std::io::Error| polars_err!(ComputeError: "{e}");
        writer
            .write_all(&csv::header(&self.cells, style))
            .map_err(io)?;
        Self::pipelined(
            writer,
            1,
            |to_fill, full| {
                let stopped = || polars_err!(ComputeError: "the writer stopped");
                let layout = csv::Layout::new(self.cells.clone(), style)?;
                for slice in self.slices() {
                    let (frame, selected) = slice?;
                    let mut buffers: (Vec<Vec<u8>>, usize) =
                        to_fill.recv().map_err(|_| stopped())?;
                    buffers.1 =
                        csv::render(&frame, selected.as_ref(), &layout, threads, &mut buffers.0)?;
                    full.send(buffers).map_err(|_| stopped())?;
                }
                Ok(())
            },
            |(buffers, runs): &(Vec<Vec<u8>>, usize)| {
                buffers[..*runs].iter().map(Vec::as_slice).collect()
            },
        )
    }

    /// Runs `spell` with `spare` buffers of type `B` to fill (and one more, taken from them
    /// and handed back in turn) while a thread of its own writes each filled buffer's parts
    /// (`parts`) to `writer` in order, and hands the buffer back to be filled again.
    fn pipelined<W: Write + Send, B: Default + Send>(
        writer: &mut W,
        spare: usize,
        spell: impl FnOnce(
            &std::sync::mpsc::Receiver<B>,
            &std::sync::mpsc::SyncSender<B>,
        ) -> PolarsResult<()>,
        parts: impl Fn(&B) -> Vec<&[u8]> + Send,
    ) -> PolarsResult<()> {
        let io = |e: std::io::Error| polars_err!(ComputeError: "{e}");
        let (full, to_write) = std::sync::mpsc::sync_channel::<B>(1);
        let (free, to_fill) = std::sync::mpsc::channel::<B>();
        for _ in 0..=spare {
            let _ = free.send(B::default());
        }
        std::thread::scope(|scope| {
            let writing = scope.spawn(move || -> std::io::Result<()> {
                for filled in to_write {
                    for part in parts(&filled) {
                        writer.write_all(part)?;
                    }
                    let _ = free.send(filled);
                }
                Ok(())
            });
            let spelled = spell(&to_fill, &full);
            drop(full);
            // A failed write says more than the spelling that stopped because of it.
            writing
                .join()
                .map_err(|_| polars_err!(ComputeError: "the writer failed"))?
                .map_err(io)?;
            spelled
        })
    }
}

/// Cells a spreadsheet would run as a formula get a leading `'` (SPEC §4).
fn guard_of(value: &str) -> Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// Whether a contact's outcome is `outcome` (false for none), eight codes to a byte of the
/// mask (`columns::among`): polars' comparison with a constant built its mask a bit at a time,
/// 1.4% of a ten-million-row run for the four lists that ask it.
fn outcome_is(outcome: Outcome) -> Expr {
    let code = outcome.code();
    col(col::OUTCOME).map(
        move |column: Column| {
            let codes = column.i32()?;
            let masks = codes.downcast_iter().map(|array| {
                let mask = crate::normalize::columns::among(array, &[code]);
                polars_arrow::array::BooleanArray::from_data_default(mask, None)
            });
            Ok(BooleanChunked::from_chunk_iter(column.name().clone(), masks).into_column())
        },
        |_, field| {
            Ok(polars::prelude::Field::new(
                field.name().clone(),
                DataType::Boolean,
            ))
        },
    )
}

/// The CSV tables of SPEC §4 from the decided contacts and the rejected rows, each a plan over
/// slices of the contacts (see [`Table`]). `files` names the inputs by index, `names` spells
/// the first and last names by code, and `consent_columns` spells the consent date columns by number
/// ([`crate::normalize::consent_column_names`]). With what earlier runs suppressed (a state,
/// `--suppression` lists), suppression.csv takes those in too ([`with_earlier`]).
pub fn tables(
    decision: &crate::decide::Decision,
    rejects: &[Reject],
    as_of: i64,
    files: &[String],
    names: &[String],
    consent_columns: &[String],
    earlier: Option<&BTreeMap<String, Suppressed>>,
) -> PolarsResult<Vec<(&'static str, Table)>> {
    let contacts = &decision.contacts;
    let email = ("email", Cell::Text(Field::Email.name()));
    let names: Arc<[String]> = names.into();
    let first_name = (
        "first_name",
        Cell::Named(Field::FirstName.name(), names.clone()),
    );
    let last_name = ("last_name", Cell::Named(Field::LastName.name(), names));
    let reasons = (
        "reasons",
        Cell::Reasons(col::REASON_BITS, crate::decide::reasons().into()),
    );
    let consent_date = ("consent_date", Cell::Instant(col::CONSENT_AT));
    let last_activity = ("last_activity", Cell::Instant(col::LAST_ACTIVITY));
    let mut audit_cells = vec![
        email.clone(),
        (
            "outcome",
            Cell::Named(col::OUTCOME, Outcome::names().into()),
        ),
        reasons.clone(),
        (
            "evidence",
            Cell::Named(col::EVIDENCE, Evidence::names().into()),
        ),
        consent_date.clone(),
        (
            "consent_date_column",
            Cell::Named(col::CONSENT_COLUMN, consent_columns.into()),
        ),
        last_activity.clone(),
        (
            "status",
            Cell::Named(
                col::STATUS_RANK,
                crate::normalize::status::names_by_rank().into(),
            ),
        ),
        (
            "sources",
            Cell::Sources {
                files: files.into(),
                refs: decision.sources.clone(),
            },
        ),
    ];
    // With --preset-by-country, the preset each contact was judged by.
    if contacts.column(crate::decide::PRESET).is_ok() {
        audit_cells.push(("preset", Cell::Text(crate::decide::PRESET)));
    }
    let audit = Table::of(contacts, None, audit_cells);
    let repermission = Table::of(
        contacts,
        Some(outcome_is(Outcome::Repermission)),
        vec![
            email.clone(),
            first_name.clone(),
            last_name.clone(),
            reasons.clone(),
            consent_date.clone(),
        ],
    );
    let deletion = Table::of(
        contacts,
        Some(outcome_is(Outcome::Delete)),
        vec![
            email.clone(),
            reasons,
            ("suppress", Cell::Either(col::SUPPRESS.into(), csv::YES_NO)),
        ],
    );
    let suppression = match earlier {
        Some(earlier) => Table::whole(
            with_earlier(contacts, as_of, earlier)?,
            SUPPRESSION_CELLS.map(|c| (c, Cell::Text(c))).into(),
        ),
        None => Table::of(
            contacts,
            Some(col(col::SUPPRESS)),
            vec![
                (SUPPRESSION_CELLS[0], Cell::KeyHash(Field::Email.name())),
                (
                    SUPPRESSION_CELLS[1],
                    Cell::Either(Reason::Withdrawn.column().into(), BOUNCED_WITHDRAWN),
                ),
                (
                    SUPPRESSION_CELLS[2],
                    Cell::InstantOr(col::WITHDRAWN_AT, as_of),
                ),
            ],
        ),
    };
    let person = |filter: Expr| {
        Table::of(
            contacts,
            Some(filter),
            vec![
                email.clone(),
                first_name.clone(),
                last_name.clone(),
                consent_date.clone(),
                last_activity.clone(),
            ],
        )
    };
    let keep = person(outcome_is(Outcome::Keep));
    let no_marketing = person(outcome_is(Outcome::NoMarketing));
    let reengage = person(outcome_is(Outcome::Keep).and(col(Reason::NearingInactivity.column())));
    let rejects = Table::whole(
        rejects_table(rejects)?,
        vec![
            ("file", Cell::Guarded("file")),
            ("line", Cell::Number("line")),
            ("problem", Cell::Text("problem")),
            ("raw", Cell::Guarded("raw")),
        ],
    );
    Ok(vec![
        ("audit.csv", audit),
        ("repermission.csv", repermission),
        ("deletion.csv", deletion),
        ("suppression.csv", suppression),
        ("keep.csv", keep),
        ("no-marketing.csv", no_marketing),
        ("reengage.csv", reengage),
        ("rejects.csv", rejects),
    ])
}

/// suppression.csv's columns (SPEC §4).
const SUPPRESSION_CELLS: [&str; 3] = ["email_sha256", "reason", "since"];

/// A suppressed contact's reason, by whether it withdrew ([`Cell::Either`]).
const BOUNCED_WITHDRAWN: [&str; 2] = ["bounced", "withdrawn"];

/// suppression.csv with what earlier runs remember (SPEC §4): the contacts withdrawn or bounced
/// now, each with the date the state first recorded it (for one new, its withdrawal's, or
/// `as_of`), then every earlier hash that is not a contact who signed up again. Decide hashed
/// every contact's key ([`col::KEY_SHA256`]) to look them up.
fn with_earlier(
    contacts: &DataFrame,
    as_of: i64,
    earlier: &BTreeMap<String, Suppressed>,
) -> PolarsResult<DataFrame> {
    let hashes = contacts.column(col::KEY_SHA256)?.str()?;
    let suppress = contacts.column(col::SUPPRESS)?.bool()?;
    let suppressed = contacts.column(&Reason::Suppressed.column())?.bool()?;
    let withdrawn = contacts.column(&Reason::Withdrawn.column())?.bool()?;
    let withdrawn_at = contacts.column(col::WITHDRAWN_AT)?.i64()?;
    let mut now: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut resigned: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let (mut h, mut r, mut s) = (Vec::new(), Vec::new(), Vec::new());
    let rows = hashes.iter().zip(suppress.iter()).zip(suppressed.iter());
    for (((hash, is_suppressed), was_suppressed), (withdrew, at)) in
        rows.zip(withdrawn.iter().zip(withdrawn_at.iter()))
    {
        if is_suppressed == Some(true) {
            now.extend(hash);
            let hash = hash.unwrap_or("");
            h.push(hash.to_string());
            r.push(csv::either(BOUNCED_WITHDRAWN, withdrew).to_string());
            s.push(
                earlier
                    .get(hash)
                    .map_or_else(|| format_instant(at.unwrap_or(as_of)), |e| e.since.clone()),
            );
        } else if let Some(hash) = hash
            && was_suppressed != Some(true)
            && earlier.contains_key(hash)
        {
            resigned.insert(hash);
        }
    }
    for (hash, entry) in earlier {
        if !now.contains(hash.as_str()) && !resigned.contains(hash.as_str()) {
            h.push(hash.clone());
            r.push(entry.reason.clone());
            s.push(entry.since.clone());
        }
    }
    DataFrame::new(
        h.len(),
        vec![
            Column::new("email_sha256".into(), h),
            Column::new("reason".into(), r),
            Column::new("since".into(), s),
        ],
    )
}

fn rejects_table(rejects: &[Reject]) -> PolarsResult<DataFrame> {
    DataFrame::new(
        rejects.len(),
        vec![
            Column::new(
                "file".into(),
                rejects.iter().map(|r| r.file.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "line".into(),
                rejects.iter().map(|r| r.line).collect::<Vec<_>>(),
            ),
            Column::new(
                "problem".into(),
                rejects
                    .iter()
                    .map(|r| r.problem.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "raw".into(),
                rejects.iter().map(|r| r.raw.as_str()).collect::<Vec<_>>(),
            ),
        ],
    )
}

/// Refuses to run when `dir` holds outputs of an earlier run and `--force` was not given.
pub fn check_overwrite(dir: &Path, names: &[&str], force: bool) -> Result<(), OutputError> {
    if force {
        return Ok(());
    }
    let existing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| dir.join(name).exists())
        .collect();
    if existing.is_empty() {
        Ok(())
    } else {
        Err(OutputError::Exists {
            dir: dir.display().to_string(),
            files: existing.join(", "),
        })
    }
}
