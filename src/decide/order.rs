//! The contacts in first-occurrence order (SPEC §2.4): each row of a key seen once as it is,
//! each repeated key's merged contact where its first row was.
//!
//! The rows come in the chunks their batches were read in, and the contacts keep those
//! chunks: a chunk's contacts are its rows less the later rows of repeated keys, and at most
//! as many as its rows, each no later than its row. So a chunk's numbers and texts' views are
//! moved down within the chunk's own memory, where no other column shares it. On ten million
//! rows, writing the contacts into new columns of one chunk each was 0.40–0.53 s of a run
//! (and 150 thousand page faults for the 600 MB of the new columns), and the later steps
//! never needed the one chunk: they work on a chunk at a time
//! ([`crate::normalize::columns::pieces`]).

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, StaticArray, Utf8ViewArray};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_buffer::Buffer;

use super::col;
use crate::normalize;
use crate::normalize::columns::chunk_lengths;

/// A chunk of rows put in order on its own: the contacts whose first row is one of `rows` are
/// these rows and the merged contacts `merged`, as the [`Stretch`]es of each in turn.
struct Run {
    rows: std::ops::Range<usize>,
    merged: std::ops::Range<usize>,
    stretches: Vec<Stretch>,
    contacts: usize,
}

/// Consecutive contacts of a [`Run`] that are consecutive rows of it (from `at`, counted in
/// the run), or consecutive merged contacts (from `at`, counted in all of them). The contacts
/// of a run are mostly its own rows in turn, so values are moved a stretch at a time; worked
/// out once, for every column.
#[derive(Debug, Clone, Copy)]
struct Stretch {
    merged: bool,
    at: usize,
    n: usize,
}

impl Run {
    /// Adds the next contact: the run's row `at`, or merged contact `at`.
    fn push(&mut self, merged: bool, at: usize) {
        self.contacts += 1;
        match self.stretches.last_mut() {
            Some(last) if last.merged == merged && last.at + last.n == at => last.n += 1,
            _ => self.stretches.push(Stretch { merged, at, n: 1 }),
        }
    }

    /// The contacts as indices into the run's rows followed by its merged contacts.
    fn order(&self) -> Vec<IdxSize> {
        let mut order = Vec::with_capacity(self.contacts);
        for &Stretch { merged, at, n } in &self.stretches {
            let first = match merged {
                true => self.rows.len() + at - self.merged.start,
                false => at,
            };
            order.extend((first..first + n).map(|i| i as IdxSize));
        }
        order
    }
}

/// The contacts in first-occurrence order: each row of a key seen once as it is, each repeated
/// key's merged row (`merged`, ordered by [`col::FIRST_ROW`]) where its first row was; with
/// the columns of `singles`. Each column has a chunk for each chunk of `singles` that keeps a
/// contact, moved down in place where the chunk's memory is the column's alone (copied where it
/// is not), or is a constant where every contact has the same value and the column was one.
pub fn in_first_row_order(
    singles: DataFrame,
    is_repeated: &BooleanChunked,
    merged: DataFrame,
) -> PolarsResult<DataFrame> {
    let firsts: Vec<IdxSize> = merged
        .column(col::FIRST_ROW)?
        .idx()?
        .into_no_null_iter()
        .collect();
    let mut runs: Vec<Run> = Vec::new();
    let mut next = 0;
    let mut repeated = is_repeated.iter();
    let mut start = 0;
    for len in chunk_lengths(&singles) {
        let mut run = Run {
            rows: start..start + len,
            merged: next..next,
            stretches: Vec::new(),
            contacts: 0,
        };
        for (row, is_repeated) in run.rows.clone().zip(&mut repeated) {
            if is_repeated != Some(true) {
                run.push(false, row - start);
            } else if firsts.get(next) == Some(&(row as IdxSize)) {
                run.push(true, next);
                next += 1;
            }
        }
        run.merged.end = next;
        start = run.rows.end;
        runs.push(run);
    }
    polars_ensure!(next == merged.height(), ComputeError: "a repeated key lost its first row");
    let height = runs.iter().map(|r| r.contacts).sum();
    let runs = &runs[..];
    let order = |column: Column| -> PolarsResult<Column> {
        let extra = merged.column(column.name())?.cast(column.dtype())?;
        // A constant (a field no input has, the file of a run of one file) stays one, when the
        // merged contacts have its value too.
        if let Column::Scalar(constant) = &column
            && (extra.is_empty()
                || normalize::single_value(&extra)?.as_ref() == Some(constant.scalar()))
        {
            return Ok(Column::new_scalar(
                column.name().clone(),
                constant.scalar().clone(),
                height,
            ));
        }
        in_runs(column, extra.as_materialized_series(), runs).map(Series::into_column)
    };
    // One column per core at a time, each core taking the next column left when it is done
    // with one.
    let columns: Vec<(usize, Column)> = singles.into_columns().into_iter().enumerate().collect();
    let queue = std::sync::Mutex::new(columns.into_iter());
    let ordered = crate::parallel::map((0..crate::parallel::cores()).collect(), |_| {
        let mut done = Vec::new();
        while let Some((i, column)) = queue.lock().ok().and_then(|mut q| q.next()) {
            done.push((i, order(column)));
        }
        done
    });
    let mut columns: Vec<(usize, PolarsResult<Column>)> = ordered.into_iter().flatten().collect();
    columns.sort_by_key(|(i, _)| *i);
    let columns = columns
        .into_iter()
        .map(|(_, c)| c)
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(height, columns)
}

/// `column` in the runs' order, a chunk for each run that keeps a contact; `extra` holds the
/// merged contacts' values.
fn in_runs(column: Column, extra: &Series, runs: &[Run]) -> PolarsResult<Series> {
    let name = column.name().clone();
    // No contact at all: one empty chunk, as polars makes an empty column (one of no chunk
    // cannot be rechunked).
    if runs.iter().all(|run| run.contacts == 0) {
        return Ok(Series::new_empty(name, column.dtype()));
    }
    Ok(match column.dtype() {
        DataType::Int32 => numbers::<Int32Type>(column, extra, runs)?,
        DataType::Int64 => numbers::<Int64Type>(column, extra, runs)?,
        DataType::UInt32 => numbers::<UInt32Type>(column, extra, runs)?,
        DataType::String => {
            let extra = one_array::<StringType>(extra.str()?);
            let arrays = run_arrays::<StringType>(column, runs)?;
            let chunks = kept(runs, arrays, |run, array| text(array, &extra, run));
            StringChunked::from_chunk_iter(name, chunks).into_series()
        }
        DataType::Boolean => {
            let extra = one_array::<BooleanType>(extra.bool()?);
            let arrays = run_arrays::<BooleanType>(column, runs)?;
            let chunks = kept(runs, arrays, |run, array| flags(&array, &extra, run));
            BooleanChunked::from_chunk_iter(name, chunks).into_series()
        }
        _ => {
            let mut ordered = Series::new_empty(name, column.dtype());
            for run in runs.iter().filter(|run| run.contacts > 0) {
                let mut part = column
                    .slice(run.rows.start as i64, run.rows.len())
                    .take_materialized_series();
                part.append(&extra.slice(run.merged.start as i64, run.merged.len()))?;
                ordered.append_owned(part.take_slice(&run.order())?)?;
            }
            ordered
        }
    })
}

/// `order` of each run's array, for the runs that keep a contact.
fn kept<A, B>(runs: &[Run], arrays: Vec<A>, order: impl Fn(&Run, A) -> B) -> Vec<B> {
    runs.iter()
        .zip(arrays)
        .filter(|(run, _)| run.contacts > 0)
        .map(|(run, array)| order(run, array))
        .collect()
}

/// The values of `values` as one array (the merged contacts: a few percent of the rows).
fn one_array<T: PolarsPhysicalType>(values: &ChunkedArray<T>) -> T::Array {
    // polars' rechunk of no chunk panics.
    let one = (!values.chunks().is_empty()).then(|| values.rechunk());
    match one.as_ref().and_then(|one| one.downcast_iter().next()) {
        Some(array) => array.clone(),
        None => T::Array::full_null(0, values.dtype().to_arrow(CompatLevel::newest())),
    }
}

/// Each run's rows of `column` as an array of its own: the column's own chunks when they are
/// cut as the runs are (then held by nothing else once the column is dropped, so that they
/// can be changed in place), else a slice of it for each run.
fn run_arrays<T: PolarsPhysicalType>(column: Column, runs: &[Run]) -> PolarsResult<Vec<T::Array>> {
    let series = column.take_materialized_series();
    let values: ChunkedArray<T> = series.unpack::<T>()?.clone();
    drop(series);
    let cut_alike = values
        .chunk_lengths()
        .eq(runs.iter().map(|run| run.rows.len()));
    if cut_alike {
        return Ok(values.downcast_into_iter().collect());
    }
    runs.iter()
        .map(|run| {
            let slice = values
                .slice(run.rows.start as i64, run.rows.len())
                .rechunk()
                .into_owned();
            slice
                .downcast_iter()
                .next()
                .cloned()
                .ok_or_else(|| polars_err!(ComputeError: "a slice of no chunk"))
        })
        .collect()
}

/// The validity of a run's contacts, from the rows' and the merged contacts'; none where no
/// contact is null.
fn validity_of(run: &Run, rows: Option<&Bitmap>, extra: Option<&Bitmap>) -> Option<Bitmap> {
    let has_nulls = |valid: Option<&Bitmap>| valid.is_some_and(|v| v.unset_bits() > 0);
    if !has_nulls(rows) && !has_nulls(extra) {
        return None;
    }
    let bits = picked_bits(run, rows, extra, true);
    (bits.unset_bits() > 0).then_some(bits)
}

/// The bits of a run's contacts, from the rows' bits and the merged contacts' (`absent` for
/// each contact of one that has none), copied a stretch at a time straight from their bytes
/// ([`normalize::columns::JoinedBits`]): a slice of a bitmap for each stretch, as polars makes
/// one, counted its bits each time.
fn picked_bits(run: &Run, rows: Option<&Bitmap>, extra: Option<&Bitmap>, absent: bool) -> Bitmap {
    let mut picked = normalize::columns::JoinedBits::with_capacity(run.contacts);
    for &Stretch { merged, at, n } in &run.stretches {
        match if merged { extra } else { rows } {
            Some(from) => picked.extend(from, at, n),
            None => picked.extend_constant(n, absent),
        }
    }
    picked.finish()
}

/// A run's `values` (one for each of its rows) in its order, merged contact `at` taking
/// `merged(at)`: moved down where they are when the buffer is theirs alone, else copied.
fn ordered<T: Copy>(run: &Run, mut values: Buffer<T>, merged: impl Fn(usize) -> T) -> Buffer<T> {
    match values.get_mut_slice() {
        Some(slots) => {
            let mut k = 0;
            for &Stretch {
                merged: is_merged,
                at,
                n,
            } in &run.stretches
            {
                if is_merged {
                    for (i, slot) in slots[k..k + n].iter_mut().enumerate() {
                        *slot = merged(at + i);
                    }
                } else {
                    // A run's rows only ever move down (`at >= k`): each is moved before
                    // anything is written over it.
                    slots.copy_within(at..at + n, k);
                }
                k += n;
            }
            values.sliced(..k)
        }
        None => {
            let mut copied = Vec::with_capacity(run.contacts);
            for &Stretch {
                merged: is_merged,
                at,
                n,
            } in &run.stretches
            {
                match is_merged {
                    true => copied.extend((at..at + n).map(&merged)),
                    false => copied.extend_from_slice(&values[at..at + n]),
                }
            }
            copied.into()
        }
    }
}

/// A column of numbers in the runs' order.
fn numbers<T: PolarsNumericType>(
    column: Column,
    extra: &Series,
    runs: &[Run],
) -> PolarsResult<Series> {
    let name = column.name().clone();
    let extra = one_array::<T>(extra.unpack::<T>()?);
    let arrays = run_arrays::<T>(column, runs)?;
    let chunks = kept(runs, arrays, |run, array| {
        let (dtype, values, validity) = array.into_inner();
        let valid = validity_of(run, validity.as_ref(), extra.validity());
        PrimitiveArray::new(dtype, ordered(run, values, |at| extra.values()[at]), valid)
    });
    Ok(ChunkedArray::<T>::from_chunk_iter(name, chunks).into_series())
}

/// A run's contacts of a text column: the views put in order ([`ordered`]); the text stays
/// where it is, the merged contacts' in their own buffers.
fn text(array: Utf8ViewArray, extra: &Utf8ViewArray, run: &Run) -> Utf8ViewArray {
    let valid = validity_of(run, array.validity(), extra.validity());
    let (views, buffers, ..) = array.into_inner();
    // The merged contacts' buffers follow the rows'.
    let base = buffers.len() as u32;
    let views = ordered(run, views, |at| {
        let mut view = extra.views()[at];
        if !view.is_inline() {
            view.buffer_idx += base;
        }
        view
    });
    let buffers: Buffer<Buffer<u8>> = if run.merged.is_empty() {
        buffers
    } else {
        buffers
            .iter()
            .chain(extra.data_buffers().iter())
            .cloned()
            .collect::<Vec<_>>()
            .into()
    };
    // SAFETY: each view is a row's own, or a merged contact's with its buffer index moved to
    // where the merged contacts' buffers now start; the text is the columns' UTF-8.
    unsafe {
        Utf8ViewArray::new_unchecked_unknown_md(
            ArrowDataType::Utf8View,
            views,
            buffers,
            valid,
            None,
        )
    }
}

/// A run's contacts of a column of flags, copied (a bit a row).
fn flags(array: &BooleanArray, extra: &BooleanArray, run: &Run) -> BooleanArray {
    let valid = validity_of(run, array.validity(), extra.validity());
    let values = picked_bits(run, Some(array.values()), Some(extra.values()), false);
    BooleanArray::new(ArrowDataType::Boolean, values, valid)
}
