//! Yes/no values (SPEC §2.3): `yes/no`, `true/false`, `1/0`, `ja/nee`, `Y/N`, any case.

use polars::prelude::*;

pub const TRUE_WORDS: &[&str] = &["yes", "y", "true", "t", "1", "ja", "j", "on"];
pub const FALSE_WORDS: &[&str] = &["no", "n", "false", "f", "0", "nee", "off"];

/// A String column as Boolean; anything else is null. `extra` are a service's own words, as
/// value keys (Klaviyo's `SUBSCRIBED`).
pub fn parse_expr(column: Expr, extra: &[(&str, bool)]) -> Expr {
    let word = super::value_key(column);
    let mut words: Vec<String> = Vec::new();
    let mut values: Vec<bool> = Vec::new();
    for (w, v) in extra {
        words.push((*w).to_string());
        values.push(*v);
    }
    for (list, v) in [(TRUE_WORDS, true), (FALSE_WORDS, false)] {
        for w in list {
            if !words.iter().any(|seen| seen == w) {
                words.push((*w).to_string());
                values.push(v);
            }
        }
    }
    word.replace_strict(
        lit(Series::new("words".into(), words)),
        lit(Series::new("values".into(), values)),
        Some(lit(NULL).cast(DataType::Boolean)),
        Some(DataType::Boolean),
    )
}

/// A literal value read as a yes/no, as [`parse_expr`] would.
pub fn parse_literal(value: &str) -> Option<bool> {
    let key: String = value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if TRUE_WORDS.contains(&key.as_str()) {
        Some(true)
    } else if FALSE_WORDS.contains(&key.as_str()) {
        Some(false)
    } else {
        None
    }
}
