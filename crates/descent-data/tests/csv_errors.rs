//! Every bad input of issue 4: each error names the file, line (and column) and what was
//! expected, and nothing partial is returned.

use std::path::PathBuf;

use descent_data::{
    CsvOptions, DataError, Dataset, MissingPolicy, TargetKind, Targets, load_csv, load_records,
};

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("csv_errors");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn load(name: &str, bytes: &[u8]) -> Result<Dataset<f64>, DataError> {
    load_csv(write(name, bytes), &CsvOptions::default())
}

fn message(error: &DataError) -> String {
    error.to_string()
}

#[test]
fn too_few_fields() {
    let err = load("few.csv", b"a,b,y\n1,2,3\n4,5\n").unwrap_err();
    match &err {
        DataError::FieldCount {
            line,
            expected,
            found,
            file,
        } => {
            assert_eq!((*line, *expected, *found), (3, 3, 2));
            assert!(file.ends_with("few.csv"));
        }
        other => panic!("wrong error {other:?}"),
    }
    let text = message(&err);
    assert!(text.contains("few.csv:3:"), "{text}");
    assert!(text.contains("expected 3 fields"), "{text}");
}

#[test]
fn too_many_fields() {
    let err = load("many.csv", b"a,b,y\n1,2,3\n4,5,6,7\n").unwrap_err();
    assert!(
        matches!(
            err,
            DataError::FieldCount {
                line: 3,
                expected: 3,
                found: 4,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn non_numeric_feature_names_value_line_and_column() {
    let err = load("nan_text.csv", b"a,b,y\n1,2,3\n4,five,6\n").unwrap_err();
    match &err {
        DataError::NotANumber {
            line,
            column,
            field,
            value,
            ..
        } => {
            assert_eq!(
                (*line, *column, field.as_str(), value.as_str()),
                (3, 2, "b", "five")
            );
        }
        other => panic!("wrong error {other:?}"),
    }
    let text = message(&err);
    assert!(text.contains("nan_text.csv:3:2"), "{text}");
    assert!(
        text.contains("`five`") && text.contains("expected a number"),
        "{text}"
    );
}

#[test]
fn empty_file() {
    for (name, bytes) in [
        ("empty.csv", &b""[..]),
        ("blank.csv", b"\n\r\n  \n"),
        ("bom_only.csv", b"\xEF\xBB\xBF"),
    ] {
        let err = load(name, bytes).unwrap_err();
        assert!(matches!(err, DataError::Empty { .. }), "{name}: {err:?}");
        assert!(message(&err).contains("empty") && message(&err).contains("expected"));
    }
}

#[test]
fn header_only() {
    let err = load("header.csv", b"a,b,y\n").unwrap_err();
    assert!(
        matches!(err, DataError::HeaderOnly { line: 2, .. }),
        "{err:?}"
    );
    let err = load("header_blank.csv", b"a,b,y\r\n\r\n").unwrap_err();
    assert!(matches!(err, DataError::HeaderOnly { .. }), "{err:?}");
    assert!(
        message(&err).contains("header_blank.csv:2"),
        "{}",
        message(&err)
    );
}

#[test]
fn missing_target_column_lists_the_columns() {
    let path = write("no_target.csv", b"a,b,y\n1,2,3\n");
    let err = load_csv::<f64>(&path, &CsvOptions::default().with_target("label")).unwrap_err();
    match &err {
        DataError::NoSuchColumn {
            name,
            available,
            line,
            ..
        } => {
            assert_eq!(name, "label");
            assert_eq!(available, &["a", "b", "y"]);
            assert_eq!(*line, 1);
        }
        other => panic!("wrong error {other:?}"),
    }
    assert!(
        message(&err).contains("expected one of: a, b, y"),
        "{}",
        message(&err)
    );
    let err = load_csv::<f64>(&path, &CsvOptions::default().with_target(7usize)).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::ColumnOutOfRange {
                index: 7,
                count: 3,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn duplicated_column_name() {
    let err = load("dup.csv", b"a,b,a,y\n1,2,3,4\n").unwrap_err();
    assert!(
        matches!(&err, DataError::DuplicateColumn { column: 3, first_column: 1, name, line: 1, .. } if name == "a"),
        "{err:?}"
    );
    assert!(message(&err).contains("dup.csv:1:3"), "{}", message(&err));
}

#[test]
fn nan_and_infinite_values_are_errors_by_default() {
    for (i, bad) in ["NaN", "nan", "inf", "-Infinity", "1e400"]
        .iter()
        .enumerate()
    {
        let text = format!("a,b,y\n1,2,3\n4,{bad},6\n");
        let err = load(&format!("nonfinite{i}.csv"), text.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, DataError::NonFinite { line: 3, column: 2, value, .. } if value == bad),
            "{bad}: {err:?}"
        );
        assert!(message(&err).contains("expected a finite number"));
    }
    let path = write("nonfinite_ok.csv", b"a,b,y\n1,NaN,3\n4,inf,6\n");
    let options = CsvOptions {
        allow_non_finite: true,
        ..CsvOptions::default()
    };
    let data = load_csv::<f64>(&path, &options).unwrap();
    assert!(data.features()[[0, 1]].is_nan() && data.features()[[1, 1]].is_infinite());
}

#[test]
fn byte_order_mark_is_accepted() {
    let data = load("bom.csv", b"\xEF\xBB\xBFa,b,y\n1,2,3\n").unwrap();
    assert_eq!(data.feature_names(), ["a", "b"]);
    assert_eq!(data.rows(), 1);
}

#[test]
fn quoted_fields_with_commas_are_accepted() {
    let data = load(
        "quoted.csv",
        b"\"a,1\",b,label\n\"1.5\",2,\"big, red\"\n3,4,small\n",
    )
    .unwrap();
    assert_eq!(data.feature_names(), ["a,1", "b"]);
    assert_eq!(data.class_names().unwrap(), ["big, red", "small"]);
    assert_eq!(data.features()[[0, 0]], 1.5);
}

#[test]
fn windows_line_ends_are_accepted() {
    let data = load("crlf.csv", b"a,b,y\r\n1,2,3\r\n4,5,6\r\n").unwrap();
    assert_eq!(data.features().shape(), &[2, 2]);
    assert_eq!(data.targets(), &Targets::Real(ndarray::array![3.0, 6.0]));
    // Errors on a CRLF file still point at the right line.
    let err = load("crlf_bad.csv", b"a,b,y\r\n1,2,3\r\n4,x,6\r\n").unwrap_err();
    assert!(
        matches!(
            err,
            DataError::NotANumber {
                line: 3,
                column: 2,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn invalid_utf8_gives_the_byte_offset() {
    let err = load("utf8.csv", b"a,b,y\n1,2,3\n4,\xFF5,6\n").unwrap_err();
    match &err {
        DataError::InvalidUtf8 {
            line,
            column,
            byte_offset,
            ..
        } => {
            assert_eq!((*line, *column, *byte_offset), (3, 3, 14));
        }
        other => panic!("wrong error {other:?}"),
    }
    assert!(
        message(&err).contains("byte offset 14"),
        "{}",
        message(&err)
    );
}

#[test]
fn class_in_test_but_not_in_training_data() {
    let train = load_csv::<f32>(
        write("train.csv", b"x,label\n1,cat\n2,dog\n"),
        &CsvOptions::default(),
    )
    .unwrap();
    let names = train.class_names().unwrap().to_vec();
    let test_path = write("test.csv", b"x,label\n1,dog\n2,cow\n");
    let err = load_csv::<f32>(&test_path, &CsvOptions::default().with_classes(&names)).unwrap_err();
    match &err {
        DataError::UnknownClass {
            line,
            column,
            label,
            known,
            ..
        } => {
            assert_eq!((*line, *column, label.as_str()), (3, 2, "cow"));
            assert_eq!(known, &["cat", "dog"]);
        }
        other => panic!("wrong error {other:?}"),
    }
    assert!(message(&err).contains("test.csv:3:2"), "{}", message(&err));
    // Known labels map to the training set's indices, whatever order they come in.
    let ok = write("test_ok.csv", b"x,label\n1,dog\n2,cat\n");
    let test = load_csv::<f32>(&ok, &CsvOptions::default().with_classes(&names)).unwrap();
    assert_eq!(
        test.targets(),
        &Targets::Classes {
            indices: ndarray::array![1, 0],
            names
        }
    );
}

#[test]
fn missing_values_error_drop_or_fill() {
    let path = write("missing.csv", b"a,b,y\n1,,3\n2,4,5\n3,NA,6\n6,8,7\n");
    let err = load_csv::<f64>(&path, &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Missing {
                line: 2,
                column: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let drop = CsvOptions {
        missing: MissingPolicy::DropRow,
        ..CsvOptions::default()
    };
    let data = load_csv::<f64>(&path, &drop).unwrap();
    assert_eq!(data.features(), ndarray::array![[2.0, 4.0], [6.0, 8.0]]);
    let fill = CsvOptions {
        missing: MissingPolicy::FillMean,
        ..CsvOptions::default()
    };
    let data = load_csv::<f64>(&path, &fill).unwrap();
    assert_eq!(
        data.features().column(1),
        ndarray::array![6.0, 4.0, 6.0, 8.0]
    );
}

#[test]
fn integer_labels_map_in_numeric_order() {
    let data = load_csv::<f32>(
        write("int_labels.csv", b"x,y\n1,10\n2,2\n3,10\n4,0\n"),
        &CsvOptions::default().with_target_kind(TargetKind::Classes),
    )
    .unwrap();
    assert_eq!(data.class_names().unwrap(), ["0", "2", "10"]);
    assert_eq!(
        data.targets(),
        &Targets::Classes {
            indices: ndarray::array![2, 1, 2, 0],
            names: vec!["0".into(), "2".into(), "10".into()]
        }
    );
}

#[test]
fn select_drop_index_and_no_header() {
    let path = write("cols.csv", b"a,b,c,y\n1,2,3,4\n5,6,7,8\n");
    let options = CsvOptions {
        select: Some(vec!["c".into(), "a".into()]),
        target: Some(1usize.into()),
        ..CsvOptions::default()
    };
    let data = load_csv::<f64>(&path, &options).unwrap();
    assert_eq!(data.feature_names(), ["c", "a"]);
    assert_eq!(data.target_name(), "b");
    assert_eq!(data.features(), ndarray::array![[3.0, 1.0], [7.0, 5.0]]);
    let options = CsvOptions {
        drop: vec!["b".into()],
        ..CsvOptions::default()
    };
    assert_eq!(
        load_csv::<f64>(&path, &options).unwrap().feature_names(),
        ["a", "c"]
    );
    let raw = write("noheader.csv", b"1;2;0\n3;4;1\n");
    let options = CsvOptions {
        has_header: false,
        delimiter: b';',
        ..CsvOptions::default()
    };
    let data = load_csv::<f64>(&raw, &options).unwrap();
    assert_eq!(data.feature_names(), ["column_1", "column_2"]);
    assert_eq!(data.rows(), 2);
}

#[test]
fn records_into_a_user_type() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Row {
        x: f64,
        name: String,
    }
    let path = write(
        "records.csv",
        b"\xEF\xBB\xBFname,x\r\nab,1.5\r\n\"c,d\",2\r\n",
    );
    let rows: Vec<Row> = load_records(&path, &CsvOptions::default()).unwrap();
    assert_eq!(
        rows,
        [
            Row {
                x: 1.5,
                name: "ab".into()
            },
            Row {
                x: 2.0,
                name: "c,d".into()
            }
        ]
    );
    let bad = write("records_bad.csv", b"name,x\nab,1.5\ncd,oops\n");
    let err = load_records::<Row>(&bad, &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Record {
                line: 3,
                column: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        message(&err).contains("records_bad.csv:3:2"),
        "{}",
        message(&err)
    );
    let short = write("records_short.csv", b"name,x\nab\n");
    let err = load_records::<Row>(&short, &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(err, DataError::FieldCount { line: 2, .. }),
        "{err:?}"
    );
    let header = write("records_header.csv", b"name,x\n");
    let err = load_records::<Row>(&header, &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(err, DataError::HeaderOnly { line: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn unreadable_file() {
    let err = load_csv::<f64>("/nonexistent/dir/x.csv", &CsvOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    assert!(message(&err).contains("/nonexistent/dir/x.csv"));
}

/// The parallel path (a file over 1 MiB) reports the same first error, on the right line,
/// and gives the same data as the one-threaded path.
#[test]
fn parallel_and_sequential_agree() {
    let mut text = String::from("a,b,label\n");
    for i in 0..60_000 {
        text.push_str(&format!("{}.25,{},{}\n", i, i % 7, ["x", "y", "z"][i % 3]));
    }
    let path = write("big.csv", text.as_bytes());
    let seq = CsvOptions {
        parallel: false,
        ..CsvOptions::default()
    };
    let a = load_csv::<f32>(&path, &CsvOptions::default()).unwrap();
    let b = load_csv::<f32>(&path, &seq).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.rows(), 60_000);
    let bad_line = 50_001;
    let mut lines: Vec<&str> = text.lines().collect();
    lines[bad_line - 1] = "1,2";
    let bad = write("big_bad.csv", (lines.join("\n") + "\n").as_bytes());
    let err = load_csv::<f32>(&bad, &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(err, DataError::FieldCount { line, .. } if line == bad_line as u64),
        "{err:?}"
    );
    let err = load_csv::<f32>(&bad, &seq).unwrap_err();
    assert!(
        matches!(err, DataError::FieldCount { line, .. } if line == bad_line as u64),
        "{err:?}"
    );
}
