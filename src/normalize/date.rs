//! Dates and times (SPEC §2.3): one parser for every form the mailing services write, and its
//! polars wrapper that also counts what it could not read and what it had to assume.
//!
//! An instant is milliseconds since 1970-01-01T00:00:00Z. Naive times are read as UTC; a zone
//! name after a numeric offset (Go's `+0100 CET`) is ignored; a zone name alone other than
//! `UTC`/`GMT` cannot be placed and the value is not read (never guessed).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use polars::prelude::*;

use super::text::trim;

/// Which number comes first in `03/04/2021`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateOrder {
    DayFirst,
    MonthFirst,
}

impl DateOrder {
    /// The order as the policy file and the report write it.
    pub fn name(self) -> &'static str {
        match self {
            DateOrder::DayFirst => "day-first",
            DateOrder::MonthFirst => "month-first",
        }
    }
}

/// What the parser found in one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// Milliseconds since the epoch, UTC.
    pub millis: i64,
    /// No zone or offset was written: the value was read as UTC.
    pub naive: bool,
    /// The value carried a time of day (the import-artefact rule needs this, SPEC §3.1).
    pub has_time: bool,
}

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The years [`civil_day`] looks up: every year of four digits.
const TABLE_YEARS: usize = 10_000;

/// Per year from 0: the days from 1970-01-01 to its 1 January, doubled, plus one in a leap
/// year.
static YEAR_STARTS: [i32; TABLE_YEARS] = {
    let mut starts = [0i32; TABLE_YEARS];
    let mut y = 0;
    while y < TABLE_YEARS {
        let year = y as i64;
        starts[y] = (days_from_civil(year, 1, 1) * 2) as i32 + is_leap(year) as i32;
        y += 1;
    }
    starts
};

/// Per kind of year (common, leap): the days before each month (from 0), and after its last.
const MONTH_STARTS: [[u16; 13]; 2] = [
    [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365],
    [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366],
];

/// Days since 1970-01-01 of a date, or `None` when there is no such date (month 13, 31 April,
/// 29 February of a common year). A year of four digits (almost every value) is looked up
/// in [`YEAR_STARTS`], which gives its kind for the month's length in the same load; any
/// other year is worked out. (The lookup measured no faster than the arithmetic on its own:
/// the reader waits on its loads either way.)
#[inline]
pub fn civil_day(year: i64, month: u32, day: u32) -> Option<i64> {
    let (start, leap) = match usize::try_from(year).ok().and_then(|y| YEAR_STARTS.get(y)) {
        Some(&entry) => (Some(i64::from(entry >> 1)), (entry & 1) as usize),
        None => (None, usize::from(is_leap(year))),
    };
    let month = month as usize;
    if month == 0 || month > 12 || day == 0 {
        return None;
    }
    let (before, next) = (MONTH_STARTS[leap][month - 1], MONTH_STARTS[leap][month]);
    if day > u32::from(next - before) {
        return None;
    }
    Some(match start {
        Some(start) => start + i64::from(before) + i64::from(day) - 1,
        None => days_from_civil(year, month as u32, day),
    })
}

const fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The instant of midnight UTC that starts the given day.
pub fn start_of_day_millis(year: i32, month: u32, day: u32) -> i64 {
    days_from_civil(i64::from(year), month, day) * MS_PER_DAY
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) -> usize {
        let start = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Reads `min..=max` ASCII digits; returns the value and how many digits were read.
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let start = self.pos;
        let mut value: i64 = 0;
        while self.pos - start < max {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + i64::from(b - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        let n = self.pos - start;
        (n >= min).then_some((value, n))
    }

    fn rest_eq_ignore_case(&self, word: &str) -> bool {
        self.bytes[self.pos..].eq_ignore_ascii_case(word.as_bytes())
    }

    fn eat_word_ignore_case(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        if self.bytes.len() >= end
            && self.bytes[self.pos..end].eq_ignore_ascii_case(word.as_bytes())
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

/// Two-digit years 00–68 are 20xx and 69–99 are 19xx (SPEC §2.3).
fn expand_year(value: i64, digits: usize) -> i64 {
    match digits {
        2 if value <= 68 => 2000 + value,
        2 => 1900 + value,
        _ => value,
    }
}

/// Reads one date or date-time value; `None` when it is not one of the forms of SPEC §2.3.
/// `order` decides `dd/mm` against `mm/dd` where the value itself does not.
///
/// Inlined with its one-step path, so that the value comes back in registers: returned
/// through memory, its narrow stores were read back as one wide load, an eighth of the
/// time of the reader's cells.
#[inline]
pub fn parse(value: &str, order: DateOrder) -> Option<Parsed> {
    parse_iso(value.as_bytes()).or_else(|| parse_general(value, order))
}

/// `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS` (or with `T`), valid and without zone, the form most
/// exports write, read in one step; None for anything else, which [`parse_general`] reads. A
/// property test holds the two equal.
///
/// Eight bytes are checked and read at a time ([`digits_in`]): the date's first eight, then
/// the time's. Read a digit at a time, reading ten million rows (four dates each) took
/// 3.83-3.91 CPU-s against 3.62-3.64 now (two paired profiled runs).
#[inline]
pub fn parse_iso(b: &[u8]) -> Option<Parsed> {
    let has_time = match b.len() {
        10 => false,
        19 => true,
        _ => return None,
    };
    // `YYYY-MM-`: digits but for the two dashes.
    let head = word_at(b, 0)?;
    let date = digits_in(head, 0x00FF_FF00_FFFF_FFFF, 0x2D00_002D_0000_0000)?;
    let digit = |byte: u8| byte.wrapping_sub(b'0');
    let (d0, d1) = (digit(b[8]), digit(b[9]));
    if d0 > 9 || d1 > 9 {
        return None;
    }
    let n = |word: u64, i: u32| ((word >> (8 * i)) & 0xFF) as u32;
    let year = n(date, 0) * 1000 + n(date, 1) * 100 + n(date, 2) * 10 + n(date, 3);
    let month = n(date, 5) * 10 + n(date, 6);
    let day = u32::from(d0) * 10 + u32::from(d1);
    let mut millis = civil_day(i64::from(year), month, day)? * MS_PER_DAY;
    if has_time {
        // `HH:MM:SS` after a space or a `T`.
        if !matches!(b[10], b' ' | b'T') {
            return None;
        }
        let time = digits_in(
            word_at(b, 11)?,
            0xFFFF_00FF_FF00_FFFF,
            0x0000_3A00_003A_0000,
        )?;
        let (h, m, sec) = (
            n(time, 0) * 10 + n(time, 1),
            n(time, 3) * 10 + n(time, 4),
            n(time, 6) * 10 + n(time, 7),
        );
        if h > 23 || m > 59 || sec > 59 {
            return None;
        }
        millis += i64::from((h * 60 + m) * 60 + sec) * 1000;
    }
    Some(Parsed {
        millis,
        naive: true,
        has_time,
    })
}

/// The eight bytes of `b` from `at`, the first in the lowest bits.
#[inline(always)]
fn word_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(*b.get(at..)?.first_chunk::<8>()?))
}

/// The value of each byte of `word` that `digits` marks (0xFF), when each is an ASCII digit and
/// every other byte is what `rest` holds there. Eight bytes at once: a byte XOR `'0'` is its
/// value for a digit and 10 or more (or has its top bit) for any other, which adding 0x76
/// (its own top bit cleared, so no carry runs into the next byte) brings to the top bit. (Of
/// UTF-8 text only the top bit's test of bytes 0xB0-0xB9 is never needed: such a byte follows
/// a lead byte in the same word, which fails first.)
#[inline(always)]
fn digits_in(word: u64, digits: u64, rest: u64) -> Option<u64> {
    const ZEROS: u64 = u64::from_ne_bytes([b'0'; 8]);
    const LOW: u64 = u64::from_ne_bytes([0x7F; 8]);
    const PAST_NINE: u64 = u64::from_ne_bytes([0x76; 8]);
    const TOP: u64 = u64::from_ne_bytes([0x80; 8]);
    let values = word ^ ZEROS;
    let not_digit = (((values & LOW) + PAST_NINE) | values) & TOP & digits;
    (not_digit == 0 && word & !digits == rest).then_some(values & digits)
}

/// [`parse`] without its one-step path for plain ISO values.
pub fn parse_general(value: &str, order: DateOrder) -> Option<Parsed> {
    let value = trim(value);
    let value = trim(value.strip_prefix('\'').unwrap_or(value));
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return parse_epoch(value);
    }
    let mut cur = Cursor {
        bytes: value.as_bytes(),
        pos: 0,
    };
    let (year, month, day) = parse_date_part(&mut cur, order)?;
    let mut millis = civil_day(year, month, day)? * MS_PER_DAY;
    if cur.at_end() {
        return Some(Parsed {
            millis,
            naive: true,
            has_time: false,
        });
    }
    // Date and time are separated by `T` or spaces.
    if !cur.eat(b'T') && !cur.eat(b't') && cur.skip_spaces() == 0 {
        return None;
    }
    let (hour, _) = cur.digits(1, 2)?;
    if !cur.eat(b':') {
        return None;
    }
    let (minute, _) = cur.digits(2, 2)?;
    let mut second = 0;
    let mut fraction_ms = 0;
    if cur.eat(b':') {
        second = cur.digits(2, 2)?.0;
        if cur.eat(b'.') || cur.eat(b',') {
            let start = cur.pos;
            let (digits, n) = cur.digits(1, 9)?;
            fraction_ms = match n {
                1 => digits * 100,
                2 => digits * 10,
                _ => digits / 10_i64.pow(u32::try_from(n - 3).ok()?),
            };
            debug_assert!(cur.pos > start);
        }
    }
    let mut hour = hour;
    let spaces = cur.skip_spaces();
    let meridiem = if cur.eat_word_ignore_case("am") {
        Some(false)
    } else if cur.eat_word_ignore_case("pm") {
        Some(true)
    } else {
        None
    };
    if let Some(pm) = meridiem {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    } else if spaces > 0 {
        cur.pos -= spaces;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    millis += ((hour * 60 + minute) * 60 + second) * 1000 + fraction_ms;
    let offset = parse_zone(&mut cur)?;
    Some(Parsed {
        millis: millis - offset.unwrap_or(0),
        naive: offset.is_none(),
        has_time: true,
    })
}

fn parse_epoch(value: &str) -> Option<Parsed> {
    let number: i64 = value.parse().ok()?;
    let millis = match value.len() {
        9 | 10 => number.checked_mul(1000)?,
        12 | 13 => number,
        _ => return None,
    };
    Some(Parsed {
        millis,
        naive: false,
        has_time: true,
    })
}

fn parse_date_part(cur: &mut Cursor<'_>, order: DateOrder) -> Option<(i64, u32, u32)> {
    let (first, first_len) = cur.digits(1, 4)?;
    let sep = cur.peek().filter(|b| matches!(b, b'-' | b'/' | b'.'))?;
    cur.pos += 1;
    let (second, _) = cur.digits(1, 2)?;
    if !cur.eat(sep) {
        return None;
    }
    if first_len == 4 {
        let (third, _) = cur.digits(1, 2)?;
        return Some((
            first,
            u32::try_from(second).ok()?,
            u32::try_from(third).ok()?,
        ));
    }
    if first_len > 2 {
        return None;
    }
    let (year, year_len) = cur.digits(2, 4)?;
    if year_len == 3 {
        return None;
    }
    let year = expand_year(year, year_len);
    let (day, month) = match order {
        DateOrder::DayFirst => (first, second),
        DateOrder::MonthFirst => (second, first),
    };
    Some((year, u32::try_from(month).ok()?, u32::try_from(day).ok()?))
}

/// The zone after a time: `Z`, `UTC`, `GMT`, `±HH:MM`, `±HHMM`, `±HH`, optionally followed by a
/// zone name. `Some(None)` is a naive time; `None` is a value that cannot be placed.
fn parse_zone(cur: &mut Cursor<'_>) -> Option<Option<i64>> {
    cur.skip_spaces();
    if cur.at_end() {
        return Some(None);
    }
    if cur.eat(b'Z') || cur.eat(b'z') {
        return cur.at_end().then_some(Some(0));
    }
    if cur.rest_eq_ignore_case("UTC") || cur.rest_eq_ignore_case("GMT") {
        return Some(Some(0));
    }
    let sign = match cur.peek()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    cur.pos += 1;
    let (hours, _) = cur.digits(2, 2)?;
    cur.eat(b':');
    let minutes = cur.digits(2, 2).map_or(0, |(m, _)| m);
    if hours > 14 || minutes > 59 {
        return None;
    }
    // A zone name after a numeric offset is only a label (Go writes `+0000 UTC`).
    if cur.skip_spaces() > 0 {
        let rest = &cur.bytes[cur.pos..];
        if rest.is_empty() || !rest.iter().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
    } else if !cur.at_end() {
        return None;
    }
    Some(Some(sign * (hours * 60 + minutes) * 60_000))
}

/// What one date column held, counted while it was parsed; the report shows it (SPEC §5).
#[derive(Debug, Default)]
pub struct DateStats {
    pub values: AtomicU64,
    pub unparseable: AtomicU64,
    pub naive: AtomicU64,
}

impl DateStats {
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.values.load(Ordering::Relaxed),
            self.unparseable.load(Ordering::Relaxed),
            self.naive.load(Ordering::Relaxed),
        )
    }
}

/// A String column of dates as an Int64 column of instants; unreadable values become null and
/// are counted in `stats`.
pub fn parse_expr(column: Expr, order: DateOrder, stats: Arc<DateStats>) -> Expr {
    column.map(
        move |c: Column| {
            let strings = c.str()?;
            let mut unparseable = 0;
            let mut naive = 0;
            let mut values = 0;
            let out: Int64Chunked = strings
                .iter()
                .map(|v| {
                    let v = v?;
                    if trim(v).is_empty() {
                        return None;
                    }
                    values += 1;
                    match parse(v, order) {
                        Some(p) => {
                            naive += u64::from(p.naive);
                            Some(p.millis)
                        }
                        None => {
                            unparseable += 1;
                            None
                        }
                    }
                })
                .collect();
            stats.values.fetch_add(values, Ordering::Relaxed);
            stats.unparseable.fetch_add(unparseable, Ordering::Relaxed);
            stats.naive.fetch_add(naive, Ordering::Relaxed);
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Int64)),
    )
}

/// The civil date and time of an instant: (year, month, day, hour, minute, second).
pub fn civil_from_millis(millis: i64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = millis.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // H. Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    (year, month, day, h as u32, m as u32, s as u32)
}

/// An instant as ISO 8601 text in UTC, to the second: `2018-02-12T10:54:27Z`.
pub fn format_instant(millis: i64) -> String {
    let mut text = String::with_capacity(20);
    push_instant(&mut text, millis);
    text
}

/// Appends [`format_instant`]'s text to `out`.
pub fn push_instant(out: &mut String, millis: i64) {
    match instant_bytes(millis) {
        Some(text) => out.push_str(std::str::from_utf8(&text).unwrap_or_default()),
        None => {
            use std::fmt::Write;
            let (y, mo, d, h, mi, s) = civil_from_millis(millis);
            let _ = write!(out, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
        }
    }
}

/// [`format_instant`]'s text as bytes, for years 0–9999 (every date the parser reads); see
/// [`instant_into`].
pub fn instant_bytes(millis: i64) -> Option<[u8; 20]> {
    let mut text = [0u8; 20];
    instant_into(millis, &mut text).then_some(text)
}

/// Writes [`format_instant`]'s text into `text`, for years 0–9999 (every date the parser
/// reads; false for another), two digits at a time from a table, and a date of 1970–2099
/// copied from a table of days: `write!` was a tenth of a run's time on the output tables,
/// and a digit at a time still an eighth of audit.csv's. It writes where the text is to be,
/// inlined: the writer's copy of a text returned by value read its narrow stores back as wide
/// loads, a fifth of the time spelling the rows.
#[inline]
pub fn instant_into(millis: i64, text: &mut [u8; 20]) -> bool {
    let secs = millis.div_euclid(1000);
    let day = secs.div_euclid(86_400);
    match usize::try_from(day).ok().and_then(|d| days().get(d)) {
        Some(date) => text[..10].copy_from_slice(date),
        None => match date_bytes(day) {
            Some(date) => text[..10].copy_from_slice(&date),
            None => return false,
        },
    }
    let rem = secs.rem_euclid(86_400) as u32;
    let [h0, h1] = pair(rem / 3600);
    let [mi0, mi1] = pair(rem / 60 % 60);
    let [s0, s1] = pair(rem % 60);
    text[10..].copy_from_slice(&[b'T', h0, h1, b':', mi0, mi1, b':', s0, s1, b'Z']);
    true
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01, for years 0–9999.
fn date_bytes(day: i64) -> Option<[u8; 10]> {
    let (y, mo, d, ..) = civil_from_millis(day * 86_400_000);
    let Ok(year @ 0..=9999) = u32::try_from(y) else {
        return None;
    };
    let [y0, y1] = pair(year / 100);
    let [y2, y3] = pair(year);
    let [mo0, mo1] = pair(mo);
    let [d0, d1] = pair(d);
    Some([y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1])
}

/// The dates of 1970-01-01 to 2099-12-31 as text (465 KB, made on first use).
#[inline]
fn days() -> &'static [[u8; 10]] {
    static DAYS: std::sync::OnceLock<Vec<[u8; 10]>> = std::sync::OnceLock::new();
    DAYS.get_or_init(|| {
        (0..47_482)
            .map(|day| date_bytes(day).unwrap_or_default())
            .collect()
    })
}

/// The last two digits of `n`.
#[inline]
pub(crate) fn pair(n: u32) -> [u8; 2] {
    PAIRS[n as usize % 100]
}

/// `00` to `99`.
const PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        pairs[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    pairs
};

/// Instants as ISO 8601 text in UTC (`2018-02-12T10:54:27Z`), the form every output uses.
pub fn format_expr(instant: Expr) -> Expr {
    instant.map(
        |c: Column| {
            let instants = c.i64()?;
            let mut out = StringChunkedBuilder::new(c.name().clone(), instants.len());
            let mut text = String::with_capacity(20);
            for value in instants.iter() {
                match value {
                    None => out.append_null(),
                    Some(millis) => {
                        text.clear();
                        push_instant(&mut text, millis);
                        out.append_value(&text);
                    }
                }
            }
            Ok(out.finish().into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// The form of a date value in words, for `inspect` and the report.
pub fn describe(value: &str, order: DateOrder) -> String {
    let v = value.trim().trim_start_matches('\'');
    let Some(parsed) = parse(v, order) else {
        return format!("not a date listaudit reads (`{v}`)");
    };
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return if v.len() >= 12 {
            "epoch milliseconds"
        } else {
            "epoch seconds"
        }
        .to_string();
    }
    let iso = v.len() >= 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-';
    let zone = if parsed.naive {
        "no zone, read as UTC"
    } else if v.ends_with(" UTC") && v.contains(" +") {
        "Go time string with offset"
    } else if v.ends_with('Z') || v.ends_with("UTC") || v.ends_with("GMT") {
        "UTC"
    } else {
        "with offset"
    };
    let twelve = v.to_ascii_lowercase().ends_with("am") || v.to_ascii_lowercase().ends_with("pm");
    let shape = if iso {
        if parsed.has_time {
            "ISO 8601 date and time"
        } else {
            "ISO 8601 date"
        }
        .to_string()
    } else {
        let sep = v
            .chars()
            .find(|c| matches!(c, '-' | '/' | '.'))
            .unwrap_or('-');
        let two = v
            .split([' ', 'T'])
            .next()
            .and_then(|d| d.rsplit(sep).next())
            .is_some_and(|y| y.len() == 2);
        let y = if two { "yy" } else { "yyyy" };
        let date = match order {
            DateOrder::DayFirst => format!("dd{sep}mm{sep}{y}"),
            DateOrder::MonthFirst => format!("mm{sep}dd{sep}{y}"),
        };
        match (parsed.has_time, twelve) {
            (true, true) => format!("{date} with a 12-hour time"),
            (true, false) => format!("{date} with a time"),
            _ => date,
        }
    };
    if parsed.has_time || !parsed.naive {
        format!("{shape}, {zone}")
    } else {
        shape
    }
}
