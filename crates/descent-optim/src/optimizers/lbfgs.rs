//! L-BFGS with an optional strong-Wolfe line search, for full-batch descent.

use std::collections::VecDeque;

use descent_autodiff::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};
use serde::{Deserialize, Serialize};

use super::flat::{FlatObjective, dot, gather, max_abs, scatter};
use crate::OptimError;
use crate::optimizer::check_range;

/// The line search L-BFGS uses to pick each step length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineSearchFn {
    /// No line search: a fixed step of `lr` (PyTorch's `line_search_fn=None`).
    None,
    /// A line search satisfying the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9).
    StrongWolfe,
}

/// L-BFGS's hyperparameters, with PyTorch's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LbfgsConfig {
    /// Step length (default 1).
    pub lr: f64,
    /// Iterations per call of [`Lbfgs::step`] (default 20).
    pub max_iter: usize,
    /// Objective evaluations per call (default `max_iter * 5 / 4`, integer division).
    pub max_eval: Option<usize>,
    /// Stop when `max |g|` is at most this (default 1e-7).
    pub tolerance_grad: f64,
    /// Stop when the step or the loss change is below this (default 1e-9).
    pub tolerance_change: f64,
    /// How many correction pairs to keep (default 100).
    pub history_size: usize,
    /// The line search (default none).
    pub line_search_fn: LineSearchFn,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            max_iter: 20,
            max_eval: None,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
            history_size: 100,
            line_search_fn: LineSearchFn::None,
        }
    }
}

impl LbfgsConfig {
    /// `max_eval`, or its default `max_iter * 5 / 4`.
    pub fn max_eval(&self) -> usize {
        self.max_eval.unwrap_or(self.max_iter * 5 / 4)
    }

    /// Checks every hyperparameter's range.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_range("lbfgs", "lr", self.lr, self.lr > 0.0, "must be > 0")?;
        check_range(
            "lbfgs",
            "max_iter",
            self.max_iter as f64,
            self.max_iter > 0,
            "must be > 0",
        )?;
        check_range(
            "lbfgs",
            "history_size",
            self.history_size as f64,
            self.history_size > 0,
            "must be > 0",
        )?;
        check_range(
            "lbfgs",
            "tolerance_grad",
            self.tolerance_grad,
            self.tolerance_grad >= 0.0,
            "must be >= 0",
        )?;
        check_range(
            "lbfgs",
            "tolerance_change",
            self.tolerance_change,
            self.tolerance_change >= 0.0,
            "must be >= 0",
        )
    }
}

/// What L-BFGS carries from one [`Lbfgs::step`] to the next (PyTorch's `state`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
pub struct LbfgsState<T> {
    /// Objective evaluations so far.
    pub func_evals: u64,
    /// Iterations so far.
    pub n_iter: u64,
    /// The last search direction.
    pub d: Vec<T>,
    /// The last step length.
    pub t: T,
    /// Gradient differences y, oldest first.
    pub old_dirs: VecDeque<Vec<T>>,
    /// Steps s, oldest first.
    pub old_stps: VecDeque<Vec<T>>,
    /// 1 / (y·s) per pair.
    pub ro: VecDeque<T>,
    /// The initial inverse-Hessian scale y·s / y·y.
    pub h_diag: T,
    /// The gradient at the start of the last iteration.
    pub prev_flat_grad: Vec<T>,
    /// The loss at the start of the last iteration.
    pub prev_loss: T,
}

impl<T: Float> Default for LbfgsState<T> {
    fn default() -> Self {
        Self {
            func_evals: 0,
            n_iter: 0,
            d: Vec::new(),
            t: T::zero(),
            old_dirs: VecDeque::new(),
            old_stps: VecDeque::new(),
            ro: VecDeque::new(),
            h_diag: T::one(),
            prev_flat_grad: Vec::new(),
            prev_loss: T::zero(),
        }
    }
}

/// L-BFGS (Liu & Nocedal, "On the limited memory BFGS method for large scale
/// optimization", Mathematical Programming 45, 1989; the strong-Wolfe search follows
/// Nocedal & Wright, "Numerical Optimization", 2nd ed., algorithms 3.5 and 3.6), a
/// line-by-line port of PyTorch's `torch.optim.LBFGS`, counters included.
///
/// Unlike the [`Optimizer`](crate::Optimizer)s, each step evaluates the objective itself,
/// through a closure that computes the loss and writes the gradient.
#[derive(Clone, Debug)]
pub struct Lbfgs<T: Float> {
    config: LbfgsConfig,
    state: LbfgsState<T>,
    x: Vec<T>,
}

impl<T: Float> Lbfgs<T> {
    /// An L-BFGS optimizer with these hyperparameters and no state yet.
    pub fn new(config: LbfgsConfig) -> Self {
        Self {
            config,
            state: LbfgsState::default(),
            x: Vec::new(),
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &LbfgsConfig {
        &self.config
    }

    /// The state (counters, history, last direction).
    pub fn state(&self) -> &LbfgsState<T> {
        &self.state
    }

    /// Replaces the state with one saved earlier.
    pub fn load_state(&mut self, state: LbfgsState<T>) {
        self.state = state;
    }

    /// One call of PyTorch's `LBFGS.step(closure)` on a list of parameter arrays.
    /// `objective(params, grads)` returns the loss at `params` and writes its gradient into
    /// `grads` (shaped like `params`). Returns the loss of the first evaluation.
    ///
    /// # Errors
    ///
    /// [`OptimError::ParamCount`] when the number of parameter entries changed since the
    /// history was built.
    pub fn step<F>(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        objective: F,
    ) -> Result<T, OptimError>
    where
        F: FnMut(&[ArrayViewD<'_, T>], &mut [ArrayViewMutD<'_, T>]) -> T,
    {
        let mut x = std::mem::take(&mut self.x);
        gather(params, &mut x);
        let mut flat = FlatObjective::new(params, objective);
        let result = self.step_flat(&mut x, |x, g| flat.eval(x, g));
        scatter(&x, flat.params);
        self.x = x;
        result
    }

    /// One step on a flat parameter vector; `objective(x, grad)` returns f(x) and writes
    /// ∇f(x) into `grad`. Returns the loss of the first evaluation.
    ///
    /// # Errors
    ///
    /// [`OptimError::ParamCount`] when `x` has another length than the history.
    pub fn step_flat<F>(&mut self, x: &mut [T], mut objective: F) -> Result<T, OptimError>
    where
        F: FnMut(&[T], &mut [T]) -> T,
    {
        let n = x.len();
        if self.state.n_iter > 0 && self.state.d.len() != n {
            return Err(OptimError::ParamCount {
                optimizer: "lbfgs",
                expected: self.state.d.len(),
                got: n,
            });
        }
        let c = &self.config;
        let lr = T::of(c.lr);
        let max_eval = c.max_eval();
        let tol_grad = T::of(c.tolerance_grad);
        let tol_change = T::of(c.tolerance_change);
        let st = &mut self.state;

        let mut flat_grad = vec![T::zero(); n];
        let orig_loss = objective(x, &mut flat_grad);
        let mut loss = orig_loss;
        let mut current_evals = 1usize;
        st.func_evals += 1;
        if max_abs(&flat_grad) <= tol_grad {
            return Ok(orig_loss);
        }
        let mut n_iter = 0;
        while n_iter < c.max_iter {
            n_iter += 1;
            st.n_iter += 1;
            if st.n_iter == 1 {
                st.d = flat_grad.iter().map(|&g| -g).collect();
                st.old_dirs.clear();
                st.old_stps.clear();
                st.ro.clear();
                st.h_diag = T::one();
            } else {
                let y: Vec<T> = flat_grad
                    .iter()
                    .zip(&st.prev_flat_grad)
                    .map(|(&g, &p)| g - p)
                    .collect();
                let s: Vec<T> = st.d.iter().map(|&d| d * st.t).collect();
                let ys = dot(&y, &s);
                if ys > T::of(1e-10) {
                    if st.old_dirs.len() == c.history_size {
                        st.old_dirs.pop_front();
                        st.old_stps.pop_front();
                        st.ro.pop_front();
                    }
                    st.h_diag = ys / dot(&y, &y);
                    st.old_dirs.push_back(y);
                    st.old_stps.push_back(s);
                    st.ro.push_back(T::one() / ys);
                }
                let num_old = st.old_dirs.len();
                let mut al = vec![T::zero(); num_old];
                let mut q: Vec<T> = flat_grad.iter().map(|&g| -g).collect();
                for i in (0..num_old).rev() {
                    al[i] = dot(&st.old_stps[i], &q) * st.ro[i];
                    let neg = -al[i];
                    q.iter_mut()
                        .zip(&st.old_dirs[i])
                        .for_each(|(q, &y)| *q += neg * y);
                }
                let h = st.h_diag;
                st.d = q.iter().map(|&q| q * h).collect();
                for i in 0..num_old {
                    let be_i = dot(&st.old_dirs[i], &st.d) * st.ro[i];
                    let alpha = al[i] - be_i;
                    st.d.iter_mut()
                        .zip(&st.old_stps[i])
                        .for_each(|(d, &s)| *d += alpha * s);
                }
            }
            st.prev_flat_grad.clone_from(&flat_grad);
            st.prev_loss = loss;
            st.t = if st.n_iter == 1 {
                let sum = flat_grad.iter().fold(T::zero(), |acc, &g| acc + g.abs());
                T::one().min(T::one() / sum) * lr
            } else {
                lr
            };
            let gtd = dot(&flat_grad, &st.d);
            if gtd > -tol_change {
                break;
            }
            let mut ls_func_evals = 0;
            let opt_cond;
            if c.line_search_fn == LineSearchFn::StrongWolfe {
                let x_init = x.to_vec();
                let max_ls = max_eval as i64 - current_evals as i64;
                let mut trial = vec![T::zero(); n];
                let mut obj = |t: T, d: &[T], g: &mut [T]| {
                    trial
                        .iter_mut()
                        .zip(&x_init)
                        .zip(d)
                        .for_each(|((x, &x0), &d)| *x = x0 + t * d);
                    objective(&trial, g)
                };
                let (f_new, g_new, t, evals) =
                    strong_wolfe(&mut obj, st.t, &st.d, loss, &flat_grad, gtd, max_ls);
                loss = f_new;
                flat_grad = g_new;
                st.t = t;
                ls_func_evals = evals;
                x.iter_mut().zip(&st.d).for_each(|(x, &d)| *x += t * d);
                opt_cond = max_abs(&flat_grad) <= tol_grad;
            } else {
                let t = st.t;
                x.iter_mut().zip(&st.d).for_each(|(x, &d)| *x += t * d);
                if n_iter != c.max_iter {
                    loss = objective(x, &mut flat_grad);
                    opt_cond = max_abs(&flat_grad) <= tol_grad;
                    ls_func_evals = 1;
                } else {
                    opt_cond = false;
                }
            }
            current_evals += ls_func_evals;
            st.func_evals += ls_func_evals as u64;
            if n_iter == c.max_iter || current_evals >= max_eval || opt_cond {
                break;
            }
            let t = st.t;
            if st
                .d
                .iter()
                .fold(T::zero(), |acc, &d| acc.max((d * t).abs()))
                <= tol_change
            {
                break;
            }
            if (loss - st.prev_loss).abs() < tol_change {
                break;
            }
        }
        Ok(orig_loss)
    }
}

/// PyTorch's `_cubic_interpolate`: the minimiser of the cubic through two points with
/// their derivatives, clamped to `bounds` (default: the interval between the points).
fn cubic_interpolate<T: Float>(
    x1: T,
    f1: T,
    g1: T,
    x2: T,
    f2: T,
    g2: T,
    bounds: Option<(T, T)>,
) -> T {
    let (lo, hi) = bounds.unwrap_or(if x1 <= x2 { (x1, x2) } else { (x2, x1) });
    let three = T::of(3.0);
    let two = T::of(2.0);
    let d1 = g1 + g2 - three * (f1 - f2) / (x1 - x2);
    let d2_square = d1 * d1 - g1 * g2;
    if d2_square >= T::zero() {
        let d2 = d2_square.sqrt();
        let min_pos = if x1 <= x2 {
            x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + two * d2))
        } else {
            x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + two * d2))
        };
        py_min(py_max(min_pos, lo), hi)
    } else {
        (lo + hi) / two
    }
}

/// Python's `max(a, b)`: `b` only when it is strictly greater.
fn py_max<T: Float>(a: T, b: T) -> T {
    if b > a { b } else { a }
}

/// Python's `min(a, b)`: `b` only when it is strictly smaller.
fn py_min<T: Float>(a: T, b: T) -> T {
    if b < a { b } else { a }
}

/// PyTorch's `_strong_wolfe` (c1 = 1e-4, c2 = 0.9, tolerance_change = 1e-9): returns the
/// loss, gradient and step length it settled on and the evaluations it made.
fn strong_wolfe<T: Float>(
    obj: &mut impl FnMut(T, &[T], &mut [T]) -> T,
    mut t: T,
    d: &[T],
    f: T,
    g: &[T],
    gtd: T,
    max_ls: i64,
) -> (T, Vec<T>, T, usize) {
    let (c1, c2, tolerance_change) = (T::of(1e-4), T::of(0.9), T::of(1e-9));
    let d_norm = max_abs(d);
    let mut g_new = vec![T::zero(); d.len()];
    let mut f_new = obj(t, d, &mut g_new);
    let mut ls_func_evals = 1;
    let mut gtd_new = dot(&g_new, d);
    let (mut t_prev, mut f_prev, mut g_prev, mut gtd_prev) = (T::zero(), f, g.to_vec(), gtd);
    let mut done = false;
    let mut ls_iter: i64 = 0;
    let mut bracket: Vec<T> = Vec::new();
    let mut bracket_f: Vec<T> = Vec::new();
    let mut bracket_g: Vec<Vec<T>> = Vec::new();
    let mut bracket_gtd: Vec<T> = Vec::new();
    while ls_iter < max_ls {
        if f_new > f + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev) {
            bracket = vec![t_prev, t];
            bracket_f = vec![f_prev, f_new];
            bracket_g = vec![g_prev.clone(), g_new.clone()];
            bracket_gtd = vec![gtd_prev, gtd_new];
            break;
        }
        if gtd_new.abs() <= -c2 * gtd {
            bracket = vec![t];
            bracket_f = vec![f_new];
            bracket_g = vec![g_new.clone()];
            done = true;
            break;
        }
        if gtd_new >= T::zero() {
            bracket = vec![t_prev, t];
            bracket_f = vec![f_prev, f_new];
            bracket_g = vec![g_prev.clone(), g_new.clone()];
            bracket_gtd = vec![gtd_prev, gtd_new];
            break;
        }
        let min_step = t + T::of(0.01) * (t - t_prev);
        let max_step = t * T::of(10.0);
        let tmp = t;
        t = cubic_interpolate(
            t_prev,
            f_prev,
            gtd_prev,
            t,
            f_new,
            gtd_new,
            Some((min_step, max_step)),
        );
        t_prev = tmp;
        f_prev = f_new;
        g_prev.clone_from(&g_new);
        gtd_prev = gtd_new;
        f_new = obj(t, d, &mut g_new);
        ls_func_evals += 1;
        gtd_new = dot(&g_new, d);
        ls_iter += 1;
    }
    if ls_iter == max_ls || max_ls <= 0 {
        bracket = vec![T::zero(), t];
        bracket_f = vec![f, f_new];
        bracket_g = vec![g.to_vec(), g_new.clone()];
    }
    let mut insuf_progress = false;
    let order = |bf: &[T]| {
        if bf[0] <= bf[bf.len() - 1] {
            (0, 1)
        } else {
            (1, 0)
        }
    };
    let (mut low_pos, mut high_pos) = order(&bracket_f);
    while !done && ls_iter < max_ls {
        if (bracket[1] - bracket[0]).abs() * d_norm < tolerance_change {
            break;
        }
        t = cubic_interpolate(
            bracket[0],
            bracket_f[0],
            bracket_gtd[0],
            bracket[1],
            bracket_f[1],
            bracket_gtd[1],
            None,
        );
        let (bmax, bmin) = (
            py_max(bracket[0], bracket[1]),
            py_min(bracket[0], bracket[1]),
        );
        let eps = T::of(0.1) * (bmax - bmin);
        if py_min(bmax - t, t - bmin) < eps {
            if insuf_progress || t >= bmax || t <= bmin {
                t = if (t - bmax).abs() < (t - bmin).abs() {
                    bmax - eps
                } else {
                    bmin + eps
                };
                insuf_progress = false;
            } else {
                insuf_progress = true;
            }
        } else {
            insuf_progress = false;
        }
        f_new = obj(t, d, &mut g_new);
        ls_func_evals += 1;
        gtd_new = dot(&g_new, d);
        ls_iter += 1;
        if f_new > f + c1 * t * gtd || f_new >= bracket_f[low_pos] {
            bracket[high_pos] = t;
            bracket_f[high_pos] = f_new;
            bracket_g[high_pos].clone_from(&g_new);
            bracket_gtd[high_pos] = gtd_new;
            (low_pos, high_pos) = order(&bracket_f);
        } else {
            if gtd_new.abs() <= -c2 * gtd {
                done = true;
            } else if gtd_new * (bracket[high_pos] - bracket[low_pos]) >= T::zero() {
                bracket[high_pos] = bracket[low_pos];
                bracket_f[high_pos] = bracket_f[low_pos];
                bracket_g[high_pos] = bracket_g[low_pos].clone();
                bracket_gtd[high_pos] = bracket_gtd[low_pos];
            }
            bracket[low_pos] = t;
            bracket_f[low_pos] = f_new;
            bracket_g[low_pos].clone_from(&g_new);
            bracket_gtd[low_pos] = gtd_new;
        }
    }
    let t = bracket[low_pos];
    let f_new = bracket_f[low_pos];
    let g_new = std::mem::take(&mut bracket_g[low_pos]);
    (f_new, g_new, t, ls_func_evals)
}
