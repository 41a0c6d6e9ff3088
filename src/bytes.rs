//! Searches of short byte strings sixteen bytes at a time (eight where there is no SSE2), and
//! the UTF-8 check of a file's bytes. CSV cells are short: memchr's setup costs more than it
//! saves on them, and a byte at a time was half of spelling a text cell.

/// Where the first byte of `bytes` that is one of `targets` stands.
pub fn first_of<const N: usize>(bytes: &[u8], targets: [u8; N]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    return first_of_x86(bytes, targets);
    #[cfg(not(target_arch = "x86_64"))]
    return first_of_words(bytes, targets);
}

/// [`first_of`] with SSE2, part of every x86_64 processor, a [`window`] at a time.
#[cfg(target_arch = "x86_64")]
fn first_of_x86<const N: usize>(bytes: &[u8], targets: [u8; N]) -> Option<usize> {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set1_epi8};
    windows(bytes, |at, v| {
        // SAFETY: SSE2 is part of x86_64.
        let found = targets.iter().fold(0, |found, &b| unsafe {
            found | _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u32
        });
        (found != 0).then(|| at + found.trailing_zeros() as usize)
    })
    // The padding of a short string is none of its bytes.
    .filter(|&i| i < bytes.len())
}

/// `f` of each window of 16 bytes of `bytes` and where it starts, in order, until it answers:
/// together they cover every byte. A string of 16 bytes or more is read where it is, the last
/// window overlapping the one before (its bytes there were seen already); a shorter one is
/// copied into one window, padded with zero bytes.
#[cfg(target_arch = "x86_64")]
pub fn windows<T>(
    bytes: &[u8],
    mut f: impl FnMut(usize, std::arch::x86_64::__m128i) -> Option<T>,
) -> Option<T> {
    let mut short = [0u8; 16];
    let from = if bytes.len() < 16 {
        short[..bytes.len()].copy_from_slice(bytes);
        &short[..]
    } else {
        bytes
    };
    for k in 0..bytes.len().div_ceil(16) {
        let at = (16 * k).min(from.len() - 16);
        // SAFETY: SSE2 is part of x86_64; the load reads the 16 bytes `from[at..at + 16]`.
        let window = unsafe { std::arch::x86_64::_mm_loadu_si128(from.as_ptr().add(at).cast()) };
        if let Some(answer) = f(at, window) {
            return Some(answer);
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

/// Whether the processor has AVX-512BW and AVX-512VL: masked loads and stores of up to 32
/// bytes, which neither read nor write past the bytes the mask covers.
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx512_vl() -> bool {
    std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vl")
}

/// The mask of a string's first `n` bytes, for a masked load or store (`n` from 1 to 32).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn mask_of(n: usize) -> u32 {
    debug_assert!((1..=32).contains(&n));
    u32::MAX >> (32 - n)
}

/// Appends `bytes` to `out`. Where the processor has AVX-512BW and VL and `out` has room,
/// a value of up to 32 bytes is moved by one masked load and store instead of a call to
/// `memcpy` (the hot bench's `read_clean_file`, whose addresses are 22–26 bytes, took
/// 14.51–15.24 ms against 15.24–15.39 ms).
#[inline]
pub fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if (1..=32).contains(&bytes.len())
        && out.capacity() - out.len() >= bytes.len()
        && has_avx512_vl()
    {
        // SAFETY: the CPU has AVX-512BW and VL, and `out` has room for `bytes`.
        unsafe { append_avx512(out, bytes) };
        return;
    }
    out.extend_from_slice(bytes);
}

/// [`append`] of 1 to 32 bytes into room that `out` has for them.
///
/// # Safety
/// The CPU must have AVX-512BW and AVX-512VL, and `out` room for `bytes`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw,avx512vl")]
unsafe fn append_avx512(out: &mut Vec<u8>, bytes: &[u8]) {
    // SAFETY: as the caller promises.
    unsafe { store_masked(out, load_masked(bytes), bytes.len()) }
}

/// The 1 to 32 `bytes` in a vector (zero past them), read by one masked load: the bytes past
/// them are neither read nor able to fault.
///
/// # Safety
/// The CPU must have AVX-512BW and AVX-512VL.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw,avx512vl")]
pub unsafe fn load_masked(bytes: &[u8]) -> std::arch::x86_64::__m256i {
    // SAFETY: the mask covers the bytes of `bytes` alone.
    unsafe {
        std::arch::x86_64::_mm256_maskz_loadu_epi8(mask_of(bytes.len()), bytes.as_ptr().cast())
    }
}

/// Appends the first `n` bytes of `v` (1 to 32) to `out` by one masked store.
///
/// # Safety
/// The CPU must have AVX-512BW and AVX-512VL, and `out` room for `n` bytes past its length.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw,avx512vl")]
pub unsafe fn store_masked(out: &mut Vec<u8>, v: std::arch::x86_64::__m256i, n: usize) {
    let at = out.len();
    // SAFETY: the mask covers `n` bytes, written into the room past `out`'s length, which then
    // takes them in.
    unsafe {
        std::arch::x86_64::_mm256_mask_storeu_epi8(out.as_mut_ptr().add(at).cast(), mask_of(n), v);
        out.set_len(at + n);
    }
}

/// Whether `bytes` are UTF-8: simdutf8's check, 32 bytes at a time where the processor has
/// AVX2 (std's took 1.3% of a ten-million-row run, checking each batch of the file).
pub fn is_utf8(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
}

/// `bytes` (a digest) in lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut text = vec![0; bytes.len() * 2];
    hex_into(bytes, &mut text);
    String::from_utf8(text).expect("hex digits are ASCII")
}

/// `bytes` in lower-case hex, two digits a byte, into `out` (as long as the digits).
pub fn hex_into(bytes: &[u8], out: &mut [u8]) {
    // Digit by digit: `write!` per byte was most of the time of hashing a suppression list.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (b, digits) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        digits[0] = DIGITS[usize::from(b >> 4)];
        digits[1] = DIGITS[usize::from(b & 0xf)];
    }
}
