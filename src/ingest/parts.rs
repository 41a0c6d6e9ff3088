//! The reader of a clean file (see [`super::scan`]): the file is cut at record boundaries the
//! structure check found, and each part is split into its cells on a thread of its own, into
//! only the columns the run uses (see [`Parts::read_part`]).
//!
//! polars' own CSV reader first counts the file's lines to find where to cut, then parses, and
//! hands over hundreds of small chunks; with the boundaries already known, parsing is all that
//! is left. An empty cell is null, quoted (`""`) or not, as in the record-level pass.

use std::any::Any;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use polars::prelude::*;
use polars_arrow::array::{Utf8ViewArray, View};
use polars_arrow::datatypes::ArrowDataType;
use polars_buffer::Buffer;

use super::LINE;
use super::scan::Split;
use crate::normalize::text::Validity;

/// A clean file as a polars scan: projections are pushed down to it.
#[derive(Debug, Clone)]
pub struct Parts {
    pub path: PathBuf,
    pub delimiter: u8,
    /// The frame's column names, one per header.
    pub columns: Vec<String>,
    pub splits: Vec<Split>,
    /// Where the records end: the file's length, or a batch's end.
    pub len: u64,
    /// Data records from the first split to `len`.
    pub records: u64,
    /// The line each record starts on, when some record spans lines (else `index + 2`).
    pub record_lines: Option<Arc<Vec<u32>>>,
}

impl Parts {
    /// The frame: one String column per header, then `line`.
    pub fn frame(self) -> PolarsResult<LazyFrame> {
        let schema = Arc::new(self.schema());
        LazyFrame::anonymous_scan(
            Arc::new(self),
            ScanArgsAnonymous {
                schema: Some(schema),
                name: "clean CSV",
                ..ScanArgsAnonymous::default()
            },
        )
    }

    /// The file's records in consecutive batches of at least `bytes` bytes each (the last may
    /// hold fewer), cut at the recorded boundaries.
    pub fn batches(&self, bytes: u64) -> Vec<Parts> {
        let mut batches = Vec::new();
        let mut start = 0;
        while start < self.splits.len() {
            let (offset, first) = (self.splits[start].offset, self.splits[start].record);
            let end = self.splits[start..]
                .iter()
                .position(|s| s.offset >= offset + bytes)
                .map_or(self.splits.len(), |n| start + n);
            let (len, last) = match self.splits.get(end) {
                Some(next) => (next.offset, next.record),
                None => (self.len, self.records),
            };
            batches.push(Parts {
                path: self.path.clone(),
                delimiter: self.delimiter,
                columns: self.columns.clone(),
                splits: self.splits[start..end].to_vec(),
                len,
                records: last - first,
                record_lines: self.record_lines.clone(),
            });
            start = end;
        }
        batches
    }

    fn schema(&self) -> Schema {
        self.columns
            .iter()
            .map(|c| polars::prelude::Field::new(c.as_str().into(), DataType::String))
            .chain([polars::prelude::Field::new(LINE.into(), IDX_DTYPE)])
            .collect()
    }

    /// The parts for `threads` threads: byte ranges that start at record boundaries, with the
    /// index of their first record.
    fn ranges(&self, threads: usize) -> Vec<(u64, u64, u64)> {
        let Some(first) = self.splits.first() else {
            return Vec::new();
        };
        let body = self.len.saturating_sub(first.offset);
        let mut cuts: Vec<Split> = vec![*first];
        for t in 1..threads as u64 {
            let target = first.offset + body * t / threads as u64;
            let nearest = self
                .splits
                .iter()
                .min_by_key(|s| s.offset.abs_diff(target))
                .copied()
                .unwrap_or(*first);
            if cuts.last().is_some_and(|last| nearest.offset > last.offset) {
                cuts.push(nearest);
            }
        }
        cuts.iter()
            .enumerate()
            .map(|(i, cut)| {
                let end = cuts.get(i + 1).map_or(self.len, |next| next.offset);
                (cut.offset, end, cut.record)
            })
            .collect()
    }

    /// Reads the columns at `wanted` (and `line` when `with_line`) of the records in
    /// `start..end`, the first of which is record `record`; at most `limit` records.
    ///
    /// The structure check found every record whole, so a record's cells are told apart by
    /// their separators alone, and each wanted cell is copied once, straight into its column's
    /// text. (The csv crate copied each record into a record of its own first, and a text
    /// builder then copied each cell again, doubling its buffer as it filled.) A part that is
    /// not what the check saw (the file changed since) is an error, not a misread row.
    fn read_part(
        &self,
        (start, end, record): (u64, u64, u64),
        wanted: &[usize],
        with_line: bool,
        limit: Option<usize>,
    ) -> PolarsResult<Vec<Column>> {
        let io = |e: std::io::Error| polars_err!(ComputeError: "{}: {e}", self.path.display());
        let changed = || polars_err!(ComputeError: "{}: the file changed while it was read", self.path.display());
        let mut file = File::open(&self.path).map_err(io)?;
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut part = file.take(end.saturating_sub(start));
        // The column each field goes to, if it is wanted.
        let mut slot: Vec<Option<usize>> = vec![None; self.columns.len()];
        for (n, &i) in wanted.iter().enumerate() {
            slot[i] = Some(n);
        }
        let body = self
            .len
            .saturating_sub(self.splits.first().map_or(0, |s| s.offset))
            .max(1);
        let guess = usize::try_from((end - start) * self.records / body)
            .unwrap_or(1024)
            .min(limit.unwrap_or(usize::MAX));
        let mut columns: Vec<TextColumn> = wanted
            .iter()
            .map(|_| TextColumn::with_capacity(guess))
            .collect();
        let mut lines: Vec<IdxSize> = Vec::new();
        let mut splitter = Splitter::new(self.delimiter, self.columns.len());
        // Reads on until `buf` holds `len` bytes, and checks that what was read is UTF-8 up to
        // its last whole character (`checked`); whether the part ended first. Cells start and
        // end at ASCII separators, so each cell of checked text is UTF-8 too.
        let fill =
            |part: &mut std::io::Take<File>, buf: &mut Vec<u8>, checked: &mut usize, len: usize| {
                let want = len.saturating_sub(buf.len());
                buf.reserve(want);
                let got = part.take(want as u64).read_to_end(buf).map_err(io)?;
                let eof = got < want;
                match std::str::from_utf8(&buf[*checked..]) {
                    Ok(_) => *checked = buf.len(),
                    Err(e) if e.error_len().is_none() && !eof => *checked += e.valid_up_to(),
                    Err(_) => return Err(changed()),
                }
                Ok::<_, PolarsError>(eof)
            };
        let mut buf: Vec<u8> = Vec::with_capacity(READ_BYTES);
        let mut checked = 0;
        let mut at = 0;
        let mut index = record;
        let mut eof = false;
        // A quoted cell's text without its doubled quotes.
        let mut unquoted: Vec<u8> = Vec::new();
        while limit.is_none_or(|n| ((index - record) as usize) < n) {
            if eof && at == buf.len() {
                break;
            }
            let next = if at < buf.len() {
                splitter.split(&buf, at, eof).map_err(|()| changed())?
            } else {
                None
            };
            let Some(next) = next.filter(|&next| next <= checked) else {
                if eof {
                    return Err(changed());
                }
                // The record runs past what was read: keep what was read of it, read on.
                buf.drain(..at);
                checked -= at;
                at = 0;
                let len = READ_BYTES.max(buf.len() * 2);
                eof = fill(&mut part, &mut buf, &mut checked, len)?;
                continue;
            };
            for (cell, slot) in splitter.cells.iter().zip(&slot) {
                if let Some(slot) = slot {
                    columns[*slot].push(&buf, cell, &mut unquoted);
                }
            }
            at = next;
            if with_line {
                let line = match &self.record_lines {
                    Some(lines) => lines.get(index as usize).copied().unwrap_or(u32::MAX),
                    None => u32::try_from(index + 2).unwrap_or(u32::MAX),
                };
                lines.push(line as IdxSize);
            }
            index += 1;
        }
        let mut columns: Vec<Column> = columns
            .into_iter()
            .zip(wanted)
            .map(|(column, i)| column.finish(self.columns[*i].as_str()).into_column())
            .collect();
        if with_line {
            columns.push(Column::new(LINE.into(), lines));
        }
        Ok(columns)
    }
}

/// The bytes read at a time: a few records' worth stays in the cache while they are split.
const READ_BYTES: usize = 1 << 20;

/// A cell of a record: its bytes in the read buffer, and whether they hold doubled quotes.
#[derive(Clone, Default)]
struct Cell {
    range: std::ops::Range<usize>,
    escaped: bool,
}

/// Splits the records of a clean file into cells.
struct Splitter {
    delimiter: u8,
    fields: usize,
    /// The cells of the record last split.
    cells: Vec<Cell>,
}

impl Splitter {
    fn new(delimiter: u8, fields: usize) -> Splitter {
        Splitter {
            delimiter,
            fields,
            cells: vec![Cell::default(); fields],
        }
    }

    /// Splits the record at `at` of `bytes` into [`Self::cells`]: where the next record starts,
    /// or `None` when the record runs past the bytes (unless they are the whole rest, `eof`),
    /// or an error when the bytes are not a clean record.
    fn split(&mut self, bytes: &[u8], mut at: usize, eof: bool) -> Result<Option<usize>, ()> {
        for field in 0..self.fields {
            let (range, escaped, next) = if bytes.get(at) == Some(&b'"') {
                // A quoted cell ends at the quote that no quote follows.
                let mut from = at + 1;
                let mut escaped = false;
                loop {
                    let Some(quote) = memchr::memchr(b'"', &bytes[from..]) else {
                        return Ok(None);
                    };
                    let quote = from + quote;
                    match bytes.get(quote + 1) {
                        Some(b'"') => {
                            escaped = true;
                            from = quote + 2;
                        }
                        None if !eof => return Ok(None),
                        _ => break (at + 1..quote, escaped, quote + 1),
                    }
                }
            } else {
                let end = crate::bytes::first_of(&bytes[at..], [self.delimiter, b'\n', b'\r'])
                    .map_or(bytes.len(), |n| at + n);
                (at..end, false, end)
            };
            self.cells[field] = Cell { range, escaped };
            // What follows the cell: the delimiter, or after the last the record's end.
            at = match (bytes.get(next), bytes.get(next + 1)) {
                (None, _) if !eof => return Ok(None),
                (Some(b'\r'), None) if !eof => return Ok(None),
                (Some(&d), _) if d == self.delimiter && field + 1 < self.fields => next + 1,
                _ if field + 1 < self.fields => return Err(()),
                (None, _) => next,
                (Some(b'\n'), _) => next + 1,
                (Some(b'\r'), Some(b'\n')) => next + 2,
                _ => return Err(()),
            };
        }
        Ok(Some(at))
    }
}

/// A text column as it is read: views of its cells, and its own text in blocks that are never
/// moved (a value of up to 12 bytes is held in its view).
struct TextColumn {
    views: Vec<View>,
    validity: Validity,
    blocks: Vec<Vec<u8>>,
}

impl TextColumn {
    /// Text blocks of a megabyte: a column's last block is the only one not full.
    const BLOCK: usize = 1 << 20;

    fn with_capacity(rows: usize) -> TextColumn {
        TextColumn {
            views: Vec::with_capacity(rows),
            validity: Validity::with_capacity(rows),
            blocks: Vec::new(),
        }
    }

    /// Appends the cell of `bytes` (an empty one is null), which are UTF-8.
    fn push(&mut self, bytes: &[u8], cell: &Cell, unquoted: &mut Vec<u8>) {
        let mut value = &bytes[cell.range.clone()];
        if cell.escaped {
            unquoted.clear();
            for (i, part) in value.split(|b| *b == b'"').step_by(2).enumerate() {
                if i > 0 {
                    unquoted.push(b'"');
                }
                unquoted.extend_from_slice(part);
            }
            value = unquoted;
        }
        if value.is_empty() {
            self.views.push(View::default());
            self.validity.push(false);
            return;
        }
        self.validity.push(true);
        if value.len() <= View::MAX_INLINE_SIZE as usize {
            self.views.push(View::new_inline(value));
            return;
        }
        if self
            .blocks
            .last()
            .is_none_or(|b| b.capacity() - b.len() < value.len())
        {
            self.blocks
                .push(Vec::with_capacity(Self::BLOCK.max(value.len())));
        }
        let block = self.blocks.len() - 1;
        let text = &mut self.blocks[block];
        let offset = text.len() as u32;
        text.extend_from_slice(value);
        // SAFETY: the value, longer than an inline one, was just written at `offset` of the
        // block, whose index is `block`.
        self.views
            .push(unsafe { View::new_noninline_unchecked(value, block as u32, offset) });
    }

    fn finish(self, name: &str) -> StringChunked {
        let buffers: Vec<Buffer<u8>> = self.blocks.into_iter().map(Buffer::from).collect();
        // SAFETY: every view is inline or points at its UTF-8 value in its block; a null is
        // the empty view, its bit unset.
        let array = unsafe {
            Utf8ViewArray::new_unchecked_unknown_md(
                ArrowDataType::Utf8View,
                self.views.into(),
                buffers.into(),
                self.validity.finish(),
                None,
            )
        };
        StringChunked::with_chunk(name.into(), array)
    }
}

impl AnonymousScan for Parts {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self, _infer_schema_length: Option<usize>) -> PolarsResult<SchemaRef> {
        Ok(Arc::new(Parts::schema(self)))
    }

    fn allows_projection_pushdown(&self) -> bool {
        true
    }

    fn scan(&self, options: AnonymousScanArgs) -> PolarsResult<DataFrame> {
        let (wanted, with_line): (Vec<usize>, bool) = match &options.with_columns {
            None => ((0..self.columns.len()).collect(), true),
            Some(names) => (
                names
                    .iter()
                    .filter_map(|n| self.columns.iter().position(|c| c == n.as_str()))
                    .collect(),
                names.iter().any(|n| n == LINE),
            ),
        };
        let threads = match options.n_rows {
            Some(_) => 1,
            None => crate::parallel::cores(),
        };
        let parts = crate::parallel::map(self.ranges(threads), |range| {
            self.read_part(range, &wanted, with_line, options.n_rows)
        });
        let mut frame: Option<DataFrame> = None;
        for part in parts {
            let part = DataFrame::new_infer_height(part?)?;
            match &mut frame {
                None => frame = Some(part),
                Some(frame) => {
                    frame.vstack_mut_owned(part)?;
                }
            }
        }
        let mut frame = match frame {
            Some(frame) => frame,
            None => DataFrame::empty_with_schema(&Parts::schema(self)),
        };
        if let Some(names) = &options.with_columns {
            frame = frame.select(names.iter().cloned())?;
        }
        frame.rechunk_mut_par();
        Ok(frame)
    }
}
