//! No input makes the CSV loader panic: random bytes, and random mutations of a valid file.

use std::path::Path;

use descent_data::{CsvOptions, MissingPolicy, TargetKind, load_csv_bytes};
use proptest::prelude::*;

const VALID: &[u8] =
    b"\xEF\xBB\xBFa,\"b,c\",label\r\n1.5,2,setosa\r\n-3e2,NaN,\"virg,inica\"\n4,,x\n";

fn all_options() -> Vec<CsvOptions> {
    vec![
        CsvOptions::default(),
        CsvOptions {
            missing: MissingPolicy::FillMean,
            allow_non_finite: true,
            ..CsvOptions::default()
        },
        CsvOptions {
            missing: MissingPolicy::DropRow,
            has_header: false,
            ..CsvOptions::default()
        },
        CsvOptions::default()
            .with_target(0usize)
            .with_target_kind(TargetKind::Real),
        CsvOptions::default().with_classes(&["setosa".to_string()]),
        CsvOptions {
            select: Some(vec![1usize.into(), "a".into()]),
            ..CsvOptions::default()
        },
    ]
}

fn load_all(bytes: &[u8]) {
    for options in all_options() {
        let _ = load_csv_bytes::<f32>(bytes, Path::new("fuzz.csv"), &options);
        let _ = load_csv_bytes::<f64>(bytes, Path::new("fuzz.csv"), &options);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        load_all(&bytes);
    }

    #[test]
    fn csv_like_bytes_never_panic(
        bytes in proptest::collection::vec(
            prop::sample::select(b"0123456789.,-+eE\"\n\r aN\xEF\xBB\xBF\xFFi".to_vec()), 0..200)
    ) {
        load_all(&bytes);
    }

    #[test]
    fn mutations_of_a_valid_file_never_panic(
        edits in proptest::collection::vec((0usize..VALID.len() + 1, any::<u8>(), 0u8..3), 1..8)
    ) {
        let mut bytes = VALID.to_vec();
        for (at, byte, kind) in edits {
            let at = at.min(bytes.len());
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => bytes.push(byte),
            }
        }
        load_all(&bytes);
    }
}

/// One generated cell: a number in one of many spellings, sometimes odd.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1000i64..1000).prop_map(|v| v.to_string()),
        (-1e3f64..1e3).prop_map(|v| format!("{v:.6}")),
        (-1e3f64..1e3).prop_map(|v| format!("{v:e}")),
        (-1e3f64..1e3).prop_map(|v| format!("+{}", v.abs())),
        Just(" 1.5".to_string()),
        Just(".5".to_string()),
        Just("1.".to_string()),
        Just("".to_string()),
        Just("NA".to_string()),
        Just("inf".to_string()),
        Just("1e5x".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The fast path (clean rows) and the general parser agree: the same file with a
    /// quoted field on its last row goes through the general parser only.
    #[test]
    fn fast_and_general_paths_agree(
        rows in proptest::collection::vec((cell(), cell(), 0usize..3), 1..30),
        crlf in any::<bool>(),
        fill in any::<bool>(),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut plain = format!("a,b,label{end}");
        for (a, b, c) in &rows {
            plain.push_str(&format!("{a},{b},{}{end}", ["x", "y", "z"][*c]));
        }
        let quoted = format!("{plain}\"1\",2,x{end}");
        let plain = format!("{plain}1,2,x{end}");
        let options = CsvOptions {
            missing: if fill { MissingPolicy::FillMean } else { MissingPolicy::Error },
            ..CsvOptions::default()
        };
        let fast = load_csv_bytes::<f64>(plain.as_bytes(), Path::new("f.csv"), &options);
        let general = load_csv_bytes::<f64>(quoted.as_bytes(), Path::new("f.csv"), &options);
        match (fast, general) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => prop_assert!(false, "fast {:?} vs general {:?}", a, b),
        }
    }
}

/// A file of `rows` clean rows over 1 MiB, so that it takes the parallel chunked path:
/// four six-decimal columns and a class label.
fn big_file(rows: usize, seed: u64) -> Vec<u8> {
    let mut text = String::from("a,b,c,d,label\n");
    let mut state = seed | 1;
    for row in 0..rows {
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = (state >> 11) as f64 / (1u64 << 53) as f64 * 20.0 - 10.0;
            text.push_str(&format!("{v:.6},"));
        }
        text.push_str(["x\n", "y\n", "z\n"][row % 3]);
    }
    text.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// On files large enough to be parsed in chunks on the rayon pool, with a few bytes
    /// changed anywhere but the last row: no panic, and the same result or the same first
    /// error as the one-chunk general parser (forced by a quoted field on the last row),
    /// whether the chunks run in parallel or one after another. (An added quote would make
    /// the two files differ, so the edits add none; the other tests cover quotes.)
    #[test]
    fn large_files_agree_with_the_general_parser(
        seed in any::<u64>(),
        edits in proptest::collection::vec(
            (0.0f64..1.0, prop::sample::select(b"0123456789.,-eE\n\r aNx\xFF".to_vec()), 0u8..3),
            0..4,
        ),
        option in 0usize..4,
    ) {
        let mut bytes = big_file(30_000, seed);
        prop_assert!(bytes.len() > 1 << 20);
        for (at, byte, kind) in edits {
            let at = (at * bytes.len() as f64) as usize;
            match kind {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => { bytes.remove(at); }
            }
        }
        let options = [
            CsvOptions::default(),
            CsvOptions { missing: MissingPolicy::FillMean, allow_non_finite: true, ..CsvOptions::default() },
            CsvOptions { missing: MissingPolicy::DropRow, ..CsvOptions::default() },
            CsvOptions::default().with_classes(&["x".to_string(), "y".to_string()]),
        ][option].clone();
        let sequential = CsvOptions { parallel: false, ..options.clone() };
        let mut plain = bytes.clone();
        plain.extend_from_slice(b"1,2,3,4,x\n");
        let mut quoted = bytes;
        quoted.extend_from_slice(b"\"1\",2,3,4,x\n");
        let name = Path::new("big.csv");
        let parallel = load_csv_bytes::<f32>(&plain, name, &options);
        let one_thread = load_csv_bytes::<f32>(&plain, name, &sequential);
        let general = load_csv_bytes::<f32>(&quoted, name, &options);
        for other in [one_thread, general] {
            match (&parallel, other) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, &b),
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(false, "chunked {:?} vs {:?}", a.as_ref().map(|d| d.rows()), b.map(|d| d.rows())),
            }
        }
    }
}
