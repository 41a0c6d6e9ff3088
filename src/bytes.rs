//! Searches of short byte strings eight bytes at a time. CSV cells are short: memchr's setup
//! costs more than it saves on them, and a byte at a time was half of spelling a text cell.

const LOW: u64 = u64::from_le_bytes([0x01; 8]);
const HIGH: u64 = u64::from_le_bytes([0x80; 8]);

/// Where the first byte of `bytes` that is one of `targets` stands.
pub fn first_of<const N: usize>(bytes: &[u8], targets: [u8; N]) -> Option<usize> {
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
