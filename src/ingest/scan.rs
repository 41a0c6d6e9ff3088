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

use std::io::{Read, Seek, SeekFrom};

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
    /// Whether the next record is the header: only the first part of a file has one.
    header: bool,
    /// The line of the first data record when no record spans lines: 2 after a header, 1 in a
    /// part after the first (whose lines count from its own start).
    first_data_line: u64,
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
        let is_header = self.header;
        if self.record_bytes == 0 {
            // A blank line: polars and the csv crate disagree on these.
            self.clean = false;
        } else if self.field != self.fields_expected {
            self.clean = false;
        } else if !is_header {
            let data_index = self.records;
            self.records += 1;
            if self.record_line != data_index + self.first_data_line && self.record_lines.is_none()
            {
                let first = self.first_data_line;
                self.record_lines = Some((0..data_index).map(|i| (i + first) as u32).collect());
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
            self.header = false;
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
        // Only the e-mail field's emptiness is asked for (a blank-looking field elsewhere is
        // still a field).
        if !self.field_has_content
            && Some(self.field) == self.email_field
            && run.iter().any(|b| !b.is_ascii_whitespace())
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

    /// A checker of a file, or (`at_start` false) of a part of one that starts at a record
    /// boundary, with no header.
    fn new(
        delimiter: u8,
        fields_expected: usize,
        email_field: Option<usize>,
        split_bytes: u64,
        at_start: bool,
    ) -> Checker {
        let mut special = [false; 256];
        for b in [delimiter, b'\n', b'\r', b'"'] {
            special[b as usize] = true;
        }
        Checker {
            delimiter,
            special,
            fields_expected,
            email_field,
            state: State::FieldStart,
            clean: true,
            header: at_start,
            first_data_line: if at_start { 2 } else { 1 },
            line: 1,
            record_line: 1,
            records: 0,
            field: 0,
            field_has_content: false,
            email_empty: false,
            record_bytes: 0,
            prev: if at_start { 0 } else { b'\n' },
            record_lines: None,
            carry: Vec::new(),
            empty_email: Vec::new(),
            backslash_quote: false,
            base: 0,
            splits: Vec::new(),
            split_bytes,
        }
    }

    /// Whether the checker stands between two records (after the header), as a part that
    /// follows it supposes.
    fn between_records(&self) -> bool {
        !self.header && self.state == State::FieldStart && self.field == 0 && self.record_bytes == 0
    }

    /// The checker of the part that follows this one appended: its lines, records and splits
    /// counted on from this one's.
    fn append(&mut self, next: Checker) {
        let lines = self.line - 1;
        let records = self.records;
        let shift = |line: u64| line + lines;
        // Each part's lines follow from its records unless some record spans lines: in it,
        // or in the parts before (which moves every line after).
        let spans = self.line != records + self.first_data_line;
        if spans || self.record_lines.is_some() || next.record_lines.is_some() {
            let first = self.first_data_line;
            let mut all = self
                .record_lines
                .take()
                .unwrap_or_else(|| (0..records).map(|i| (i + first) as u32).collect());
            match next.record_lines {
                Some(own) => all.extend(own.iter().map(|l| l.saturating_add(lines as u32))),
                None => all.extend((0..next.records).map(|i| shift(i + 1) as u32)),
            }
            self.record_lines = Some(all);
        }
        self.empty_email.extend(
            next.empty_email
                .into_iter()
                .map(|(line, raw)| (shift(line), raw)),
        );
        self.splits
            .extend(next.splits.into_iter().map(|split| Split {
                offset: split.offset,
                record: split.record + records,
            }));
        self.records += next.records;
        self.line = shift(next.line);
        self.record_line = shift(next.record_line);
        self.clean = next.clean;
        self.backslash_quote = next.backslash_quote;
        self.state = next.state;
        self.field = next.field;
        self.record_bytes = next.record_bytes;
    }
}

/// The file's bytes each part of a large file is checked on, at the least (a part costs a
/// thread and a check of where it starts).
fn part_bytes(split_bytes: u64) -> u64 {
    split_bytes.saturating_mul(16).max(1)
}

/// The bytes read at a time.
const CHUNK: usize = 1 << 20;

/// Reads the file that `open` opens to its end, hashing it and checking its structure. `len`
/// is about the file's length, `skip` bytes (a BOM) are hashed but not checked. Record
/// boundaries are kept about every `split_bytes` (the run uses [`SPLIT_BYTES`]).
///
/// A large file is checked in parts, one a core, each supposed to start at the first record
/// boundary after its share of the bytes (the first line break). A part whose line break lies
/// inside a quoted field is found out when the part before it ends elsewhere than between two
/// records; the file is then checked again in one part, which is always right.
pub fn scan<R: Read + Seek>(
    open: impl Fn() -> std::io::Result<R> + Sync,
    len: u64,
    skip: usize,
    delimiter: u8,
    fields_expected: usize,
    email_field: Option<usize>,
    split_bytes: u64,
) -> std::io::Result<Scan> {
    let parts = (len / part_bytes(split_bytes)).clamp(1, crate::parallel::cores() as u64);
    let check = |parts: usize| {
        check_in_parts(
            &open,
            len,
            parts,
            skip,
            (delimiter, fields_expected, email_field, split_bytes),
        )
    };
    if parts > 1
        && let Some(scan) = check(parts as usize)?
    {
        return Ok(scan);
    }
    check(1)?.ok_or_else(|| std::io::Error::other("a file in one part is always checked"))
}

/// [`scan`] in `parts` parts (a test sets how many); `None` when a part did not start at a
/// record boundary.
pub fn scan_in_parts(
    text: &[u8],
    parts: usize,
    fields_expected: usize,
    email_field: Option<usize>,
    split_bytes: u64,
) -> std::io::Result<Option<Scan>> {
    check_in_parts(
        &|| Ok(std::io::Cursor::new(text)),
        text.len() as u64,
        parts,
        0,
        (b',', fields_expected, email_field, split_bytes),
    )
}

/// Each part is read and checked on a thread of its own, from its own place in the file, and
/// the hash and the UTF-8 check read the whole file on another: a part fed from one reader
/// in the file's order would wait until the reader reached it, and the parts would take
/// turns on the cores instead of sharing them.
fn check_in_parts<R: Read + Seek>(
    open: &(impl Fn() -> std::io::Result<R> + Sync),
    len: u64,
    parts: usize,
    skip: usize,
    (delimiter, fields_expected, email_field, split_bytes): (u8, usize, Option<usize>, u64),
) -> std::io::Result<Option<Scan>> {
    // Part `k` of `n` starts after the first line break at or past `k/n` of the bytes after
    // `skip`, and ends where the next one starts.
    let body = len.saturating_sub(skip as u64);
    let targets: Vec<u64> = (1..parts as u64)
        .map(|k| skip as u64 + body * k / parts as u64)
        .collect();
    let (hashed, checked) = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| hash_all(open()?));
        let checked = crate::parallel::map((0..parts).collect(), |part| {
            let mut checker = Checker::new(
                delimiter,
                fields_expected,
                email_field,
                split_bytes,
                part == 0,
            );
            let from = match part {
                0 => Cut::At(skip as u64),
                _ => Cut::After(targets[part - 1]),
            };
            let to = targets.get(part).copied();
            let started = check_part(open()?, from, to, &mut checker)?;
            Ok::<_, std::io::Error>((checker, started))
        });
        (hashing.join(), checked)
    });
    let (digest, utf8, len) =
        hashed.map_err(|_| std::io::Error::other("the hashing thread failed"))??;
    let checkers = checked.into_iter().collect::<std::io::Result<Vec<_>>>()?;
    let mut checkers = checkers
        .into_iter()
        .enumerate()
        .filter(|(part, (_, started))| *part == 0 || *started)
        .map(|(_, (checker, _))| checker);
    let Some(mut checker) = checkers.next() else {
        return Ok(None);
    };
    for next in checkers {
        if !checker.clean {
            break;
        }
        if !checker.between_records() {
            return Ok(None);
        }
        checker.append(next);
    }
    if !utf8 {
        checker.clean = false;
    }
    checker.finish();
    Ok(Some(Scan {
        sha256: hex(&digest),
        clean: checker.clean,
        records: checker.records,
        record_lines: checker.record_lines,
        empty_email: checker.empty_email,
        backslash_quote: checker.backslash_quote,
        splits: checker.splits,
        len,
    }))
}

/// One read into `buf`, again if a signal interrupted it; 0 at the end.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            read => return read,
        }
    }
}

/// The SHA-256 of the whole text, whether it is valid UTF-8, and its length.
fn hash_all(mut reader: impl Read) -> std::io::Result<([u8; 32], bool, u64)> {
    let mut hasher = Sha256::new();
    let mut tail = Vec::new();
    let mut utf8 = true;
    let mut read = 0u64;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let got = read_some(&mut reader, &mut buf)?;
        if got == 0 {
            break;
        }
        hasher.update(&buf[..got]);
        utf8 = utf8 && utf8_ok(&buf[..got], &mut tail);
        read += got as u64;
    }
    Ok((hasher.finalize().into(), utf8 && tail.is_empty(), read))
}

/// Where a part starts: at an offset, or after the first line break at or past one.
#[derive(Clone, Copy)]
enum Cut {
    At(u64),
    After(u64),
}

/// Feeds `checker` the part from `from` up to and with the first line break at or past `to`
/// (or to the end); whether the part holds any byte.
fn check_part(
    mut reader: impl Read + Seek,
    from: Cut,
    to: Option<u64>,
    checker: &mut Checker,
) -> std::io::Result<bool> {
    let (mut pos, mut seeking) = match from {
        Cut::At(at) => (at, false),
        Cut::After(at) => (at, true),
    };
    reader.seek(SeekFrom::Start(pos))?;
    let mut started = false;
    let mut buf = vec![0u8; CHUNK];
    while checker.clean {
        let got = read_some(&mut reader, &mut buf)?;
        if got == 0 {
            break;
        }
        let chunk = &buf[..got];
        let mut start = 0;
        if seeking {
            match memchr::memchr(b'\n', chunk) {
                Some(at) => {
                    start = at + 1;
                    seeking = false;
                }
                None => {
                    pos += got as u64;
                    continue;
                }
            }
        }
        // Where the part ends in this chunk, if it does: after the first line break at or past
        // `to`, which the part after it starts after.
        let mut end = got;
        let mut last = false;
        if let Some(to) = to.filter(|&to| pos + got as u64 > to) {
            let look = to.saturating_sub(pos) as usize;
            if let Some(at) = memchr::memchr(b'\n', &chunk[look..]) {
                end = look + at + 1;
                last = true;
            }
        }
        if start < end {
            if !started && matches!(from, Cut::After(_)) {
                checker.splits.push(Split {
                    offset: pos + start as u64,
                    record: 0,
                });
            }
            started = true;
            checker.base = pos + start as u64;
            checker.feed(&chunk[start..end]);
        }
        pos += got as u64;
        if last {
            break;
        }
    }
    Ok(started)
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
