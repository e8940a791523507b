//! Seeded payloads and their verification: every byte a case moves is checked against
//! what was sent, so a fast but wrong run cannot pass.

use anyhow::{bail, Result};
use rand_core::{Rng, SeedableRng};
use rand_xorshift::XorShiftRng;
use std::sync::Arc;

/// `len` pseudo-random bytes (all 256 values occur) from `seed`.
pub fn seeded(seed: u64, len: usize) -> Arc<[u8]> {
    let mut rng = XorShiftRng::seed_from_u64(seed);
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    bytes.into()
}

/// Compares a stream that arrives in pieces with the bytes that were sent.
pub struct Verifier {
    expected: Arc<[u8]>,
    pos: usize,
}

impl Verifier {
    /// Expects exactly `expected`, in order.
    pub fn new(expected: Arc<[u8]>) -> Self {
        Verifier { expected, pos: 0 }
    }

    /// The next piece of the stream; an error at the first byte that differs or that
    /// is more than was sent.
    pub fn feed(&mut self, piece: &[u8]) -> Result<()> {
        let left = self.expected.len() - self.pos;
        if piece.len() > left {
            bail!(
                "{} bytes more than the {} sent",
                piece.len() - left,
                self.expected.len()
            );
        }
        let want = &self.expected[self.pos..self.pos + piece.len()];
        if want != piece {
            let at = want
                .iter()
                .zip(piece)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            bail!(
                "byte {} differs: sent {:#04x}, received {:#04x}",
                self.pos + at,
                want[at],
                piece[at]
            );
        }
        self.pos += piece.len();
        Ok(())
    }

    /// Bytes still expected.
    pub fn remaining(&self) -> usize {
        self.expected.len() - self.pos
    }

    /// Succeeds only if the whole stream arrived.
    pub fn finish(&self) -> Result<()> {
        if self.remaining() != 0 {
            bail!("only {} of {} bytes arrived", self.pos, self.expected.len());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_bytes_repeat_for_a_seed_and_cover_every_value() {
        let a = seeded(7, 1 << 16);
        assert_eq!(a, seeded(7, 1 << 16));
        assert_ne!(a, seeded(8, 1 << 16));
        let mut seen = [false; 256];
        a.iter().for_each(|&b| seen[b as usize] = true);
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn the_whole_stream_in_any_pieces_passes() {
        let sent = seeded(1, 10_000);
        let mut v = Verifier::new(sent.clone());
        for piece in sent.chunks(777) {
            v.feed(piece).expect("same bytes");
        }
        v.finish().expect("complete");
    }

    #[test]
    fn a_corrupted_byte_is_rejected_with_its_offset() {
        let sent = seeded(2, 4096);
        let mut got = sent.to_vec();
        got[3000] ^= 0x20;
        let mut v = Verifier::new(sent);
        v.feed(&got[..2048]).expect("first half is intact");
        let err = v.feed(&got[2048..]).expect_err("corruption found");
        assert!(err.to_string().contains("byte 3000"), "{err}");
    }

    #[test]
    fn a_short_or_long_stream_is_rejected() {
        let sent = seeded(3, 100);
        let mut short = Verifier::new(sent.clone());
        short.feed(&sent[..99]).expect("prefix");
        assert!(short.finish().is_err());
        let mut long = Verifier::new(sent.clone());
        long.feed(&sent).expect("all");
        assert!(long.feed(b"x").is_err());
    }
}
