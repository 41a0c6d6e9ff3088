//! Columns of a batch or of the contacts worked out in Rust, a pass each, for the steps that
//! polars would spell as a chain of kernels, each allocating a whole new column: numbers taken
//! as one array and the bits of the rows that hold one, and answers as bitmaps.

use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;
use polars_arrow::bitmap::Bitmap;

/// A bit for each of `values`, set where `holds`, eight to a byte. Whole bytes of eight are
/// worked out apart from the rest, a shape the compiler turns into vector compares: built from
/// chunks of up to eight, the status comparisons of the rules took 1.5% of a run.
pub fn bits_where<T: Copy>(values: &[T], holds: impl Fn(T) -> bool) -> Bitmap {
    let byte_of = |eight: &[T]| {
        eight
            .iter()
            .enumerate()
            .fold(0u8, |byte, (j, v)| byte | (u8::from(holds(*v)) << j))
    };
    let mut eights = values.chunks_exact(8);
    let mut bytes: Vec<u8> = Vec::with_capacity(values.len().div_ceil(8));
    bytes.extend((&mut eights).map(byte_of));
    if !eights.remainder().is_empty() {
        bytes.push(byte_of(eights.remainder()));
    }
    Bitmap::from_u8_vec(bytes, values.len())
}

/// `at(i)` for each set bit `i` of `rows`, in order, a word of 64 rows at a time: polars'
/// iterator of set bits took three times as long.
pub fn each_set(rows: &Bitmap, mut at: impl FnMut(usize)) {
    let mut word_at = |word: u64, base: usize| each_bit(word, |i| at(base + i));
    let mut words = rows.fast_iter_u64();
    let mut base = 0;
    for word in words.by_ref() {
        word_at(word, base);
        base += 64;
    }
    let ([low, high], _) = words.remainder();
    word_at(low, base);
    word_at(high, base + 64);
}

/// `at(i)` for each set bit `i` of `word`, lowest first.
#[inline(always)]
pub fn each_bit(mut word: u64, mut at: impl FnMut(usize)) {
    while word != 0 {
        at(word.trailing_zeros() as usize);
        word &= word - 1;
    }
}

/// A bitmap built of stretches of other bitmaps' bits and of constant bits, 64 bits at a
/// time. polars' `MutableBitmap::extend_from_slice` lines each stretch up a bit at a time
/// first: ordering a million contacts, whose stretches between repeated addresses are about a
/// hundred rows, took 460 instructions a stretch in it (63 M in all, callgrind).
pub struct JoinedBits {
    words: Vec<u64>,
    len: usize,
}

impl JoinedBits {
    pub fn with_capacity(bits: usize) -> JoinedBits {
        JoinedBits {
            words: Vec::with_capacity(bits.div_ceil(64)),
            len: 0,
        }
    }

    /// Appends bits `from..from + n` of `bits`.
    pub fn extend(&mut self, bits: &Bitmap, from: usize, n: usize) {
        let (bytes, offset, _) = bits.as_slice();
        self.push_words(n, |done| word_at(bytes, offset + from + done));
    }

    /// Appends `n` bits that are `bit`.
    pub fn extend_constant(&mut self, n: usize, bit: bool) {
        let word = if bit { u64::MAX } else { 0 };
        self.push_words(n, |_| word);
    }

    /// Appends `n` bits, 64 at a time: `word(done)` gives the next 64 after the first `done`.
    #[inline]
    fn push_words(&mut self, n: usize, word: impl Fn(usize) -> u64) {
        let mut done = 0;
        while done < n {
            let k = (n - done).min(64);
            self.push_word(word(done), k);
            done += k;
        }
    }

    /// Appends the low `n` bits of `word` (`n` from 1 to 64).
    #[inline]
    fn push_word(&mut self, word: u64, n: usize) {
        let word = if n < 64 { word & ((1 << n) - 1) } else { word };
        let shift = self.len % 64;
        match self.words.last_mut() {
            Some(last) if shift > 0 => {
                *last |= word << shift;
                if shift + n > 64 {
                    self.words.push(word >> (64 - shift));
                }
            }
            _ => self.words.push(word),
        }
        self.len += n;
    }

    pub fn finish(self) -> Bitmap {
        let mut bytes: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        bytes.truncate(self.len.div_ceil(8));
        Bitmap::from_u8_vec(bytes, self.len)
    }
}

/// The 64 bits of `bytes` from bit `bit` on, the first in the lowest (none past the end).
#[inline]
fn word_at(bytes: &[u8], bit: usize) -> u64 {
    let (at, shift) = (bit / 8, bit % 8);
    let nine: [u8; 9] = match bytes.get(at..at + 9) {
        Some(nine) => nine.try_into().unwrap_or_default(),
        None => {
            let mut nine = [0; 9];
            let rest = bytes.get(at..).unwrap_or_default();
            nine[..rest.len()].copy_from_slice(rest);
            nine
        }
    };
    let [low @ .., high] = nine;
    let low = u64::from_le_bytes(low);
    match shift {
        0 => low,
        _ => (low >> shift) | (u64::from(high) << (64 - shift)),
    }
}

/// `bit` set in `bits[i]` for each set bit `i` of `rows` (no longer than `bits`).
pub fn set_bit_where(rows: &Bitmap, bit: u32, bits: &mut [u32]) {
    each_set(rows, |row| bits[row] |= bit);
}

/// Where an array of codes holds one of `wanted`; a null does not. Eight codes to a byte:
/// polars' comparison with a value built its bitmap a bit at a time, 3% of a run's CPU time
/// with the comparisons of the rows' facts.
pub fn among(codes: &PrimitiveArray<i32>, wanted: &[i32]) -> Bitmap {
    let found = match *wanted {
        [one] => bits_where(codes.values(), |code| code == one),
        _ => bits_where(codes.values(), |code| wanted.contains(&code)),
    };
    match codes.validity() {
        Some(valid) => &found & valid,
        None => found,
    }
}

/// Each of `most` at the set bits of `rows` raised to the value of `values` there.
pub fn raise<T: Copy + Ord>(most: &mut [T], values: &[T], rows: &Bitmap) {
    each_set(rows, |row| most[row] = most[row].max(values[row]));
}

/// A batch's numbers in column `name` as one array; none where the column holds none (a field
/// the input lacks is one null for every row).
pub fn held<T: PolarsNumericType>(
    rows: &DataFrame,
    name: &str,
) -> PolarsResult<Option<PrimitiveArray<T::Native>>> {
    Ok(numbers::<T>(rows, name)?
        .and_then(|values| values.rechunk().downcast_iter().next().cloned()))
}

/// The numbers in column `name` in the chunks it holds them in; none where the column holds
/// none (a field the input lacks is one null for every row).
pub fn numbers<T: PolarsNumericType>(
    rows: &DataFrame,
    name: &str,
) -> PolarsResult<Option<ChunkedArray<T>>> {
    let column = rows.column(name)?;
    if let Column::Scalar(constant) = column
        && constant.scalar().is_null()
    {
        return Ok(None);
    }
    let values = column
        .as_materialized_series()
        .cast(&T::get_static_dtype())?;
    Ok(Some(values.unpack::<T>()?.clone()))
}

/// The rows of `array` that hold a value.
pub fn present<T: polars_arrow::types::NativeType>(array: &PrimitiveArray<T>) -> Bitmap {
    array
        .validity()
        .cloned()
        .unwrap_or_else(|| Bitmap::new_with_value(true, array.len()))
}

/// For each row, the value of the first of `sources` whose rows include it (rows the source
/// holds a value in, picked by the caller), else null.
pub fn first_held<const N: usize>(
    height: usize,
    sources: [(&Bitmap, &Option<PrimitiveArray<i64>>); N],
) -> PrimitiveArray<i64> {
    let mut values = vec![0i64; height];
    let mut taken = Bitmap::new_zeroed(height);
    for (rows, source) in sources {
        let Some(source) = source else { continue };
        let rows = &(rows & &present(source)) & &!&taken;
        each_set(&rows, |i| values[i] = source.values()[i]);
        taken = &taken | &rows;
    }
    PrimitiveArray::new(ArrowDataType::Int64, values.into(), Some(taken))
}

/// Where each of chunks of these lengths starts, one after the other.
pub fn starts(lens: impl Iterator<Item = usize>) -> Vec<usize> {
    lens.scan(0, |start, len| {
        let this = *start;
        *start += len;
        Some(this)
    })
    .collect()
}

/// The rows in each chunk of `frame`'s columns, which are all cut alike (the batches they
/// were read in, or the contacts of each batch); all the rows as one where every column is a
/// constant.
pub fn chunk_lengths(frame: &DataFrame) -> Vec<usize> {
    frame
        .columns()
        .iter()
        .find_map(|column| match column {
            Column::Series(series) => Some(series.chunk_lengths().collect()),
            _ => None,
        })
        .unwrap_or_else(|| vec![frame.height()])
}

/// `frame`'s rows in consecutive pieces of at most `most` rows, none across two of its chunks
/// ([`chunk_lengths`]): a slice of a piece is one array a column, as the steps that read a
/// column as one array want (a slice across chunks would be copied into one first).
pub fn pieces(frame: &DataFrame, most: usize) -> Vec<std::ops::Range<usize>> {
    let most = most.max(1);
    let mut pieces = Vec::new();
    let mut start = 0;
    for len in chunk_lengths(frame) {
        let end = start + len;
        pieces.extend((start..end).step_by(most).map(|at| at..end.min(at + most)));
        start = end;
    }
    pieces
}
