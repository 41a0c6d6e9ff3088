//! The CSV text of an output table (SPEC §4: UTF-8, RFC 4180 quoting where needed, `\n`; a
//! BOM and `;` with `--excel`), written straight from the contacts' typed columns.
//!
//! Each cell is spelled into the file's buffer as it is written: an instant is formatted there,
//! a row's `file:line` is put together there, and a free-text cell gets its formula guard there.
//! polars' writer needs every such cell as a string column first; on ten million contacts those
//! columns, and its serialiser over them, took a third of the run.

use std::borrow::Cow;
use std::sync::Arc;

use polars::prelude::*;

use super::{CsvStyle, guard_of};
use crate::decide::col;
use crate::decide::rules::Reason;
use crate::normalize::date::{format_instant, instant_bytes};

/// How one cell of a table is spelled, from the columns of the table's frame.
#[derive(Clone)]
pub enum Cell {
    /// A text column as it is (the e-mail column is never altered).
    Text(&'static str),
    /// A name or free-text column, with the formula guard (SPEC §4).
    Guarded(&'static str),
    /// An instant (Int64 milliseconds) as ISO 8601 in UTC; empty for none.
    Instant(&'static str),
    /// A Boolean column as `yes` or `no` (none is `no`).
    YesNo(&'static str),
    /// An unsigned number.
    Number(&'static str),
    /// Where the contact came from, guarded: its row's `name:line` from [`col::FILE`] and
    /// [`col::LINE`], or a repeated key's `refs` by its code in [`col::SOURCES`]
    /// (`index:line;…`, spelled with the names of `files`, the input files by index).
    Sources {
        files: Arc<[String]>,
        refs: Arc<[String]>,
    },
    /// A number spelled by its name in the list, guarded (an unknown number is empty).
    Named(&'static str, Arc<[String]>),
    /// Every reason whose flag is set, `;`-separated in the order given; empty for none. Spelled
    /// here from the flags: a text column of them cost 29 bytes a contact for the whole run.
    Reasons(Arc<[Reason]>),
}

impl Cell {
    /// The frame columns the cell reads.
    pub fn columns(&self) -> Vec<String> {
        match self {
            Cell::Text(c)
            | Cell::Guarded(c)
            | Cell::Instant(c)
            | Cell::YesNo(c)
            | Cell::Number(c)
            | Cell::Named(c, _) => {
                vec![c.to_string()]
            }
            Cell::Sources { .. } => [col::FILE, col::LINE, col::SOURCES]
                .map(String::from)
                .into(),
            Cell::Reasons(reasons) => reasons.iter().map(|r| r.column()).collect(),
        }
    }
}

/// A column of the frame being written, ready to be read row by row.
enum Source<'a> {
    Text(&'a TextArray, bool),
    Instant(&'a <Int64Type as PolarsDataType>::Array),
    YesNo(&'a <BooleanType as PolarsDataType>::Array),
    Number(Vec<Option<u64>>),
    Sources {
        files: &'a [String],
        file: &'a U32Array,
        line: &'a U32Array,
        codes: Vec<Option<u64>>,
        refs: &'a [String],
    },
    Reasons(Vec<(&'a BoolArray, &'static str)>),
    Named(Vec<Option<u64>>, &'a [String]),
}

type TextArray = <StringType as PolarsDataType>::Array;
type U32Array = <UInt32Type as PolarsDataType>::Array;
type BoolArray = <BooleanType as PolarsDataType>::Array;

/// The one array of a column the writer rechunked.
fn array<T: PolarsDataType>(ca: &ChunkedArray<T>) -> PolarsResult<&T::Array> {
    ca.downcast_iter()
        .next()
        .filter(|_| ca.chunks().len() == 1)
        .ok_or_else(|| polars_err!(ComputeError: "{}: one chunk expected", ca.name()))
}

fn text<'a>(frame: &'a DataFrame, name: &str) -> PolarsResult<&'a TextArray> {
    array(frame.column(name)?.str()?)
}

fn sources<'a>(
    frame: &'a DataFrame,
    cells: &'a [(&'static str, Cell)],
) -> PolarsResult<Vec<Source<'a>>> {
    cells
        .iter()
        .map(|(_, cell)| {
            Ok(match cell {
                Cell::Text(c) => Source::Text(text(frame, c)?, false),
                Cell::Guarded(c) => Source::Text(text(frame, c)?, true),
                Cell::Instant(c) => Source::Instant(array(frame.column(c)?.i64()?)?),
                Cell::YesNo(c) => Source::YesNo(array(frame.column(c)?.bool()?)?),
                Cell::Reasons(reasons) => Source::Reasons(
                    reasons
                        .iter()
                        .map(|r| Ok((array(frame.column(&r.column())?.bool()?)?, r.name())))
                        .collect::<PolarsResult<_>>()?,
                ),
                Cell::Number(c) => Source::Number(numbers(frame, c)?),
                Cell::Named(c, names) => Source::Named(numbers(frame, c)?, names),
                Cell::Sources { files, refs } => Source::Sources {
                    files,
                    file: array(frame.column(col::FILE)?.u32()?)?,
                    line: array(frame.column(col::LINE)?.u32()?)?,
                    codes: numbers(frame, col::SOURCES)?,
                    refs,
                },
            })
        })
        .collect()
}

fn numbers(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<u64>>> {
    Ok(frame
        .column(name)?
        .cast(&DataType::UInt64)?
        .u64()?
        .iter()
        .collect())
}

/// Appends one text cell: nothing for none, `""` for empty, quoted where a separator, quote or
/// line break needs it, with its quotes doubled (as polars' `QuoteStyle::Necessary` writes).
fn push_text(out: &mut Vec<u8>, value: &str, separator: u8) {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        out.extend_from_slice(b"\"\"");
        return;
    }
    if !needs_quotes(bytes, separator) {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    for (i, part) in bytes.split(|b| *b == b'"').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(part);
    }
    out.push(b'"');
}

/// Whether a cell holds the separator, a quote or a line break.
fn needs_quotes(bytes: &[u8], separator: u8) -> bool {
    crate::bytes::first_of(bytes, [separator, b'"', b'\n', b'\r']).is_some()
}

fn push_instant(out: &mut Vec<u8>, millis: i64) {
    match instant_bytes(millis) {
        Some(text) => out.extend_from_slice(&text),
        None => out.extend_from_slice(format_instant(millis).as_bytes()),
    }
}

/// A repeated key's `index:line;…` with each index replaced by its file's name.
fn spell_refs(refs: &str, files: &[String], out: &mut String) {
    for (i, r) in refs.split(';').enumerate() {
        if i > 0 {
            out.push(';');
        }
        match r.split_once(':') {
            Some((file, line)) => {
                let name = file
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| files.get(i))
                    .map_or(file, String::as_str);
                out.push_str(name);
                out.push(':');
                out.push_str(line);
            }
            None => out.push_str(r),
        }
    }
}

fn push_row(
    out: &mut Vec<u8>,
    scratch: &mut String,
    row: usize,
    columns: &[Source<'_>],
    separator: u8,
) {
    for (n, column) in columns.iter().enumerate() {
        if n > 0 {
            out.push(separator);
        }
        match column {
            Source::Text(values, guard) => {
                if let Some(value) = values.get(row) {
                    let value = if *guard {
                        guard_of(value)
                    } else {
                        Cow::Borrowed(value)
                    };
                    push_text(out, &value, separator);
                }
            }
            Source::Instant(values) => {
                if let Some(millis) = values.get(row) {
                    push_instant(out, millis);
                }
            }
            Source::YesNo(values) => {
                out.extend_from_slice(if values.get(row) == Some(true) {
                    b"yes"
                } else {
                    b"no"
                });
            }
            Source::Number(values) => {
                if let Some(n) = values[row] {
                    push_number(out, n);
                }
            }
            Source::Sources {
                files,
                file,
                line,
                codes,
                refs,
            } => {
                scratch.clear();
                match codes[row].and_then(|code| refs.get(code as usize)) {
                    Some(refs) => spell_refs(refs, files, scratch),
                    None => {
                        let name = file
                            .get(row)
                            .and_then(|i| files.get(i as usize))
                            .map_or("", String::as_str);
                        scratch.push_str(name);
                        scratch.push(':');
                        if let Some(line) = line.get(row) {
                            let mut digits = [0u8; 20];
                            scratch.push_str(number(u64::from(line), &mut digits));
                        }
                    }
                }
                push_text(out, &guard_of(scratch), separator);
            }
            Source::Named(codes, names) => {
                if let Some(name) = codes[row].and_then(|c| names.get(c as usize)) {
                    push_text(out, &guard_of(name), separator);
                }
            }
            Source::Reasons(flags) => {
                let mut first = true;
                for (flag, name) in flags {
                    if flag.get(row) == Some(true) {
                        if !first {
                            out.push(b';');
                        }
                        first = false;
                        // Reason names are plain words: they never need quoting.
                        out.extend_from_slice(name.as_bytes());
                    }
                }
            }
        }
    }
    out.push(b'\n');
}

fn push_number(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    out.extend_from_slice(number(n, &mut digits).as_bytes());
}

/// `n` in decimal digits, spelled into `digits`.
fn number(mut n: u64, digits: &mut [u8; 20]) -> &str {
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&digits[i..]).unwrap_or_default()
}

/// The header line (after a BOM with `--excel`).
pub fn header(cells: &[(&'static str, Cell)], style: CsvStyle) -> Vec<u8> {
    let separator = separator(style);
    let mut out = Vec::new();
    if style.excel {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    for (n, (name, _)) in cells.iter().enumerate() {
        if n > 0 {
            out.push(separator);
        }
        push_text(&mut out, name, separator);
    }
    out.push(b'\n');
    out
}

pub fn separator(style: CsvStyle) -> u8 {
    if style.excel { b';' } else { b',' }
}

/// Spells the rows of `frame` as `cells` say, on every core: each renders a run of rows into
/// one of `buffers` (kept from one call to the next, so that their memory is reused). Returns
/// how many buffers hold the rows, in order.
pub fn render(
    frame: &DataFrame,
    cells: &[(&'static str, Cell)],
    style: CsvStyle,
    buffers: &mut Vec<Vec<u8>>,
) -> PolarsResult<usize> {
    let mut frame = frame.clone();
    frame.rechunk_mut_par();
    let columns = sources(&frame, cells)?;
    let rows = frame.height();
    let separator = separator(style);
    let per = rows.div_ceil(crate::parallel::cores()).max(4096);
    let runs = rows.div_ceil(per);
    buffers.resize_with(buffers.len().max(runs), Vec::new);
    let columns = &columns;
    let filled = crate::parallel::map(
        buffers.drain(..runs).enumerate().collect(),
        |(run, mut out)| {
            out.clear();
            let mut scratch = String::new();
            for row in run * per..rows.min((run + 1) * per) {
                push_row(&mut out, &mut scratch, row, columns, separator);
            }
            out
        },
    );
    buffers.splice(..0, filled);
    Ok(runs)
}
