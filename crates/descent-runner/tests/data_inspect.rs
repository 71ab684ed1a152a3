//! `descent data inspect`: the report for good files, and the loader's error with exit
//! status 1 for every bad input of issue 4.

use std::path::PathBuf;
use std::process::{Command, Output};

fn datasets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
}

fn inspect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .arg("data")
        .arg("inspect")
        .args(args)
        .output()
        .unwrap()
}

fn write(name: &str, bytes: &[u8]) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("inspect");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn iris_report() {
    let out = inspect(&[datasets().join("iris.csv").to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("150 rows × 5 columns (4 features + target `species`)"),
        "{text}"
    );
    assert!(text.contains("sepal_length_cm"), "{text}");
    // Mean, min and max of sepal length: 5.843333, 4.3, 7.9.
    let line = text
        .lines()
        .find(|l| l.contains("sepal_length_cm"))
        .unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cells[2..], ["float", "5.843333", "4.3", "7.9"], "{line}");
    assert!(text.contains("target `species`: 3 classes"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "versicolor", "50"])
    );
}

#[test]
fn regression_target_range_and_integer_columns() {
    let out = inspect(&[datasets().join("diabetes.csv").to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("target `progression`: real values, range 25 to 346"),
        "{text}"
    );
    let age = text.lines().find(|l| l.contains(" age ")).unwrap();
    assert!(age.contains("integer"), "{age}");
}

#[test]
fn target_by_name_and_forced_classes() {
    let file = datasets().join("digits.csv");
    let out = inspect(&[file.to_str().unwrap(), "--target", "digit", "--classes"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("target `digit`: 10 classes"), "{text}");
    assert!(text.contains("1797 rows × 65 columns"), "{text}");
}

/// A bad file: name, bytes, extra arguments, and texts its error must contain.
type BadCase<'a> = (&'a str, &'a [u8], &'a [&'a str], &'a [&'a str]);

/// Each bad input: exit status 1, and stderr names the file, the line (and column) and
/// what was expected.
#[test]
fn bad_inputs_fail_with_the_loaders_error() {
    let cases: &[BadCase] = &[
        (
            "few.csv",
            b"a,b,y\n1,2,3\n4,5\n",
            &[],
            &["few.csv:3:", "expected 3 fields"],
        ),
        (
            "many.csv",
            b"a,b,y\n1,2,3\n4,5,6,7\n",
            &[],
            &["many.csv:3:", "has 4 fields"],
        ),
        (
            "text.csv",
            b"a,b,y\n1,2,3\n4,five,6\n",
            &[],
            &["text.csv:3:2", "`five`", "expected a number"],
        ),
        ("empty.csv", b"", &[], &["empty.csv:1:", "empty"]),
        (
            "header.csv",
            b"a,b,y\n",
            &[],
            &["header.csv:2:", "only a header"],
        ),
        (
            "target.csv",
            b"a,b,y\n1,2,3\n",
            &["--target", "label"],
            &["no column named `label`", "a, b, y"],
        ),
        (
            "dup.csv",
            b"a,a,y\n1,2,3\n",
            &[],
            &["dup.csv:1:2", "duplicate column name `a`"],
        ),
        (
            "nan.csv",
            b"a,b,y\n1,NaN,3\n",
            &[],
            &["nan.csv:2:2", "not finite"],
        ),
        (
            "inf.csv",
            b"a,b,y\n1,2,-inf\n",
            &[],
            &["inf.csv:2:3", "not finite"],
        ),
        (
            "utf8.csv",
            b"a,b,y\n1,\xC3\x28,3\n",
            &[],
            &["utf8.csv:2:3", "byte offset 8"],
        ),
    ];
    for (name, bytes, extra, needles) in cases {
        let path = write(name, bytes);
        let mut args = vec![path.as_str()];
        args.extend_from_slice(extra);
        let out = inspect(&args);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(out.stdout.is_empty(), "{name}: nothing partial is printed");
        let err = String::from_utf8(out.stderr).unwrap();
        for needle in *needles {
            assert!(err.contains(needle), "{name}: `{needle}` not in {err}");
        }
    }
}

#[test]
fn accepted_oddities() {
    let cases: &[(&str, &[u8])] = &[
        ("bom.csv", b"\xEF\xBB\xBFa,b,y\n1,2,x\n3,4,z\n"),
        ("quoted.csv", b"a,b,y\n\"1\",2,\"x, y\"\n3,4,z\n"),
        ("crlf.csv", b"a,b,y\r\n1,2,x\r\n3,4,z\r\n"),
    ];
    for (name, bytes) in cases {
        let out = inspect(&[&write(name, bytes)]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("2 rows × 3 columns"), "{name}: {text}");
        assert!(text.contains("target `y`: 2 classes"), "{name}: {text}");
    }
}

#[test]
fn missing_file_and_usage() {
    let out = inspect(&["/nonexistent/file.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/file.csv"));
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(["data"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
