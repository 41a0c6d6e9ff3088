//! Text columns mapped value by value in Rust, for the steps that polars would spell as a chain
//! of string kernels, each allocating a whole new column.

use std::borrow::Cow;

use polars::prelude::*;
use polars_arrow::array::{Array, MutableBinaryViewArray, PrimitiveArray, Utf8ViewArray, View};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_buffer::Buffer;

use crate::ingest::profile::header_key;

/// `f` over every value of a string column. Where `f` changes no value, the column is passed on
/// as it is, without a copy: most columns need no change (addresses already trimmed, names
/// without a formula sign), and a copy of ten million strings costs more than the check. Where
/// it changes some, see [`mapped`].
pub fn map_text(expr: Expr, f: fn(&str) -> Cow<'_, str>) -> Expr {
    expr.map(
        move |column: Column| {
            let values = column.str()?;
            let changed = |v: &str| !matches!(f(v), Cow::Borrowed(same) if same.len() == v.len());
            if !values.iter().any(|v| v.is_some_and(changed)) {
                return Ok(column);
            }
            let chunks = values.downcast_iter().map(|chunk| mapped(chunk, f));
            Ok(StringChunked::from_chunk_iter(column.name().clone(), chunks).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// `f` over one chunk. A value that `f` leaves whole, or cuts down to a part of itself, goes on
/// pointing at the chunk's own text; only text `f` writes anew is copied, into buffers of its
/// own. A key column where one address in a thousand has a capital letter so shares the
/// address column's text instead of holding all of it a second time. Where most of the text
/// is new, the chunk is written out afresh, so that the old text is not kept for a few values.
fn mapped(chunk: &Utf8ViewArray, f: fn(&str) -> Cow<'_, str>) -> Utf8ViewArray {
    // Offsets in a buffer are u32; a new buffer starts well before that.
    const BUFFER_LIMIT: usize = 1 << 30;
    let own = chunk.data_buffers().len() as u32;
    let mut added: Vec<Vec<u8>> = vec![Vec::new()];
    let mut new_bytes = 0;
    let views: Vec<View> = chunk
        .views()
        .iter()
        .enumerate()
        .map(|(i, view)| {
            if !chunk.is_valid(i) {
                return *view;
            }
            // SAFETY: `i` is within the chunk.
            let value = unsafe { chunk.value_unchecked(i) };
            let (start, end) = (
                value.as_ptr() as usize,
                value.as_ptr() as usize + value.len(),
            );
            let result = f(value);
            let bytes = result.as_bytes();
            let at = bytes.as_ptr() as usize;
            if bytes.len() <= View::MAX_INLINE_SIZE as usize {
                return View::new_inline(bytes);
            }
            if matches!(result, Cow::Borrowed(_)) && at >= start && at + bytes.len() <= end {
                // A long part of a value is a part of a long value, in that value's buffer.
                let offset = view.offset + (at - start) as u32;
                // SAFETY: the part lies within the value's bytes, which lie in its buffer.
                return unsafe { View::new_noninline_unchecked(bytes, view.buffer_idx, offset) };
            }
            if added
                .last()
                .is_some_and(|b| b.len() + bytes.len() > BUFFER_LIMIT)
            {
                added.push(Vec::new());
            }
            let buffer = added.len() - 1;
            let out = &mut added[buffer];
            let offset = out.len() as u32;
            out.extend_from_slice(bytes);
            new_bytes += bytes.len();
            // SAFETY: the bytes were just written at `offset` of that buffer.
            unsafe { View::new_noninline_unchecked(bytes, own + buffer as u32, offset) }
        })
        .collect();
    if new_bytes > chunk.total_buffer_len() / 2 {
        return chunk
            .iter()
            .map(|value| value.map(f))
            .collect::<MutableBinaryViewArray<str>>()
            .into();
    }
    let buffers: Vec<Buffer<u8>> = chunk
        .data_buffers()
        .iter()
        .cloned()
        .chain(added.into_iter().map(Buffer::from))
        .collect();
    // SAFETY: every view is inline, or points into its own buffer as written above; the text
    // is UTF-8, being the input's or `f`'s; nulls keep the input's validity.
    unsafe {
        Utf8ViewArray::new_unchecked_unknown_md(
            chunk.dtype().clone(),
            views.into(),
            buffers.into(),
            chunk.validity().cloned(),
            None,
        )
    }
}

/// Bits built a value at a time, as a reader reads a column's cells: a byte each until they
/// are packed at the end, eight at a time. Pushed a bit at a time into polars' `MutableBitmap`
/// (a byte added every eight, the bit set in it), the validities and flags of a million rows
/// took 103 M instructions of reading them (callgrind).
pub struct Bits(Vec<u8>);

impl Bits {
    pub fn with_capacity(rows: usize) -> Self {
        Bits(Vec::with_capacity(rows))
    }

    #[inline]
    pub fn push(&mut self, bit: bool) {
        self.0.push(u8::from(bit));
    }

    /// Takes back the last bit.
    pub fn pop(&mut self) {
        self.0.pop();
    }

    /// Whether every bit is set.
    fn all(&self) -> bool {
        !self.0.contains(&0)
    }

    pub fn finish(self) -> Bitmap {
        // Eight bytes of 0 or 1 as one number: the multiplication moves the `i`th byte's bit
        // to bit 56 + i, and no two of its partial products meet, so nothing carries.
        let pack = |eight: [u8; 8]| {
            (u64::from_le_bytes(eight).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
        };
        let mut eights = self.0.chunks_exact(8);
        let mut bytes: Vec<u8> = Vec::with_capacity(self.0.len().div_ceil(8));
        bytes.extend((&mut eights).map(|eight| pack(eight.try_into().unwrap_or_default())));
        if !eights.remainder().is_empty() {
            let mut last = [0; 8];
            last[..eights.remainder().len()].copy_from_slice(eights.remainder());
            bytes.push(pack(last));
        }
        Bitmap::from_u8_vec(bytes, self.0.len())
    }
}

/// A column's validity built a value at a time ([`Bits`]); none when no value is null.
pub struct Validity(Bits);

impl Validity {
    pub fn with_capacity(rows: usize) -> Self {
        Validity(Bits::with_capacity(rows))
    }

    #[inline]
    pub fn push(&mut self, valid: bool) {
        self.0.push(valid);
    }

    /// Takes back the last value's validity.
    pub fn pop(&mut self) {
        self.0.pop();
    }

    pub fn finish(self) -> Option<Bitmap> {
        (!self.0.all()).then(|| self.0.finish())
    }
}

/// `frame` with its text column `name` holding its text in buffers of the text's own size.
/// polars' builders double a buffer as it fills, so each chunk's last buffer is up to half
/// empty: on the addresses of ten million rows that was a quarter more memory than their text,
/// for the whole run. The last buffer of each chunk is copied to its length (the others are
/// full); the copy is a few megabytes a batch.
pub fn fitted(mut frame: DataFrame, name: &str) -> PolarsResult<DataFrame> {
    let column = frame.column(name)?;
    let Ok(values) = column.str() else {
        return Ok(frame);
    };
    let chunks = values.downcast_iter().map(|chunk| {
        let mut buffers: Vec<Buffer<u8>> = chunk.data_buffers().iter().cloned().collect();
        if let Some(last) = buffers.last_mut() {
            *last = Buffer::from(last.as_slice().to_vec());
        }
        // SAFETY: the same views over the same bytes, the last buffer's copied.
        unsafe {
            Utf8ViewArray::new_unchecked_unknown_md(
                chunk.dtype().clone(),
                chunk.views().clone(),
                buffers.into(),
                chunk.validity().cloned(),
                None,
            )
        }
    });
    let fitted = StringChunked::from_chunk_iter(values.name().clone(), chunks);
    frame.with_column(fitted.into_column())?;
    Ok(frame)
}

/// The value trimmed of white space at both ends.
pub fn trimmed(expr: Expr) -> Expr {
    map_text(expr, |v| Cow::Borrowed(trim(v)))
}

/// [`str::trim`], answered from the two end bytes when both are visible ASCII, as nearly every
/// cell's are (white space is either ASCII at or below a space, or starts with a byte of
/// 0x80 or more). `str::trim` decodes both ends: a twenty-fifth of the reading stage.
pub fn trim(value: &str) -> &str {
    let visible = |b: &u8| (b'!'..0x80).contains(b);
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if visible(first) && visible(last) => value,
        _ => value.trim(),
    }
}

/// Whether the cell holds more than white space (false for null).
pub fn filled(expr: Expr) -> Expr {
    test(expr, |v| !trim(v).is_empty()).fill_null(lit(false))
}

/// The code each cell's value key ([`header_key`]: lower-case letters and digits, accents
/// folded, as status and yes/no words are matched) has in `table`; `otherwise` for a key not in
/// it, null for an empty cell. Worked out once per distinct cell: status and yes/no columns
/// hold a handful of distinct values in millions of rows.
pub fn lookup(expr: Expr, table: PlHashMap<String, i32>, otherwise: Option<i32>) -> Expr {
    expr.map(
        move |column: Column| {
            let values = column.str()?;
            let mut memo = Memo::default();
            let codes: Int32Chunked = values
                .iter()
                .map(|value| {
                    let value = value?;
                    memo.get(value, |v| {
                        if trim(v).is_empty() {
                            None
                        } else {
                            table.get(&header_key(v)).copied().or(otherwise)
                        }
                    })
                })
                .collect();
            Ok(codes.with_name(column.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Int32)),
    )
}

/// `f` of each value (null for null), the values split over the cores. A column that repeats
/// a few values is better tested once per value ([`Numbered`]).
pub fn test(expr: Expr, f: impl Fn(&str) -> bool + Send + Sync + 'static) -> Expr {
    expr.map(
        move |column: Column| {
            Ok(tested(column.str()?, &f)?
                .with_name(column.name().clone())
                .into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// [`test`] of a column at hand.
pub fn tested(
    values: &StringChunked,
    f: &(dyn Fn(&str) -> bool + Sync),
) -> PolarsResult<BooleanChunked> {
    let [found] = tested_each(values, |value| [f(value)])?;
    Ok(found)
}

/// The `N` answers of `tests` for each value of `values` (none for a null), each as a column,
/// from one pass over the values: the e-mail address's two tests, each a pass, took 0.27 of
/// the 0.71 CPU-s that judging ten million contacts cost.
pub fn tested_each<const N: usize>(
    values: &StringChunked,
    tests: impl Fn(&str) -> [bool; N] + Sync,
) -> PolarsResult<[BooleanChunked; N]> {
    let parts = crate::parallel::over_ranges(values.len(), 1 << 16, |range| {
        let part = values.slice(range.start as i64, range.len());
        let mut found: [Vec<polars_arrow::array::BooleanArray>; N] =
            std::array::from_fn(|_| Vec::new());
        for chunk in part.downcast_iter() {
            // The answers as bits, eight to a byte, and the cells' own validity: collecting
            // `Option<bool>`s built both bitmaps a bit at a time, 7% of reading.
            let mut bits = [(); N].map(|_| vec![0u8; chunk.len().div_ceil(8)]);
            for i in 0..chunk.len() {
                if chunk.is_null(i) {
                    continue;
                }
                for (bits, answer) in bits.iter_mut().zip(tests(chunk.value(i))) {
                    bits[i / 8] |= u8::from(answer) << (i % 8);
                }
            }
            for (found, bits) in found.iter_mut().zip(bits) {
                found.push(polars_arrow::array::BooleanArray::new(
                    ArrowDataType::Boolean,
                    Bitmap::from_u8_vec(bits, chunk.len()),
                    chunk.validity().cloned(),
                ));
            }
        }
        found.map(|arrays| BooleanChunked::from_chunk_iter(PlSmallStr::EMPTY, arrays))
    });
    // There is always one part, if empty.
    let mut parts = parts.into_iter();
    let mut found = parts
        .next()
        .unwrap_or_else(|| std::array::from_fn(|_| Default::default()));
    for part in parts {
        for (found, part) in found.iter_mut().zip(part) {
            found.append_owned(part)?;
        }
    }
    Ok(found)
}

/// A text column's values numbered: each row's number, and each number's value. A test of
/// every row is then a test of each value (a source column repeats a few), and the several
/// tests of one column share one lookup a row: four tests of the source, each looking every
/// row up, took 0.4 of the 1.0 CPU-s that judging ten million rows cost.
pub struct Numbered<'a> {
    /// Each row's number; [`Numbered::NONE`] for a null.
    numbers: Vec<u32>,
    values: Vec<&'a str>,
}

impl<'a> Numbered<'a> {
    const NONE: u32 = u32::MAX;

    pub fn of(column: &'a StringChunked) -> Numbered<'a> {
        let mut memo = Memo::default();
        let mut values = Vec::new();
        let mut numbers = Vec::with_capacity(column.len());
        for chunk in column.downcast_iter() {
            for (i, view) in chunk.views().iter().enumerate() {
                if chunk.is_null(i) {
                    numbers.push(Self::NONE);
                    continue;
                }
                // Past the memo's capacity a value may take a second number: still its own.
                numbers.push(memo.get_view(
                    view,
                    || chunk.value(i),
                    |_| {
                        values.push(chunk.value(i));
                        u32::try_from(values.len() - 1).unwrap_or(Self::NONE)
                    },
                ));
            }
        }
        Numbered { numbers, values }
    }

    /// Where `f` holds of the row's value, eight rows to a byte; a null row is not.
    pub fn test(&self, f: &dyn Fn(&str) -> bool) -> Bitmap {
        let answers: Vec<bool> = self.values.iter().map(|v| f(v)).collect();
        super::columns::bits_where(&self.numbers, |n| {
            answers.get(n as usize).copied().unwrap_or(false)
        })
    }
}

/// Results per distinct value, for the first [`MEMO_CAPACITY`] distinct values: a column of
/// mostly distinct values (addresses) is worked out value by value without filling memory.
/// A value of up to 12 bytes can be looked up by its view ([`Memo::get_view`]), a number,
/// without hashing or comparing its text: most sources are that short.
struct Memo<'a, T> {
    seen: PlHashMap<&'a str, T>,
    short: PlHashMap<u128, T>,
}

impl<T> Default for Memo<'_, T> {
    fn default() -> Self {
        Memo {
            seen: PlHashMap::new(),
            short: PlHashMap::new(),
        }
    }
}

impl<'a, T: Copy> Memo<'a, T> {
    /// [`Memo::get`] of the value `view` holds, which `value` spells.
    fn get_view(
        &mut self,
        view: &View,
        value: impl FnOnce() -> &'a str,
        work: impl FnOnce(&str) -> T,
    ) -> T {
        if view.length > View::MAX_INLINE_SIZE {
            return self.get(value(), work);
        }
        let key = short_key(view);
        remembered(&mut self.short, &key, || key, || work(value()))
    }

    fn get(&mut self, value: &'a str, work: impl FnOnce(&str) -> T) -> T {
        remembered(&mut self.seen, &value, || value, || work(value))
    }
}

/// What `seen` holds for `key`, else `work`'s answer, remembered (under `owned`, the key as
/// the table holds it) while `seen` holds fewer than [`MEMO_CAPACITY`] answers.
pub(crate) fn remembered<K, Q, T>(
    seen: &mut PlHashMap<K, T>,
    key: &Q,
    owned: impl FnOnce() -> K,
    work: impl FnOnce() -> T,
) -> T
where
    K: std::hash::Hash + Eq + std::borrow::Borrow<Q>,
    Q: std::hash::Hash + Eq + ?Sized,
    T: Copy,
{
    if let Some(known) = seen.get(key) {
        return *known;
    }
    let answer = work();
    if seen.len() < MEMO_CAPACITY {
        seen.insert(owned(), answer);
    }
    answer
}

/// Distinct values a memo of answers ([`remembered`]) holds at most in a table: a column of
/// mostly distinct values is worked out value by value without filling memory.
pub(crate) const MEMO_CAPACITY: usize = 4096;

/// Where a text array holds a value that is not empty, a bit a value.
pub fn non_empty(array: &Utf8ViewArray) -> Bitmap {
    let filled: Bitmap = array.views().iter().map(|view| view.length > 0).collect();
    match array.validity() {
        Some(valid) => &filled & valid,
        None => filled,
    }
}

/// `frame` with the empty values of its text column `name` made none (a constant too: a
/// batch of one row may hold its value as one).
pub fn empty_as_none(mut frame: DataFrame, name: &str) -> PolarsResult<DataFrame> {
    let column = frame.column(name)?;
    if let Column::Scalar(constant) = column {
        if constant.scalar().value().get_str() == Some("") {
            let none =
                Column::new_scalar(name.into(), Scalar::null(DataType::String), column.len());
            frame.with_column(none)?;
        }
        return Ok(frame);
    }
    let chunks: Vec<Utf8ViewArray> = column
        .str()?
        .downcast_iter()
        .map(|array| array.clone().with_validity(Some(non_empty(array))))
        .collect();
    let column = StringChunked::from_chunk_iter(name.into(), chunks);
    frame.with_column(column.into_column())?;
    Ok(frame)
}

/// Text values held as numbers: each distinct value gets the next code. A column of codes is 4
/// bytes a row where text took 16, even where it is null. This is for the text columns that
/// only the outputs and the report spell: those that are null on almost every row (an unknown
/// status's value, a repeated key's sources), and the names, which repeat (a list of ten
/// million people has a few hundred thousand first names).
///
/// A value of up to 12 bytes is looked up by the number its bytes and length make (the inline
/// view polars holds it as), without hashing text; most names are that short. A column whose
/// values are all distinct costs more as codes than as text: each value is held once here, and
/// its code besides.
#[derive(Debug, Default)]
pub struct Dictionary {
    short: PlHashMap<u128, i32>,
    long: PlHashMap<String, i32>,
    names: Vec<String>,
}

impl Dictionary {
    /// `frame` with its text column `name` replaced by the codes of its values (Int32, null
    /// for null), every new value given a code. A constant null stays one.
    pub fn encode(&mut self, mut frame: DataFrame, name: &str) -> PolarsResult<DataFrame> {
        let column = frame.column(name)?;
        let codes = match column {
            Column::Scalar(constant) if constant.scalar().is_null() => {
                Column::new_scalar(name.into(), Scalar::null(DataType::Int32), column.len())
            }
            _ => {
                // Each chunk's views are read as they are: a short value's view is its key.
                // Collecting `Option<i32>`s from the values built the codes and their validity
                // a value at a time.
                let mut chunks = Vec::new();
                for chunk in column.str()?.downcast_iter() {
                    let mut codes = Vec::with_capacity(chunk.len());
                    for (i, view) in chunk.views().iter().enumerate() {
                        let code = if chunk.is_null(i) {
                            0
                        } else if view.length <= View::MAX_INLINE_SIZE {
                            self.code_short(short_key(view), || chunk.value(i))?
                        } else {
                            self.code_long(chunk.value(i))?
                        };
                        codes.push(code);
                    }
                    chunks.push(PrimitiveArray::new(
                        ArrowDataType::Int32,
                        codes.into(),
                        chunk.validity().cloned(),
                    ));
                }
                Int32Chunked::from_chunk_iter(name.into(), chunks).into_column()
            }
        };
        frame.with_column(codes)?;
        Ok(frame)
    }

    /// The code of `value`, a new value given the next.
    #[inline]
    pub fn code(&mut self, value: &str) -> PolarsResult<i32> {
        match short_key_of(value.as_bytes()) {
            Some(key) => self.code_short(key, || value),
            None => self.code_long(value),
        }
    }

    /// `frame` with its column `name` of another dictionary's codes, whose values by code are
    /// `values`, replaced by the codes of those values here (Int32, null for null), every new
    /// value given a code: each distinct value is looked up once, not once a row.
    pub fn recode(
        &mut self,
        mut frame: DataFrame,
        name: &str,
        values: &[String],
    ) -> PolarsResult<DataFrame> {
        let mine = values
            .iter()
            .map(|value| self.code(value))
            .collect::<PolarsResult<Vec<i32>>>()?;
        let mut chunks = Vec::new();
        for chunk in frame.column(name)?.i32()?.downcast_iter() {
            let mut codes = Vec::with_capacity(chunk.len());
            for (i, code) in chunk.values().iter().enumerate() {
                codes.push(match mine.get(*code as usize) {
                    Some(mine) => *mine,
                    None if chunk.is_null(i) => 0,
                    None => polars_bail!(ComputeError: "{name}: code {code} has no value"),
                });
            }
            chunks.push(PrimitiveArray::new(
                ArrowDataType::Int32,
                codes.into(),
                chunk.validity().cloned(),
            ));
        }
        let codes = Int32Chunked::from_chunk_iter(name.into(), chunks);
        frame.with_column(codes.into_column())?;
        Ok(frame)
    }

    /// The code of a value of up to 12 bytes, by its [`short_key`].
    #[inline]
    fn code_short<'a>(&mut self, key: u128, value: impl FnOnce() -> &'a str) -> PolarsResult<i32> {
        match self.short.get(&key) {
            Some(code) => Ok(*code),
            None => self.add_short(key, value()),
        }
    }

    /// [`Dictionary::code_short`] of a value seen for the first time: out of the way of the
    /// lookups of the values seen before, which are almost every name of a list (a call for
    /// each, the lookup and this together, took a third of the instructions coding them).
    #[cold]
    fn add_short(&mut self, key: u128, value: &str) -> PolarsResult<i32> {
        let code = self.added(value)?;
        self.short.insert(key, code);
        Ok(code)
    }

    /// The code of a value longer than 12 bytes.
    fn code_long(&mut self, value: &str) -> PolarsResult<i32> {
        if let Some(code) = self.long.get(value) {
            return Ok(*code);
        }
        let code = self.added(value)?;
        self.long.insert(value.to_string(), code);
        Ok(code)
    }

    /// The next code, given to `value`.
    fn added(&mut self, value: &str) -> PolarsResult<i32> {
        let code = i32::try_from(self.names.len())
            .map_err(|_| polars_err!(ComputeError: "more than 2^31 distinct values"))?;
        self.names.push(value.to_string());
        Ok(code)
    }

    /// Every value, by code.
    pub fn names(&self) -> Arc<[String]> {
        self.names.clone().into()
    }

    /// Every value, by code, the dictionary gone.
    pub fn into_names(self) -> Vec<String> {
        self.names
    }
}

/// [`short_key`] of a value of up to 12 bytes, from its bytes (none for a longer one): two
/// loads that overlap where it is 4 bytes or longer. Copying the value into a view first was
/// a call to `memcpy`.
#[inline(always)]
pub(crate) fn short_key_of(bytes: &[u8]) -> Option<u128> {
    let n = bytes.len();
    if n > View::MAX_INLINE_SIZE as usize {
        return None;
    }
    let overlapping = |head: u128, tail: &[u8; 4]| {
        head | u128::from(u32::from_le_bytes(*tail)) << (8 * n.saturating_sub(4))
    };
    let text = match (
        bytes.first_chunk::<8>(),
        bytes.first_chunk::<4>(),
        bytes.last_chunk(),
    ) {
        (Some(head), _, Some(tail)) => overlapping(u64::from_le_bytes(*head).into(), tail),
        (None, Some(head), Some(tail)) => overlapping(u32::from_le_bytes(*head).into(), tail),
        _ => bytes
            .iter()
            .rev()
            .fold(0, |key, byte| key << 8 | u128::from(*byte)),
    };
    Some(n as u128 | text << 32)
}

/// The key of a value of up to 12 bytes: its inline view (the length, then the bytes), with
/// the bytes past the value cleared, whatever wrote them.
fn short_key(view: &View) -> u128 {
    let bits = 32 + 8 * view.length.min(View::MAX_INLINE_SIZE);
    view.as_u128() & (u128::MAX >> (128 - bits))
}
