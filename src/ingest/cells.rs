//! A clean file's records split into their cells, 64 bytes at a time (see [`split`]).
//!
//! The structure check ([`super::scan`]) found every record whole, so the quotes alone tell
//! where a cell may hold a delimiter or a line break: each 64-byte block is turned into three
//! bitmasks (quotes, delimiters, line feeds), the bytes inside quotes are the running parity
//! of the quotes before them, and the delimiters and line feeds outside quotes are the cells'
//! ends. A byte at a time, or a search per cell, cost more than the cells' own work: most
//! cells are a dozen bytes.
//!
//! The bytes are checked to be UTF-8 as they are split, so the cells are handed over as text:
//! a block of ASCII bytes is UTF-8, and from a block of any other bytes on a window is checked
//! just ahead of the blocks split. Checked whole before the split, the bytes were read from
//! memory twice.

/// What [`split`] hands each cell and record to; `'a` is the split bytes' lifetime.
pub trait Cells<'a> {
    /// The cell of field `field` (from 0) of the current record: its text without the quotes
    /// around it, and whether that text holds doubled quotes (`""` for each `"`, see
    /// [`unescape`]). An empty cell, quoted or not, is empty text.
    fn cell(&mut self, field: usize, text: &'a str, escaped: bool);
    /// The current record ended; `record` is its text without its line end. Whether to read
    /// on.
    fn end(&mut self, record: &'a str) -> bool;
}

/// The bytes were not the whole records of a clean file of this many fields, or not UTF-8: the
/// file changed since it was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// Splits `bytes`, whole records of `shape.fields` cells each (the last may lack its line
/// end), handing every cell and record end to `cells`, until it asks to stop; the number of
/// records. A line end is `\n` or `\r\n`. Anything a clean file cannot hold is [`Malformed`]:
/// bytes that are not UTF-8, a record of another length or a blank line, a quote [`Quoting`]
/// forbids, an unclosed quote, or (unless `shape.multiline`) a line break inside quotes. The
/// cells of the records before it were handed over.
///
/// So the split checks what the structure check ([`super::scan`]) does, at the cost of two
/// more masks: a file read without that check (see [`super::parts::Parts::checked`]) is read
/// right or found not clean, never misread.
pub fn split<'a>(
    bytes: &'a [u8],
    shape: Shape,
    cells: &mut impl Cells<'a>,
) -> Result<u64, Malformed> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512bw") {
        // SAFETY: the CPU has AVX-512BW.
        return unsafe { split_avx512(bytes, shape, cells) };
    }
    split_portable(bytes, shape, cells)
}

/// What a clean file's records are made of, for [`split`].
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub delimiter: u8,
    /// The cells of every record.
    pub fields: usize,
    /// Whether a quoted cell may hold a line break.
    pub multiline: bool,
}

/// [`split`] as a CPU without AVX-512BW splits (a test holds the two equal).
pub fn split_portable<'a>(
    bytes: &'a [u8],
    shape: Shape,
    cells: &mut impl Cells<'a>,
) -> Result<u64, Malformed> {
    split_by(Portable, bytes, shape, cells)
}

/// [`split`] with a block's masks made by AVX-512BW: one load and one compare a mask, where 16
/// bytes at a time took four of each and the shifts and ors to put them together. Splitting
/// ten million rows took 0.60 CPU-s instead of 0.75 (profiled runs).
///
/// # Safety
/// The CPU must have AVX-512BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
unsafe fn split_avx512<'a>(
    bytes: &'a [u8],
    shape: Shape,
    cells: &mut impl Cells<'a>,
) -> Result<u64, Malformed> {
    split_by(Avx512(()), bytes, shape, cells)
}

/// [`split`], with the masks of each block made by `masker`.
#[inline(always)]
fn split_by<'a>(
    masker: impl Masker,
    bytes: &'a [u8],
    Shape {
        delimiter,
        fields,
        multiline,
    }: Shape,
    cells: &mut impl Cells<'a>,
) -> Result<u64, Malformed> {
    let mut records = 0u64;
    let mut field = 0usize;
    let (mut record_start, mut field_start) = (0usize, 0usize);
    let mut quoting = Quoting::default();
    // Quotes seen before the current block, and before the current cell.
    let mut quotes_before = 0u64;
    let mut quotes_at_cell = 0u64;
    let mut pos = 0usize;
    // The bytes before this are UTF-8; always at least to the end of the current block.
    let mut utf8_to = 0usize;
    while pos < bytes.len() {
        let (masks, not_ascii) = masker.of(&bytes[pos..], [b'"', delimiter, b'\n', b'\r', b'\\']);
        let block_end = bytes.len().min(pos + 64);
        if utf8_to < block_end {
            // UTF-8 and then ASCII is UTF-8; any other block starts a window.
            utf8_to = match not_ascii {
                0 => block_end,
                _ => utf8_window(bytes, utf8_to).ok_or(Malformed)?,
            };
        }
        let [quote, delim, line, ..] = masks;
        let inq = quoting.block(masks, bytes.len() - pos).ok_or(Malformed)?;
        if !multiline && line & inq != 0 {
            return Err(Malformed);
        }
        let mut ends = (delim | line) & !inq;
        while ends != 0 {
            let bit = ends.trailing_zeros();
            let at = pos + bit as usize;
            let quotes = quotes_before + u64::from((quote & ((1u64 << bit) - 1)).count_ones());
            let is_line = line >> bit & 1 == 1;
            let mut end = at;
            if is_line && end > field_start && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            if field >= fields || (is_line && (field + 1 != fields || end == record_start)) {
                return Err(Malformed);
            }
            emit(
                &bytes[field_start..end],
                quotes - quotes_at_cell,
                field,
                cells,
            )?;
            if is_line {
                records += 1;
                if !cells.end(text(&bytes[record_start..end])) {
                    return Ok(records);
                }
                field = 0;
                record_start = at + 1;
            } else {
                field += 1;
            }
            field_start = at + 1;
            quotes_at_cell = quotes;
            ends &= ends - 1;
        }
        quotes_before += u64::from(quote.count_ones());
        pos += 64;
    }
    if quoting.inside != 0 {
        return Err(Malformed);
    }
    // The last record, without a line end.
    if field_start < bytes.len() || field > 0 {
        let cell = &bytes[field_start..];
        let cell = cell.strip_suffix(b"\r").unwrap_or(cell);
        if field + 1 != fields {
            return Err(Malformed);
        }
        emit(cell, quotes_before - quotes_at_cell, field, cells)?;
        let record = &bytes[record_start..];
        cells.end(text(record.strip_suffix(b"\r").unwrap_or(record)));
        records += 1;
    }
    Ok(records)
}

/// The quoting rules of a clean file, checked on the masks of 64 bytes at a time (quotes,
/// delimiters, line feeds, carriage returns, backslashes, in that order): an opening quote
/// starts a cell or follows a closing one (`""` inside quotes), a closing quote ends its cell
/// or is doubled, a carriage return outside quotes ends its line, and no quote follows a
/// backslash (MailPoet's `\"`, which the record-level pass reads). What a block's last byte
/// was is carried on to the next.
#[derive(Debug, Clone, Copy)]
pub struct Quoting {
    /// All ones while the blocks so far end inside quotes.
    pub inside: u64,
    /// The last byte of the block before ended a cell (so does the start), closed a quote,
    /// was a carriage return outside quotes, or a backslash: each as bit 0.
    after_end: u64,
    after_close: u64,
    after_cr: u64,
    after_backslash: u64,
}

impl Default for Quoting {
    fn default() -> Quoting {
        Quoting {
            inside: 0,
            after_end: 1,
            after_close: 0,
            after_cr: 0,
            after_backslash: 0,
        }
    }
}

impl Quoting {
    /// The bits of the block inside quotes (counting each opening quote, not the closing
    /// one), or `None` when a rule is broken. `left` is how many bytes are left from the
    /// block's start: what ends the bytes may end them.
    pub fn block(
        &mut self,
        [quote, delim, line, cr, backslash]: [u64; 5],
        left: usize,
    ) -> Option<u64> {
        let last = !((1u64 << left.min(64).saturating_sub(1)) - 1);
        let inq = prefix_xor(quote) ^ self.inside;
        self.inside = ((inq as i64) >> 63) as u64;
        let (open, close) = (quote & inq, quote & !inq);
        let ends = (delim | line) & !inq;
        let cr_out = cr & !inq;
        let may_follow_close = delim | line | cr | quote;
        let bad = (open & !((ends << 1) | self.after_end | (close << 1) | self.after_close))
            | (close & !((may_follow_close >> 1) | last))
            | (self.after_close & !may_follow_close & 1)
            | (cr_out & !((line >> 1) | last))
            | (self.after_cr & !line & 1)
            | (close & ((backslash << 1) | self.after_backslash));
        self.after_end = ends >> 63;
        self.after_close = close >> 63;
        self.after_cr = cr_out >> 63;
        self.after_backslash = backslash >> 63;
        (bad == 0).then_some(inq)
    }
}

/// Hands over the cell `raw`, which holds `quotes` quotes: none (a plain cell), or a quoted
/// cell whose inner quotes are doubled.
#[inline(always)]
fn emit<'a>(
    raw: &'a [u8],
    quotes: u64,
    field: usize,
    cells: &mut impl Cells<'a>,
) -> Result<(), Malformed> {
    if quotes == 0 {
        cells.cell(field, text(raw), false);
        return Ok(());
    }
    let n = raw.len();
    if n < 2 || raw[0] != b'"' || raw[n - 1] != b'"' || !quotes.is_multiple_of(2) {
        return Err(Malformed);
    }
    let inner = &raw[1..n - 1];
    let escaped = quotes > 2;
    if escaped {
        // Every inner quote is the first of a pair.
        let mut at = 0;
        while let Some(q) = memchr::memchr(b'"', &inner[at..]) {
            if inner.get(at + q + 1) != Some(&b'"') {
                return Err(Malformed);
            }
            at += q + 2;
        }
    }
    cells.cell(field, text(inner), escaped);
    Ok(())
}

/// Bytes checked in one step by [`utf8_window`]: small enough that the split finds them in
/// the cache.
pub const UTF8_WINDOW: usize = 32 << 10;

/// The end of the window of `bytes` from `from` (at most [`UTF8_WINDOW`] bytes, moved back to
/// where a character may start), when that window is UTF-8. A string is UTF-8 exactly when
/// its parts between such places are.
fn utf8_window(bytes: &[u8], from: usize) -> Option<usize> {
    let mut end = bytes.len().min(from + UTF8_WINDOW);
    // A continuation byte never starts a character: at most three follow the one that does.
    for _ in 0..3 {
        if end < bytes.len() && bytes[end] & 0xC0 == 0x80 {
            end -= 1;
        }
    }
    crate::bytes::is_utf8(&bytes[from..end]).then_some(end)
}

/// The text of bytes [`split`] checked to be UTF-8 and cut at ASCII bytes (separators, quotes,
/// line ends), never inside a character.
fn text(bytes: &[u8]) -> &str {
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    // SAFETY: the bytes lie within what `split` found UTF-8 before handing them over, and both
    // their ends are at ASCII bytes, so they are whole characters.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// The text of an escaped cell (see [`Cells::cell`]) with each `""` read as `"`, in `out`.
pub fn unescape<'a>(text: &str, out: &'a mut String) -> &'a str {
    out.clear();
    for (i, part) in text.split('"').step_by(2).enumerate() {
        if i > 0 {
            out.push('"');
        }
        out.push_str(part);
    }
    out
}

/// Each bit set where a byte lies inside quotes (counting the opening quote, not the closing
/// one): the running parity of the quotes up to it.
pub fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// A bit per byte of the 64 bytes at the start of `bytes` (fewer at the end: the bits past it
/// are clear) for each of the `targets`: where that byte stands.
pub fn masks<const N: usize>(bytes: &[u8], targets: [u8; N]) -> [u64; N] {
    Portable.of(bytes, targets).0
}

/// How the masks of a block are made (see [`masks`]).
trait Masker: Copy {
    /// The masks of the `targets` in `block`, and of its bytes that are not ASCII.
    fn block<const N: usize>(self, block: &[u8; 64], targets: [u8; N]) -> ([u64; N], u64);

    /// [`Masker::block`] of the 64 bytes at the start of `bytes`, or of fewer at the end.
    #[inline(always)]
    fn of<const N: usize>(self, bytes: &[u8], targets: [u8; N]) -> ([u64; N], u64) {
        if let Some(whole) = bytes.first_chunk::<64>() {
            return self.block(whole, targets);
        }
        let mut block = [0u8; 64];
        block[..bytes.len()].copy_from_slice(bytes);
        // The padding is none of the targets, even a zero one (and it is ASCII).
        let within = (1u64 << bytes.len()) - 1;
        let (masks, not_ascii) = self.block(&block, targets);
        (masks.map(|mask| mask & within), not_ascii)
    }
}

/// Masks made 16 bytes at a time (SSE2 on x86-64, a byte at a time elsewhere).
#[derive(Clone, Copy)]
struct Portable;

impl Masker for Portable {
    #[inline(always)]
    fn block<const N: usize>(self, block: &[u8; 64], targets: [u8; N]) -> ([u64; N], u64) {
        block_masks(block, targets)
    }
}

/// Masks made by AVX-512BW; made only where the CPU has it ([`split`]).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Avx512(());

#[cfg(target_arch = "x86_64")]
impl Masker for Avx512 {
    #[inline(always)]
    fn block<const N: usize>(self, block: &[u8; 64], targets: [u8; N]) -> ([u64; N], u64) {
        // SAFETY: an `Avx512` is only made where the CPU has AVX-512BW.
        unsafe { avx512_masks(block, targets) }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
#[inline]
fn avx512_masks<const N: usize>(block: &[u8; 64], targets: [u8; N]) -> ([u64; N], u64) {
    use std::arch::x86_64::{
        _mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_movepi8_mask, _mm512_set1_epi8,
    };
    // SAFETY: the load reads the block's 64 bytes.
    let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
    let mut masks = [0u64; N];
    for (mask, &target) in masks.iter_mut().zip(&targets) {
        *mask = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(target as i8));
    }
    (masks, _mm512_movepi8_mask(v))
}

#[cfg(target_arch = "x86_64")]
fn block_masks<const N: usize>(block: &[u8; 64], targets: [u8; N]) -> ([u64; N], u64) {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let (mut masks, mut not_ascii) = ([0u64; N], 0u64);
    // SAFETY: SSE2 is part of x86_64; each load reads 16 of the block's 64 bytes.
    unsafe {
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
            for (mask, &target) in masks.iter_mut().zip(&targets) {
                let hits = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(target as i8)));
                *mask |= u64::from(hits as u16) << (16 * k);
            }
            not_ascii |= u64::from(_mm_movemask_epi8(v) as u16) << (16 * k);
        }
    }
    (masks, not_ascii)
}

#[cfg(not(target_arch = "x86_64"))]
fn block_masks<const N: usize>(block: &[u8; 64], targets: [u8; N]) -> ([u64; N], u64) {
    let (mut masks, mut not_ascii) = ([0u64; N], 0u64);
    for (i, &b) in block.iter().enumerate() {
        for (mask, &target) in masks.iter_mut().zip(&targets) {
            *mask |= u64::from(b == target) << i;
        }
        not_ascii |= u64::from(!b.is_ascii()) << i;
    }
    (masks, not_ascii)
}
