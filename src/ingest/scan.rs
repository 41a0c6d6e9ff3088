//! The structure check: one read of a file (mapped, a window at a time) that hashes it
//! (SHA-256, for the report) and tells whether the fast reader of [`super::parts`] may take it
//! as it is.
//!
//! That reader tells cells apart by their separators alone and cannot say on which line a
//! ragged row stands. So a file is checked here first (the audit's contacts files that look
//! like a record a line are not: see [`lines`]): a file in which every record has
//! the header's field count, that is valid UTF-8, and that has no blank line, stray quote or
//! backslash-escaped quote is *clean* and goes straight to it (checked 64 bytes at a time,
//! `Checker::feed_blocks`).
//! Anything else takes the record-level pass of [`super::records`], which finds each bad row's
//! line. The check also keeps the raw text of rows without an e-mail, which go to `rejects.csv`,
//! and the first line of every record when some record spans several lines.

use std::ops::Range;

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

/// A record boundary: the data record `record` (counting from 0) starts at byte `offset`. (In
/// a file read without the check, `record` is not known: 0, see [`lines`].)
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

    /// [`Checker::feed`] of whole records, 64 bytes at a time: bitmasks of the quotes,
    /// delimiters, line feeds, carriage returns and backslashes, the bytes inside quotes as the
    /// quotes' running parity, and the quoting rules of a clean file checked on the masks
    /// ([`super::cells::Quoting`], which the reader's split checks too). A byte at a time took
    /// 1.5 of the 2.7 CPU-seconds the check of ten million rows cost.
    ///
    /// `text` starts at a record's start (at [`Checker::base`] in the file). Returns where the
    /// records it took end, and whether it stopped there for something a clean file cannot
    /// hold (a rule broken, a blank or ragged record): that record and everything after it
    /// are for [`Checker::feed`], which finds what is wrong exactly as it always did. So is a
    /// last record that no line end closes.
    fn feed_blocks(&mut self, text: &[u8]) -> (usize, bool) {
        use super::cells::{Quoting, masks};
        let first_line = self.line;
        let (mut record_start, mut field_start, mut field) = (0usize, 0usize, 0usize);
        let mut email_empty = false;
        // Line feeds before the current block; the quoting rules, from a part's start.
        let mut lines_before = 0u64;
        let mut quoting = Quoting::default();
        let mut pos = 0;
        let spoilt = loop {
            if pos >= text.len() {
                break false;
            }
            let masks = masks(&text[pos..], [b'"', self.delimiter, b'\n', b'\r', b'\\']);
            let [_, delim, line, ..] = masks;
            let Some(inq) = quoting.block(masks, text.len() - pos) else {
                break true;
            };
            let ends = (delim | line) & !inq;
            let mut at_ends = ends;
            let mut ragged = false;
            while at_ends != 0 {
                let bit = at_ends.trailing_zeros();
                let at = pos + bit as usize;
                let is_line = line >> bit & 1 == 1;
                let end = if is_line && at > field_start && text[at - 1] == b'\r' {
                    at - 1
                } else {
                    at
                };
                if Some(field) == self.email_field {
                    email_empty = is_blank(&text[field_start..end]);
                }
                if is_line {
                    if end == record_start || field + 1 != self.fields_expected {
                        ragged = true;
                        break;
                    }
                    let below = (1u64 << bit) - 1;
                    self.line =
                        first_line + lines_before + u64::from((line & below).count_ones()) + 1;
                    // The record as the byte-level check leaves it at its line end.
                    self.field = field;
                    self.field_has_content = true;
                    self.email_empty = email_empty;
                    self.record_bytes = end - record_start;
                    self.end_record(text, record_start, at + 1);
                    self.prev = b'\n';
                    record_start = at + 1;
                    field = 0;
                    email_empty = false;
                } else {
                    field += 1;
                }
                field_start = at + 1;
                at_ends &= at_ends - 1;
            }
            if ragged {
                break true;
            }
            lines_before += u64::from(line.count_ones());
            pos += 64;
        };
        (record_start, spoilt)
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

/// A file's bytes as the check reads them: a memory map, whose pages the check hands back
/// once it has read them, or text in memory.
pub trait Source: Send {
    fn bytes(&self) -> &[u8];
    /// The check is about to read `range` of the bytes.
    fn reading(&self, _range: Range<usize>) {}
    /// The check is done with `range` of the bytes.
    fn done_with(&self, _range: Range<usize>) {}
}

impl Source for &[u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl Source for memmap2::Mmap {
    fn bytes(&self) -> &[u8] {
        self
    }

    /// A window's pages mapped in one call, not a fault every few pages.
    fn reading(&self, range: Range<usize>) {
        // A failure (a kernel before 5.14) leaves the pages to be faulted in as they are read.
        let _ = self.advise_range(memmap2::Advice::PopulateRead, range.start, range.len());
    }

    /// A page read stays mapped, and counts towards the process's memory, until the map is
    /// dropped: checking a 1.5 GB file held all of it. The pages are the page cache's, so
    /// they are only unmapped here; a later read maps them again.
    fn done_with(&self, range: Range<usize>) {
        // SAFETY: the map is a read-only map of a file: after MADV_DONTNEED its pages read
        // as the file again, so every slice of it keeps its bytes (unless another program
        // changes the file, as it could at any time). A failure only keeps the pages.
        let _ = unsafe {
            self.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                range.start,
                range.len(),
            )
        };
    }
}

/// The bytes checked, hashed and handed back at a time.
const WINDOW: usize = 8 << 20;

/// Checks `part` of `source` (whole records) into `checker` by `pass`, a window at a time;
/// whether the part is UTF-8.
fn check_part(checker: &mut Checker, source: &impl Source, part: Range<usize>, pass: Pass) -> bool {
    let text = &source.bytes()[part.clone()];
    let mut utf8 = true;
    let (mut at, mut window) = (0, WINDOW);
    if pass == Pass::Blocks {
        loop {
            let end = (at + window).min(text.len());
            source.reading(part.start + at..part.start + end);
            checker.base = (part.start + at) as u64;
            let (took, spoilt) = checker.feed_blocks(&text[at..end]);
            // Each window starts at a record's start, so never inside a character.
            utf8 = utf8 && crate::bytes::is_utf8(&text[at..at + took]);
            source.done_with(part.start + at..part.start + at + took);
            at += took;
            if spoilt || end == text.len() {
                break;
            }
            // A record longer than the window: a window twice as long.
            if took == 0 {
                window *= 2;
            }
        }
    }
    if at < text.len() {
        checker.base = (part.start + at) as u64;
        checker.feed(&text[at..]);
        utf8 = utf8 && crate::bytes::is_utf8(&text[at..]);
    }
    utf8
}

/// The SHA-256 of the bytes, a window at a time.
pub fn hash(source: &impl Source) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hash_on(source, &mut hasher, 0, WINDOW, |_, _| true);
    hasher.finalize().into()
}

/// Hashes the bytes of `source` from `from` on into `hasher`, `window` bytes at a time (each
/// window's pages mapped in one call and handed back once hashed); after each window, `go_on`
/// hears the state and how far it has got, and says whether to go on.
pub fn hash_on<S: Source>(
    source: &S,
    hasher: &mut Sha256,
    from: usize,
    window: usize,
    mut go_on: impl FnMut(&Sha256, usize) -> bool,
) {
    let bytes = source.bytes();
    for start in (from.min(bytes.len())..bytes.len()).step_by(window.max(1)) {
        let window = start..(start + window).min(bytes.len());
        source.reading(window.clone());
        hash_read_ahead(hasher, &bytes[window.clone()]);
        source.done_with(window.clone());
        if !go_on(hasher, window.end) {
            return;
        }
    }
}

/// Feeds `bytes` to `hasher` a kilobyte at a time, with the cache lines 8 KiB ahead fetched
/// before each. SHA-256's chain of rounds can hold back the loads behind it, so that the hash
/// reads memory a line at a time as it goes. On the machine of 4 December 2026's morning the
/// hash of a file in memory went from 1.29–1.32 to 1.74–1.76 GB/s with the lines of each
/// 16 KiB stretch loaded before it was hashed. By that evening the same machine hashed
/// 1.43 GB/s without help, and those loads cost 8% (201–205 ms against 184–188 ms for the
/// 256 MB of the `file_hash` bench); fetching ahead a kilobyte at a time costs about 1% there
/// (187.4–189 ms, three runs). Whether it still wins back the morning's third, no machine at
/// hand could show.
fn hash_read_ahead(hasher: &mut Sha256, bytes: &[u8]) {
    const PIECE: usize = 1 << 10;
    const AHEAD: usize = 8 << 10;
    const LINE: usize = 64;
    for (i, piece) in bytes.chunks(PIECE).enumerate() {
        let next = bytes.get(i * PIECE + AHEAD..).unwrap_or_default();
        next.iter().take(PIECE).step_by(LINE).for_each(prefetch);
        hasher.update(piece);
    }
}

/// Asks for the cache line of `byte` ahead of its use (nothing elsewhere than on x86-64).
#[inline(always)]
fn prefetch(byte: &u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing and cannot fault, and `byte` is a live reference.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(byte).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = byte;
}

/// Whether a cell (quoted or not, quotes still on) holds only ASCII blanks: a doubled quote
/// inside it is text.
fn is_blank(cell: &[u8]) -> bool {
    let inner = match cell {
        [b'"', inner @ .., b'"'] => inner,
        _ => cell,
    };
    inner.iter().all(u8::is_ascii_whitespace)
}

/// The file's bytes each part of a large file is checked on, at the least (a part costs a
/// thread and a check of where it starts).
fn part_bytes(split_bytes: u64) -> u64 {
    split_bytes.saturating_mul(16).max(1)
}

/// How a part is checked: 64 bytes at a time (the run), or a byte at a time (what the other is
/// held to in the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Blocks,
    Bytes,
}

/// Checks the file that `open` opens (each reader opens its own: a map's pages that one
/// reader hands back are not another's), and hashes it. `skip` bytes (a BOM) are hashed but
/// not checked. Record boundaries are kept about every `split_bytes` (the run uses
/// [`SPLIT_BYTES`]).
///
/// A large file is checked in parts, one a core, each supposed to start at the first record
/// boundary after its share of the bytes (the first line break). A part whose line break lies
/// inside a quoted field is found out when the part before it ends elsewhere than between two
/// records; the file is then checked again in one part, which is always right. The hash is
/// taken once, on a thread of its own, beside either.
pub fn scan<S: Source>(
    open: impl Fn() -> std::io::Result<S> + Sync,
    skip: usize,
    delimiter: u8,
    fields_expected: usize,
    email_field: Option<usize>,
    split_bytes: u64,
) -> std::io::Result<Scan> {
    let whole = open()?;
    let len = whole.bytes().len();
    // The hash takes a core of its own all along (it is the longer of the two): the parts
    // share the others. On two cores, two parts beside the hash took 1.3-1.5 s of ten
    // million rows, one part 0.92-0.97 s.
    let cores = crate::parallel::cores().saturating_sub(1) as u64;
    let parts = (len as u64 / part_bytes(split_bytes)).clamp(1, cores.max(1)) as usize;
    let fields = (delimiter, fields_expected, email_field, split_bytes);
    std::thread::scope(|scope| {
        let hashing = scope.spawn(move || hash(&whole));
        let mut checked = None;
        if parts > 1 {
            checked = check_in_parts(&open, parts, skip, fields, Pass::Blocks)?;
        }
        let checker = match checked {
            Some(checker) => checker,
            None => check_in_parts(&open, 1, skip, fields, Pass::Blocks)?
                .ok_or_else(|| std::io::Error::other("a file in one part is always checked"))?,
        };
        let digest = hashing
            .join()
            .map_err(|_| std::io::Error::other("the hashing thread failed"))?;
        Ok(checker.into_scan(&digest, len))
    })
}

/// Where a file's data records start, every line taken for one, as [`lines`] finds them: not
/// checked, nor counted.
#[derive(Debug)]
pub struct Lines {
    /// About how many lines follow the header's, by the length of the first ones.
    pub estimate: u64,
    /// A line's start about every `split_bytes`, first the first after the header's; the
    /// records before each are not known (`record` is 0).
    pub splits: Vec<Split>,
    /// The file's length in bytes.
    pub len: u64,
}

/// The bytes whose lines [`lines`] counts to estimate the file's.
const SAMPLE_BYTES: usize = 1 << 20;

/// The record boundaries of a file that is taken to hold a record a line, without checking
/// it or counting its lines: the first line break past every `split_bytes`, a page or two of
/// the file read for each. The reader checks each batch as it splits it (see
/// [`super::parts::Parts::checked`]) and counts its records, so the run reads nothing of the
/// file before reading it; finding and counting every line break first took 0.11-0.15 s of
/// ten million rows on two cores.
///
/// `None` where the header's line is not plainly `fields_expected` names (a quote, a lone
/// carriage return) or no data line follows it: [`scan`] checks such a file, which costs
/// nothing much on a file that holds no data.
pub fn lines<S: Source>(
    source: &S,
    skip: usize,
    delimiter: u8,
    fields_expected: usize,
    split_bytes: u64,
) -> Option<Lines> {
    let bytes = source.bytes();
    let len = bytes.len();
    let skip = skip.min(len);
    let header_len = memchr::memchr(b'\n', &bytes[skip..])?;
    let header = &bytes[skip..skip + header_len];
    let header = header.strip_suffix(b"\r").unwrap_or(header);
    let plain = !header.is_empty()
        && memchr::memchr2(b'"', b'\r', header).is_none()
        && memchr::memchr_iter(delimiter, header).count() + 1 == fields_expected;
    let body = skip + header_len + 1;
    if !plain || body == len {
        return None;
    }
    let step = usize::try_from(split_bytes.max(1)).unwrap_or(usize::MAX);
    let mut splits = vec![Split {
        offset: body as u64,
        record: 0,
    }];
    let mut target = body.saturating_add(step);
    while target < len {
        let Some(at) = memchr::memchr(b'\n', &bytes[target..]) else {
            break;
        };
        let next = target + at + 1;
        if next >= len {
            break;
        }
        splits.push(Split {
            offset: next as u64,
            record: 0,
        });
        target = next.max(target.saturating_add(step));
    }
    let sample = &bytes[body..len.min(body + SAMPLE_BYTES)];
    let sampled = (memchr::memchr_iter(b'\n', sample).count() as u64).max(1);
    let estimate = ((len - body) as u64 * sampled).div_ceil(sample.len() as u64);
    Some(Lines {
        estimate,
        splits,
        len: len as u64,
    })
}

/// [`scan`] of `text` in `parts` parts (a test sets how many) by `pass`; `None` when a part did
/// not start at a record boundary.
pub fn scan_in_parts(
    text: &[u8],
    parts: usize,
    fields_expected: usize,
    email_field: Option<usize>,
    split_bytes: u64,
    pass: Pass,
) -> Option<Scan> {
    let fields = (b',', fields_expected, email_field, split_bytes);
    check_in_parts(&|| Ok(text), parts, 0, fields, pass)
        .expect("text in memory is always read")
        .map(|checker| checker.into_scan(&hash(&text), text.len()))
}

/// Each part is checked on a thread of its own, UTF-8 with it; the checker of the whole file,
/// finished, or `None` when a part did not start at a record boundary.
fn check_in_parts<S: Source>(
    open: &(impl Fn() -> std::io::Result<S> + Sync),
    parts: usize,
    skip: usize,
    (delimiter, fields_expected, email_field, split_bytes): (u8, usize, Option<usize>, u64),
    pass: Pass,
) -> std::io::Result<Option<Checker>> {
    let whole = open()?;
    let bytes = whole.bytes();
    let len = bytes.len();
    // Part `k` of `n` starts after the first line break at or past `k/n` of the bytes after
    // `skip`, and ends where the next one starts.
    let skip = skip.min(len);
    let mut cuts = vec![skip];
    for k in 1..parts {
        let target = skip + (len - skip) * k / parts;
        cuts.push(memchr::memchr(b'\n', &bytes[target..]).map_or(len, |at| target + at + 1));
    }
    cuts.push(len);
    let bom_utf8 = std::str::from_utf8(&bytes[..skip]).is_ok();
    drop(whole);
    let checked = crate::parallel::map((0..parts).collect(), |part| {
        let mut checker = Checker::new(
            delimiter,
            fields_expected,
            email_field,
            split_bytes,
            part == 0,
        );
        // A part after the first starts where the one before it ends, past a line break.
        let range = cuts[part]..cuts[part + 1].max(cuts[part]);
        let started = part == 0 || !range.is_empty();
        if part > 0 && started {
            checker.splits.push(Split {
                offset: range.start as u64,
                record: 0,
            });
        }
        let utf8 = check_part(&mut checker, &open()?, range, pass);
        Ok::<_, std::io::Error>((checker, started, utf8))
    });
    let checked = checked.into_iter().collect::<std::io::Result<Vec<_>>>()?;
    let utf8 = bom_utf8 && checked.iter().all(|(.., utf8)| *utf8);
    let mut checkers = checked
        .into_iter()
        .enumerate()
        .filter(|(part, (_, started, _))| *part == 0 || *started)
        .map(|(_, (checker, ..))| checker);
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
    Ok(Some(checker))
}

impl Checker {
    /// What the finished check found, with the file's hash and length.
    fn into_scan(self, digest: &[u8], len: usize) -> Scan {
        Scan {
            sha256: crate::bytes::hex(digest),
            clean: self.clean,
            records: self.records,
            record_lines: self.record_lines,
            empty_email: self.empty_email,
            backslash_quote: self.backslash_quote,
            splits: self.splits,
            len: len as u64,
        }
    }
}
