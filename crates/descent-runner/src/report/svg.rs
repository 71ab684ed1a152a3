//! A small SVG chart writer: linear and log axes with ticks and labels, lines, bands,
//! markers, error bars, horizontal bars, legends and titles; panels side by side.
//! Written by hand: the report needs nothing of a plotting crate's fonts or back-ends.

use std::fmt::Write as _;

/// Ten distinguishable colours (Tableau 10).
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// The `i`-th palette colour (cycling).
pub fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Escapes text for SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One axis: its range, scale and label.
#[derive(Clone, Debug)]
pub struct Axis {
    /// The smallest value shown.
    pub min: f64,
    /// The largest value shown.
    pub max: f64,
    /// Logarithmic scale.
    pub log: bool,
    /// The label.
    pub label: String,
}

impl Axis {
    /// An axis over the finite (and, for a log axis, positive) values, padded a little.
    pub fn fit(values: impl IntoIterator<Item = f64>, log: bool, label: &str) -> Axis {
        let vals: Vec<f64> = values
            .into_iter()
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .collect();
        let (mut lo, mut hi) = vals
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if !lo.is_finite() {
            (lo, hi) = if log { (0.1, 10.0) } else { (0.0, 1.0) };
        }
        if log {
            if hi / lo < 1.0001 {
                lo /= 2.0;
                hi *= 2.0;
            }
            let pad = (hi / lo).powf(0.04);
            (lo, hi) = (lo / pad, hi * pad);
        } else {
            if hi - lo < 1e-12 * hi.abs().max(1.0) {
                lo -= 0.5 * lo.abs().max(1e-3);
                hi += 0.5 * hi.abs().max(1e-3);
            }
            let pad = (hi - lo) * 0.04;
            (lo, hi) = (lo - pad, hi + pad);
        }
        Axis {
            min: lo,
            max: hi,
            log,
            label: label.to_string(),
        }
    }

    fn t(&self, v: f64) -> f64 {
        if self.log {
            (v.ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (v - self.min) / (self.max - self.min)
        }
    }

    /// Tick positions and their labels.
    pub fn ticks(&self) -> Vec<(f64, String)> {
        if self.log {
            let (a, b) = (
                self.min.log10().floor() as i32,
                self.max.log10().ceil() as i32,
            );
            let decades = b - a;
            let mults: &[f64] = if decades <= 1 {
                &[1.0, 2.0, 3.0, 5.0]
            } else if decades <= 3 {
                &[1.0, 3.0]
            } else {
                &[1.0]
            };
            let step = (decades / 8).max(1);
            let mut out = Vec::new();
            let mut e = a;
            while e <= b {
                for &m in mults {
                    let v = m * 10f64.powi(e);
                    if v >= self.min && v <= self.max {
                        out.push((v, log_label(m, e)));
                    }
                }
                e += step;
            }
            out
        } else {
            let span = self.max - self.min;
            let raw = span / 5.0;
            let mag = 10f64.powf(raw.log10().floor());
            let step = [1.0, 2.0, 2.5, 5.0, 10.0]
                .iter()
                .map(|m| m * mag)
                .find(|s| span / s <= 6.0)
                .unwrap_or(10.0 * mag);
            let mut v = (self.min / step).ceil() * step;
            let mut out = Vec::new();
            while v <= self.max + step * 1e-9 {
                let shown = if v.abs() < step * 1e-9 { 0.0 } else { v };
                out.push((
                    shown,
                    super::sig(shown, 3)
                        .trim_end_matches('0')
                        .trim_end_matches('.')
                        .to_string(),
                ));
                v += step;
            }
            out.iter_mut().for_each(|(v, s)| {
                if s.is_empty() || s == "-" {
                    *s = format!("{v}");
                }
            });
            out
        }
    }
}

fn log_label(m: f64, e: i32) -> String {
    if (-3..=3).contains(&e) {
        let v = m * 10f64.powi(e);
        format!("{}", (v * 1e6).round() / 1e6)
    } else if m == 1.0 {
        format!("1e{e}")
    } else {
        format!("{m}e{e}")
    }
}

/// How a series is drawn in the legend.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The text.
    pub label: String,
    /// The colour.
    pub color: String,
    /// Dashed line.
    pub dashed: bool,
}

/// One chart (a panel).
pub struct Chart {
    /// Its size in pixels.
    pub width: f64,
    /// Its size in pixels.
    pub height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    title: String,
    x: Axis,
    y: Axis,
    body: String,
    legend: Vec<Entry>,
    categories: Vec<String>,
}

impl Chart {
    /// A chart of `width × height` pixels, with room on the right for a legend of
    /// `legend_chars` characters (0: none).
    pub fn new(
        title: &str,
        x: Axis,
        y: Axis,
        width: f64,
        height: f64,
        legend_chars: usize,
    ) -> Self {
        let right = if legend_chars > 0 {
            50.0 + 7.0 * legend_chars as f64
        } else {
            20.0
        };
        Chart {
            width,
            height,
            left: 70.0,
            right,
            top: 36.0,
            bottom: 50.0,
            title: title.to_string(),
            x,
            y,
            body: String::new(),
            legend: Vec::new(),
            categories: Vec::new(),
        }
    }

    /// A wider left margin (for long category labels).
    pub fn left_margin(mut self, px: f64) -> Self {
        self.left = px;
        self
    }

    fn px(&self, v: f64) -> f64 {
        self.left + self.x.t(v) * (self.width - self.left - self.right)
    }

    fn py(&self, v: f64) -> f64 {
        self.height - self.bottom - self.y.t(v) * (self.height - self.top - self.bottom)
    }

    fn clamp_y(&self, v: f64) -> f64 {
        v.clamp(self.y.min, self.y.max)
    }

    /// A polyline through the finite points (broken at non-finite ones).
    pub fn line(&mut self, points: &[(f64, f64)], color: &str, width: f64, dashed: bool) {
        let mut segment: Vec<String> = Vec::new();
        let flush = |seg: &mut Vec<String>, body: &mut String| {
            if seg.len() > 1 {
                let _ = writeln!(
                    body,
                    r#"<polyline fill="none" stroke="{color}" stroke-width="{width}"{} points="{}"/>"#,
                    if dashed {
                        r#" stroke-dasharray="6 4""#
                    } else {
                        ""
                    },
                    seg.join(" ")
                );
            }
            seg.clear();
        };
        for &(x, y) in points {
            if x.is_finite()
                && y.is_finite()
                && (!self.y.log || y > 0.0)
                && (!self.x.log || x > 0.0)
            {
                segment.push(format!("{:.1},{:.1}", self.px(x), self.py(self.clamp_y(y))));
            } else {
                flush(&mut segment, &mut self.body);
            }
        }
        flush(&mut segment, &mut self.body);
    }

    /// A filled band between `lower` and `upper` at the same x values.
    pub fn band(&mut self, xs: &[f64], lower: &[f64], upper: &[f64], color: &str) {
        let ok = |x: f64, y: f64| x.is_finite() && y.is_finite() && (!self.y.log || y > 0.0);
        let pts: Vec<(f64, f64, f64)> = xs
            .iter()
            .zip(lower.iter().zip(upper))
            .filter(|(x, (l, u))| ok(**x, **l) && ok(**x, **u))
            .map(|(x, (l, u))| (*x, *l, *u))
            .collect();
        if pts.len() < 2 {
            return;
        }
        let mut path = String::new();
        for (x, _, u) in &pts {
            let _ = write!(path, "{:.1},{:.1} ", self.px(*x), self.py(self.clamp_y(*u)));
        }
        for (x, l, _) in pts.iter().rev() {
            let _ = write!(path, "{:.1},{:.1} ", self.px(*x), self.py(self.clamp_y(*l)));
        }
        let _ = writeln!(
            self.body,
            r#"<polygon fill="{color}" fill-opacity="0.18" stroke="none" points="{}"/>"#,
            path.trim_end()
        );
    }

    /// A round marker.
    pub fn dot(&mut self, x: f64, y: f64, color: &str) {
        if x.is_finite() && y.is_finite() && (!self.y.log || y > 0.0) {
            let _ = writeln!(
                self.body,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{color}"/>"#,
                self.px(x),
                self.py(self.clamp_y(y))
            );
        }
    }

    /// A cross at the top of the plot area at `x` (a diverged run).
    pub fn cross_top(&mut self, x: f64, color: &str) {
        let (cx, cy) = (self.px(x), self.top + 8.0);
        let _ = writeln!(
            self.body,
            r#"<path d="M{:.1},{:.1} l8,8 m0,-8 l-8,8" stroke="{color}" stroke-width="2"/>"#,
            cx - 4.0,
            cy - 4.0
        );
    }

    /// A vertical error bar.
    pub fn error_bar(&mut self, x: f64, lo: f64, hi: f64, color: &str) {
        if !(x.is_finite() && lo.is_finite() && hi.is_finite()) || hi <= lo {
            return;
        }
        let lo = if self.y.log { lo.max(self.y.min) } else { lo };
        let (px, a, b) = (
            self.px(x),
            self.py(self.clamp_y(lo)),
            self.py(self.clamp_y(hi)),
        );
        let _ = writeln!(
            self.body,
            r#"<path d="M{px:.1},{a:.1} V{b:.1} M{:.1},{a:.1} h8 M{:.1},{b:.1} h8" stroke="{color}" stroke-width="1.2"/>"#,
            px - 4.0,
            px - 4.0
        );
    }

    /// Horizontal bars, one per category, from the axis start to each value, with its
    /// text at the end; `None` draws the text alone.
    pub fn hbars(&mut self, bars: &[(String, Option<f64>, String, String)]) {
        let n = bars.len().max(1) as f64;
        let band = (self.height - self.top - self.bottom) / n;
        for (i, (label, value, text, color)) in bars.iter().enumerate() {
            let y = self.top + band * i as f64;
            let h = (band * 0.7).min(26.0);
            let yc = y + band / 2.0;
            let x0 = self.px(if self.x.log {
                self.x.min
            } else {
                self.x.min.max(0.0)
            });
            let end = match value {
                Some(v) if v.is_finite() => {
                    let x1 = self.px(v.clamp(self.x.min, self.x.max));
                    let _ = writeln!(
                        self.body,
                        r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{color}"/>"#,
                        yc - h / 2.0,
                        (x1 - x0).max(1.0)
                    );
                    x1
                }
                _ => x0,
            };
            let _ = writeln!(
                self.body,
                r#"<text x="{:.1}" y="{:.1}" font-size="11" dominant-baseline="middle">{}</text>"#,
                end + 5.0,
                yc,
                esc(text)
            );
            let _ = writeln!(
                self.body,
                r#"<text x="{:.1}" y="{yc:.1}" font-size="11" text-anchor="end" dominant-baseline="middle">{}</text>"#,
                self.left - 6.0,
                esc(label)
            );
        }
        self.categories = bars.iter().map(|b| b.0.clone()).collect();
    }

    /// A step function through `(x, y)` points (a performance profile).
    pub fn steps(&mut self, points: &[(f64, f64)], color: &str, dashed: bool) {
        let mut pts = Vec::new();
        for w in points.windows(2) {
            pts.push(w[0]);
            pts.push((w[1].0, w[0].1));
        }
        if let Some(last) = points.last() {
            pts.push(*last);
        }
        self.line(&pts, color, 2.2, dashed);
    }

    /// Adds a legend entry.
    pub fn legend(&mut self, label: &str, color: &str, dashed: bool) {
        self.legend.push(Entry {
            label: label.to_string(),
            color: color.to_string(),
            dashed,
        });
    }

    /// The chart as an SVG group at `(ox, oy)`.
    pub fn render(&self, ox: f64, oy: f64) -> String {
        let mut s = format!(r#"<g transform="translate({ox:.1},{oy:.1})">"#);
        s.push('\n');
        let (l, r, t, b) = (
            self.left,
            self.width - self.right,
            self.top,
            self.height - self.bottom,
        );
        let _ = writeln!(
            s,
            r##"<rect x="{l:.1}" y="{t:.1}" width="{:.1}" height="{:.1}" fill="white" stroke="#444"/>"##,
            r - l,
            b - t
        );
        if self.categories.is_empty() {
            for (v, text) in self.y.ticks() {
                let y = self.py(v);
                let _ = writeln!(
                    s,
                    r##"<line x1="{l:.1}" x2="{r:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#e3e3e3"/><text x="{:.1}" y="{y:.1}" font-size="11" text-anchor="end" dominant-baseline="middle">{}</text>"##,
                    l - 5.0,
                    esc(&text)
                );
            }
        }
        for (v, text) in self.x.ticks() {
            let x = self.px(v);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="{t:.1}" y2="{b:.1}" stroke="#e3e3e3"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
                b + 15.0,
                esc(&text)
            );
        }
        s.push_str(&self.body);
        if !self.title.is_empty() {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="22" font-size="14" font-weight="bold" text-anchor="middle">{}</text>"#,
                (l + r) / 2.0,
                esc(&self.title)
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text>"#,
            (l + r) / 2.0,
            self.height - 12.0,
            esc(&self.x.label)
        );
        if self.categories.is_empty() {
            let _ = writeln!(
                s,
                r#"<text transform="translate(16,{:.1}) rotate(-90)" font-size="12" text-anchor="middle">{}</text>"#,
                (t + b) / 2.0,
                esc(&self.y.label)
            );
        }
        for (i, e) in self.legend.iter().enumerate() {
            let y = t + 10.0 + 18.0 * i as f64;
            let x = r + 12.0;
            let _ = writeln!(
                s,
                r#"<line x1="{x:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{}" stroke-width="3"{}/><text x="{:.1}" y="{y:.1}" font-size="11" dominant-baseline="middle">{}</text>"#,
                x + 20.0,
                e.color,
                if e.dashed {
                    r#" stroke-dasharray="6 4""#
                } else {
                    ""
                },
                x + 26.0,
                esc(&e.label)
            );
        }
        s.push_str("</g>\n");
        s
    }
}

/// A figure of panels in rows of `columns`, with an overall title and a note.
pub fn figure(title: &str, note: &str, charts: &[Chart], columns: usize) -> String {
    let columns = columns.max(1);
    let (w, h) = charts
        .first()
        .map_or((400.0, 300.0), |c| (c.width, c.height));
    let rows = charts.len().div_ceil(columns).max(1);
    let notes: Vec<&str> = note.lines().filter(|l| !l.is_empty()).collect();
    let head = 34.0 + 17.0 * notes.len() as f64;
    let width = w * columns.min(charts.len().max(1)) as f64;
    let height = head + h * rows as f64;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="Helvetica, Arial, sans-serif">"#
    );
    s.push('\n');
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="24" font-size="17" font-weight="bold" text-anchor="middle">{}</text>"#,
        width / 2.0,
        esc(title)
    );
    for (i, line) in notes.iter().enumerate() {
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#555" text-anchor="middle">{}</text>"##,
            width / 2.0,
            43.0 + 17.0 * i as f64,
            esc(line)
        );
    }
    for (i, c) in charts.iter().enumerate() {
        let (col, row) = (i % columns, i / columns);
        s.push_str(&c.render(w * col as f64, head + h * row as f64));
    }
    s.push_str("</svg>\n");
    s
}
