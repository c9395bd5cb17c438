//! Counting the predictions in a drained message, which checks its shape on
//! the way: the drain's consumer runs it on every byte it receives, so it
//! has a fast path. The fast path classifies 64 bytes at a time (SSE2 on
//! x86-64: quotes, brackets and braces as bit masks, strings found by a
//! prefix XOR of the quotes, as simdjson does) and visits only the brackets
//! and braces outside strings, two or three per prediction. A message with a
//! backslash goes byte by byte ([`count_predictions_bytewise`], the
//! reference the tests compare the fast path with).

/// Predictions in a message (top-level objects of its JSON array), or `None`
/// when it is not shaped as one (it must open with `[` and close every
/// bracket and string it opens): a check that costs no more than the count.
pub fn count_predictions(message: &[u8]) -> Option<u64> {
    let start = message
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())?;
    if message[start] != b'[' {
        return None;
    }
    match count_by_blocks(&message[start..]) {
        Some(counted) => counted,
        None => count_predictions_bytewise(message),
    }
}

/// Bit masks of one 64-byte block: bit `i` is set when byte `i` is the character.
struct BlockMasks {
    quotes: u64,
    backslashes: u64,
    /// `[`, `]`, `{` and `}`.
    structure: u64,
}

/// The count over `message` (which opens with `[`) 64 bytes at a time:
/// `Some(count)` as [`count_predictions_bytewise`] gives it, or `None` when
/// the message has a backslash (an escaped quote the masks cannot see).
fn count_by_blocks(message: &[u8]) -> Option<Option<u64>> {
    let mut depth = 0u64;
    let mut objects = 0u64;
    // All ones while a string is open at the end of the previous block.
    let mut in_string = 0u64;
    let mut padded = [b' '; 64];
    for block in message.chunks(64) {
        let block: &[u8; 64] = match block.try_into() {
            Ok(full) => full,
            Err(_) => {
                padded[..block.len()].copy_from_slice(block);
                &padded
            }
        };
        let masks = block_masks(block);
        if masks.backslashes != 0 {
            return None;
        }
        // Bits inside strings (opening quotes included): the running XOR of
        // the quotes before each bit, carried from the block before.
        let strings = prefix_xor(masks.quotes) ^ in_string;
        in_string = ((strings as i64) >> 63) as u64;
        let mut structure = masks.structure & !strings;
        while structure != 0 {
            let byte = block[structure.trailing_zeros() as usize];
            structure &= structure - 1;
            match byte {
                b'{' => {
                    if depth == 1 {
                        objects += 1;
                    }
                    depth += 1;
                }
                b'[' => depth += 1,
                _ => match depth.checked_sub(1) {
                    Some(shallower) => depth = shallower,
                    None => return Some(None),
                },
            }
        }
    }
    Some((depth == 0 && in_string == 0).then_some(objects))
}

/// Bit `i` of the result is the XOR of bits `0..=i` of `bits`.
fn prefix_xor(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

#[cfg(target_arch = "x86_64")]
fn block_masks(block: &[u8; 64]) -> BlockMasks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of x86-64; every load reads 16 bytes inside `block`.
    unsafe {
        let equal = |lanes: [__m128i; 4], byte: u8| -> u64 {
            let wanted = _mm_set1_epi8(byte as i8);
            lanes.iter().enumerate().fold(0u64, |mask, (i, lane)| {
                let bits = _mm_movemask_epi8(_mm_cmpeq_epi8(*lane, wanted)) as u16;
                mask | (u64::from(bits) << (16 * i))
            })
        };
        let lanes: [__m128i; 4] =
            std::array::from_fn(|i| _mm_loadu_si128(block.as_ptr().add(16 * i).cast()));
        // `[` 0x5B and `{` 0x7B, `]` 0x5D and `}` 0x7D differ only in bit 5:
        // with it set, two comparisons find all four.
        let folded = lanes.map(|lane| _mm_or_si128(lane, _mm_set1_epi8(0x20)));
        BlockMasks {
            quotes: equal(lanes, b'"'),
            backslashes: equal(lanes, b'\\'),
            structure: equal(folded, b'{') | equal(folded, b'}'),
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn block_masks(block: &[u8; 64]) -> BlockMasks {
    let mask = |wanted: fn(u8) -> bool| {
        block.iter().enumerate().fold(0u64, |mask, (i, &byte)| {
            mask | (u64::from(wanted(byte)) << i)
        })
    };
    BlockMasks {
        quotes: mask(|byte| byte == b'"'),
        backslashes: mask(|byte| byte == b'\\'),
        structure: mask(|byte| matches!(byte | 0x20, b'{' | b'}')),
    }
}

/// [`count_predictions`] a byte at a time: the reference, and the way for
/// messages with backslashes.
pub fn count_predictions_bytewise(message: &[u8]) -> Option<u64> {
    let start = message
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())?;
    if message[start] != b'[' {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut objects = 0;
    for &byte in &message[start..] {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => {
                if depth == 1 {
                    objects += 1;
                }
                depth += 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
    }
    (depth == 0 && !in_string).then_some(objects)
}

#[cfg(test)]
mod tests {
    use super::{count_predictions, count_predictions_bytewise};

    #[test]
    fn predictions_are_counted_outside_strings() {
        assert_eq!(
            count_predictions(br#"[{"a":"{[}"},{"b":{"c":1}}]"#),
            Some(2)
        );
        assert_eq!(count_predictions(br#"[{"a":"\"{"}]"#), Some(1));
        assert_eq!(count_predictions(b"[]"), Some(0));
        for not_an_array in [&b"hello"[..], b"{\"a\":1}", b"[{\"a\":1}", b"[\"open]", b""] {
            assert_eq!(count_predictions(not_an_array), None);
        }
    }

    /// The fast path gives the reference's answer on messages of every
    /// length around the block size, strings crossing blocks, and soups of
    /// the characters that matter.
    #[test]
    fn the_block_count_is_the_bytewise_count() {
        use rand::{RngExt, SeedableRng};
        let mut random = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        // Without a backslash the fast path answers; with one, the reference.
        let alphabets: [&[u8]; 2] = [b"[]{}\"a:, ", b"[]{}\"\\a:, "];
        for case in 0..20_000 {
            let alphabet = alphabets[usize::from(case % 4 == 3)];
            let length = random.random_range(0..300);
            let mut message: Vec<u8> = (0..length)
                .map(|_| alphabet[random.random_range(0..alphabet.len())])
                .collect();
            if case % 2 == 0 {
                message.insert(0, b'[');
            }
            assert_eq!(
                count_predictions(&message),
                count_predictions_bytewise(&message),
                "{}",
                String::from_utf8_lossy(&message)
            );
        }
        for predictions in 0..40 {
            for key in ["k", "a longer key with {braces} and [brackets] in it"] {
                let object = format!(r#"{{"{key}":"0a1b","x":[1,{{"y":2}}],"z":0.5}}"#);
                let message = format!("[{}]", vec![object; predictions].join(","));
                let expected = Some(predictions as u64);
                assert_eq!(count_predictions(message.as_bytes()), expected, "{message}");
                assert_eq!(count_predictions_bytewise(message.as_bytes()), expected);
            }
        }
    }
}
