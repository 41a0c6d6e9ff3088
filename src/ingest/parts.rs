//! The reader of a clean file (see [`super::scan`]): the file is cut at record boundaries the
//! structure check found, and each part is parsed by the csv crate on a thread of its own,
//! into only the columns the run uses.
//!
//! polars' own CSV reader first counts the file's lines to find where to cut, then parses, and
//! hands over hundreds of small chunks; with the boundaries already known, parsing is all that
//! is left. An empty cell is null, quoted (`""`) or not, as in the record-level pass.

use std::any::Any;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use polars::prelude::*;

use super::LINE;
use super::scan::Split;

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
    fn read_part(
        &self,
        (start, end, record): (u64, u64, u64),
        wanted: &[usize],
        with_line: bool,
        limit: Option<usize>,
    ) -> PolarsResult<Vec<Column>> {
        let io = |e: std::io::Error| polars_err!(ComputeError: "{}: {e}", self.path.display());
        let mut file = File::open(&self.path).map_err(io)?;
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let part = BufReader::with_capacity(1 << 20, file.take(end.saturating_sub(start)));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(false)
            .from_reader(part);
        // About as many records as the file's average record length gives.
        let body = self
            .len
            .saturating_sub(self.splits.first().map_or(0, |s| s.offset))
            .max(1);
        let guess = usize::try_from((end - start) * self.records / body)
            .unwrap_or(1024)
            .min(limit.unwrap_or(usize::MAX));
        let mut builders: Vec<StringChunkedBuilder> = wanted
            .iter()
            .map(|i| StringChunkedBuilder::new(self.columns[*i].as_str().into(), guess))
            .collect();
        let mut lines: Vec<IdxSize> = Vec::new();
        let mut row = csv::ByteRecord::new();
        let mut index = record;
        while limit.is_none_or(|n| ((index - record) as usize) < n)
            && reader
                .read_byte_record(&mut row)
                .map_err(|e| polars_err!(ComputeError: "{}: {e}", self.path.display()))?
        {
            // The structure check found the whole file valid UTF-8; the record's fields, which
            // the csv crate keeps one after the other, are checked at once.
            let text = std::str::from_utf8(row.as_slice())
                .map_err(|e| polars_err!(ComputeError: "{}: {e}", self.path.display()))?;
            for (builder, i) in builders.iter_mut().zip(wanted) {
                match row.range(*i).and_then(|r| text.get(r)) {
                    None | Some("") => builder.append_null(),
                    Some(value) => builder.append_value(value),
                }
            }
            if with_line {
                let line = match &self.record_lines {
                    Some(lines) => lines.get(index as usize).copied().unwrap_or(u32::MAX),
                    None => u32::try_from(index + 2).unwrap_or(u32::MAX),
                };
                lines.push(line as IdxSize);
            }
            index += 1;
        }
        let mut columns: Vec<Column> = builders
            .into_iter()
            .map(|b| b.finish().into_column())
            .collect();
        if with_line {
            columns.push(Column::new(LINE.into(), lines));
        }
        Ok(columns)
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
