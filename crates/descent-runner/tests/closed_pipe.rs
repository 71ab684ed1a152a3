//! `descent … | head`: a reader that stops early is not an error, and never a panic.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

#[test]
fn a_closed_pipe_ends_quietly() {
    // 16,000 runs: far more listing than a pipe buffers, so writing must hit the closed pipe.
    let original = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../experiments/w4-sweep.toml"
    );
    let seeds: Vec<String> = (0..1000).map(|s| s.to_string()).collect();
    let text = std::fs::read_to_string(original)
        .unwrap()
        .replace("seeds = [0, 1]", &format!("seeds = [{}]", seeds.join(", ")));
    let experiment =
        std::env::temp_dir().join(format!("descent-closed-pipe-{}.toml", std::process::id()));
    std::fs::write(&experiment, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_descent"))
        .arg("run")
        .arg(&experiment)
        .arg("--dry-run")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("descent starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .unwrap();
    // The reader is gone now (like `head -1`); the remaining lines hit a closed pipe.
    let mut errors = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut errors)
        .unwrap();
    let status = child.wait().unwrap();
    std::fs::remove_file(&experiment).ok();
    assert!(first.contains("16000 runs"), "first line: {first}");
    assert!(!errors.contains("panicked"), "stderr: {errors}");
    assert_eq!(status.code(), Some(141), "stderr: {errors}");
}
