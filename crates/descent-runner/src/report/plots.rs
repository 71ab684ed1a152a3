//! The report's plots: loss curves (mean over seeds with a min–max band), final loss
//! against learning rate (DeepOBS's sensitivity view), performance profiles across
//! problems (as AlgoPerf scores submissions) and time-to-target bars.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::svg::{Axis, Chart, color, figure};
use super::{GroupSummary, Results};
use crate::sweep::{SweepError, write_atomic};

/// The part of a configuration that is not the learning rate: one optimizer "as
/// tuned" (its series in the sensitivity plot, its panel of loss curves, its line in
/// the performance profile).
fn family(g: &GroupSummary, vary_schedule: bool, vary_mode: bool) -> String {
    let mut s = g.label.optimizer.clone();
    if vary_schedule {
        s.push_str(&format!(" {}", g.label.schedule));
    }
    if vary_mode {
        s.push_str(&format!(" {}", g.label.mode));
    }
    s
}

fn file_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Writes every plot into `DIR/plots/`; returns their paths.
///
/// # Errors
/// [`SweepError::Io`] for a file that cannot be written.
pub fn write_plots(
    results: &Results,
    summaries: &[(String, Vec<GroupSummary>)],
) -> Result<Vec<PathBuf>, SweepError> {
    let dir = results.dir.root.join("plots");
    std::fs::create_dir_all(&dir).map_err(|e| SweepError::Io {
        path: dir.clone(),
        source: e,
    })?;
    let all: Vec<&GroupSummary> = summaries.iter().flat_map(|(_, g)| g).collect();
    let vary = |f: &dyn Fn(&GroupSummary) -> &str| {
        all.iter()
            .map(|g| f(g))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 1
    };
    let (vs, vm) = (vary(&|g| &g.label.schedule), vary(&|g| &g.label.mode));
    let families: Vec<String> = {
        let mut f: Vec<String> = all.iter().map(|g| family(g, vs, vm)).collect();
        f.dedup();
        let mut seen = std::collections::BTreeSet::new();
        f.retain(|x| seen.insert(x.clone()));
        f
    };
    let family_color = |name: &str| color(families.iter().position(|f| f == name).unwrap_or(0));
    let mut written = Vec::new();
    let mut save = |name: String, svg: String| -> Result<(), SweepError> {
        let path = dir.join(name);
        write_atomic(&path, svg.as_bytes())?;
        written.push(path);
        Ok(())
    };
    for (problem, groups) in summaries {
        save(
            format!("loss-curves-{}.svg", file_name(problem)),
            loss_curves(results, problem, groups, vs, vm)?,
        )?;
        save(
            format!("lr-sensitivity-{}.svg", file_name(problem)),
            sensitivity(problem, groups, vs, vm, &family_color),
        )?;
        if groups.iter().any(|g| g.reached > 0) {
            save(
                format!("time-to-target-{}.svg", file_name(problem)),
                time_to_target(problem, groups, vs, vm, &family_color),
            )?;
        }
    }
    if all.iter().any(|g| g.reached > 0) {
        save(
            "performance-profile.svg".into(),
            profile(summaries, &families, vs, vm),
        )?;
    }
    Ok(written)
}

/// One panel per optimizer (as tuned), one line per learning rate: the epoch loss
/// averaged over seeds, with a band from the lowest to the highest seed.
fn loss_curves(
    results: &Results,
    problem: &str,
    groups: &[GroupSummary],
    vs: bool,
    vm: bool,
) -> Result<String, SweepError> {
    let mut panels: BTreeMap<String, Vec<&GroupSummary>> = BTreeMap::new();
    let mut order = Vec::new();
    for g in groups {
        let f = family(g, vs, vm);
        if !panels.contains_key(&f) {
            order.push(f.clone());
        }
        panels.entry(f).or_default().push(g);
    }
    // Each group's mean, min and max epoch loss over seeds, by epoch.
    type Curve = Vec<(f64, f64, f64, f64)>;
    let mut curves: BTreeMap<String, Curve> = BTreeMap::new();
    for g in groups {
        let mut by_epoch: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
        for id in &g.ids {
            if let Ok(rows) = results.dir.read_epoch_losses(id) {
                for (epoch, _, loss) in rows {
                    by_epoch.entry(epoch).or_default().push(loss);
                }
            }
        }
        let curve = by_epoch
            .into_iter()
            .map(|(e, v)| {
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                ((e + 1) as f64, mean, lo, hi)
            })
            .collect();
        curves.insert(g.group.clone(), curve);
    }
    let clean: Vec<&GroupSummary> = groups.iter().filter(|g| g.clean()).collect();
    let basis: Vec<&GroupSummary> = if clean.is_empty() {
        groups.iter().collect()
    } else {
        clean
    };
    let ys: Vec<f64> = basis
        .iter()
        .flat_map(|g| curves[&g.group].iter().flat_map(|c| [c.1, c.2, c.3]))
        .collect();
    let log = ys.iter().all(|&y| y > 0.0 || !y.is_finite());
    let y = Axis::fit(ys, log, "loss (log scale)");
    let y = if log {
        y
    } else {
        Axis {
            label: "loss".into(),
            ..y
        }
    };
    let x = Axis::fit(
        curves
            .values()
            .flat_map(|c| c.iter().map(|p| p.0))
            .chain([1.0]),
        false,
        "epoch",
    );
    let lrs: Vec<String> = {
        let mut v: Vec<(f64, String)> = groups.iter().map(|g| (g.lr, g.label.lr.clone())).collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v.dedup_by(|a, b| a.1 == b.1);
        v.into_iter().map(|p| p.1).collect()
    };
    let longest = groups
        .iter()
        .map(|g| g.label.lr.len() + 14)
        .max()
        .unwrap_or(10);
    let mut charts = Vec::new();
    for f in &order {
        let mut chart = Chart::new(f, x.clone(), y.clone(), 470.0, 330.0, longest);
        let mut members = panels[f].clone();
        members.sort_by(|a, b| a.lr.total_cmp(&b.lr));
        for g in &members {
            let c = color(lrs.iter().position(|l| *l == g.label.lr).unwrap_or(0));
            let curve = &curves[&g.group];
            let xs: Vec<f64> = curve.iter().map(|p| p.0).collect();
            chart.band(
                &xs,
                &curve.iter().map(|p| p.2).collect::<Vec<_>>(),
                &curve.iter().map(|p| p.3).collect::<Vec<_>>(),
                c,
            );
            let points: Vec<(f64, f64)> = curve.iter().map(|p| (p.0, p.1)).collect();
            chart.line(&points, c, 2.0, !g.clean());
            let note = if g.diverged > 0 {
                format!(" ({} diverged)", g.diverged)
            } else {
                String::new()
            };
            chart.legend(&format!("lr {}{note}", g.label.lr), c, !g.clean());
        }
        charts.push(chart);
    }
    Ok(figure(
        &format!("{problem}: loss per epoch"),
        "mean over seeds, band from the lowest to the highest seed; dashed: some seeds diverged or failed\nvalidation loss when the problem is split, else the mean training loss of the epoch's batches",
        &charts,
        2,
    ))
}

/// Final loss against learning rate, one line per optimizer, error bars of one standard
/// deviation over seeds; a cross at the top marks a learning rate where runs diverged.
fn sensitivity(
    problem: &str,
    groups: &[GroupSummary],
    vs: bool,
    vm: bool,
    family_color: &dyn Fn(&str) -> &'static str,
) -> String {
    let means: Vec<f64> = groups
        .iter()
        .filter(|g| g.final_loss.n > 0)
        .map(|g| g.final_loss.mean)
        .collect();
    let log = means.iter().all(|&v| v > 0.0);
    // Error bars widen the axis, but a log axis keeps its positive part only.
    let finite: Vec<f64> = groups
        .iter()
        .filter(|g| g.final_loss.n > 0)
        .flat_map(|g| {
            [
                g.final_loss.mean,
                g.final_loss.mean + g.final_loss.std,
                g.final_loss.mean - g.final_loss.std,
            ]
        })
        .filter(|&v| !log || v >= means.iter().copied().fold(f64::INFINITY, f64::min) / 10.0)
        .collect();
    let y = Axis::fit(
        finite.clone(),
        log,
        if log {
            "final loss (log scale)"
        } else {
            "final loss"
        },
    );
    let x = Axis::fit(
        groups.iter().map(|g| g.lr),
        true,
        "learning rate (log scale)",
    );
    let mut series: BTreeMap<String, Vec<&GroupSummary>> = BTreeMap::new();
    for g in groups {
        series.entry(family(g, vs, vm)).or_default().push(g);
    }
    let longest = series.keys().map(|k| k.chars().count()).max().unwrap_or(8);
    let mut chart = Chart::new("", x, y, 760.0 + 7.0 * longest as f64, 440.0, longest);
    for (name, gs) in &series {
        let c = family_color(name);
        let mut gs = gs.clone();
        gs.sort_by(|a, b| a.lr.total_cmp(&b.lr));
        let points: Vec<(f64, f64)> = gs
            .iter()
            .map(|g| {
                (
                    g.lr,
                    if g.final_loss.n > 0 {
                        g.final_loss.mean
                    } else {
                        f64::NAN
                    },
                )
            })
            .collect();
        chart.line(&points, c, 2.0, false);
        for g in &gs {
            if g.final_loss.n > 0 {
                chart.dot(g.lr, g.final_loss.mean, c);
                chart.error_bar(
                    g.lr,
                    g.final_loss.mean - g.final_loss.std,
                    g.final_loss.mean + g.final_loss.std,
                    c,
                );
            }
            if g.diverged > 0 {
                chart.cross_top(g.lr, c);
            }
        }
        chart.legend(name, c, false);
    }
    figure(
        &format!("Learning-rate sensitivity: {problem}"),
        "mean final loss over seeds, bars ± one standard deviation; × at the top: runs diverged at that rate",
        &[chart],
        1,
    )
}

/// Mean time to target per configuration, fastest first; those that never reached it
/// are listed last.
fn time_to_target(
    problem: &str,
    groups: &[GroupSummary],
    vs: bool,
    vm: bool,
    family_color: &dyn Fn(&str) -> &'static str,
) -> String {
    let mut gs: Vec<&GroupSummary> = groups.iter().collect();
    gs.sort_by(|a, b| {
        let key = |g: &GroupSummary| {
            if g.reached > 0 {
                g.seconds_to_target.mean
            } else {
                f64::INFINITY
            }
        };
        key(a).total_cmp(&key(b))
    });
    let bars: Vec<(String, Option<f64>, String, String)> = gs
        .iter()
        .map(|g| {
            let label = g.label.config();
            if g.reached == 0 {
                (label, None, "not reached".to_string(), "#999".to_string())
            } else {
                let t = g.seconds_to_target;
                let text = format!(
                    "{} s, {} steps{}",
                    super::sig(t.mean, 3),
                    super::sig(g.steps_to_target.mean, 3),
                    if g.reached < g.runs {
                        format!(" ({}/{} seeds)", g.reached, g.runs)
                    } else {
                        String::new()
                    }
                );
                (
                    label,
                    Some(t.mean),
                    text,
                    family_color(&family(g, vs, vm)).to_string(),
                )
            }
        })
        .collect();
    let longest = bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(10) as f64;
    let max = gs
        .iter()
        .filter(|g| g.reached > 0)
        .map(|g| g.seconds_to_target.mean)
        .fold(0.0, f64::max);
    let x = Axis {
        min: 0.0,
        max: (max * 1.35).max(1e-6),
        log: false,
        label: "mean seconds to reach the target loss (over seeds that reached it)".into(),
    };
    let y = Axis {
        min: 0.0,
        max: 1.0,
        log: false,
        label: String::new(),
    };
    let height = 90.0 + 24.0 * bars.len() as f64;
    let mut chart =
        Chart::new("", x, y, 620.0 + 6.6 * longest, height, 0).left_margin(16.0 + 6.2 * longest);
    chart.hbars(&bars);
    figure(
        &format!("Time to target: {problem}"),
        "loss measured at the end of each epoch; grey: never reached",
        &[chart],
        1,
    )
}

/// AlgoPerf's performance profile: for each optimizer (at its best learning rate on
/// each problem), the fraction of problems on which it reached the target within τ
/// times the fastest optimizer's time.
fn profile(
    summaries: &[(String, Vec<GroupSummary>)],
    families: &[String],
    vs: bool,
    vm: bool,
) -> String {
    let problems = summaries.len() as f64;
    // ratios[family] = time / best time, per problem (∞ when never reached by all seeds).
    let mut ratios: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (_, groups) in summaries {
        let mut best_of: BTreeMap<String, f64> = BTreeMap::new();
        for g in groups {
            let t = if g.reached == g.runs && g.reached > 0 {
                g.seconds_to_target.mean
            } else {
                f64::INFINITY
            };
            let e = best_of.entry(family(g, vs, vm)).or_insert(f64::INFINITY);
            *e = e.min(t);
        }
        let best = best_of.values().copied().fold(f64::INFINITY, f64::min);
        for f in families {
            let t = best_of.get(f).copied().unwrap_or(f64::INFINITY);
            ratios
                .entry(f.as_str())
                .or_default()
                .push(if best.is_finite() {
                    t / best
                } else {
                    f64::INFINITY
                });
        }
    }
    let max_ratio = ratios
        .values()
        .flatten()
        .copied()
        .filter(|r| r.is_finite())
        .fold(1.0, f64::max);
    let tau_max = (max_ratio * 1.5).max(4.0);
    let x = Axis {
        min: 1.0,
        max: tau_max,
        log: true,
        label: "τ: time to target as a multiple of the fastest (log scale)".into(),
    };
    let y = Axis {
        min: 0.0,
        max: 1.05,
        log: false,
        label: "fraction of problems reaching the target".into(),
    };
    let longest = families
        .iter()
        .map(|f| f.chars().count())
        .max()
        .unwrap_or(8);
    let mut chart = Chart::new("", x, y, 760.0 + 7.0 * longest as f64, 440.0, longest + 16);
    for (i, f) in families.iter().enumerate() {
        let mut rs: Vec<f64> = ratios[f.as_str()]
            .iter()
            .copied()
            .filter(|r| r.is_finite())
            .collect();
        rs.sort_by(f64::total_cmp);
        let mut points = vec![(1.0, 0.0)];
        for (k, r) in rs.iter().enumerate() {
            points.push((*r, (k + 1) as f64 / problems));
        }
        points.push((tau_max, rs.len() as f64 / problems));
        // Ties at τ = 1 start the curve at its level there.
        let c = color(i);
        chart.steps(&points, c, i >= 10);
        let never = if rs.is_empty() {
            " (never reached)"
        } else {
            ""
        };
        chart.legend(&format!("{f}{never}"), c, i >= 10);
    }
    figure(
        "Performance profile (AlgoPerf)",
        &format!(
            "{} problem(s); each optimizer at its fastest learning rate per problem\na configuration counts when all its seeds reach the target loss",
            summaries.len()
        ),
        &[chart],
        1,
    )
}
