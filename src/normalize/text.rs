//! Text columns mapped value by value in Rust, for the steps that polars would spell as a chain
//! of string kernels, each allocating a whole new column.

use std::borrow::Cow;

use polars::prelude::*;

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
