//! Ingest (SPEC §2.1–2.2): find the input files, sniff each one, recognise its service, map its
//! headers onto the canonical fields, and hand on its rows.
//!
//! Every file is first read once by [`scan`] (hash + structure check). A clean UTF-8 file then
//! goes straight to the reader of [`parts`], which splits its cells by their separators alone;
//! any other file takes the record-level pass of
//! [`records`], which puts each unreadable row in `rejects.csv` with its line.

pub mod cells;
pub mod digest;
pub mod parts;
pub mod profile;
pub mod records;
pub mod scan;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;
use thiserror::Error;

use crate::fields::{Field, Status};
use profile::{Mapped, Profile};

/// The column of every input frame with the line each row starts on.
pub const LINE: &str = "line";

/// A row that could not be used, for `rejects.csv` (SPEC §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub file: String,
    pub line: u64,
    pub problem: String,
    pub raw: String,
    /// Rejected for its form (wrong field count, invalid bytes): these count towards
    /// `max_reject_pct`; a row without an e-mail does not.
    pub form: bool,
}

impl Reject {
    pub const NO_EMAIL: &'static str = "no e-mail address";

    pub fn no_email(file: &str, line: u64, raw: String) -> Reject {
        Reject {
            file: file.to_string(),
            line,
            problem: Self::NO_EMAIL.to_string(),
            raw,
            form: false,
        }
    }
}

/// Why ingest could not go on. Each names the file and says what to do.
#[derive(Debug, Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} holds no CSV files")]
    EmptyDirectory { path: String },
    #[error("{path} is empty: it has no header line")]
    NoHeader { path: String },
    #[error(
        "{path} has no e-mail column; the headers found are: {headers}\n\nhint: name the column with --map email=COLUMN"
    )]
    NoEmailColumn { path: String, headers: String },
    #[error(
        "{path} has no date column to read activity from; the headers found are: {headers}\n\nhint: name it with --map last_active_at=COLUMN"
    )]
    NoActivityColumn { path: String, headers: String },
    #[error(
        "{path}: {rejected} of {rows} rows ({pct:.1}%) could not be read, more than the {max}% allowed; the file was probably read wrongly, so nothing was written\n\nhint: check the delimiter ({delimiter}) and the encoding; the first bad row is line {first_line}: {first_problem}"
    )]
    TooManyRejects {
        path: String,
        rejected: u64,
        rows: u64,
        pct: f64,
        max: f64,
        delimiter: String,
        first_line: u64,
        first_problem: String,
    },
    #[error("{path}: {source}")]
    Polars { path: String, source: PolarsError },
    #[error("cannot read the ZIP archive {path}: {message}")]
    Zip { path: String, message: String },
}

/// What a file is to the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A subscriber export: every row is a contact.
    Contacts,
    /// An engagement export (`--activity`): e-mail and dates, joined by e-mail key.
    Activity,
}

/// Where a file's statuses come from, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusSource {
    Column(String),
    FileName(Status),
    /// The service's per-status columns (`UNSUB_TIME`, `CLEAN_TIME`) where the name says nothing.
    Columns(Status),
    /// The service's status-bearing columns (`email_disabled`, `Is this user blacklisted`, …).
    StatusColumns(Vec<String>),
    /// No status at all: read as subscribed (SPEC §2.2).
    None,
}

/// One input file, read and mapped.
pub struct Input {
    pub path: PathBuf,
    /// The path as shown in outputs and the report.
    pub name: String,
    pub role: Role,
    /// Hex SHA-256 of the file's bytes; empty where it is being taken (see [`Input::hashing`]).
    pub sha256: String,
    /// The hash being taken on idle time, of a file read without the check: the audit fills
    /// it into the report (`with_hashes`).
    pub hashing: Option<Arc<digest::Hashing>>,
    pub profile: &'static Profile,
    /// The profile's signature columns found in the header.
    pub matched: Vec<String>,
    pub encoding: &'static str,
    pub delimiter: u8,
    /// The header as written.
    pub headers: Vec<String>,
    /// The column names in the frame: the headers, empty ones named and duplicates suffixed.
    pub columns: Vec<String>,
    pub mapping: Vec<Mapped>,
    pub status_source: StatusSource,
    /// Data rows in the file, rejected ones included (estimated, for the progress line, until
    /// a file read without the structure check has been read).
    pub rows: u64,
    /// Rows rejected for their form.
    pub form_rejects: u64,
    /// Rows rejected because their e-mail cell is empty.
    pub no_email: u64,
    /// Facts the user declared for this input (`--assume`), as (field, value).
    pub assumed: Vec<(Field, String)>,
    /// Warnings for the report and `inspect`.
    pub warnings: Vec<String>,
    /// The rows: one String column per entry of `columns`, and `line` (UInt32).
    pub frame: LazyFrame,
    /// A clean file's parts, to read its rows a batch at a time; `None` once the rows are in
    /// memory.
    pub parts: Option<parts::Parts>,
}

/// Bytes read per batch of a clean file of `file_bytes`: a sixteenth of the file, between
/// 8 MB and 64 MB. At most about half a million rows of a typical export, few enough that a
/// batch's own columns stay small beside the whole list's canonical rows; at least a
/// sixteenth, so that a smaller file still keeps every core busy (its first batch is read
/// alone, to learn the dates' order): reading a million rows (149 MB) took 0.29 s in batches
/// of 9 MB against 0.42 s in batches of 64 MB. `LISTAUDIT_BATCH_BYTES` sets another size (a
/// smaller one holds less at once; the tests read small files in many batches with it).
pub fn batch_bytes(file_bytes: u64) -> u64 {
    static BYTES: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let set = BYTES.get_or_init(|| {
        std::env::var("LISTAUDIT_BATCH_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|b| *b > 0)
    });
    set.unwrap_or((file_bytes / 16).clamp(8 << 20, 64 << 20))
}

impl Input {
    /// The frame column that holds `field`, if the file has one.
    pub fn column_of(&self, field: Field) -> Option<&str> {
        self.mapping
            .iter()
            .find(|m| m.field == field)
            .map(|m| self.columns[m.index].as_str())
    }

    /// The header (as written) that holds `field`.
    pub fn header_of(&self, field: Field) -> Option<&str> {
        self.mapping
            .iter()
            .find(|m| m.field == field)
            .map(|m| m.header.as_str())
    }

    /// Whether the file carries any engagement column (SPEC §3.2: inactivity can be judged).
    pub fn has_engagement(&self) -> bool {
        self.mapping.iter().any(|m| m.field.is_engagement())
    }

    /// Reads the file's rows into memory once, keeping only the columns the audit uses, so that
    /// the date decisions and the normalisation that follows do not parse the file again.
    pub fn materialize(&mut self) -> PolarsResult<()> {
        // Both readers build one chunk per column (see `parts`).
        self.frame = self.frame.clone().select(self.used()).collect()?.lazy();
        self.parts = None;
        Ok(())
    }

    /// The rows in batches of about [`batch_bytes`], in order, each with only the columns the
    /// audit uses: a clean file is read part by part, rows already in memory are one batch.
    pub fn batches(&self) -> PolarsResult<Vec<LazyFrame>> {
        let Some(parts) = &self.parts else {
            return Ok(vec![self.frame.clone()]);
        };
        let batches = parts.batches();
        if batches.is_empty() {
            return Ok(vec![self.frame.clone().select(self.used())]);
        }
        batches
            .into_iter()
            .map(|batch| Ok(batch.frame()?.select(self.used())))
            .collect()
    }

    /// `line` and the columns the audit reads: the mapped ones and the status-bearing ones.
    fn used(&self) -> Vec<Expr> {
        let status: Vec<&str> = self.status_columns().iter().map(|(c, _)| *c).collect();
        let mut used: Vec<Expr> = vec![col(LINE)];
        for (i, name) in self.columns.iter().enumerate() {
            if self.mapping.iter().any(|m| m.index == i) || status.contains(&name.as_str()) {
                used.push(col(name.as_str()));
            }
        }
        used
    }

    /// Drops the file's columns once its canonical rows are built; what was read about the file
    /// stays for the report.
    pub fn release(&mut self) {
        self.frame = DataFrame::empty().lazy();
        self.parts = None;
    }

    /// The profile's status-bearing columns this file has: (frame column, their values).
    pub fn status_columns(&self) -> Vec<(&str, &'static profile::StatusColumn)> {
        self.profile
            .status_columns
            .iter()
            .filter_map(|sc| {
                self.headers
                    .iter()
                    .position(|h| profile::header_key(h) == sc.header)
                    .map(|i| (self.columns[i].as_str(), sc))
            })
            .collect()
    }
}

/// What the user told ingest.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// `--map FIELD=COLUMN`.
    pub overrides: Vec<(Field, String)>,
    /// `--format SERVICE`.
    pub format: Option<&'static Profile>,
    /// The policy's `max_reject_pct`.
    pub max_reject_pct: f64,
    /// `--encoding`.
    pub encoding: Option<Encoding>,
    /// `--delimiter`.
    pub delimiter: Option<u8>,
    /// `--assume INPUT:FIELD=VALUE`: (input, field, value).
    pub assume: Vec<(String, Field, String)>,
    /// Whether a contacts file that looks like a record a line is read without the structure
    /// check first ([`scan::lines`]): the audit sets it, and reads such a file with
    /// `normalize::read::batch`, which tells when the file is not clean after all (it is then
    /// read again with [`read_checked`]).
    pub check_while_reading: bool,
}

/// The encodings SPEC §2.1 reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

impl Encoding {
    pub fn parse(name: &str) -> Option<Encoding> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "utf-16le" | "utf-16-le" | "utf16le" => Some(Encoding::Utf16Le),
            "utf-16be" | "utf-16-be" | "utf16be" => Some(Encoding::Utf16Be),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => {
                Some(Encoding::Windows1252)
            }
            _ => None,
        }
    }
}

/// Header names of `--activity` files that hold an activity date, after the engagement names.
const ACTIVITY_DATE_HEADERS: &[&str] = &[
    "date",
    "datum",
    "timestamp",
    "time",
    "activitydate",
    "eventdate",
    "openedat",
    "clickedat",
    "lastevent",
];

/// One file to read: where it is now, and how outputs and the report name it.
#[derive(Debug, Clone)]
pub struct Member {
    pub path: PathBuf,
    pub name: String,
}

/// Keeps the temporary copies of ZIP members and standard input alive for the run.
#[derive(Default)]
pub struct Staged {
    dirs: Vec<tempfile::TempDir>,
}

/// The files an INPUT names, in path order: the file itself, every CSV below a directory or
/// inside a ZIP archive, or standard input for `-`.
pub fn expand(input: &Path, staged: &mut Staged) -> Result<Vec<Member>, IngestError> {
    let shown = input.display().to_string();
    let read_err = |path: &str, source| IngestError::Read {
        path: path.to_string(),
        source,
    };
    if input.as_os_str() == "-" {
        let dir = tempfile::tempdir().map_err(|e| read_err("standard input", e))?;
        let path = dir.path().join("stdin.csv");
        let mut file = File::create(&path).map_err(|e| read_err("standard input", e))?;
        std::io::copy(&mut std::io::stdin().lock(), &mut file)
            .map_err(|e| read_err("standard input", e))?;
        staged.dirs.push(dir);
        return Ok(vec![Member {
            path,
            name: "stdin".to_string(),
        }]);
    }
    let meta = std::fs::metadata(input).map_err(|e| read_err(&shown, e))?;
    if !meta.is_dir() {
        if is_zip(input) {
            return unzip(input, staged);
        }
        return Ok(vec![Member {
            path: input.to_path_buf(),
            name: shown,
        }]);
    }
    let mut files = Vec::new();
    let mut pending = vec![input.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| read_err(&dir.display().to_string(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| read_err(&dir.display().to_string(), e))?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if is_csv_name(&path) || is_zip_name(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(IngestError::EmptyDirectory { path: shown });
    }
    let mut members = Vec::new();
    for path in files {
        if is_zip_name(&path) {
            members.extend(unzip(&path, staged)?);
        } else {
            let name = path.display().to_string();
            members.push(Member { path, name });
        }
    }
    Ok(members)
}

fn is_zip_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    is_zip_name(path)
        || File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok_and(|()| &magic == b"PK\x03\x04")
}

/// Copies the CSV members of a ZIP archive to a temporary folder, in path order.
fn unzip(archive: &Path, staged: &mut Staged) -> Result<Vec<Member>, IngestError> {
    let shown = archive.display().to_string();
    let zip_err = |message: String| IngestError::Zip {
        path: shown.clone(),
        message,
    };
    let file = File::open(archive).map_err(|source| IngestError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut zip =
        ::zip::ZipArchive::new(BufReader::new(file)).map_err(|e| zip_err(e.to_string()))?;
    let mut names: Vec<String> = Vec::new();
    for name in zip.file_names() {
        let name = name.map_err(|e| zip_err(e.to_string()))?;
        if !name.ends_with('/') && !name.contains("__MACOSX") && is_csv_name(Path::new(&*name)) {
            names.push(name.into_owned());
        }
    }
    names.sort();
    if names.is_empty() {
        return Err(IngestError::EmptyDirectory { path: shown });
    }
    let dir = tempfile::tempdir().map_err(|e| zip_err(e.to_string()))?;
    let mut members = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut entry = zip.by_name(name).map_err(|e| zip_err(e.to_string()))?;
        // The member keeps its own file name: Mailchimp's status is in it.
        let base = Path::new(name).file_name().map_or_else(
            || format!("member-{i}.csv"),
            |n| n.to_string_lossy().into_owned(),
        );
        let sub = dir.path().join(i.to_string());
        std::fs::create_dir(&sub).map_err(|e| zip_err(e.to_string()))?;
        let path = sub.join(base);
        let mut out = File::create(&path).map_err(|e| zip_err(e.to_string()))?;
        std::io::copy(&mut entry, &mut out).map_err(|e| zip_err(e.to_string()))?;
        members.push(Member {
            path,
            name: format!("{shown}/{name}"),
        });
    }
    staged.dirs.push(dir);
    Ok(members)
}

fn is_csv_name(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    !hidden && matches!(ext.as_deref(), Some("csv" | "tsv" | "txt"))
}

/// Picks the delimiter of a file from its first line, counting outside quotes (SPEC §2.1).
pub fn sniff_delimiter(head: &[u8]) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = CANDIDATES.iter().position(|c| *c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..4).max_by_key(|&i| (counts[i], std::cmp::Reverse(i)));
    best.filter(|&i| counts[i] > 0)
        .map_or(b',', |i| CANDIDATES[i])
}

/// Names for the frame's columns: empty headers become `column_N`, repeats get `_2`, `_3`.
pub fn column_names(headers: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(headers.len());
    for (i, header) in headers.iter().enumerate() {
        let base = if header.trim().is_empty() {
            format!("column_{}", i + 1)
        } else {
            header.clone()
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) || name == LINE {
            name = format!("{base}_{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// Every file of the contacts INPUTs, then of the `--activity` files, read and mapped, in the
/// order given (directory and archive members in path order).
pub fn read_all(
    contacts: &[PathBuf],
    activity: &[PathBuf],
    options: &IngestOptions,
    staged: &mut Staged,
    rejects: &mut Vec<Reject>,
) -> Result<Vec<Input>, IngestError> {
    let mut inputs = Vec::new();
    for (given, role) in contacts
        .iter()
        .map(|p| (p, Role::Contacts))
        .chain(activity.iter().map(|p| (p, Role::Activity)))
    {
        for member in expand(given, staged)? {
            inputs.push(read_input(&member, role, options, rejects)?);
        }
    }
    Ok(inputs)
}

/// How a file's header maps onto the fields.
struct Layout {
    profile: &'static Profile,
    matched: Vec<String>,
    headers: Vec<String>,
    columns: Vec<String>,
    mapping: Vec<Mapped>,
    status_source: StatusSource,
    email_index: usize,
    warnings: Vec<String>,
}

/// The header and up to 50 data records from the start of a file, for detection.
fn read_head(bytes: &[u8], delimiter: u8, escape: bool) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .escape(escape.then_some(b'\\'))
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let text = |r: &csv::ByteRecord| -> Vec<String> {
        r.iter()
            .map(|v| String::from_utf8_lossy(v).trim().to_string())
            .collect()
    };
    let headers = match records.next() {
        Some(Ok(r)) => text(&r),
        _ => Vec::new(),
    };
    let sample = records
        .take(50)
        .filter_map(Result::ok)
        .map(|r| text(&r))
        .collect();
    (headers, sample)
}

/// The column whose sample values look like addresses, where no header said e-mail.
fn email_by_values(headers: &[String], sample: &[Vec<String>]) -> Option<usize> {
    (0..headers.len()).find(|&i| {
        let values: Vec<&str> = sample
            .iter()
            .filter_map(|r| r.get(i))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .collect();
        !values.is_empty()
            && values
                .iter()
                .filter(|v| v.contains('@') && !v.contains(' '))
                .count()
                * 10
                >= values.len() * 8
    })
}

fn layout(
    path: &Path,
    name: &str,
    headers: Vec<String>,
    sample: &[Vec<String>],
    role: Role,
    options: &IngestOptions,
) -> Result<Layout, IngestError> {
    if headers.is_empty() || headers.iter().all(|h| h.trim().is_empty()) {
        return Err(IngestError::NoHeader {
            path: name.to_string(),
        });
    }
    let columns = column_names(&headers);
    let (profile, matched) = match options.format {
        Some(profile) => (profile, Vec::new()),
        None => profile::detect(&headers),
    };
    let mut mapping = profile::map_columns(profile, &headers, &options.overrides);
    let mut warnings = Vec::new();
    if profile.service == "generic" && options.format.is_none() {
        warnings.push(
            "no service's system columns found: read with the generic profile (English and Dutch header names)"
                .to_string(),
        );
    }
    let header_list = || {
        headers
            .iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !mapping.iter().any(|m| m.field == Field::Email)
        && let Some(index) = email_by_values(&headers, sample)
        && !mapping.iter().any(|m| m.index == index)
    {
        warnings.push(format!(
            "no known e-mail header: column `{}` holds addresses, so it is read as the e-mail (override with --map email=COLUMN)",
            headers[index]
        ));
        mapping.push(Mapped {
            field: Field::Email,
            index,
            header: headers[index].clone(),
            by_user: false,
        });
        mapping.sort_by_key(|m| m.field);
    }
    let Some(email_index) = mapping
        .iter()
        .find(|m| m.field == Field::Email)
        .map(|m| m.index)
    else {
        return Err(IngestError::NoEmailColumn {
            path: name.to_string(),
            headers: header_list(),
        });
    };
    if role == Role::Activity {
        mapping.retain(|m| m.field == Field::Email || m.field.is_engagement());
        if mapping.len() == 1 {
            let keys: Vec<String> = headers.iter().map(|h| profile::header_key(h)).collect();
            let Some(index) = ACTIVITY_DATE_HEADERS
                .iter()
                .find_map(|name| keys.iter().position(|k| k == name))
            else {
                return Err(IngestError::NoActivityColumn {
                    path: name.to_string(),
                    headers: header_list(),
                });
            };
            mapping.push(Mapped {
                field: Field::LastActiveAt,
                index,
                header: headers[index].clone(),
                by_user: false,
            });
        }
    }
    let status_source = status_source(profile, path, &headers, &mapping);
    Ok(Layout {
        profile,
        matched,
        headers,
        columns,
        mapping,
        status_source,
        email_index,
        warnings,
    })
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The encoding a byte-order mark announces, and the mark's length.
fn bom_of(head: &[u8]) -> Option<(Encoding, usize)> {
    if head.starts_with(UTF8_BOM) {
        Some((Encoding::Utf8, 3))
    } else if head.starts_with(b"\xFF\xFE") {
        Some((Encoding::Utf16Le, 2))
    } else if head.starts_with(b"\xFE\xFF") {
        Some((Encoding::Utf16Be, 2))
    } else {
        None
    }
}

/// SPEC §2.1: a file whose non-ASCII bytes are almost all valid UTF-8 is UTF-8 (its few bad rows
/// are rejected); otherwise it is Windows-1252. "Almost all" is nine in ten: in a Windows-1252
/// file nearly every accented letter is an invalid UTF-8 sequence.
fn utf8_or_windows_1252(bytes: &[u8]) -> Encoding {
    let (mut valid, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += chunk.invalid().len();
    }
    if invalid * 10 <= valid + invalid {
        Encoding::Utf8
    } else {
        Encoding::Windows1252
    }
}

fn decode(bytes: &[u8], encoding: Encoding) -> Vec<u8> {
    let decoder = match encoding {
        Encoding::Utf8 => return bytes.to_vec(),
        Encoding::Utf16Le => encoding_rs::UTF_16LE,
        Encoding::Utf16Be => encoding_rs::UTF_16BE,
        Encoding::Windows1252 => encoding_rs::WINDOWS_1252,
    };
    decoder.decode(bytes).0.into_owned().into_bytes()
}

fn encoding_name(encoding: Encoding, bom: bool) -> &'static str {
    match (encoding, bom) {
        (Encoding::Utf8, false) => "utf-8",
        (Encoding::Utf8, true) => "utf-8 with BOM",
        (Encoding::Utf16Le, _) => "utf-16le",
        (Encoding::Utf16Be, _) => "utf-16be",
        (Encoding::Windows1252, _) => "windows-1252",
    }
}

/// Reads the file of `input`, which was read without the structure check and is not clean
/// after all, again: checked first, as every file is without
/// [`IngestOptions::check_while_reading`]. (A hash still being taken of it is left to finish
/// alone: the check takes its own.)
pub fn read_checked(
    input: &Input,
    options: &IngestOptions,
    rejects: &mut Vec<Reject>,
) -> Result<Input, IngestError> {
    let member = Member {
        path: input.path.clone(),
        name: input.name.clone(),
    };
    let options = IngestOptions {
        check_while_reading: false,
        ..options.clone()
    };
    read_input(&member, input.role, &options, rejects)
}

/// Reads one file: decode, sniff, detect, map, check, and build its frame. Rows it cannot use
/// are added to `rejects`.
pub fn read_input(
    member: &Member,
    role: Role,
    options: &IngestOptions,
    rejects: &mut Vec<Reject>,
) -> Result<Input, IngestError> {
    let path = member.path.as_path();
    let name = member.name.clone();
    let read_err = |source| IngestError::Read {
        path: name.clone(),
        source,
    };
    let mut head = Vec::with_capacity(64 * 1024);
    File::open(path)
        .map_err(read_err)?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(read_err)?;
    let bom = bom_of(&head);
    let encoding = options.encoding.or(bom.map(|(e, _)| e));
    let assumed: Vec<(Field, String)> = options
        .assume
        .iter()
        .filter(|(input, _, _)| {
            *input == name
                || path
                    .file_name()
                    .is_some_and(|f| f.to_string_lossy() == *input)
                || name.ends_with(&format!("/{input}"))
        })
        .map(|(_, field, value)| (*field, value.clone()))
        .collect();

    if matches!(encoding, None | Some(Encoding::Utf8)) {
        let skip = match bom {
            Some((Encoding::Utf8, n)) => n,
            _ => 0,
        };
        let text = &head[skip..];
        let delimiter = options.delimiter.unwrap_or_else(|| sniff_delimiter(text));
        let (headers, sample) = read_head(text, delimiter, false);
        let layout = layout(path, &name, headers, &sample, role, options)?;
        let split_bytes = scan::SPLIT_BYTES.min(batch_bytes(0));
        if options.check_while_reading && role == Role::Contacts {
            let fields = layout.headers.len();
            let map = parts::map_file(path).map_err(read_err)?;
            if let Some(lines) = scan::lines(&map, skip, delimiter, fields, split_bytes) {
                // The hash is taken on idle time: nothing waits for it before the report.
                let hashing = digest::Hashing::start(path.to_path_buf());
                let facts = InputFacts {
                    sha256: String::new(),
                    encoding: encoding_name(Encoding::Utf8, skip > 0),
                    delimiter,
                    // Estimated until the rows are read, and counted then.
                    rows: lines.estimate,
                    form_rejects: 0,
                    no_email: 0,
                };
                let columns = layout.columns.clone();
                let parts = parts::Parts::unchecked(path.to_path_buf(), delimiter, columns, lines);
                let mut input = in_parts(member, role, layout, facts, assumed, parts)?;
                input.hashing = Some(hashing);
                return Ok(input);
            }
        }
        let scan = scan::scan(
            || parts::map_file(path),
            skip,
            delimiter,
            layout.headers.len(),
            Some(layout.email_index),
            // No batch of any file is smaller than that of an empty one.
            split_bytes,
        )
        .map_err(read_err)?;
        let len = scan.len;
        if scan.clean {
            for (line, raw) in &scan.empty_email {
                rejects.push(Reject::no_email(&name, *line, raw.clone()));
            }
            let parts = parts::Parts::checked(
                path.to_path_buf(),
                delimiter,
                layout.columns.clone(),
                scan.splits,
                scan.records,
                len,
                scan.record_lines,
            );
            return in_parts(
                member,
                role,
                layout,
                InputFacts {
                    sha256: scan.sha256,
                    encoding: encoding_name(Encoding::Utf8, skip > 0),
                    delimiter,
                    rows: scan.records,
                    form_rejects: 0,
                    no_email: scan.empty_email.len() as u64,
                },
                assumed,
                parts,
            );
        }
        let bytes = std::fs::read(path).map_err(read_err)?;
        let body = &bytes[skip.min(bytes.len())..];
        let guessed = match encoding {
            Some(e) => e,
            None => utf8_or_windows_1252(body),
        };
        let escape = scan.backslash_quote || layout.profile.backslash_escape;
        if guessed == Encoding::Utf8 {
            return in_memory(
                member,
                role,
                options,
                rejects,
                body,
                scan.sha256,
                encoding_name(Encoding::Utf8, skip > 0),
                Some((delimiter, layout)),
                escape,
                assumed,
            );
        }
        let decoded = decode(body, guessed);
        return in_memory(
            member,
            role,
            options,
            rejects,
            &decoded,
            scan.sha256,
            encoding_name(guessed, false),
            None,
            escape,
            assumed,
        );
    }
    let encoding = encoding.unwrap_or(Encoding::Utf8);
    let bytes = std::fs::read(path).map_err(read_err)?;
    let sha256 = crate::bytes::hex(&scan::hash(&bytes.as_slice()));
    let decoded = decode(&bytes, encoding);
    // encoding_rs leaves a BOM of the right kind out; a stray U+FEFF is dropped here.
    let decoded = decoded
        .strip_prefix(UTF8_BOM)
        .map(<[u8]>::to_vec)
        .unwrap_or(decoded);
    in_memory(
        member,
        role,
        options,
        rejects,
        &decoded,
        sha256,
        encoding_name(encoding, bom.is_some()),
        None,
        false,
        assumed,
    )
}

/// What ingest found out about a file, besides its layout.
struct InputFacts {
    sha256: String,
    encoding: &'static str,
    delimiter: u8,
    rows: u64,
    form_rejects: u64,
    no_email: u64,
}

fn input_of(
    member: &Member,
    role: Role,
    layout: Layout,
    facts: InputFacts,
    assumed: Vec<(Field, String)>,
    frame: LazyFrame,
    parts: Option<parts::Parts>,
) -> Input {
    Input {
        path: member.path.clone(),
        name: member.name.clone(),
        role,
        sha256: facts.sha256,
        hashing: None,
        profile: layout.profile,
        matched: layout.matched,
        encoding: facts.encoding,
        delimiter: facts.delimiter,
        headers: layout.headers,
        columns: layout.columns,
        mapping: layout.mapping,
        status_source: layout.status_source,
        rows: facts.rows,
        form_rejects: facts.form_rejects,
        no_email: facts.no_email,
        assumed,
        warnings: layout.warnings,
        frame,
        parts,
    }
}

/// The input of a file read by its `parts` (a clean file, or one read unchecked), a batch at a
/// time.
fn in_parts(
    member: &Member,
    role: Role,
    layout: Layout,
    facts: InputFacts,
    assumed: Vec<(Field, String)>,
    parts: parts::Parts,
) -> Result<Input, IngestError> {
    let frame = parts
        .clone()
        .frame()
        .map_err(|source| IngestError::Polars {
            path: member.name.clone(),
            source,
        })?;
    Ok(input_of(
        member,
        role,
        layout,
        facts,
        assumed,
        frame,
        Some(parts),
    ))
}

/// The record-level pass over a file held in memory as UTF-8: decoded text, or a UTF-8 file
/// that polars cannot take as it is. `known` is the delimiter and layout found already.
#[allow(clippy::too_many_arguments)]
fn in_memory(
    member: &Member,
    role: Role,
    options: &IngestOptions,
    rejects: &mut Vec<Reject>,
    text: &[u8],
    sha256: String,
    encoding: &'static str,
    known: Option<(u8, Layout)>,
    escape: bool,
    assumed: Vec<(Field, String)>,
) -> Result<Input, IngestError> {
    let name = &member.name;
    let (delimiter, layout) = match known {
        Some(known) => known,
        None => {
            let delimiter = options
                .delimiter
                .unwrap_or_else(|| sniff_delimiter(&text[..text.len().min(64 * 1024)]));
            let (headers, sample) = read_head(text, delimiter, escape);
            let layout = layout(&member.path, name, headers, &sample, role, options)?;
            (delimiter, layout)
        }
    };
    let escape = escape || layout.profile.backslash_escape;
    let before = rejects.len();
    let records = records::read(
        text,
        name,
        delimiter,
        &layout.columns,
        Some(layout.email_index),
        escape,
        rejects,
    )
    .map_err(|source| IngestError::Polars {
        path: name.clone(),
        source,
    })?;
    let no_email = rejects[before..].iter().filter(|r| !r.form).count() as u64;
    check_rejects(name, delimiter, &records, &rejects[before..], options)?;
    Ok(input_of(
        member,
        role,
        layout,
        InputFacts {
            sha256,
            encoding,
            delimiter,
            rows: records.records,
            form_rejects: records.form_rejects,
            no_email,
        },
        assumed,
        records.frame.lazy(),
        None,
    ))
}

fn check_rejects(
    name: &str,
    delimiter: u8,
    records: &records::Records,
    rejects: &[Reject],
    options: &IngestOptions,
) -> Result<(), IngestError> {
    if records.records == 0 || records.form_rejects == 0 {
        return Ok(());
    }
    let pct = records.form_rejects as f64 * 100.0 / records.records as f64;
    if pct <= options.max_reject_pct {
        return Ok(());
    }
    let first = rejects.iter().find(|r| r.form);
    Err(IngestError::TooManyRejects {
        path: name.to_string(),
        rejected: records.form_rejects,
        rows: records.records,
        pct,
        max: options.max_reject_pct,
        delimiter: delimiter_name(delimiter),
        first_line: first.map_or(0, |r| r.line),
        first_problem: first.map_or_else(String::new, |r| r.problem.clone()),
    })
}

/// How a delimiter is shown to people.
pub fn delimiter_name(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "TAB".to_string(),
        other => format!("'{}'", other as char),
    }
}

fn status_source(
    profile: &Profile,
    path: &Path,
    headers: &[String],
    mapping: &[Mapped],
) -> StatusSource {
    if let Some(m) = mapping.iter().find(|m| m.field == Field::Status) {
        return StatusSource::Column(m.header.clone());
    }
    if profile.status_from_file_name {
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(status) = profile::status_from_file_name(file_name) {
            return StatusSource::FileName(status);
        }
        let keys: Vec<String> = headers.iter().map(|h| profile::header_key(h)).collect();
        let has = |k: &str| keys.iter().any(|key| key == k);
        if has("unsubtime") {
            return StatusSource::Columns(Status::Unsubscribed);
        }
        if has("cleantime") {
            return StatusSource::Columns(Status::Cleaned);
        }
    }
    let status_columns: Vec<String> = profile
        .status_columns
        .iter()
        .filter_map(|sc| {
            headers
                .iter()
                .find(|h| profile::header_key(h) == sc.header)
                .cloned()
        })
        .collect();
    if !status_columns.is_empty() {
        return StatusSource::StatusColumns(status_columns);
    }
    StatusSource::None
}
