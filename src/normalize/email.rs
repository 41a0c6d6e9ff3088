//! E-mail addresses (SPEC §2.3): the spelling kept for the outputs, the key that matches rows
//! of one person, and the syntax check behind `invalid-email`.

use std::borrow::Cow;

use polars::prelude::*;

use polars_arrow::array::{MutableBinaryViewArray, Utf8ViewArray};
use sha2::{Digest, Sha256};

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
    let trimmed = super::text::trim(raw);
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
    if !capital_or_not_ascii(display.as_bytes()) {
        return Cow::Borrowed(display);
    }
    let lower = display.to_lowercase();
    if lower == display {
        Cow::Borrowed(display)
    } else {
        Cow::Owned(lower)
    }
}

/// Whether any byte is an ASCII capital or not ASCII, eight bytes at a time: a byte at a time
/// was most of finding the repeated keys of ten million addresses (0.2 CPU-s), the bytes of
/// a word each tested at once by the carries of one addition. Where no byte of a word has its
/// top bit set, adding `0x3f` to each sets it exactly where the byte is `A` or above, and
/// adding `0x25` where it is above `Z`; no addition carries into the next byte.
pub fn capital_or_not_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    let word_has = |word: u64| {
        let top = ONES * 0x80;
        word & top != 0
            || (word.wrapping_add(ONES * 0x3f) & !word.wrapping_add(ONES * 0x25) & top) != 0
    };
    let word_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
    let n = bytes.len();
    if n < 8 {
        return bytes
            .iter()
            .any(|&b| b.wrapping_sub(b'A') < 26 || b >= 0x80);
    }
    // Whole words, then the last eight bytes (which may overlap the word before).
    (0..n - 7).step_by(8).any(|at| word_has(word_at(at))) || word_has(word_at(n - 8))
}

/// Whether the address is a deletion request: its key ends with
/// [`DELETION_REQUEST_DOMAIN`]. When the address ends in as many ASCII bytes as the domain
/// has, the key's end is those bytes lower-cased, so they are compared without building the
/// key; other addresses (a non-ASCII end, which lower-cases to a different length or to
/// ASCII, as the Kelvin sign `K` does) are keyed first.
pub fn is_deletion_request(address: &str) -> bool {
    let domain = DELETION_REQUEST_DOMAIN.as_bytes();
    let bytes = address.as_bytes();
    match bytes
        .len()
        .checked_sub(domain.len())
        .map(|start| &bytes[start..])
    {
        Some(end) if end.is_ascii() => end.eq_ignore_ascii_case(domain),
        None if bytes.is_ascii() => false,
        _ => key_of(address).ends_with(DELETION_REQUEST_DOMAIN),
    }
}

/// Whether the address has valid syntax.
pub fn is_valid(display: Expr) -> Expr {
    super::text::test(display, is_valid_address)
}

/// [`VALID_EMAIL`] written out by hand, without a regex per address; a property test holds the
/// two equal. An address of plain ASCII (no space, control or non-ASCII byte) of up to 64
/// bytes, which is almost every address, is checked from bitmasks of where its `@` and dots
/// stand ([`address_masks`]); any other goes byte by byte ([`is_valid_by_bytes`]). In the
/// `address_check` bench: 23 ns an address byte by byte, 7 ns by bitmasks.
pub fn is_valid_address(address: &str) -> bool {
    let bytes = address.as_bytes();
    // A longer address, or one with an odd byte, goes byte by byte.
    let Some([at, dot, 0]) = address_masks(bytes) else {
        return is_valid_by_bytes(address);
    };
    // One `@`, not the first byte.
    if at.count_ones() != 1 || at == 1 {
        return false;
    }
    // The dots of the domain, and the places where a domain label ends.
    // (The bits up to the `@` are `at | (at - 1)`: `(at << 1) - 1` overflowed for an `@` as
    // the 64th byte.)
    let domain_dots = dot & !(at | (at - 1));
    let ends = at | domain_dots;
    let last = 1u64 << (bytes.len() - 1);
    // A dot in the domain; no label empty: none follows the `@` or a dot, none ends the address.
    domain_dots != 0 && ends & (ends << 1) == 0 && ends & last == 0
}

/// A bit per byte of an address of at most 64 bytes (none for a longer one): where an `@`
/// stands, where a dot, and where a byte that is not plain ASCII (a space, a control or a
/// non-ASCII byte; DEL is plain, as in the pattern).
#[cfg(target_arch = "x86_64")]
fn address_masks(bytes: &[u8]) -> Option<[u64; 3]> {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_movemask_epi8, _mm_set1_epi8};
    if bytes.len() > 64 {
        return None;
    }
    // A byte in two windows has its bit set twice alike.
    let mut masks = [0u64; 3];
    crate::bytes::windows(bytes, |at, v| {
        // SAFETY: SSE2 is part of x86_64.
        unsafe {
            let bits = |m| u64::from(_mm_movemask_epi8(m) as u16) << at;
            masks[0] |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'@' as i8)));
            masks[1] |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'.' as i8)));
            // Signed: below `!` is a space or control byte, and every byte from 0x80 is negative.
            masks[2] |= bits(_mm_cmplt_epi8(v, _mm_set1_epi8(b'!' as i8)));
        }
        None::<()>
    });
    // The padding of a short address is no byte of it.
    masks[2] &= u64::MAX.checked_shr(64 - bytes.len() as u32).unwrap_or(0);
    Some(masks)
}

#[cfg(not(target_arch = "x86_64"))]
fn address_masks(bytes: &[u8]) -> Option<[u64; 3]> {
    if bytes.len() > 64 {
        return None;
    }
    let mut masks = [0u64; 3];
    for (i, &b) in bytes.iter().enumerate() {
        masks[0] |= u64::from(b == b'@') << i;
        masks[1] |= u64::from(b == b'.') << i;
        masks[2] |= u64::from(b < b'!' || b >= 0x80) << i;
    }
    Some(masks)
}

/// [`is_valid_address`] one byte at a time, each looked up in [`CLASS`].
fn is_valid_by_bytes(address: &str) -> bool {
    let mut at = None;
    let mut dots = 0u32;
    // Whether the domain so far is empty or ends in a dot: neither may be followed by a dot.
    let mut after_dot = false;
    for (i, &b) in address.as_bytes().iter().enumerate() {
        match CLASS[b as usize] {
            PLAIN => after_dot = false,
            AT if at.is_some() => return false,
            AT => {
                at = Some(i);
                after_dot = true;
            }
            DOT if at.is_some() => {
                if after_dot {
                    return false;
                }
                dots += 1;
                after_dot = true;
            }
            DOT => {}
            SPACE => return false,
            _ => return is_valid_text(address),
        }
    }
    at.is_some_and(|at| at > 0) && dots > 0 && !after_dot
}

const PLAIN: u8 = 0;
const AT: u8 = 1;
const DOT: u8 = 2;
const SPACE: u8 = 3;
const NOT_ASCII: u8 = 4;

/// Each byte's part in [`is_valid_address`]: ASCII white space is that of `\s`.
const CLASS: [u8; 256] = {
    let mut class = [PLAIN; 256];
    let mut b = 0x80;
    while b < 256 {
        class[b] = NOT_ASCII;
        b += 1;
    }
    class[b'@' as usize] = AT;
    class[b'.' as usize] = DOT;
    let mut space = 0;
    let spaces = *b"\t\n\x0b\x0c\r ";
    while space < spaces.len() {
        class[spaces[space] as usize] = SPACE;
        space += 1;
    }
    class
};

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
///
/// Each hash is spelled straight into its chunk's text, a share of the values per core: a
/// string of its own for each hash, a column of keys before them and a copy of the strings
/// into the column took about half of writing the suppression list of ten million contacts.
pub fn sha256_expr(key: Expr) -> Expr {
    key.map(
        move |c: Column| {
            let values = c.str()?;
            let chunks = crate::parallel::over_ranges(values.len(), 1024, |range| {
                let part = values.slice(range.start as i64, range.len());
                let mut hashes = MutableBinaryViewArray::<str>::with_capacity(range.len());
                for value in part.iter() {
                    match value {
                        Some(key) => hashes.push_value(hex_text(&sha256_hex(key))),
                        None => hashes.push_null(),
                    }
                }
                Utf8ViewArray::from(hashes)
            });
            Ok(StringChunked::from_chunk_iter(c.name().clone(), chunks).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// The hex SHA-256 of one key.
pub fn sha256_of(key: &str) -> String {
    hex_text(&sha256_hex(key)).to_string()
}

/// The lower-case hex digits of the SHA-256 of `key`'s bytes.
pub fn sha256_hex(key: &str) -> [u8; 64] {
    let mut hex = [0; 64];
    crate::bytes::hex_into(&Sha256::digest(key.as_bytes()), &mut hex);
    hex
}

/// Hex digits as text.
fn hex_text(hex: &[u8; 64]) -> &str {
    std::str::from_utf8(hex).expect("hex digits are ASCII")
}
