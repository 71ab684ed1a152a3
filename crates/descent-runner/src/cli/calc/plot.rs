//! The SVG of `calc minimize --plot`: the function and the path for one variable, a
//! contour plot with the path for two.
//!
//! Written by hand: the picture is a few hundred elements of four kinds (lines, a
//! polyline, circles, text), and a plotting crate would bring a font stack and image
//! back-ends into the `descent` binary for that.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use descent_autodiff::symbolic::{Expr, Point};

use super::minimize::Step;
use super::number;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 440.0;
const MARGIN: f64 = 56.0;

/// The picture for the expression `f` of `vars` and the steps taken.
pub(crate) fn svg(f: &Expr, vars: &[String], steps: &[Step]) -> Result<String> {
    if steps.is_empty() {
        bail!("--plot: no step to draw");
    }
    match vars.len() {
        1 => Ok(one_variable(f, &vars[0], steps)),
        2 => Ok(two_variables(f, vars, steps)),
        n => bail!("--plot draws functions of one or two variables; this one has {n}"),
    }
}

/// Writes `text` to `path` through a temporary file in the same folder and a rename,
/// so that no half-written picture is ever left behind.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("--plot {}: not a file name", path.display()))?;
    let temporary = folder.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// A padded range around `values`.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = if hi > lo { 0.25 * (hi - lo) } else { 1.0 };
    (lo - pad, hi + pad)
}

/// Maps data coordinates to the picture.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        MARGIN + (x - self.x.0) / (self.x.1 - self.x.0) * (WIDTH - 2.0 * MARGIN)
    }
    fn py(&self, y: f64) -> f64 {
        HEIGHT - MARGIN - (y - self.y.0) / (self.y.1 - self.y.0) * (HEIGHT - 2.0 * MARGIN)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn header(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n",
        WIDTH / 2.0,
        escape(title)
    );
}

/// The frame, five ticks on each axis and the axis names.
fn axes(out: &mut String, frame: &Frame, x_name: &str, y_name: &str) {
    let (left, right, top, bottom) = (MARGIN, WIDTH - MARGIN, MARGIN, HEIGHT - MARGIN);
    let _ = writeln!(
        out,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>",
        right - left,
        bottom - top
    );
    for i in 0..=4 {
        let t = i as f64 / 4.0;
        let x = frame.x.0 + t * (frame.x.1 - frame.x.0);
        let y = frame.y.0 + t * (frame.y.1 - frame.y.0);
        let (px, py) = (frame.px(x), frame.py(y));
        let _ = writeln!(
            out,
            "<line x1=\"{px:.1}\" y1=\"{bottom}\" x2=\"{px:.1}\" y2=\"{}\" stroke=\"#444\"/>\
             <text x=\"{px:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            bottom + 5.0,
            bottom + 18.0,
            tick(x)
        );
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{py:.1}\" x2=\"{left}\" y2=\"{py:.1}\" stroke=\"#444\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 5.0,
            left - 8.0,
            py + 4.0,
            tick(y)
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
         <text x=\"14\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {})\">{}</text>",
        WIDTH / 2.0,
        HEIGHT - 12.0,
        escape(x_name),
        HEIGHT / 2.0,
        HEIGHT / 2.0,
        escape(y_name)
    );
}

fn tick(v: f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// The path: a line through the steps, a dot at each, the start and end marked.
fn path(out: &mut String, points: &[(f64, f64)]) {
    let coords: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.2},{y:.2}"))
        .collect();
    let _ = writeln!(
        out,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\"/>",
        coords.join(" ")
    );
    for (i, (x, y)) in points.iter().enumerate() {
        let r = if i == 0 || i + 1 == points.len() {
            4.5
        } else {
            3.0
        };
        let _ = writeln!(
            out,
            "<circle cx=\"{x:.2}\" cy=\"{y:.2}\" r=\"{r}\" fill=\"#d62728\"/>"
        );
    }
}

fn at(vars: &[String], values: &[f64]) -> Point {
    vars.iter().cloned().zip(values.iter().copied()).collect()
}

fn one_variable(f: &Expr, var: &str, steps: &[Step]) -> String {
    let vars = [var.to_string()];
    let x_range = range(steps.iter().map(|s| s.x[0]));
    let samples: Vec<(f64, Option<f64>)> = (0..=400)
        .map(|i| {
            let x = x_range.0 + (x_range.1 - x_range.0) * i as f64 / 400.0;
            (x, f.eval(&at(&vars, &[x])).ok().filter(|v| v.is_finite()))
        })
        .collect();
    let y_range = range(
        samples
            .iter()
            .filter_map(|(_, y)| *y)
            .chain(steps.iter().map(|s| s.f)),
    );
    let frame = Frame {
        x: x_range,
        y: y_range,
    };
    let mut out = String::new();
    header(
        &mut out,
        &format!(
            "f({var}) = {f} and the descent from {var} = {}",
            number(steps[0].x[0])
        ),
    );
    axes(&mut out, &frame, var, &format!("f({var})"));
    // The curve, broken where f is undefined.
    let mut segment: Vec<String> = Vec::new();
    let flush = |segment: &mut Vec<String>, out: &mut String| {
        if segment.len() > 1 {
            let _ = writeln!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>",
                segment.join(" ")
            );
        }
        segment.clear();
    };
    for (x, y) in &samples {
        match y {
            Some(y) => segment.push(format!("{:.2},{:.2}", frame.px(*x), frame.py(*y))),
            None => flush(&mut segment, &mut out),
        }
    }
    flush(&mut segment, &mut out);
    let points: Vec<(f64, f64)> = steps
        .iter()
        .map(|s| (frame.px(s.x[0]), frame.py(s.f)))
        .collect();
    path(&mut out, &points);
    out.push_str("</svg>\n");
    out
}

fn two_variables(f: &Expr, vars: &[String], steps: &[Step]) -> String {
    let x_range = range(steps.iter().map(|s| s.x[0]));
    let y_range = range(steps.iter().map(|s| s.x[1]));
    let frame = Frame {
        x: x_range,
        y: y_range,
    };
    const N: usize = 90;
    let grid: Vec<Vec<Option<f64>>> = (0..=N)
        .map(|j| {
            let y = y_range.0 + (y_range.1 - y_range.0) * j as f64 / N as f64;
            (0..=N)
                .map(|i| {
                    let x = x_range.0 + (x_range.1 - x_range.0) * i as f64 / N as f64;
                    f.eval(&at(vars, &[x, y])).ok().filter(|v| v.is_finite())
                })
                .collect()
        })
        .collect();
    let mut values: Vec<f64> = grid.iter().flatten().filter_map(|v| *v).collect();
    values.sort_by(f64::total_cmp);
    let mut out = String::new();
    header(
        &mut out,
        &format!(
            "f({}, {}) = {f}: contours and the descent",
            vars[0], vars[1]
        ),
    );
    axes(&mut out, &frame, &vars[0], &vars[1]);
    // Twelve levels at quantiles of the values on the grid, so that they spread over
    // the picture whatever the function's scale.
    let levels: Vec<f64> = (1..=12)
        .filter_map(|k| values.get(k * values.len().saturating_sub(1) / 13).copied())
        .collect();
    let cell = |i: usize, j: usize| -> (f64, f64) {
        let x = x_range.0 + (x_range.1 - x_range.0) * i as f64 / N as f64;
        let y = y_range.0 + (y_range.1 - y_range.0) * j as f64 / N as f64;
        (frame.px(x), frame.py(y))
    };
    for (n, level) in levels.iter().enumerate() {
        let shade = 60 + (n * 150 / levels.len().max(1));
        let mut d = String::new();
        // Marching squares: in each cell, join the crossing points of the level on its
        // edges (two crossings, or four at a saddle, paired in order).
        for j in 0..N {
            for i in 0..N {
                let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
                let Some(v) = corners
                    .iter()
                    .map(|&(a, b)| grid[b][a])
                    .collect::<Option<Vec<f64>>>()
                else {
                    continue;
                };
                let mut crossings = Vec::new();
                for e in 0..4 {
                    let (a, b) = (e, (e + 1) % 4);
                    if (v[a] < *level) != (v[b] < *level) {
                        let t = (level - v[a]) / (v[b] - v[a]);
                        let (pa, pb) = (
                            cell(corners[a].0, corners[a].1),
                            cell(corners[b].0, corners[b].1),
                        );
                        crossings.push((pa.0 + t * (pb.0 - pa.0), pa.1 + t * (pb.1 - pa.1)));
                    }
                }
                for pair in crossings.chunks_exact(2) {
                    let _ = write!(
                        d,
                        "M{:.1} {:.1}L{:.1} {:.1}",
                        pair[0].0, pair[0].1, pair[1].0, pair[1].1
                    );
                }
            }
        }
        if !d.is_empty() {
            let _ = writeln!(
                out,
                "<path d=\"{d}\" fill=\"none\" stroke=\"rgb({shade},{shade},230)\" stroke-width=\"1\"><title>f = {}</title></path>",
                number(*level)
            );
        }
    }
    let points: Vec<(f64, f64)> = steps
        .iter()
        .map(|s| (frame.px(s.x[0]), frame.py(s.x[1])))
        .collect();
    path(&mut out, &points);
    out.push_str("</svg>\n");
    out
}
