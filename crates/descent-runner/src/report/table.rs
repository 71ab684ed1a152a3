//! The ranked table (terminal and Markdown), the verdict per problem and `report.md`.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::{GroupSummary, Results, Stat, sig};
use crate::sweep::higher_is_better;

/// The columns of a problem's table: header and cell per configuration. Axes that do
/// not vary on the problem are left out.
fn columns(groups: &[GroupSummary], target: bool) -> Vec<(String, Vec<String>)> {
    let varies = |f: &dyn Fn(&GroupSummary) -> String| {
        groups
            .iter()
            .map(f)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 1
    };
    let metric = groups
        .first()
        .map_or("metric".to_string(), |g| g.metric.clone());
    let mut cols: Vec<(String, Vec<String>)> = vec![
        (
            "#".into(),
            groups.iter().map(|g| g.rank.to_string()).collect(),
        ),
        (
            "optimizer".into(),
            groups.iter().map(|g| g.label.optimizer.clone()).collect(),
        ),
        (
            "lr".into(),
            groups.iter().map(|g| g.label.lr.clone()).collect(),
        ),
    ];
    if varies(&|g| g.label.schedule.clone()) {
        cols.push((
            "schedule".into(),
            groups.iter().map(|g| g.label.schedule.clone()).collect(),
        ));
    }
    if varies(&|g| g.label.mode.clone()) {
        cols.push((
            "batch".into(),
            groups.iter().map(|g| g.label.mode.clone()).collect(),
        ));
    }
    cols.push((
        "seeds".into(),
        groups.iter().map(|g| g.runs.to_string()).collect(),
    ));
    let stat = |f: &dyn Fn(&GroupSummary) -> Stat, d: usize| -> Vec<String> {
        groups.iter().map(|g| f(g).show(d)).collect()
    };
    cols.push(("final loss".into(), stat(&|g| g.final_loss, 4)));
    cols.push(("best loss".into(), stat(&|g| g.best_loss, 4)));
    cols.push((format!("final {metric}"), stat(&|g| g.final_metric, 4)));
    cols.push((format!("best {metric}"), stat(&|g| g.best_metric, 4)));
    if target {
        cols.push((
            "steps to target".into(),
            groups
                .iter()
                .map(|g| reached(g, g.steps_to_target.show(3)))
                .collect(),
        ));
        cols.push((
            "time to target (s)".into(),
            groups
                .iter()
                .map(|g| reached(g, g.seconds_to_target.show(3)))
                .collect(),
        ));
    }
    cols.push((
        "diverged".into(),
        groups.iter().map(|g| g.diverged.to_string()).collect(),
    ));
    if groups.iter().any(|g| g.failed > 0) {
        cols.push((
            "failed".into(),
            groups.iter().map(|g| g.failed.to_string()).collect(),
        ));
    }
    cols
}

fn left_aligned(header: &str) -> bool {
    matches!(header, "optimizer" | "schedule" | "batch")
}

fn reached(g: &GroupSummary, shown: String) -> String {
    if g.reached == 0 {
        "not reached".into()
    } else if g.reached < g.runs {
        format!("{shown} ({}/{})", g.reached, g.runs)
    } else {
        shown
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad(s: &str, w: usize, right: bool) -> String {
    let fill = " ".repeat(w.saturating_sub(width(s)));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// The ranked tables, one per problem, as aligned text, each followed by its verdict.
pub fn terminal_table(results: &Results, summaries: &[(String, Vec<GroupSummary>)]) -> String {
    let mut out = String::new();
    for (problem, groups) in summaries {
        let target = groups.iter().any(|g| g.reached > 0) || has_target(results, problem);
        let cols = columns(groups, target);
        let widths: Vec<usize> = cols
            .iter()
            .map(|(h, cells)| {
                cells
                    .iter()
                    .map(|c| width(c))
                    .chain([width(h)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let _ = writeln!(
            out,
            "{problem}: {} configurations, {} runs, ranked by mean final loss over seeds",
            groups.len(),
            groups.iter().map(|g| g.runs).sum::<usize>()
        );
        let line: Vec<String> = cols
            .iter()
            .zip(&widths)
            .map(|((h, _), &w)| pad(h, w, !left_aligned(h)))
            .collect();
        let _ = writeln!(out, "{}", line.join("  "));
        let _ = writeln!(
            out,
            "{}",
            widths
                .iter()
                .map(|w| "─".repeat(*w))
                .collect::<Vec<_>>()
                .join("  ")
        );
        for row in 0..groups.len() {
            let cells: Vec<String> = cols
                .iter()
                .zip(&widths)
                .map(|((h, cells), &w)| pad(&cells[row], w, !left_aligned(h)))
                .collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        }
        let _ = writeln!(out, "{}\n", verdict(groups));
    }
    out
}

fn has_target(results: &Results, problem: &str) -> bool {
    results
        .spec
        .problems
        .iter()
        .find(|p| p.name == problem)
        .and_then(|p| p.target_loss)
        .or(results.spec.target_loss)
        .is_some()
}

/// Which configuration wins a problem, by how much, and how sure that is.
pub fn verdict(groups: &[GroupSummary]) -> String {
    let clean: Vec<&GroupSummary> = groups
        .iter()
        .filter(|g| g.clean() && g.final_loss.n > 0)
        .collect();
    let Some(best) = clean.first() else {
        return "No configuration finished all its runs.".to_string();
    };
    let name = best.label.config();
    let Some(second) = clean.get(1) else {
        return format!("Only `{name}` finished all its runs.");
    };
    let gap = second.final_loss.mean - best.final_loss.mean;
    let rel = gap / second.final_loss.mean.abs().max(f64::MIN_POSITIVE) * 100.0;
    let se = (best.final_loss.std.powi(2) / best.final_loss.n as f64
        + second.final_loss.std.powi(2) / second.final_loss.n as f64)
        .sqrt();
    let sure = if best.final_loss.n < 2 || second.final_loss.n < 2 {
        "one seed each: no spread to judge the gap by".to_string()
    } else if se == 0.0 {
        "no spread over seeds".to_string()
    } else {
        let t = gap / se;
        let word = if t >= 3.0 {
            "clear"
        } else if t >= 2.0 {
            "likely"
        } else {
            "within the noise"
        };
        format!(
            "{} standard errors over {} and {} seeds: {word}",
            sig(t, 2),
            best.final_loss.n,
            second.final_loss.n
        )
    };
    format!(
        "Winner: `{name}` with final loss {}, {} ({}%) lower than `{}` ({}); {sure}.",
        best.final_loss.show(4),
        sig(gap, 3),
        sig(rel, 3),
        second.label.config(),
        second.final_loss.show(4)
    )
}

/// Every problem's verdict.
pub fn verdicts(summaries: &[(String, Vec<GroupSummary>)]) -> Vec<(String, String)> {
    summaries
        .iter()
        .map(|(p, g)| (p.clone(), verdict(g)))
        .collect()
}

/// `report.md`: what was run, the verdicts, the tables, the plots, and every diverged
/// or failed run.
pub fn markdown(
    results: &Results,
    summaries: &[(String, Vec<GroupSummary>)],
    plots: &[PathBuf],
) -> String {
    let spec = &results.spec;
    let mut out = format!("# {}\n\n", spec.name);
    if !spec.description.is_empty() {
        let _ = writeln!(out, "{}\n", spec.description.trim());
    }
    let budget = &spec.budget;
    let budget = match (budget.epochs, budget.steps, budget.gradient_evaluations) {
        (Some(e), _, _) => format!("{e} epochs"),
        (_, Some(s), _) => format!("{s} steps"),
        (_, _, Some(g)) => format!("{g} gradient evaluations"),
        _ => "?".into(),
    };
    let _ = writeln!(
        out,
        "{} runs on {} problem(s), budget {budget} per run. Losses are measured on the \
         validation rows when a problem is split, else on all training rows; mean ± sample \
         standard deviation over seeds.\n",
        results.records.len(),
        summaries.len()
    );
    for (problem, groups) in summaries {
        let _ = writeln!(out, "## {problem}\n\n{}\n", verdict(groups));
        let target = groups.iter().any(|g| g.reached > 0) || has_target(results, problem);
        let cols = columns(groups, target);
        let _ = writeln!(
            out,
            "| {} |",
            cols.iter()
                .map(|(h, _)| h.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(
            out,
            "|{}|",
            cols.iter()
                .map(|(h, _)| if left_aligned(h) { ":---" } else { "---:" })
                .collect::<Vec<_>>()
                .join("|")
        );
        for row in 0..groups.len() {
            let _ = writeln!(
                out,
                "| {} |",
                cols.iter()
                    .map(|(_, c)| c[row].replace('|', "\\|"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
        out.push('\n');
        let metric = groups.first().map_or("", |g| g.metric.as_str());
        let _ = writeln!(
            out,
            "`{metric}`: {} is better.\n",
            if higher_is_better(metric) {
                "higher"
            } else {
                "lower"
            }
        );
        let troubles: Vec<&GroupSummary> = groups.iter().filter(|g| !g.clean()).collect();
        if !troubles.is_empty() {
            let _ = writeln!(out, "Diverged or failed runs:\n");
            for g in troubles {
                for s in &g.diverged_at {
                    let _ = writeln!(out, "- `{}`: diverged at step {s}", g.label.config());
                }
                for m in &g.failures {
                    let _ = writeln!(out, "- `{}`: failed: {m}", g.label.config());
                }
            }
            out.push('\n');
        }
    }
    if !plots.is_empty() {
        let _ = writeln!(out, "## Plots\n");
        for p in plots {
            let rel = p
                .strip_prefix(&results.dir.root)
                .unwrap_or(p)
                .display()
                .to_string();
            let _ = writeln!(out, "![{rel}]({rel})\n");
        }
    }
    out
}
