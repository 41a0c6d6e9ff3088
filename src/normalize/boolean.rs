//! Yes/no values (SPEC §2.3): `yes/no`, `true/false`, `1/0`, `ja/nee`, `Y/N`, any case.

use polars::prelude::*;

pub const TRUE_WORDS: &[&str] = &["yes", "y", "true", "t", "1", "ja", "j", "on"];
pub const FALSE_WORDS: &[&str] = &["no", "n", "false", "f", "0", "nee", "off"];

/// A String column as Boolean; anything else is null. `inverted` flips the meaning for columns
/// that say the opposite of their field (Substack's `email_disabled`).
pub fn parse_expr(column: Expr, inverted: bool) -> Expr {
    let word = column.str().strip_chars(lit(NULL)).str().to_lowercase();
    let truthy = word_list(TRUE_WORDS);
    let falsy = word_list(FALSE_WORDS);
    when(word.clone().is_in(truthy, false))
        .then(lit(!inverted))
        .when(word.is_in(falsy, false))
        .then(lit(inverted))
        .otherwise(lit(NULL).cast(DataType::Boolean))
}

/// A literal list of words, for `is_in`.
pub fn word_list(words: &[&str]) -> Expr {
    lit(Series::new("words".into(), words)).implode(false)
}
