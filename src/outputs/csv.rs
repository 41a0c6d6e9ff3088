//! The CSV text of an output table (SPEC §4: UTF-8, RFC 4180 quoting where needed, `\n`; a
//! BOM and `;` with `--excel`), written straight from the contacts' typed columns.
//!
//! Each cell is spelled into the file's buffer as it is written: an instant is formatted there,
//! a row's `file:line` is put together there, and a free-text cell gets its formula guard there.
//! polars' writer needs every such cell as a string column first; on ten million contacts those
//! columns, and its serialiser over them, took a third of the run.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

use super::commit::Direct;
use super::{CsvStyle, guard_of};
use crate::decide::col;
use crate::decide::rules::Reason;
use crate::normalize::date::{format_instant, instant_into};

/// The words of a yes/no column ([`Cell::Either`]).
pub const YES_NO: [&str; 2] = ["no", "yes"];

/// The word of [`Cell::Either`] for a value: the second where it holds, the first otherwise
/// (none too).
pub fn either([no, yes]: [&'static str; 2], value: Option<bool>) -> &'static str {
    if value == Some(true) { yes } else { no }
}

/// How one cell of a table is spelled, from the columns of the table's frame.
#[derive(Clone)]
pub enum Cell {
    /// A text column as it is (the e-mail column is never altered).
    Text(&'static str),
    /// A name or free-text column, with the formula guard (SPEC §4).
    Guarded(&'static str),
    /// An instant (Int64 milliseconds) as ISO 8601 in UTC; empty for none.
    Instant(&'static str),
    /// An instant as [`Cell::Instant`] spells it, and this one (milliseconds) for none.
    InstantOr(&'static str, i64),
    /// A Boolean column as one of two words: the second where it holds, the first otherwise
    /// (none too), such as [`YES_NO`].
    Either(Arc<str>, [&'static str; 2]),
    /// The hex SHA-256 of each address's key ([`crate::normalize::email::key_of`]), the
    /// suppression list's form of it (SPEC §4), hashed as it is spelled: a polars query that
    /// hashed the list's keys into a text column and then spelled the column took about a
    /// third of a second of the writing of ten million contacts.
    KeyHash(&'static str),
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
    /// Every reason whose bit is set in a UInt32 column of them (the `k`th bit for the `k`th
    /// reason given, as [`col::REASON_BITS`] holds them), `;`-separated in that order; empty
    /// for none. Spelled here from the bits: a text column of them cost 29 bytes a contact for
    /// the whole run, and spelling them from each reason's flag took a tenth of the writing
    /// (every list with reasons read every flag of every row).
    Reasons(&'static str, Arc<[Reason]>),
}

impl Cell {
    /// The frame columns the cell reads.
    pub fn columns(&self) -> Vec<String> {
        match self {
            Cell::Text(c)
            | Cell::Guarded(c)
            | Cell::Instant(c)
            | Cell::InstantOr(c, _)
            | Cell::KeyHash(c)
            | Cell::Number(c)
            | Cell::Named(c, _)
            | Cell::Reasons(c, _) => {
                vec![c.to_string()]
            }
            Cell::Either(c, _) => vec![c.to_string()],
            Cell::Sources { .. } => [col::FILE, col::LINE, col::SOURCES]
                .map(String::from)
                .into(),
        }
    }
}

/// A column of the frame being written, ready to be read row by row.
enum Source<'a> {
    Text(&'a TextArray, bool),
    /// Instants, and the one spelled for none (if any).
    Instant(&'a <Int64Type as PolarsDataType>::Array, Option<i64>),
    Either(&'a BoolArray, [&'static str; 2]),
    KeyHash(&'a TextArray),
    Number(&'a U64Array),
    Sources {
        /// Each input's cell up to the line number (see [`Spelled::files`]).
        files: &'a Spelled,
        file: Codes<'a>,
        line: Codes<'a>,
        codes: Codes<'a>,
        refs: &'a [String],
        names: &'a [String],
    },
    /// Each row's reasons as bits, and each reason's name ([`Spelled`]).
    Reasons(&'a U32Array, &'a Spelled),
    Named(Codes<'a>, &'a Spelled),
}

type TextArray = <StringType as PolarsDataType>::Array;
type U32Array = <UInt32Type as PolarsDataType>::Array;
type I32Array = <Int32Type as PolarsDataType>::Array;
type U64Array = <UInt64Type as PolarsDataType>::Array;
type BoolArray = <BooleanType as PolarsDataType>::Array;

/// A column of codes or line numbers as it is held, 32 bits signed or not: casting each slice
/// of the outcome, evidence, status and consent column codes from `i32` was 4% of the writing's
/// CPU time in a profile of ten million contacts.
#[derive(Clone, Copy)]
enum Codes<'a> {
    Unsigned(&'a U32Array),
    Signed(&'a I32Array),
}

impl Codes<'_> {
    fn of<'a>(frame: &'a DataFrame, name: &str) -> PolarsResult<Codes<'a>> {
        let column = frame.column(name)?;
        Ok(match column.dtype() {
            DataType::Int32 => Codes::Signed(array(column.i32()?)?),
            _ => Codes::Unsigned(array(column.u32()?)?),
        })
    }

    /// The row's number; none for a negative one.
    fn get(self, row: usize) -> Option<u32> {
        match self {
            Codes::Unsigned(values) => values.get(row),
            Codes::Signed(values) => values.get(row).and_then(|v| u32::try_from(v).ok()),
        }
    }
}

/// Cells spelled once for a whole table rather than once a row: each name of a
/// [`Cell::Named`] list as its whole cell (guarded, quoted where needed), each input file's
/// part of a [`Cell::Sources`] cell up to its line number, and each reason's name. A row then
/// copies bytes. Spelling each cell again, and the per-slice columns of codes as `Option<u64>`
/// (16 bytes a row, read back from memory for every cell), took about half the time of
/// audit.csv.
#[derive(Default)]
pub struct Spelled {
    /// The cells one after the other, and [`Spelled::PAD`] bytes after the last.
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Spelled {
    /// A cell this long or shorter is copied as this many bytes, the rest then cut off: a copy
    /// of the cell's own length was a call to `memcpy`, a few a row.
    const PAD: usize = 16;

    fn of(cells: impl IntoIterator<Item = impl AsRef<[u8]>>) -> Spelled {
        let mut spelled = Spelled::default();
        for cell in cells {
            spelled.bytes.extend_from_slice(cell.as_ref());
            spelled.ends.push(spelled.bytes.len());
        }
        spelled.bytes.extend_from_slice(&[0; Self::PAD]);
        spelled
    }

    /// Where cell `index` lies in `bytes`.
    #[inline(always)]
    fn range(&self, index: usize) -> Option<Range<usize>> {
        let end = *self.ends.get(index)?;
        Some(index.checked_sub(1).map_or(0, |i| self.ends[i])..end)
    }

    /// Appends cell `index` to `out`; false when there is none.
    #[inline(always)]
    fn push_to(&self, index: usize, out: &mut Vec<u8>) -> bool {
        let Some(cell) = self.range(index) else {
            return false;
        };
        match self.bytes[cell.start..].first_chunk::<{ Self::PAD }>() {
            Some(padded) if cell.len() <= Self::PAD => {
                let at = out.len();
                out.extend_from_slice(padded);
                out.truncate(at + cell.len());
            }
            _ => out.extend_from_slice(&self.bytes[cell]),
        }
        true
    }

    /// Whether cell `index` starts with `byte`.
    fn starts_with(&self, index: usize, byte: u8) -> bool {
        self.range(index)
            .and_then(|cell| self.bytes[cell].first().copied())
            == Some(byte)
    }

    /// Each name as its whole cell.
    fn names(names: &[String], separator: u8) -> Spelled {
        Spelled::of(names.iter().map(|name| {
            let mut cell = Vec::new();
            push_text(&mut cell, &guard_of(name), separator);
            cell
        }))
    }

    /// Each file's `name:` as the start of a `name:line` cell. The line's digits can neither
    /// need quotes nor change the guard (which looks at the first character only), so the
    /// cell is this start, the digits, and the closing quote if the start opens with one.
    fn files(files: &[String], separator: u8) -> Spelled {
        Spelled::of(files.iter().map(|name| {
            let mut cell = Vec::new();
            push_text(&mut cell, &guard_of(&format!("{name}:")), separator);
            if cell.first() == Some(&b'"') {
                cell.pop();
            }
            cell
        }))
    }
}

/// What a table's cells need spelled ahead (see [`Spelled`]), once for all its slices.
pub struct Layout {
    cells: Arc<[(&'static str, Cell)]>,
    ahead: Vec<Spelled>,
    separator: u8,
}

impl Layout {
    pub fn new(cells: Arc<[(&'static str, Cell)]>, style: CsvStyle) -> PolarsResult<Layout> {
        for (_, cell) in cells.iter() {
            if let Cell::Reasons(_, reasons) = cell {
                // A row's reasons are the bits of one u32.
                polars_ensure!(reasons.len() <= 32, ComputeError: "more than 32 reasons");
            }
        }
        let separator = separator(style);
        let ahead = cells
            .iter()
            .map(|(_, cell)| match cell {
                Cell::Named(_, names) => Spelled::names(names, separator),
                Cell::Sources { files, .. } => Spelled::files(files, separator),
                // Reason names are plain words: they never need quoting.
                Cell::Reasons(_, reasons) => Spelled::of(reasons.iter().map(|r| r.name())),
                _ => Spelled::default(),
            })
            .collect();
        Ok(Layout {
            cells,
            ahead,
            separator,
        })
    }
}

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

/// `frame` with the number columns `cells` read cast to the width the writer reads them at:
/// names' codes and line numbers as 32 bits ([`Codes`]: `i32` or `u32` as they are), other
/// numbers as `u64` (a value that does not fit, such as a negative one, is none).
fn with_numbers(mut frame: DataFrame, cells: &[(&'static str, Cell)]) -> PolarsResult<DataFrame> {
    for (_, cell) in cells {
        let casts: Vec<(&str, DataType)> = match cell {
            Cell::Number(c) => vec![(c, DataType::UInt64)],
            Cell::Named(c, _) => vec![(c, DataType::UInt32)],
            Cell::Sources { .. } => [col::FILE, col::LINE, col::SOURCES]
                .map(|c| (c, DataType::UInt32))
                .into(),
            _ => Vec::new(),
        };
        for (name, to) in casts {
            let column = frame.column(name)?;
            let as_codes = to == DataType::UInt32 && column.dtype() == &DataType::Int32;
            if column.dtype() != &to && !as_codes {
                let cast = column.cast(&to)?;
                frame.with_column(cast)?;
            }
        }
    }
    frame.rechunk_mut_par();
    Ok(frame)
}

fn sources<'a>(frame: &'a DataFrame, layout: &'a Layout) -> PolarsResult<Vec<Source<'a>>> {
    layout
        .cells
        .iter()
        .zip(&layout.ahead)
        .map(|((_, cell), ahead)| {
            Ok(match cell {
                Cell::Text(c) => Source::Text(text(frame, c)?, false),
                Cell::Guarded(c) => Source::Text(text(frame, c)?, true),
                Cell::Instant(c) => Source::Instant(array(frame.column(c)?.i64()?)?, None),
                Cell::InstantOr(c, default) => {
                    Source::Instant(array(frame.column(c)?.i64()?)?, Some(*default))
                }
                Cell::Either(c, words) => Source::Either(array(frame.column(c)?.bool()?)?, *words),
                Cell::KeyHash(c) => Source::KeyHash(text(frame, c)?),
                Cell::Reasons(c, _) => Source::Reasons(array(frame.column(c)?.u32()?)?, ahead),
                Cell::Number(c) => Source::Number(array(frame.column(c)?.u64()?)?),
                Cell::Named(c, _) => Source::Named(Codes::of(frame, c)?, ahead),
                Cell::Sources { files, refs } => Source::Sources {
                    files: ahead,
                    file: Codes::of(frame, col::FILE)?,
                    line: Codes::of(frame, col::LINE)?,
                    codes: Codes::of(frame, col::SOURCES)?,
                    refs,
                    names: files,
                },
            })
        })
        .collect()
}

/// Appends one text cell: nothing for none, `""` for empty, quoted where a separator, quote or
/// line break needs it, with its quotes doubled (as polars' `QuoteStyle::Necessary` writes).
fn push_text(out: &mut Vec<u8>, value: &str, separator: u8) {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        out.extend_from_slice(b"\"\"");
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if bytes.len() <= 32
        && crate::bytes::has_avx512_vl()
        // SAFETY: the CPU has AVX-512BW and VL.
        && unsafe { push_plain_avx512(out, bytes, separator) }
    {
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

/// Appends `bytes` (at most 32) when they need no quotes, and says whether it did: one masked
/// load finds the separator, a quote or a line break, and one masked store writes the bytes,
/// where the search a window at a time copied a short value into a window first and the
/// append was a call to `memcpy`.
///
/// # Safety
/// The CPU must have AVX-512BW and AVX-512VL.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw,avx512vl")]
unsafe fn push_plain_avx512(out: &mut Vec<u8>, bytes: &[u8], separator: u8) -> bool {
    use std::arch::x86_64::{_mm256_mask_cmpeq_epi8_mask, _mm256_set1_epi8};
    let mask = crate::bytes::mask_of(bytes.len());
    // SAFETY: the CPU has AVX-512BW and VL.
    let v = unsafe { crate::bytes::load_masked(bytes) };
    let found = [separator, b'"', b'\n', b'\r'].iter().fold(0, |found, &b| {
        found | _mm256_mask_cmpeq_epi8_mask(mask, v, _mm256_set1_epi8(b as i8))
    });
    if found != 0 {
        return false;
    }
    out.reserve(bytes.len());
    // SAFETY: the CPU has AVX-512BW and VL, `v` holds `bytes`, and `out` has room for them.
    unsafe { crate::bytes::store_masked(out, v, bytes.len()) };
    true
}

/// Whether a cell holds the separator, a quote or a line break.
fn needs_quotes(bytes: &[u8], separator: u8) -> bool {
    crate::bytes::first_of(bytes, [separator, b'"', b'\n', b'\r']).is_some()
}

/// Appends an instant's ISO 8601 text, formatted in place ([`instant_into`]); empty room for
/// it is made first, so that nothing is copied.
fn push_instant(out: &mut Vec<u8>, millis: i64) {
    let at = out.len();
    out.extend_from_slice(&[0; 20]);
    let written = out[at..]
        .first_chunk_mut()
        .is_some_and(|text| instant_into(millis, text));
    if !written {
        out.truncate(at);
        out.extend_from_slice(format_instant(millis).as_bytes());
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

/// Spells the rows of `rows` that `selected` has (all without it).
fn push_rows(
    out: &mut Vec<u8>,
    rows: Range<usize>,
    selected: Option<&Bitmap>,
    columns: &[Source<'_>],
    separator: u8,
) {
    let mut scratch = String::new();
    let mut push = |row: usize| push_row(out, &mut scratch, row, columns, separator);
    match selected {
        None => rows.for_each(&mut push),
        Some(selected) => crate::normalize::columns::each_set(
            &selected.clone().sliced(rows.start, rows.len()),
            |i| push(rows.start + i),
        ),
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
            Source::Instant(values, default) => {
                if let Some(millis) = values.get(row).or(*default) {
                    push_instant(out, millis);
                }
            }
            Source::Either(values, words) => {
                out.extend_from_slice(either(*words, values.get(row)).as_bytes());
            }
            Source::KeyHash(values) => {
                if let Some(value) = values.get(row) {
                    let key = crate::normalize::email::key_of(value);
                    out.extend_from_slice(&crate::normalize::email::sha256_hex(&key));
                }
            }
            Source::Number(values) => {
                if let Some(n) = values.get(row) {
                    push_number(out, n);
                }
            }
            Source::Sources {
                files,
                file,
                line,
                codes,
                refs,
                names,
            } => match codes.get(row).and_then(|code| refs.get(code as usize)) {
                Some(refs) => {
                    scratch.clear();
                    spell_refs(refs, names, scratch);
                    push_text(out, &guard_of(scratch), separator);
                }
                None => {
                    let file = file.get(row).map_or(usize::MAX, |i| i as usize);
                    // An index with no file (never made) is spelled with an empty name.
                    if !files.push_to(file, out) {
                        out.push(b':');
                    }
                    if let Some(line) = line.get(row) {
                        push_number(out, u64::from(line));
                    }
                    if files.starts_with(file, b'"') {
                        out.push(b'"');
                    }
                }
            },
            Source::Named(codes, names) => {
                if let Some(code) = codes.get(row) {
                    names.push_to(code as usize, out);
                }
            }
            Source::Reasons(bits, names) => {
                let mut set = bits.get(row).unwrap_or(0);
                let mut first = true;
                while set != 0 {
                    if !first {
                        out.push(b';');
                    }
                    first = false;
                    names.push_to(set.trailing_zeros() as usize, out);
                    set &= set - 1;
                }
            }
        }
    }
    out.push(b'\n');
}

/// Appends `n` in decimal digits, written where they go (digits spelled elsewhere and copied
/// were a call to `memcpy` each), two at a time from a table: a digit at a time took 2% more
/// of the instructions spelling audit.csv (`valgrind --tool=callgrind`, the `audit_csv` bench,
/// whose line numbers are shorter than a large list's).
fn push_number(out: &mut Vec<u8>, mut n: u64) {
    let len = n.checked_ilog10().map_or(1, |log| log as usize + 1);
    let at = out.len();
    out.extend_from_slice(&[b'0'; 20]);
    let digits = &mut out[at..at + len];
    let mut end = len;
    while n >= 10 {
        digits[end - 2..end].copy_from_slice(&crate::normalize::date::pair((n % 100) as u32));
        n /= 100;
        end -= 2;
    }
    if end == 1 {
        digits[0] = b'0' + n as u8;
    }
    out.truncate(at + len);
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

/// Spells the rows of `frame` that `selected` has (all without it) as `layout` says, on
/// `threads` threads: each renders a run of rows into one of `buffers` (kept from one call to
/// the next, so that their memory is reused). Returns how many buffers hold the rows, in order.
pub fn render(
    frame: &DataFrame,
    selected: Option<&Bitmap>,
    layout: &Layout,
    threads: usize,
    buffers: &mut Vec<Vec<u8>>,
) -> PolarsResult<usize> {
    let frame = with_numbers(frame.clone(), &layout.cells)?;
    let columns = sources(&frame, layout)?;
    let rows = frame.height();
    let per = rows.div_ceil(threads.max(1)).max(4096);
    let runs = rows.div_ceil(per);
    buffers.resize_with(buffers.len().max(runs), Vec::new);
    let columns = &columns;
    let filled = crate::parallel::map(
        buffers.drain(..runs).enumerate().collect(),
        |(run, mut out)| {
            out.clear();
            push_rows(
                &mut out,
                run * per..rows.min((run + 1) * per),
                selected,
                columns,
                layout.separator,
            );
            out
        },
    );
    buffers.splice(..0, filled);
    Ok(runs)
}

/// Rows spelled between two looks at how full a [`Chunk`] is.
const CHUNK_ROWS: usize = 2048;

/// Spells the rows of `frame` that `selected` has (all without it) as `layout` says into `out`,
/// on this thread, a few thousand rows at a time; whenever `out` is full, `full` hands it on.
/// When `helped`, the second half of the rows is spelled on another core meanwhile, and its
/// text copied after the first's.
pub fn render_into(
    frame: &DataFrame,
    selected: Option<&Bitmap>,
    layout: &Layout,
    out: &mut Chunk,
    helped: bool,
    mut full: impl FnMut(&mut Chunk) -> PolarsResult<()>,
) -> PolarsResult<()> {
    let frame = with_numbers(frame.clone(), &layout.cells)?;
    let columns = sources(&frame, layout)?;
    let rows = frame.height();
    let half = if helped { rows / 2 } else { rows };
    let columns = &columns;
    let here = |out: &mut Chunk, full: &mut dyn FnMut(&mut Chunk) -> PolarsResult<()>| {
        for start in (0..half).step_by(CHUNK_ROWS) {
            let block = start..half.min(start + CHUNK_ROWS);
            push_rows(&mut out.bytes, block, selected, columns, layout.separator);
            if out.text().len() >= Chunk::BYTES {
                full(out)?;
            }
        }
        Ok(())
    };
    if half == rows {
        return here(out, &mut full);
    }
    let there = || {
        let mut text = Vec::new();
        push_rows(&mut text, half..rows, selected, columns, layout.separator);
        text
    };
    let (done, text): (PolarsResult<()>, Vec<u8>) =
        crate::parallel::join(|| here(out, &mut full), there);
    done?;
    // Each chunk filled to its size and no more, so that its text never outgrows its room.
    let mut rest = &text[..];
    while !rest.is_empty() {
        let room = Chunk::BYTES.saturating_sub(out.text().len()).max(1);
        let (piece, after) = rest.split_at(room.min(rest.len()));
        out.push(piece);
        rest = after;
        if out.text().len() >= Chunk::BYTES {
            full(out)?;
        }
    }
    Ok(())
}

/// Spelled text whose first byte stands at an address aligned for a direct write
/// ([`Direct::ALIGN`]), handed on in whole blocks of it ([`Chunk::carry_into`]): a direct
/// writer then writes the text where it is. Spelling each list in runs on both cores and
/// copying every run into the writer's aligned block cost 0.45 CPU-s of writing ten million
/// contacts' lists (2.77-2.99 against 2.32-2.40 CPU-s in two paired profiled runs).
pub struct Chunk {
    /// Unused bytes up to `start`, then the text.
    bytes: Vec<u8>,
    start: usize,
}

impl Chunk {
    /// The text a chunk is handed on at: a direct write's size ([`Direct::BLOCK`]).
    pub const BYTES: usize = Direct::BLOCK;

    /// An empty chunk, with room for its text and the rows spelled past it before it is
    /// handed on (more moves the text, which is then copied to be written).
    pub fn new() -> Chunk {
        let mut chunk = Chunk {
            bytes: Vec::with_capacity(Self::BYTES + (1 << 20) + Direct::ALIGN),
            start: 0,
        };
        chunk.clear();
        chunk
    }

    /// The text.
    pub fn text(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    /// Appends `text`.
    pub fn push(&mut self, text: &[u8]) {
        self.bytes.extend_from_slice(text);
    }

    /// Empties the chunk, its text to start at an aligned address again (which text that
    /// outgrew the room moved elsewhere).
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.start = self
            .bytes
            .as_ptr()
            .align_offset(Direct::ALIGN)
            .min(Direct::ALIGN);
        self.bytes.resize(self.start, 0);
    }

    /// Moves the text past the last whole [`Direct::ALIGN`] bytes into `next`, emptied first:
    /// this chunk then holds whole blocks only.
    pub fn carry_into(&mut self, next: &mut Chunk) {
        next.clear();
        let whole = self.text().len() / Direct::ALIGN * Direct::ALIGN;
        next.bytes
            .extend_from_slice(&self.bytes[self.start + whole..]);
        self.bytes.truncate(self.start + whole);
    }
}

impl Default for Chunk {
    fn default() -> Chunk {
        Chunk::new()
    }
}
