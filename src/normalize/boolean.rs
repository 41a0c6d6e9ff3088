//! Yes/no values (SPEC §2.3): `yes/no`, `true/false`, `1/0`, `ja/nee`, `Y/N`, any case.

use polars::prelude::*;

pub const TRUE_WORDS: &[&str] = &["yes", "y", "true", "t", "1", "ja", "j", "on"];
pub const FALSE_WORDS: &[&str] = &["no", "n", "false", "f", "0", "nee", "off"];

/// A String column as Boolean; anything else is null. `extra` are a service's own words, as
/// value keys (Klaviyo's `SUBSCRIBED`).
pub fn parse_expr(column: Expr, extra: &[(&str, bool)]) -> Expr {
    super::text::lookup(column, words(extra), None).cast(DataType::Boolean)
}

/// The value key of every yes/no word, with 1 for yes and 0 for no: a service's own `extra`
/// words first, which win.
pub fn words(extra: &[(&str, bool)]) -> PlHashMap<String, i32> {
    let mut words: PlHashMap<String, i32> = PlHashMap::new();
    let true_false = [(TRUE_WORDS, true), (FALSE_WORDS, false)];
    let listed = true_false
        .iter()
        .flat_map(|(list, v)| list.iter().map(move |w| (*w, *v)));
    for (w, v) in extra.iter().copied().chain(listed) {
        words.entry(w.to_string()).or_insert(i32::from(v));
    }
    words
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
