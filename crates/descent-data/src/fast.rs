//! The fast path of the CSV parser: one pass over clean rows, splitting fields and parsing
//! numbers at once, writing each row straight into its place in the output arrays.
//! Anything unusual hands the chunk back to the general parser.

use std::collections::HashMap;

use descent_autodiff::Float;

use crate::parse::{Layout, Role, class_id, is_missing};

/// Powers of ten that an `f64` holds exactly.
const POW10_F64: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Powers of ten as integers, for joining runs of digits.
const POW10_U64: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// The run of ASCII digits at the start of `bytes`, up to 8 of them: their value and how
/// many there are. Eight bytes at a time (SWAR), as the digits of a CSV number are mostly
/// a handful: a byte-by-byte loop would be a chain of one multiply-add per digit.
#[inline(always)]
fn eight_digits(bytes: &[u8]) -> (u64, usize) {
    let Some(word) = bytes.first_chunk::<8>() else {
        let mut value = 0;
        let mut n = 0;
        while let Some(&b) = bytes.get(n) {
            let d = b.wrapping_sub(b'0');
            if d > 9 || n == 8 {
                break;
            }
            value = value * 10 + u64::from(d);
            n += 1;
        }
        return (value, n);
    };
    let word = u64::from_le_bytes(*word);
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A byte is a digit when its high nibble is 3 and adding 6 keeps it so. A carry out of
    // a byte (0xFA and above) only disturbs the bytes after it, past the first non-digit.
    let high = (word & (0xF0 * ONES)) ^ (0x30 * ONES);
    let plus6 = (word.wrapping_add(6 * ONES) & (0xF0 * ONES)) ^ (0x30 * ONES);
    let non_digits = high | plus6;
    let n = (non_digits.trailing_zeros() / 8) as usize;
    if n == 0 {
        return (0, 0);
    }
    // The digits' values, moved to the top so that the bytes before them read as leading
    // zeros, then combined pairwise: 8 digits in three multiplications.
    let mut v = (word.wrapping_sub(0x30 * ONES)) << (8 * (8 - n));
    v = (v & (0x0F * ONES)).wrapping_mul(2561) >> 8;
    v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    v = (v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32;
    (v, n)
}

/// The value of exactly `n` (1 to 7) ASCII digits at the start of `bytes` followed by a
/// non-digit, or `None` when the run there is of another length. Trying the length of the
/// previous fraction first makes the next field's position a guess the branch predictor
/// confirms later, instead of the result of searching for the run's end: that search sits
/// on the chain of dependent steps from one field to the next.
#[inline(always)]
fn fixed_digits(bytes: &[u8], n: usize) -> Option<u64> {
    let word = u64::from_le_bytes(*bytes.first_chunk::<8>()?);
    if !(1..8).contains(&n) {
        return None;
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    let high = (word & (0xF0 * ONES)) ^ (0x30 * ONES);
    let plus6 = (word.wrapping_add(6 * ONES) & (0xF0 * ONES)) ^ (0x30 * ONES);
    let non_digits = high | plus6;
    let low = (1u64 << (8 * n)) - 1;
    if non_digits & low != 0 || (non_digits >> (8 * n)) & 0xFF == 0 {
        return None;
    }
    let mut v = (word.wrapping_sub(0x30 * ONES)) << (8 * (8 - n));
    v = (v & (0x0F * ONES)).wrapping_mul(2561) >> 8;
    v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    v = (v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32;
    Some(v)
}

/// A run of ASCII digits at the start of `bytes`: its value (wrapped when it has more
/// than 19 digits, which the caller rejects) and its length.
#[inline(always)]
fn digits(bytes: &[u8]) -> (u64, usize) {
    let (mut value, mut n) = eight_digits(bytes);
    if n == 8 {
        loop {
            let (more, m) = eight_digits(&bytes[n..]);
            value = value.wrapping_mul(POW10_U64[m]).wrapping_add(more);
            n += m;
            if m < 8 {
                break;
            }
        }
    }
    (value, n)
}

/// The length of the last number's fraction: the next number's likely one, as CSV
/// columns are mostly written with a fixed number of decimals.
#[derive(Default)]
struct Guess {
    fraction: usize,
}

/// Reads the plain spelling `-?digits(.digits)?` at the start of `bytes` when it is not
/// followed by more of a number (`.`, `e`, `E`): the sign, the digits as one integer, how
/// many of them follow the point, and the bytes used. More than 19 digits could overflow
/// the integer, so such numbers are left to the general parser.
#[inline(always)]
fn plain_decimal(bytes: &[u8], guess: &mut Guess) -> Option<(bool, u64, usize, usize)> {
    let negative = bytes.first() == Some(&b'-');
    let mut p = negative as usize;
    // A one-digit whole part (|x| < 10, common in scaled data) skips the digit-run search,
    // which lies on the chain of dependent steps from one field to the next.
    let first = bytes.get(p)?.wrapping_sub(b'0');
    let (whole, int_digits) = if first <= 9 && bytes.get(p + 1) == Some(&b'.') {
        (u64::from(first), 1)
    } else {
        digits(&bytes[p..])
    };
    if int_digits == 0 {
        return None;
    }
    p += int_digits;
    let mut mantissa = whole;
    let mut fraction = 0;
    if bytes.get(p) == Some(&b'.') {
        p += 1;
        let (part, n) = match fixed_digits(&bytes[p..], guess.fraction) {
            Some(part) => (part, guess.fraction),
            None => {
                let (part, n) = digits(&bytes[p..]);
                guess.fraction = n;
                (part, n)
            }
        };
        if n == 0 || n >= POW10_U64.len() {
            return None;
        }
        p += n;
        fraction = n;
        mantissa = mantissa.wrapping_mul(POW10_U64[n]).wrapping_add(part);
    }
    if int_digits + fraction > 19 || matches!(bytes.get(p), Some(b'.' | b'e' | b'E')) {
        return None;
    }
    Some((negative, mantissa, fraction, p))
}

/// Parses a plain decimal at the start of `bytes` whose digits and power of ten an `f64`
/// holds exactly, returning it and the bytes it used; `None` for anything else.
///
/// Such a value is one correctly rounded IEEE division (Clinger's fast path), so it equals
/// the correctly rounded value that `fast_float2` returns, bit for bit, at a fraction of
/// the cost of its general machinery. It is always finite.
///
/// For `f32` the quotient is rounded to `f64` first and then to `f32`. That double
/// rounding is exact here: it could only go wrong if the exact quotient `q = m / 10^e`
/// were within half an `f64` ulp (at most `2^-53 q`) of an `f32` halfway point
/// `h = k 2^j` (`k` odd, below `2^25`) without being equal to it. If `j + e >= 0`,
/// `m - h 10^e` is a nonzero integer, so `|q - h| >= 10^-e = q / m >= 2^-52 q`. Otherwise
/// it is a nonzero multiple of `2^(j+e)`, so `|q - h| >= 2^(j+e) / 10^e > q 2^-25 / 5^e`,
/// which is above `2^-53 q` while `5^e < 2^28`, that is `e <= 12`. Hence the bounds
/// `m <= 2^52` and `e <= 12` for `f32` (`e <= 22` for `f64`, whose powers of ten are exact
/// that far).
#[inline(always)]
fn plain_number<T: Float>(bytes: &[u8], guess: &mut Guess) -> Option<(T, usize)> {
    let (negative, m, fraction, used) = plain_decimal(bytes, guess)?;
    let single = std::mem::size_of::<T>() == 4;
    let max_fraction = if single { 12 } else { POW10_F64.len() - 1 };
    if m > 1 << 52 || fraction > max_fraction {
        return None;
    }
    let v = m as f64 / POW10_F64[fraction];
    // The sign as a bit, not a branch: signs in data are a coin toss, and a mispredicted
    // branch per number costs more than the rest of the parse.
    let v = f64::from_bits(v.to_bits() | (u64::from(negative) << 63));
    Some((
        if single {
            T::of(f64::from(v as f32))
        } else {
            T::of(v)
        },
        used,
    ))
}

/// Parses a number at the start of `bytes` as `fast_float2` does, returning it and the
/// bytes it used: what the fast path does, in one call, for the tests, with a guess at the
/// fraction's length.
#[cfg(test)]
fn number<T: Float>(bytes: &[u8], fraction: usize) -> Option<(T, usize)> {
    if let Some(plain) = plain_number(bytes, &mut Guess { fraction }) {
        return Some(plain);
    }
    general_number(bytes)
}

/// Any number `fast_float2` reads: exponents, long mantissas, `inf`, `NaN`.
#[inline(never)]
fn general_number<T: Float>(bytes: &[u8]) -> Option<(T, usize)> {
    if std::mem::size_of::<T>() == 4 {
        let (v, used) = fast_float2::parse_partial::<f32, _>(bytes).ok()?;
        Some((T::of(v as f64), used))
    } else {
        let (v, used) = fast_float2::parse_partial::<f64, _>(bytes).ok()?;
        Some((T::of(v), used))
    }
}

/// Where a chunk's rows go: its share of the output arrays, room for `capacity` rows.
/// `real` is empty when the target holds classes, `class_ids` when it holds real values.
pub(crate) struct Slot<'o, T> {
    pub(crate) capacity: usize,
    pub(crate) features: &'o mut [T],
    pub(crate) real: &'o mut [T],
    pub(crate) class_ids: &'o mut [usize],
}

/// A label of at most 8 bytes as an integer, so that looking up the few labels of a
/// typical class column is an integer comparison rather than a call to `memcmp`.
#[inline(always)]
fn short_key(label: &[u8]) -> Option<u64> {
    if label.len() > 8 {
        return None;
    }
    let mut key = [0u8; 8];
    key[..label.len()].copy_from_slice(label);
    Some(u64::from_le_bytes(key))
}

/// The chunk-local class ids of short labels already seen: (key, length, id).
const SHORT_LABELS: usize = 32;

/// Parses `data` when every row is clean: the right number of fields, numbers with no
/// surrounding spaces, no quotes, no missing or (unless allowed) non-finite values, no
/// unknown class labels, `\n` or `\r\n` line ends, at most `slot.capacity` rows. Writes
/// the rows into `slot` and the chunk's label dictionary into `labels`, and returns the
/// number of rows. Returns `None` otherwise, and the general parser then reads the chunk
/// and reports the exact error; on clean rows both give the same result.
pub(crate) fn parse_clean<T: Float>(
    data: &[u8],
    layout: &Layout,
    slot: Slot<'_, T>,
    labels: &mut Vec<Box<[u8]>>,
) -> Option<usize> {
    let options = layout.options;
    let delimiter = options.delimiter;
    if matches!(delimiter, b'"' | b'\n' | b'\r') {
        return None;
    }
    let roles = &layout.roles;
    let width = roles.len();
    let nf = layout.n_features;
    let mut lookup = HashMap::new();
    let mut short: Vec<(u64, usize, usize)> = Vec::with_capacity(SHORT_LABELS);
    let n = data.len();
    let mut rows = 0;
    let mut p = 0;
    let mut guess = Guess::default();
    while p < n {
        match data[p] {
            b'\n' => {
                p += 1;
                continue;
            }
            b'\r' if data.get(p + 1) == Some(&b'\n') => {
                p += 2;
                continue;
            }
            b'\r' => return None,
            _ => {}
        }
        if rows == slot.capacity {
            return None;
        }
        let features = &mut slot.features[rows * nf..(rows + 1) * nf];
        for (column, role) in roles.iter().enumerate() {
            let numeric = match role {
                Role::Feature(_) => true,
                Role::Target => !layout.classes,
                Role::Skip => false,
            };
            if numeric {
                let (v, used) = match plain_number::<T>(&data[p..], &mut guess) {
                    Some(plain) => plain,
                    None => {
                        let (v, used) = general_number::<T>(&data[p..])?;
                        if !(v.is_finite() || options.allow_non_finite) {
                            return None;
                        }
                        (v, used)
                    }
                };
                p += used;
                match role {
                    Role::Feature(j) => features[*j] = v,
                    _ => slot.real[rows] = v,
                }
            } else {
                let start = p;
                while p < n && !matches!(data[p], b'\n' | b'\r' | b'"') && data[p] != delimiter {
                    p += 1;
                }
                let field = &data[start..p];
                if *role == Role::Target {
                    let key = short_key(field);
                    let known = key.and_then(|k| {
                        short
                            .iter()
                            .find(|&&(s, len, _)| s == k && len == field.len())
                            .map(|&(_, _, id)| id)
                    });
                    slot.class_ids[rows] = match known {
                        Some(id) => id,
                        None => {
                            // A new label (to this chunk): check it once, as the general
                            // parser would.
                            if field.trim_ascii().len() != field.len() || is_missing(field, options)
                            {
                                return None;
                            }
                            let fixed = layout.fixed_classes;
                            if fixed.is_some_and(|k| !k.iter().any(|k| k.as_bytes() == field)) {
                                return None;
                            }
                            let id = class_id(field, labels, &mut lookup) as usize;
                            if let Some(k) = key
                                && short.len() < SHORT_LABELS
                            {
                                short.push((k, field.len(), id));
                            }
                            id
                        }
                    };
                }
            }
            if column + 1 < width {
                if data.get(p) != Some(&delimiter) {
                    return None;
                }
                p += 1;
            } else {
                match data.get(p) {
                    None => {}
                    Some(b'\n') => p += 1,
                    Some(b'\r') if data.get(p + 1) == Some(&b'\n') => p += 2,
                    Some(_) => return None,
                }
            }
        }
        rows += 1;
    }
    Some(rows)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::number;

    /// The fast number reader gives what `fast_float2` gives, bit for bit and byte for
    /// byte, on `text` followed by each of a few bytes that may end a field.
    fn agrees(text: &str) {
        for end in ["", ",", "\n", "\r\n", "x", "e5", ".5", "7"] {
            let bytes = format!("{text}{end}");
            let bytes = bytes.as_bytes();
            let theirs32 = fast_float2::parse_partial::<f32, _>(bytes)
                .ok()
                .map(|(v, n)| (v.to_bits(), n));
            let theirs64 = fast_float2::parse_partial::<f64, _>(bytes)
                .ok()
                .map(|(v, n)| (v.to_bits(), n));
            // Every guess at the fraction's length, right or wrong, gives the same.
            for fraction in 0..9 {
                let ours = number::<f32>(bytes, fraction).map(|(v, n)| (v.to_bits(), n));
                assert_eq!(ours, theirs32, "f32 {bytes:?} guess {fraction}");
                let ours = number::<f64>(bytes, fraction).map(|(v, n)| (v.to_bits(), n));
                assert_eq!(ours, theirs64, "f64 {bytes:?} guess {fraction}");
            }
        }
    }

    #[test]
    fn edge_spellings_agree_with_fast_float() {
        for text in [
            "0",
            "-0",
            "0.0",
            "-0.000000",
            "1",
            "16777216",
            "16777217",
            "16777215.5",
            "0.1",
            "0.3",
            "3.4028235",
            "9007199254740993",
            "12345678",
            "123456789",
            "1234567890123456789",
            "12345678901234567890",
            "0.0000000001",
            "0.00000000001",
            "1.",
            ".5",
            "-.5",
            "+1",
            "-",
            "",
            "--1",
            "1.2.3",
            "007.50",
            "99999999.99999999",
            "1e5",
            "1E-3",
            "inf",
            "-nan",
            "0.00000001192092895507812",
        ] {
            agrees(text);
        }
    }

    proptest! {
        #[test]
        fn decimals_agree_with_fast_float(
            negative in any::<bool>(),
            whole in "[0-9]{1,12}",
            fraction in proptest::option::of("[0-9]{0,12}"),
        ) {
            let sign = if negative { "-" } else { "" };
            let text = match fraction {
                Some(f) => format!("{sign}{whole}.{f}"),
                None => format!("{sign}{whole}"),
            };
            agrees(&text);
        }

        /// The decimals closest to halfway between two neighbouring `f32` values, where
        /// rounding twice (to `f64`, then to `f32`) could go wrong.
        #[test]
        fn near_f32_halfway_points_agree_with_fast_float(
            bits in 0x3A83_126Fu32..0x4F80_0000, // 0.001 to 2^32
            e in 0usize..14,
        ) {
            let x = f32::from_bits(bits);
            let next = f32::from_bits(bits + 1);
            let half = (f64::from(x) + f64::from(next)) / 2.0;
            let scaled = (half * 10f64.powi(e as i32)).floor() as u64;
            for m in scaled.saturating_sub(1)..scaled.saturating_add(3) {
                let scale = 10u64.pow(e as u32);
                let text = if e == 0 {
                    m.to_string()
                } else {
                    format!("{}.{:0e$}", m / scale, m % scale)
                };
                agrees(&text);
            }
        }

        #[test]
        fn formatted_floats_agree_with_fast_float(v in any::<f64>(), decimals in 0usize..12) {
            agrees(&format!("{v:.decimals$}"));
            agrees(&format!("{}", v as f32));
        }
    }
}
