//! A bounds-checked LZO1X decompressor (the `lzo1x_decompress_safe` semantics makedumpfile and
//! QEMU pages need). Written here because a page read from an untrusted dump must fail with an
//! error, never panic, on any input.
//!
//! Must not import `debuginfo` or `arch`.

use thiserror::Error;

/// Why an LZO1X stream could not be decoded.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum LzoError {
    /// The input ended in the middle of an instruction.
    #[error("input ends early at byte {at}")]
    InputOverrun {
        /// Input position.
        at: usize,
    },
    /// The stream would write past the end of the output buffer.
    #[error("output overrun at input byte {at}")]
    OutputOverrun {
        /// Input position.
        at: usize,
    },
    /// A match points before the start of the output.
    #[error("match distance {distance} reaches before the output start at input byte {at}")]
    LookBehind {
        /// Input position.
        at: usize,
        /// The distance.
        distance: usize,
    },
}

struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> Result<u8, LzoError> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or(LzoError::InputOverrun { at: self.pos })?;
        self.pos += 1;
        Ok(b)
    }
    fn le16(&mut self) -> Result<usize, LzoError> {
        let lo = self.byte()? as usize;
        let hi = self.byte()? as usize;
        Ok(lo | (hi << 8))
    }
    /// Length extension: each zero byte adds 255, the final non-zero byte is added as is.
    fn ext_len(&mut self, base: usize) -> Result<usize, LzoError> {
        let mut n = base;
        loop {
            let b = self.byte()?;
            if b != 0 {
                return n
                    .checked_add(b as usize)
                    .ok_or(LzoError::OutputOverrun { at: self.pos });
            }
            n = n
                .checked_add(255)
                .ok_or(LzoError::OutputOverrun { at: self.pos })?;
        }
    }
}

struct Output<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Output<'_> {
    fn literals(&mut self, inp: &mut Input<'_>, n: usize) -> Result<(), LzoError> {
        let src = inp
            .pos
            .checked_add(n)
            .and_then(|e| inp.data.get(inp.pos..e))
            .ok_or(LzoError::InputOverrun { at: inp.pos })?;
        let end = self
            .len
            .checked_add(n)
            .ok_or(LzoError::OutputOverrun { at: inp.pos })?;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(LzoError::OutputOverrun { at: inp.pos })?;
        dst.copy_from_slice(src);
        self.len = end;
        inp.pos += n;
        Ok(())
    }

    fn copy_match(&mut self, at: usize, distance: usize, n: usize) -> Result<(), LzoError> {
        let from = self
            .len
            .checked_sub(distance)
            .ok_or(LzoError::LookBehind { at, distance })?;
        let end = self
            .len
            .checked_add(n)
            .ok_or(LzoError::OutputOverrun { at })?;
        if end > self.buf.len() {
            return Err(LzoError::OutputOverrun { at });
        }
        // Byte by byte: the source may overlap the bytes being written (run-length copies).
        for i in 0..n {
            let b = *self
                .buf
                .get(from + i)
                .ok_or(LzoError::OutputOverrun { at })?;
            let d = self
                .buf
                .get_mut(self.len + i)
                .ok_or(LzoError::OutputOverrun { at })?;
            *d = b;
        }
        self.len = end;
        Ok(())
    }
}

/// Decompresses the LZO1X stream `src` into `dst`; returns the number of bytes written.
pub fn decompress(src: &[u8], dst: &mut [u8]) -> Result<usize, LzoError> {
    let mut inp = Input { data: src, pos: 0 };
    let mut out = Output { buf: dst, len: 0 };
    // `state`: literals copied by the previous instruction (0..3), or 4 after a literal run.
    let mut state: usize = 0;

    // First byte: values above 17 start with a literal run of (byte - 17) bytes.
    if let Some(&first) = src.first() {
        if first > 17 {
            inp.pos = 1;
            let n = (first - 17) as usize;
            out.literals(&mut inp, n)?;
            state = if n < 4 { n } else { 4 };
        }
    }

    loop {
        let at = inp.pos;
        let t = inp.byte()? as usize;
        let (distance, len, next_state);
        if t >= 64 {
            // M2: 3..8 bytes within 2 KiB; one extra distance byte.
            let h = inp.byte()? as usize;
            distance = (h << 3) + ((t >> 2) & 7) + 1;
            len = (t >> 5) + 1;
            next_state = t & 3;
        } else if t >= 32 {
            // M3: within 16 KiB; length in 5 bits or extended; LE16 distance with 2 state bits.
            len = if t & 31 == 0 {
                inp.ext_len(31)? + 2
            } else {
                (t & 31) + 2
            };
            let d = inp.le16()?;
            distance = (d >> 2) + 1;
            next_state = d & 3;
        } else if t >= 16 {
            // M4: 16..48 KiB; distance 16384 exactly marks the end of the stream.
            len = if t & 7 == 0 {
                inp.ext_len(7)? + 2
            } else {
                (t & 7) + 2
            };
            let d = inp.le16()?;
            let dist = ((t & 8) << 11) + (d >> 2);
            if dist == 0 {
                return Ok(out.len);
            }
            distance = dist + 16384;
            next_state = d & 3;
        } else if state == 0 {
            // Literal run of 4 or more bytes.
            let n = if t == 0 { inp.ext_len(15)? + 3 } else { t + 3 };
            out.literals(&mut inp, n)?;
            state = 4;
            continue;
        } else if state < 4 {
            // M1 after 1..3 literals: 2 bytes within 1 KiB.
            let h = inp.byte()? as usize;
            distance = (h << 2) + (t >> 2) + 1;
            len = 2;
            next_state = t & 3;
        } else {
            // M1 after a literal run: 3 bytes at 2..3 KiB.
            let h = inp.byte()? as usize;
            distance = (h << 2) + (t >> 2) + 2049;
            len = 3;
            next_state = t & 3;
        }
        out.copy_match(at, distance, len)?;
        out.literals(&mut inp, next_state)?;
        state = next_state;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A literal-only stream assembled by hand: first byte 17 + n (n ≤ 238) copies n literals,
    /// then the end marker 0x11 0x00 0x00.
    fn literal_stream(data: &[u8]) -> Vec<u8> {
        let mut v = vec![17 + data.len() as u8];
        v.extend_from_slice(data);
        v.extend_from_slice(&[0x11, 0, 0]);
        v
    }

    #[test]
    fn hand_assembled_literals() {
        let data = b"hello, lzo";
        let mut out = [0u8; 64];
        assert_eq!(decompress(&literal_stream(data), &mut out), Ok(data.len()));
        assert_eq!(&out[..data.len()], data);
        // Literal run then an M2 match copying "abc" from distance 3 (run-length style).
        // 21 = 17 + 4 literals "abca"; M2: t = 0b010_000_00 | dist-1 low bits; len 3, distance 3.
        let stream = [21, b'a', b'b', b'c', b'a', 0x48, 0, 0x11, 0, 0];
        let mut out = [0u8; 16];
        let n = decompress(&stream, &mut out).expect("valid");
        assert_eq!(&out[..n], b"abcabca");
    }

    #[test]
    fn matches_reference_compressor() {
        let mut page = vec![0u8; 4096];
        for (i, b) in page.iter_mut().enumerate() {
            *b = ((i / 7) % 13) as u8 ^ (i % 5) as u8;
        }
        page[1000..1100].copy_from_slice(&[0xaa; 100]);
        let comp = lzokay_native::compress(&page).expect("compress");
        let mut out = vec![0u8; 4096];
        assert_eq!(decompress(&comp, &mut out), Ok(4096));
        assert_eq!(out, page);
        let zeros = lzokay_native::compress(&[0u8; 4096]).expect("compress");
        assert_eq!(decompress(&zeros, &mut out), Ok(4096));
        assert!(out.iter().all(|&b| b == 0));
        // Too small an output buffer is an error, not a panic.
        let mut small = vec![0u8; 100];
        assert!(matches!(
            decompress(&comp, &mut small),
            Err(LzoError::OutputOverrun { .. })
        ));
        for cut in 0..comp.len() {
            assert!(decompress(&comp[..cut], &mut out).is_err());
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut out = vec![0u8; 4096];
        for _ in 0..20000 {
            let n = (x % 64) as usize;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.push(x as u8);
            }
            let _ = decompress(&v, &mut out);
        }
        assert!(matches!(
            decompress(&[0x20, 0, 0, 0], &mut out),
            Err(LzoError::LookBehind { .. }) | Err(LzoError::InputOverrun { .. })
        ));
    }
}
