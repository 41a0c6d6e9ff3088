//! Searches of short byte strings sixteen bytes at a time (eight where there is no SSE2). CSV
//! cells are short: memchr's setup costs more than it saves on them, and a byte at a time was
//! half of spelling a text cell.

/// Where the first byte of `bytes` that is one of `targets` stands.
pub fn first_of<const N: usize>(bytes: &[u8], targets: [u8; N]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    return first_of_x86(bytes, targets);
    #[cfg(not(target_arch = "x86_64"))]
    return first_of_words(bytes, targets);
}

/// [`first_of`] with SSE2, part of every x86_64 processor. A string of 16 bytes or more is read
/// where it is, 16 bytes at a time, the last 16 overlapping the ones before (a match there
/// would have been found before); a shorter one is copied into a block of 16.
#[cfg(target_arch = "x86_64")]
fn first_of_x86<const N: usize>(bytes: &[u8], targets: [u8; N]) -> Option<usize> {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let mut short = [0u8; 16];
    let (from, len) = if bytes.len() < 16 {
        short[..bytes.len()].copy_from_slice(bytes);
        (&short[..], bytes.len())
    } else {
        (bytes, bytes.len())
    };
    for k in 0..len.div_ceil(16) {
        let at = (16 * k).min(from.len() - 16);
        // SAFETY: SSE2 is part of x86_64; the load reads the 16 bytes `from[at..at + 16]`.
        let found = unsafe {
            let v = _mm_loadu_si128(from.as_ptr().add(at).cast());
            targets.iter().fold(0, |found, &b| {
                found | _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u32
            })
        };
        if found != 0 {
            let i = at + found.trailing_zeros() as usize;
            // The padding of a short string is none of its bytes.
            return (i < len).then_some(i);
        }
    }
    None
}

#[cfg(not(target_arch = "x86_64"))]
const LOW: u64 = u64::from_le_bytes([0x01; 8]);
#[cfg(not(target_arch = "x86_64"))]
const HIGH: u64 = u64::from_le_bytes([0x80; 8]);

/// [`first_of`] eight bytes at a time, in a `u64`.
#[cfg(not(target_arch = "x86_64"))]
fn first_of_words<const N: usize>(bytes: &[u8], targets: [u8; N]) -> Option<usize> {
    let mut words = bytes.chunks_exact(8);
    for (n, word) in (&mut words).enumerate() {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        let word = u64::from_le_bytes(eight);
        // The zero-byte test of `word ^ b…b` flags the bytes equal to `b`. A borrow can flag a
        // byte above a true one, never below, so the lowest flag is the first match.
        let found = targets.iter().fold(0, |found, &b| {
            let x = word ^ (LOW * u64::from(b));
            found | (x.wrapping_sub(LOW) & !x & HIGH)
        });
        if found != 0 {
            return Some(n * 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    let tail = bytes.len() - words.remainder().len();
    words
        .remainder()
        .iter()
        .position(|b| targets.contains(b))
        .map(|i| tail + i)
}
