//! `descent calc` run as a program: the textbook examples and the error messages.

use std::process::{Command, Output};

fn descent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .output()
        .expect("the descent binary runs")
}

/// Standard output of a run that must succeed.
fn ok(args: &[&str]) -> String {
    let out = descent(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "descent {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// Standard error of a run that must fail with status 1 and no panic.
fn fails(args: &[&str]) -> String {
    let out = descent(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "descent {args:?}: {stderr}");
    assert!(
        !stderr.contains("panicked"),
        "descent {args:?} panicked: {stderr}"
    );
    stderr
}

#[test]
fn derivative_of_x_squared_four_ways() {
    let out = ok(&["calc", "diff", "x^2", "--at", "x=3"]);
    assert!(out.contains("df/dx = 2*x\n"), "{out}");
    assert!(out.contains("at x = 3: f = 9\n"), "{out}");
    assert!(
        out.contains("df/dx  6         6        6        6.0000000000"),
        "{out}"
    );
    assert!(
        out.contains("f is increasing in x (df/dx = 6 > 0)"),
        "{out}"
    );
}

#[test]
fn partials_of_the_textbook_polynomial() {
    let out = ok(&["calc", "diff", "x^2 + 3*x*y + y^2", "--at", "x=1,y=2"]);
    assert!(out.starts_with("f(x, y) = x^2 + 3*x*y + y^2\n"), "{out}");
    assert!(
        out.contains("df/dx = 2*x + 3*y\ndf/dy = 3*x + 2*y\n"),
        "{out}"
    );
    assert!(
        out.contains("df/dx  8         8        8        8.0000000000"),
        "{out}"
    );
    assert!(
        out.contains("df/dy  7         7        7        7.0000000000"),
        "{out}"
    );
    let only_y = ok(&["calc", "diff", "x^2 + 3*x*y + y^2", "--wrt", "y"]);
    assert!(
        only_y.contains("df/dy = 3*x + 2*y") && !only_y.contains("df/dx"),
        "{only_y}"
    );
}

#[test]
fn chain_rule_and_higher_orders() {
    let out = ok(&["calc", "diff", "(3*x + 2)^2", "--at", "x=1"]);
    assert!(out.contains("df/dx = 18*x + 12\n"), "{out}");
    assert!(
        out.contains("df/dx  30        30       30       29.99999999"),
        "{out}"
    );
    let second = ok(&["calc", "diff", "x^3", "--order", "2", "--at", "x=-1"]);
    assert!(second.contains("d2f/dx2 = 6*x\n"), "{second}");
    assert!(
        second.contains("f is concave (curving down) in x (d2f/dx2 = -6 < 0)"),
        "{second}"
    );
    let flat = ok(&["calc", "diff", "x^2 + y^2", "--at", "x=0,y=0"]);
    assert!(
        flat.contains("The gradient is 0: a critical point."),
        "{flat}"
    );
    let down = ok(&["calc", "diff", "exp(-x)", "--at", "x=0"]);
    assert!(
        down.contains("f is decreasing in x (df/dx = -1 < 0)"),
        "{down}"
    );
}

#[test]
fn gradient_and_hessian() {
    let grad = ok(&["calc", "grad", "x^2 + y^2", "--at", "x=1,y=2"]);
    assert!(grad.contains("grad f = [2*x, 2*y]"), "{grad}");
    assert!(
        grad.contains("df/dy  4         4        4        4"),
        "{grad}"
    );
    let hessian = ok(&["calc", "hessian", "x^2 + 3*x*y + y^2", "--at", "x=1,y=2"]);
    assert!(hessian.contains("[2  3]\n[3  2]"), "{hessian}");
    assert!(
        hessian.contains("indefinite: f curves up along some directions and down along others"),
        "{hessian}"
    );
    let bowl = ok(&["calc", "hessian", "x^2 + y^2", "--at", "x=0,y=0"]);
    assert!(bowl.contains("positive definite"), "{bowl}");
}

#[test]
fn minimize_x_squared_matches_the_textbook_trajectory() {
    let out = ok(&[
        "calc", "minimize", "x^2", "--from", "x=4", "--lr", "0.1", "--steps", "10",
    ]);
    let xs: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("step"))
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        xs,
        [
            "4",
            "3.2",
            "2.56",
            "2.048",
            "1.6384",
            "1.31072",
            "1.048576",
            "0.8388608",
            "0.67108864",
            "0.536870912",
            "0.4294967296"
        ]
    );
    assert!(
        out.contains("10    0.4294967296  0.184467440737  0.8589934592"),
        "{out}"
    );
}

#[test]
fn minimize_with_an_optimizer_a_schedule_and_plots() {
    let dir = std::env::temp_dir().join(format!("descent-calc-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let one = dir.join("one.svg");
    let out = ok(&[
        "calc",
        "minimize",
        "x^2",
        "--from",
        "x=4",
        "--steps",
        "4",
        "--schedule",
        "step,step_size=3,gamma=0.5",
        "--plot",
        one.to_str().unwrap(),
    ]);
    assert!(
        out.contains("3     2.048   4.194304    4.096   0.05"),
        "{out}"
    );
    let svg = std::fs::read_to_string(&one).unwrap();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    assert_eq!(
        svg.matches("<circle").count(),
        5,
        "one dot per point of the path"
    );
    let two = dir.join("two.svg");
    let out = ok(&[
        "calc",
        "minimize",
        "x^2 + 3*y^2",
        "--from",
        "x=4,y=-2",
        "--optimizer",
        "adam",
        "--lr",
        "0.5",
        "--steps",
        "20",
        "--plot",
        two.to_str().unwrap(),
    ]);
    assert!(out.contains("with adam, lr 0.5"), "{out}");
    let svg = std::fs::read_to_string(&two).unwrap();
    assert!(svg.matches("<path").count() >= 8, "contour lines");
    assert_eq!(svg.matches("<circle").count(), 21);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
    let err = fails(&[
        "calc",
        "minimize",
        "x + y + z",
        "--from",
        "x=1,y=1,z=1",
        "--plot",
        two.to_str().unwrap(),
    ]);
    assert!(
        err.contains("--plot draws functions of one or two variables; this one has 3"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn parse_errors_point_at_the_column() {
    let err = fails(&["calc", "diff", "x + * 2"]);
    assert_eq!(
        err,
        "error: cannot read the expression: expected an operand (a number, a variable, a \
         function call or '('), found '*' at column 5\n  x + * 2\n      ^\n"
    );
    let err = fails(&["calc", "diff", "(x + 1"]);
    assert!(
        err.contains("expected ')' or an operator, found the end of the input at column 7"),
        "{err}"
    );
    let err = fails(&["calc", "diff", "2x"]);
    assert!(err.contains("write 2*x, not 2x"), "{err}");
}

#[test]
fn unknown_functions_list_the_known_ones() {
    let err = fails(&["calc", "diff", "foo(x) + 1"]);
    assert!(err.starts_with("error: cannot read the expression: unknown function 'foo' at column 1; the known functions are exp, ln, log, sqrt, abs, sin, cos, tan, tanh, sigmoid, relu, softplus, max, min"), "{err}");
}

#[test]
fn points_that_do_not_fit_the_expression_are_named() {
    let err = fails(&["calc", "diff", "x^2", "--at", "x=1,z=2"]);
    assert_eq!(
        err,
        "error: --at gives a value for z, which the expression x^2 does not contain (its variables: x)\n"
    );
    let err = fails(&["calc", "grad", "x*y", "--at", "x=1"]);
    assert_eq!(
        err,
        "error: the expression needs a value for y: add y=... to --at\n"
    );
    let err = fails(&["calc", "minimize", "x^2", "--from", "x=four"]);
    assert!(
        err.contains("--from: the value of x, \"four\", is not a number"),
        "{err}"
    );
    let err = fails(&["calc", "diff", "x^2", "--wrt", "q"]);
    assert!(
        err.contains("--wrt names q, which the expression does not contain"),
        "{err}"
    );
}

#[test]
fn domain_errors_are_reported_not_printed_as_nan() {
    let err = fails(&["calc", "diff", "1/x", "--at", "x=0"]);
    assert_eq!(
        err,
        "error: cannot evaluate the expression: division by zero in 1/x at x = 0\n"
    );
    let err = fails(&["calc", "diff", "ln(x)", "--at", "x=-1"]);
    assert!(
        err.contains("logarithm of the non-positive number -1 in ln(x) at x = -1"),
        "{err}"
    );
    let err = fails(&["calc", "grad", "sqrt(x)", "--at", "x=-4"]);
    assert!(err.contains("is not real"), "{err}");
    let err = fails(&[
        "calc",
        "minimize",
        "x^2",
        "--from",
        "x=1",
        "--optimizer",
        "nope",
    ]);
    assert!(err.contains("unknown variant `nope`"), "{err}");
    let err = fails(&[
        "calc", "minimize", "x^4", "--from", "x=10", "--lr", "1", "--steps", "10",
    ]);
    assert!(err.contains("the descent stopped at step"), "{err}");
}
