//! The record-level pass (SPEC §9): for a file polars cannot take as it is, read it record by
//! record with the csv crate, send every row that cannot be read to `rejects.csv` with its line,
//! and build the frame from the rows that can.

use polars::prelude::*;

use super::Reject;

/// What the record-level pass read.
pub struct Records {
    /// One String column per header (named as [`super::Input::columns`]) and `line`.
    pub frame: DataFrame,
    /// Data records read, rejected ones included.
    pub records: u64,
    /// Rows rejected for their form (wrong field count, invalid bytes).
    pub form_rejects: u64,
}

/// Reads `bytes` (UTF-8 without BOM, header first). `email_field` is the e-mail column, whose
/// empty cells reject a row; `backslash_escape` reads MailPoet's `\"` as a quote.
pub fn read(
    bytes: &[u8],
    file: &str,
    delimiter: u8,
    columns: &[String],
    email_field: Option<usize>,
    backslash_escape: bool,
    rejects: &mut Vec<Reject>,
) -> PolarsResult<Records> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .escape(backslash_escape.then_some(b'\\'))
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let mut builders: Vec<StringChunkedBuilder> = columns
        .iter()
        .map(|name| StringChunkedBuilder::new(name.as_str().into(), 1024))
        .collect();
    let mut lines: Vec<u32> = Vec::new();
    let mut records = 0u64;
    let mut form_rejects = 0u64;
    let mut record = csv::ByteRecord::new();
    // The line a record starts on, counted here from the line feeds before it: the csv
    // crate's own count is one short after a record ended by `\r\n`.
    let (mut counted, mut line) = (0usize, 1u64);
    // The header is read (and skipped) by the first call.
    let _ = reader.byte_headers();
    loop {
        let start = reader.position().clone();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // The csv crate only fails on I/O here; a reader over bytes cannot.
                return Err(polars_err!(ComputeError: "{file}: {e}"));
            }
        }
        records += 1;
        let end = reader.position().byte() as usize;
        let begin = record.position().map_or(start.byte(), |p| p.byte()) as usize;
        // After a `\r\n`, the csv crate's record starts at its `\n`.
        let mut begin = begin.min(bytes.len());
        while matches!(bytes.get(begin), Some(b'\n' | b'\r')) && begin < end {
            begin += 1;
        }
        if begin > counted {
            line += memchr::memchr_iter(b'\n', &bytes[counted..begin]).count() as u64;
            counted = begin;
        }
        let raw = || {
            let text = &bytes[begin.min(bytes.len())..end.min(bytes.len())];
            String::from_utf8_lossy(text)
                .trim_end_matches(['\r', '\n'])
                .to_string()
        };
        let problem = if record.len() != columns.len() {
            Some(format!(
                "expected {} fields, found {}",
                columns.len(),
                record.len()
            ))
        } else if std::str::from_utf8(record.as_slice()).is_err() {
            Some("invalid UTF-8 bytes".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            form_rejects += 1;
            rejects.push(Reject {
                file: file.to_string(),
                line,
                problem,
                raw: raw(),
                form: true,
            });
            continue;
        }
        let email_empty = email_field.is_some_and(|i| {
            record
                .get(i)
                .is_none_or(|v| v.iter().all(|b| b.is_ascii_whitespace()))
        });
        if email_empty {
            rejects.push(Reject::no_email(file, line, raw()));
            continue;
        }
        for (builder, value) in builders.iter_mut().zip(record.iter()) {
            if value.is_empty() {
                builder.append_null();
            } else {
                // Checked as UTF-8 above.
                builder.append_value(std::str::from_utf8(value).unwrap_or_default());
            }
        }
        lines.push(u32::try_from(line).unwrap_or(u32::MAX));
    }
    let mut cols: Vec<Column> = builders
        .into_iter()
        .map(|b| b.finish().into_series().into_column())
        .collect();
    cols.push(Column::new(super::LINE.into(), lines));
    let frame = DataFrame::new_infer_height(cols)?;
    Ok(Records {
        frame,
        records,
        form_rejects,
    })
}
