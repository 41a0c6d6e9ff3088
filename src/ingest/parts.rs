//! The reader of a clean file (see [`super::scan`]): the file is cut at record boundaries the
//! structure check found (or at line breaks, where the reader checks it, see
//! [`Parts::checked`]), and each part is split into its cells on a thread of its own, into
//! only the columns the run uses (see [`Parts::read_part`]).
//!
//! polars' own CSV reader first counts the file's lines to find where to cut, then parses, and
//! hands over hundreds of small chunks; with the boundaries already known, parsing is all that
//! is left. An empty cell is null, quoted (`""`) or not, as in the record-level pass.

use std::any::Any;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use polars::prelude::*;
use polars_arrow::array::{Utf8ViewArray, View};
use polars_arrow::datatypes::ArrowDataType;
use polars_buffer::Buffer;

use super::scan::Split;
use super::{LINE, cells};
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
    /// Data records from the first split to `len`; about as many, where the file was not
    /// checked (its splits' records are not known either: each batch's reader counts them).
    pub records: u64,
    /// The file's size when it was checked.
    pub size: u64,
    /// The line each record starts on, when some record spans lines (else `index + 2`).
    pub record_lines: Option<Arc<Vec<u32>>>,
    /// Whether the structure check read the file. If not, the splits are line breaks, every
    /// line taken for a record ([`super::scan::lines`]), and a batch's reader finds out
    /// whether the file is clean (see [`cells::split`]): `normalize::read::batch` then says
    /// so, where a checked file's odd bytes mean that the file changed since.
    pub checked: bool,
}

impl Parts {
    /// The parts of a file the structure check found clean, cut where it found `splits`;
    /// `records` data records in all, and the line of each where some record spans lines.
    pub fn checked(
        path: PathBuf,
        delimiter: u8,
        columns: Vec<String>,
        splits: Vec<Split>,
        records: u64,
        len: u64,
        record_lines: Option<Vec<u32>>,
    ) -> Parts {
        Parts {
            path,
            delimiter,
            columns,
            splits,
            len,
            records,
            size: len,
            record_lines: record_lines.map(Arc::new),
            checked: true,
        }
    }

    /// The parts of a file read without the check, cut where [`super::scan::lines`] found
    /// line breaks.
    pub fn unchecked(
        path: PathBuf,
        delimiter: u8,
        columns: Vec<String>,
        lines: super::scan::Lines,
    ) -> Parts {
        Parts {
            path,
            delimiter,
            columns,
            splits: lines.splits,
            len: lines.len,
            records: lines.estimate,
            size: lines.len,
            record_lines: None,
            checked: false,
        }
    }

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

    /// The file's records in consecutive batches of at least [`super::batch_bytes`] each (the
    /// first of a quarter of that, the last may hold fewer), cut at the recorded boundaries.
    /// The first batch is read alone, to learn the dates' order, while the other core waits:
    /// a quarter of 64 MB is still a hundred thousand rows to learn it from.
    pub fn batches(&self) -> Vec<Parts> {
        let full = super::batch_bytes(self.len);
        let mut batches = Vec::new();
        let mut start = 0;
        while start < self.splits.len() {
            let bytes = if start == 0 { full / 4 } else { full };
            let (offset, first) = (self.splits[start].offset, self.splits[start].record);
            let end = self.splits[start..]
                .iter()
                .position(|s| s.offset >= offset + bytes)
                .map_or(self.splits.len(), |n| start + n);
            let (len, last) = match self.splits.get(end) {
                Some(next) => (next.offset, next.record),
                None => (self.len, self.records),
            };
            let records = match self.checked {
                true => last - first,
                false => self.share_of_records(len - offset),
            };
            batches.push(Parts {
                path: self.path.clone(),
                delimiter: self.delimiter,
                columns: self.columns.clone(),
                splits: self.splits[start..end].to_vec(),
                len,
                records,
                size: self.size,
                record_lines: self.record_lines.clone(),
                checked: self.checked,
            });
            start = end;
        }
        batches
    }

    /// About how many of the records lie in `bytes` of them.
    fn share_of_records(&self, bytes: u64) -> u64 {
        let body = self
            .len
            .saturating_sub(self.splits.first().map_or(0, |s| s.offset))
            .max(1);
        (u128::from(bytes) * u128::from(self.records) / u128::from(body)) as u64
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

    /// The file's bytes, mapped into memory: parts and batches are slices of them, read
    /// without a copy. A file whose size is no longer what the check saw changed since.
    pub fn map(&self) -> PolarsResult<memmap2::Mmap> {
        let io = |e: std::io::Error| polars_err!(ComputeError: "{}: {e}", self.path.display());
        let map = map_file(&self.path).map_err(io)?;
        if map.len() as u64 != self.size {
            return Err(self.changed());
        }
        Ok(map)
    }

    /// What the file's records are made of, for [`cells::split`]: a record may span lines in
    /// a checked file (the check counted its lines); in one that was not, each line was taken
    /// for a record.
    pub fn shape(&self) -> cells::Shape {
        cells::Shape {
            delimiter: self.delimiter,
            fields: self.columns.len(),
            multiline: self.checked,
        }
    }

    fn changed(&self) -> PolarsError {
        polars_err!(ComputeError: "{}: the file changed while it was read", self.path.display())
    }

    /// Reads the columns at `wanted` (and `line` when `with_line`) of the records in
    /// `start..end`, the first of which is record `record`; at most `limit` records.
    ///
    /// The structure check found every record whole, so a record's cells are told apart by
    /// their separators alone ([`cells::split`]), and each wanted cell is copied once,
    /// straight into its column's text. (The csv crate copied each record into a record of
    /// its own first, and a text builder then copied each cell again, doubling its buffer as
    /// it filled.) A part that is not what the check saw (the file changed since) is an
    /// error, not a misread row.
    fn read_part(
        &self,
        map: &[u8],
        (start, end, record): (u64, u64, u64),
        wanted: &[usize],
        with_line: bool,
        limit: Option<usize>,
    ) -> PolarsResult<Vec<Column>> {
        let bytes = map
            .get(start as usize..end as usize)
            .ok_or_else(|| self.changed())?;
        let guess = usize::try_from(self.share_of_records(end - start))
            .unwrap_or(1024)
            .min(limit.unwrap_or(usize::MAX));
        let mut reader = TextReader {
            slot: vec![None; self.columns.len()],
            columns: wanted
                .iter()
                .map(|_| TextColumn::with_capacity(guess))
                .collect(),
            lines: Vec::new(),
            with_line,
            index: record,
            record_lines: self.record_lines.as_deref().map(Vec::as_slice),
            limit: limit.map(|n| record + n as u64),
            scratch: String::new(),
        };
        for (n, &i) in wanted.iter().enumerate() {
            reader.slot[i] = Some(n);
        }
        let stopped = cells::split(bytes, self.shape(), &mut reader);
        if stopped.is_err() {
            return Err(self.changed());
        }
        let mut columns: Vec<Column> = reader
            .columns
            .into_iter()
            .zip(wanted)
            .map(|(column, i)| column.finish(self.columns[*i].as_str()).into_column())
            .collect();
        if with_line {
            columns.push(Column::new(LINE.into(), reader.lines));
        }
        Ok(columns)
    }
}

/// The line record `index` starts on: from the check's list when some record spans lines,
/// else after the header.
pub fn line_of(record_lines: Option<&[u32]>, index: u64) -> u32 {
    match record_lines {
        Some(lines) => lines.get(index as usize).copied().unwrap_or(u32::MAX),
        None => u32::try_from(index + 2).unwrap_or(u32::MAX),
    }
}

/// The wanted cells of a part as text columns.
struct TextReader<'a> {
    /// The column each field goes to, if it is wanted.
    slot: Vec<Option<usize>>,
    columns: Vec<TextColumn>,
    lines: Vec<IdxSize>,
    with_line: bool,
    /// The record being read.
    index: u64,
    record_lines: Option<&'a [u32]>,
    /// The record to stop before.
    limit: Option<u64>,
    /// An escaped cell's text without its doubled quotes.
    scratch: String,
}

impl cells::Cells<'_> for TextReader<'_> {
    fn cell(&mut self, field: usize, text: &str, escaped: bool) {
        if let Some(slot) = self.slot[field] {
            let text = if escaped {
                cells::unescape(text, &mut self.scratch)
            } else {
                text
            };
            self.columns[slot].push(text.as_bytes());
        }
    }

    fn end(&mut self, _record: &str) -> bool {
        if self.with_line {
            self.lines
                .push(line_of(self.record_lines, self.index) as IdxSize);
        }
        self.index += 1;
        self.limit.is_none_or(|limit| self.index < limit)
    }
}

/// A text column as it is read: views of its cells, and its own text in blocks that are never
/// moved (a value of up to 12 bytes is held in its view).
pub struct TextColumn {
    views: Vec<View>,
    validity: Validity,
    blocks: Vec<Vec<u8>>,
}

impl TextColumn {
    /// Text blocks of a megabyte: a column's last block is the only one not full.
    const BLOCK: usize = 1 << 20;

    pub fn with_capacity(rows: usize) -> TextColumn {
        TextColumn {
            views: Vec::with_capacity(rows),
            validity: Validity::with_capacity(rows),
            blocks: Vec::new(),
        }
    }

    /// Appends `value` (an empty one is null), which is UTF-8.
    pub fn push(&mut self, value: &[u8]) {
        self.push_text((!value.is_empty()).then_some(value));
    }

    /// Appends `value` (none is null; an empty one is empty text), which is UTF-8.
    pub fn push_text(&mut self, value: Option<impl AsRef<[u8]>>) {
        let Some(value) = value else {
            self.views.push(View::default());
            self.validity.push(false);
            return;
        };
        let value = value.as_ref();
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
        crate::bytes::append(text, value);
        // SAFETY: the value, longer than an inline one, was just written at `offset` of the
        // block, whose index is `block`.
        self.views
            .push(unsafe { View::new_noninline_unchecked(value, block as u32, offset) });
    }

    /// Takes back the value last appended (its text stays in its block, unused).
    pub fn pop(&mut self) {
        if self.views.pop().is_some() {
            self.validity.pop();
        }
    }

    pub fn finish(self, name: &str) -> StringChunked {
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
        // A file read unchecked is read in one part: only the first split's record is known.
        let threads = match options.n_rows {
            Some(_) => 1,
            None if !self.checked => 1,
            None => crate::parallel::cores(),
        };
        let map = self.map()?;
        let parts = crate::parallel::map(self.ranges(threads), |range| {
            self.read_part(&map, range, &wanted, with_line, options.n_rows)
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

/// The file's bytes, mapped into memory (an empty file maps to nothing): the structure check
/// and the reader read them so, without a copy.
pub fn map_file(path: &std::path::Path) -> std::io::Result<memmap2::Mmap> {
    let file = File::open(path)?;
    // SAFETY: the file is an input the run only reads; another program that changes it while
    // it is read changes what is read, as it would with any reader (a file that changed shape
    // since it was checked is an error, see `Parts::map` and `read_part`).
    unsafe { memmap2::Mmap::map(&file) }
}
