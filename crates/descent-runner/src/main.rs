//! `descent`: the command-line program of the descent training framework.
//!
//! Each command lives in its own module under `cli/`; `descent data inspect` is the first.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    descent_runner::join_thread_pool();
    quiet_on_closed_pipe();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `descent … | head` closes our standard output early: `println!` then panics with
/// "failed printing to stdout: Broken pipe". That is the reader's choice, not an
/// error, so end quietly with the status a shell gives a process killed by SIGPIPE.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
