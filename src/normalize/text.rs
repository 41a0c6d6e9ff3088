//! Text columns mapped value by value in Rust, for the steps that polars would spell as a chain
//! of string kernels, each allocating a whole new column.

use std::borrow::Cow;

use polars::prelude::*;

use crate::ingest::profile::header_key;

/// `f` over every value of a string column. Where `f` changes no value, the column is passed on
/// as it is, without a copy: most columns need no change (addresses already trimmed, names
/// without a formula sign), and a copy of ten million strings costs more than the check.
pub fn map_text(expr: Expr, f: fn(&str) -> Cow<'_, str>) -> Expr {
    expr.map(
        move |column: Column| {
            let values = column.str()?;
            let changed = |v: &str| !matches!(f(v), Cow::Borrowed(same) if same.len() == v.len());
            let Some(first) = values.iter().position(|v| v.is_some_and(changed)) else {
                return Ok(column);
            };
            let mut out = StringChunkedBuilder::new(column.name().clone(), values.len());
            for (i, value) in values.iter().enumerate() {
                match value {
                    None => out.append_null(),
                    Some(v) if i < first => out.append_value(v),
                    Some(v) => out.append_value(f(v)),
                }
            }
            Ok(out.finish().into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// The value trimmed of white space at both ends.
pub fn trimmed(expr: Expr) -> Expr {
    map_text(expr, |v| Cow::Borrowed(v.trim()))
}

/// Whether the cell holds more than white space (false for null).
pub fn filled(expr: Expr) -> Expr {
    test(expr, false, |v| !v.trim().is_empty()).fill_null(lit(false))
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
                        if v.trim().is_empty() {
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

/// `f` of each value (null for null); with `memoize`, once per distinct value.
pub fn test(expr: Expr, memoize: bool, f: impl Fn(&str) -> bool + Send + Sync + 'static) -> Expr {
    expr.map(
        move |column: Column| {
            let values = column.str()?;
            let mut memo = Memo::default();
            let found: BooleanChunked = values
                .iter()
                .map(|value| value.map(|v| if memoize { memo.get(v, &f) } else { f(v) }))
                .collect();
            Ok(found.with_name(column.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// Results per distinct value, for the first [`Memo::CAPACITY`] distinct values: a column of
/// mostly distinct values (addresses) is worked out value by value without filling memory.
struct Memo<'a, T> {
    seen: PlHashMap<&'a str, T>,
}

impl<T> Default for Memo<'_, T> {
    fn default() -> Self {
        Memo {
            seen: PlHashMap::new(),
        }
    }
}

impl<'a, T: Copy> Memo<'a, T> {
    const CAPACITY: usize = 4096;

    fn get(&mut self, value: &'a str, work: impl FnOnce(&str) -> T) -> T {
        if let Some(known) = self.seen.get(value) {
            return *known;
        }
        let result = work(value);
        if self.seen.len() < Self::CAPACITY {
            self.seen.insert(value, result);
        }
        result
    }
}
