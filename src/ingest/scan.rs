//! The structure check: one streaming read of a file that hashes it (SHA-256, for the report)
//! and tells whether polars' CSV reader may take it as it is.
//!
//! polars reads RFC 4180 fast but cannot say on which line a ragged row stands, and handles
//! some malformed input differently from the csv crate. So every file is checked here first:
//! a file in which every record has the header's field count, that is valid UTF-8, and that has
//! no blank line, stray quote or backslash-escaped quote is *clean* and goes straight to polars.
//! Anything else takes the record-level pass of [`super::records`], which finds each bad row's
//! line. The check also keeps the raw text of rows without an e-mail, which go to `rejects.csv`,
//! and the first line of every record when some record spans several lines.

use std::io::Read;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// What the check found.
#[derive(Debug)]
pub struct Scan {
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Whether polars may read the file as it is.
    pub clean: bool,
    /// Data records (not counting the header), when clean.
    pub records: u64,
    /// The line each data record starts on, when some record spans lines (else `line = index + 2`).
    pub record_lines: Option<Vec<u32>>,
    /// Records whose e-mail field is empty: (line, raw text).
    pub empty_email: Vec<(u64, String)>,
    /// A `\"` inside a quoted field was seen: MailPoet's escaping.
    pub backslash_quote: bool,
    /// Record boundaries about every [`SPLIT_BYTES`], first the first data record: where a
    /// clean file can be cut into parts read in parallel.
    pub splits: Vec<Split>,
    /// The file's length in bytes.
    pub len: u64,
}

/// A record boundary: the data record `record` (counting from 0) starts at byte `offset`.
#[derive(Debug, Clone, Copy)]
pub struct Split {
    pub offset: u64,
    pub record: u64,
}

/// About how many bytes lie between two [`Split`]s in a run.
pub const SPLIT_BYTES: u64 = 4 << 20;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the end of the field, or the first half of `""`.
    QuoteInQuoted,
    /// A carriage return; only a line feed may follow.
    CarriageReturn,
}

struct Checker {
    delimiter: u8,
    /// Bytes that end a run outside quotes: the delimiter, line ends and the quote.
    special: [bool; 256],
    fields_expected: usize,
    email_field: Option<usize>,
    state: State,
    clean: bool,
    /// Current line (1-based) and the line the current record started on.
    line: u64,
    record_line: u64,
    records: u64,
    field: usize,
    field_has_content: bool,
    email_empty: bool,
    record_bytes: usize,
    prev: u8,
    record_lines: Option<Vec<u32>>,
    /// Bytes of the current record seen in earlier chunks (kept only to quote rejected rows).
    carry: Vec<u8>,
    empty_email: Vec<(u64, String)>,
    backslash_quote: bool,
    /// The file offset of the chunk being fed.
    base: u64,
    splits: Vec<Split>,
    split_bytes: u64,
}

impl Checker {
    fn end_field(&mut self) {
        if Some(self.field) == self.email_field && !self.field_has_content {
            self.email_empty = true;
        }
        self.field += 1;
        self.field_has_content = false;
    }

    /// Ends a record at `end` (exclusive) of `chunk`, whose current record began at `start`.
    fn end_record(&mut self, chunk: &[u8], start: usize, end: usize) {
        self.end_field();
        let is_header = self.records == 0 && self.record_line == 1;
        if self.record_bytes == 0 {
            // A blank line: polars and the csv crate disagree on these.
            self.clean = false;
        } else if self.field != self.fields_expected {
            self.clean = false;
        } else if !is_header {
            let data_index = self.records;
            self.records += 1;
            if self.record_line != data_index + 2 && self.record_lines.is_none() {
                self.record_lines = Some((0..data_index).map(|i| (i + 2) as u32).collect());
            }
            if let Some(lines) = &mut self.record_lines {
                lines.push(u32::try_from(self.record_line).unwrap_or(u32::MAX));
            }
            if self.email_empty {
                let mut raw = std::mem::take(&mut self.carry);
                raw.extend_from_slice(&chunk[start..end]);
                while raw.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    raw.pop();
                }
                self.empty_email
                    .push((self.record_line, String::from_utf8_lossy(&raw).into_owned()));
            }
        }
        if is_header {
            // The header is record zero; data records count from here.
            self.records = 0;
        }
        let offset = self.base + end as u64;
        if self
            .splits
            .last()
            .is_none_or(|last| offset >= last.offset + self.split_bytes)
            && (is_header || !self.splits.is_empty())
        {
            self.splits.push(Split {
                offset,
                record: self.records,
            });
        }
        self.carry.clear();
        self.field = 0;
        self.field_has_content = false;
        self.email_empty = false;
        self.record_bytes = 0;
        self.record_line = self.line;
    }

    fn feed(&mut self, chunk: &[u8]) {
        let mut start = 0;
        let mut i = 0;
        let n = chunk.len();
        while i < n {
            if !self.clean {
                return;
            }
            // Fast paths: runs of bytes that change nothing but the counts.
            match self.state {
                State::FieldStart | State::Unquoted => {
                    let run = i;
                    while i < n && !self.special[chunk[i] as usize] {
                        i += 1;
                    }
                    if i > run {
                        self.take_run(&chunk[run..i]);
                        self.state = State::Unquoted;
                        continue;
                    }
                }
                State::Quoted => {
                    let run = i;
                    i = memchr::memchr2(b'"', b'\n', &chunk[i..]).map_or(n, |at| i + at);
                    if i > run {
                        self.take_run(&chunk[run..i]);
                        continue;
                    }
                }
                _ => {}
            }
            let b = chunk[i];
            i += 1;
            if b == b'\n' {
                self.line += 1;
            }
            match self.state {
                State::FieldStart | State::Unquoted => {
                    if b == self.delimiter {
                        self.record_bytes += 1;
                        self.end_field();
                        self.state = State::FieldStart;
                    } else if b == b'\n' {
                        self.end_record(chunk, start, i);
                        start = i;
                        self.state = State::FieldStart;
                    } else if b == b'\r' {
                        self.state = State::CarriageReturn;
                    } else if b == b'"' {
                        self.record_bytes += 1;
                        if self.state == State::FieldStart {
                            self.state = State::Quoted;
                        } else {
                            self.clean = false;
                        }
                    }
                }
                State::Quoted => {
                    self.record_bytes += 1;
                    if b == b'"' {
                        if self.prev == b'\\' {
                            // MailPoet's `\"`: the record-level pass knows how to read it.
                            self.clean = false;
                            self.backslash_quote = true;
                        }
                        self.state = State::QuoteInQuoted;
                    }
                }
                State::QuoteInQuoted => {
                    if b == b'"' {
                        self.record_bytes += 1;
                        self.field_has_content = true;
                        self.state = State::Quoted;
                    } else if b == self.delimiter {
                        self.record_bytes += 1;
                        self.end_field();
                        self.state = State::FieldStart;
                    } else if b == b'\n' {
                        self.end_record(chunk, start, i);
                        start = i;
                        self.state = State::FieldStart;
                    } else if b == b'\r' {
                        self.state = State::CarriageReturn;
                    } else {
                        self.clean = false;
                    }
                }
                State::CarriageReturn => {
                    if b == b'\n' {
                        self.end_record(chunk, start, i);
                        start = i;
                        self.state = State::FieldStart;
                    } else {
                        self.clean = false;
                    }
                }
            }
            self.prev = b;
        }
        if self.email_field.is_some() {
            self.carry.extend_from_slice(&chunk[start..]);
        }
    }

    /// A run of bytes inside a field that holds no delimiter, line end or quote.
    fn take_run(&mut self, run: &[u8]) {
        self.record_bytes += run.len();
        if !self.field_has_content
            && run
                .iter()
                .any(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            self.field_has_content = true;
        }
        self.prev = run[run.len() - 1];
    }

    fn finish(&mut self) {
        if !self.clean {
            return;
        }
        match self.state {
            State::Quoted => self.clean = false,
            State::FieldStart if self.record_bytes == 0 && self.field == 0 => {}
            _ => {
                let carry = std::mem::take(&mut self.carry);
                let len = carry.len();
                // The last record, without a line end: no part starts after it.
                let splits = self.splits.len();
                self.end_record(&carry, 0, len);
                self.splits.truncate(splits);
            }
        }
    }
}

/// Reads `reader` to its end, hashing it and checking its structure. `skip` bytes (a BOM) are
/// hashed but not checked. Record boundaries are kept about every `split_bytes` (the run uses
/// [`SPLIT_BYTES`]).
pub fn scan(
    mut reader: impl Read,
    skip: usize,
    delimiter: u8,
    fields_expected: usize,
    email_field: Option<usize>,
    split_bytes: u64,
) -> std::io::Result<Scan> {
    let mut special = [false; 256];
    for b in [delimiter, b'\n', b'\r', b'"'] {
        special[b as usize] = true;
    }
    let mut checker = Checker {
        delimiter,
        special,
        fields_expected,
        email_field,
        state: State::FieldStart,
        clean: true,
        line: 1,
        record_line: 1,
        records: 0,
        field: 0,
        field_has_content: false,
        email_empty: false,
        record_bytes: 0,
        prev: 0,
        record_lines: None,
        carry: Vec::new(),
        empty_email: Vec::new(),
        backslash_quote: false,
        base: skip as u64,
        splits: Vec::new(),
        split_bytes,
    };
    // The hash and the UTF-8 check run on a thread of its own, beside the structure check.
    let (chunks, to_hash) = std::sync::mpsc::sync_channel::<Arc<Vec<u8>>>(8);
    let (hashed, read) = std::thread::scope(|scope| {
        let hashing = scope.spawn(move || {
            let mut hasher = Sha256::new();
            let mut tail = Vec::new();
            let mut utf8 = true;
            for chunk in to_hash {
                hasher.update(&chunk[..]);
                utf8 = utf8 && utf8_ok(&chunk, &mut tail);
            }
            (hasher.finalize(), utf8 && tail.is_empty())
        });
        let read = check_all(&mut reader, skip, &mut checker, &chunks);
        drop(chunks);
        (hashing.join(), read)
    });
    let len = read?;
    let (digest, utf8) = hashed.map_err(|_| std::io::Error::other("the hashing thread failed"))?;
    if !utf8 {
        checker.clean = false;
    }
    checker.finish();
    Ok(Scan {
        sha256: hex(&digest),
        clean: checker.clean,
        records: checker.records,
        record_lines: checker.record_lines,
        empty_email: checker.empty_email,
        backslash_quote: checker.backslash_quote,
        splits: checker.splits,
        len,
    })
}

/// Reads `reader` to its end, handing every chunk to the hash and checking it. Returns the
/// bytes read.
fn check_all(
    reader: &mut impl Read,
    skip: usize,
    checker: &mut Checker,
    hash: &std::sync::mpsc::SyncSender<Arc<Vec<u8>>>,
) -> std::io::Result<u64> {
    let mut to_skip = skip;
    let mut read = 0u64;
    loop {
        let mut buf = vec![0u8; 1 << 20];
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(read),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        buf.truncate(n);
        read += n as u64;
        let buf = Arc::new(buf);
        hash.send(buf.clone())
            .map_err(|_| std::io::Error::other("the hashing thread stopped"))?;
        let skipped = to_skip.min(n);
        to_skip -= skipped;
        let chunk = &buf[skipped..];
        if !checker.clean {
            continue;
        }
        checker.feed(chunk);
        checker.base += chunk.len() as u64;
    }
}

/// Checks `chunk` as the continuation of a UTF-8 text whose last, incomplete character is in
/// `tail`, leaving the chunk's own incomplete last character there (UTF-8 is checked across
/// chunk boundaries by carrying it).
fn utf8_ok(chunk: &[u8], tail: &mut Vec<u8>) -> bool {
    let mut rest = chunk;
    if let Some(&lead) = tail.first() {
        let len = match lead {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return false,
        };
        let need = len - tail.len();
        if rest.len() < need {
            tail.extend_from_slice(rest);
            return true;
        }
        tail.extend_from_slice(&rest[..need]);
        if std::str::from_utf8(tail).is_err() {
            return false;
        }
        tail.clear();
        rest = &rest[need..];
    }
    match std::str::from_utf8(rest) {
        Ok(_) => true,
        Err(e) if e.error_len().is_none() => {
            tail.extend_from_slice(&rest[e.valid_up_to()..]);
            true
        }
        Err(_) => false,
    }
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    // Digit by digit: `write!` per byte was most of the time of hashing a suppression list.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(DIGITS[usize::from(b >> 4)] as char);
        text.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    text
}
