//! E-mail addresses (SPEC §2.3): the spelling kept for the outputs, the key that matches rows
//! of one person, and the syntax check behind `invalid-email`.

use std::borrow::Cow;

use polars::prelude::*;

use super::text::map_text;

/// A single `@`, a non-empty local part, a domain of dot-separated labels with at least one dot,
/// and no white space anywhere. Deliberately loose: the mailing service has already accepted
/// these addresses, so only what can never be delivered is called invalid.
pub const VALID_EMAIL: &str = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$";

/// Substack writes deletion requests as addresses on this domain (ESP-FORMATS §3).
pub const DELETION_REQUEST_DOMAIN: &str = "@deletion-request.substack.com";

/// The address as written, cleaned of what is never part of it: surrounding white space, a
/// spreadsheet's formula guard `'`, and enclosing `<…>`.
pub fn display(raw: Expr) -> Expr {
    map_text(raw, display_of)
}

/// [`display`] of one value.
pub fn display_of(raw: &str) -> Cow<'_, str> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_prefix('\'').unwrap_or(trimmed);
    let unbracketed = trimmed
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .map_or(trimmed, str::trim);
    Cow::Borrowed(unbracketed)
}

/// The matching key: the whole address lower-cased (SPEC §2.3).
pub fn key(display: Expr) -> Expr {
    map_text(display, key_of)
}

/// [`key`] of one value.
pub fn key_of(display: &str) -> Cow<'_, str> {
    // Most addresses are already their key: one pass finds that no byte is a capital or
    // outside ASCII (the repeated-key pass asks this of every row on every core).
    if !display
        .bytes()
        .any(|b| b.wrapping_sub(b'A') < 26 || b >= 0x80)
    {
        return Cow::Borrowed(display);
    }
    let lower = display.to_lowercase();
    if lower == display {
        Cow::Borrowed(display)
    } else {
        Cow::Owned(lower)
    }
}

/// Whether the address has valid syntax.
pub fn is_valid(display: Expr) -> Expr {
    super::text::test(display, false, is_valid_address)
}

/// [`VALID_EMAIL`] written out by hand, without a regex per address; a property test holds the
/// two equal.
pub fn is_valid_address(address: &str) -> bool {
    if !address.is_ascii() {
        return is_valid_text(address);
    }
    // One pass over the bytes: splitting and char checks cost more than the rest of a rule.
    let bytes = address.as_bytes();
    let mut at = None;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'@' if at.is_some() => return false,
            b'@' => at = Some(i),
            b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' => return false,
            _ => {}
        }
    }
    let Some(at) = at else { return false };
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    !local.is_empty()
        && domain.contains(&b'.')
        && domain.first() != Some(&b'.')
        && domain.last() != Some(&b'.')
        && !domain.windows(2).any(|pair| pair == b"..")
}

/// [`is_valid_address`] of an address with non-ASCII characters (whose white space may be
/// any Unicode space).
fn is_valid_text(address: &str) -> bool {
    let mut parts = address.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let clean = |s: &str| !s.is_empty() && !s.chars().any(char::is_whitespace);
    let mut labels = domain.split('.');
    clean(local) && labels.clone().count() >= 2 && labels.all(clean)
}

/// The hex SHA-256 of each key, computed over chunks in parallel: the suppression list's form
/// of an address (SPEC §4, §8).
pub fn sha256_expr(key: Expr) -> Expr {
    key.map(
        |c: Column| {
            let keys = c.str()?;
            let values: Vec<&str> = keys.iter().map(|k| k.unwrap_or("")).collect();
            let hashes = crate::outputs::sha256_hex(&values);
            let out: StringChunked = keys.iter().zip(hashes).map(|(k, h)| k.map(|_| h)).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}
