//! Serde configurations that name and build every optimizer and schedule, as an
//! experiment file writes them.
//!
//! ```toml
//! optimizer = { name = "adam", lr = 1e-3, betas = [0.9, 0.999] }
//! schedule = { name = "cosine", T_max = 100 }
//! ```
//!
//! The base learning rate lives in the optimizer's table (`lr`, with PyTorch's default
//! for each optimizer); the schedule is built over it with [`ScheduleConfig::build`]
//! and a runner passes `schedule.lr(step)` to every [`Optimizer::step`]. One-cycle,
//! cyclic and `optimal` set their own rates, as in PyTorch and scikit-learn.

use descent_autodiff::Float;
use serde::{Deserialize, Serialize};

use crate::optimizer::check_range;
use crate::schedule::{
    AnnealStrategy, Constant, ConstantFactor, CosineAnnealing, CosineWarmRestarts, Cyclic,
    CyclicMode, Exponential, InverseScaling, Linear, MultiStep, OneCycle, Optimal, PlateauMode,
    ReduceOnPlateau, ScaleMode, Schedule, Scheduler, Sequential, Step, ThresholdMode,
};
use crate::{
    Adadelta, AdadeltaConfig, Adagrad, AdagradConfig, Adam, AdamConfig, AdamWConfig, Adamax,
    AdamaxConfig, Backtracking, BacktrackingConfig, Lbfgs, LbfgsConfig, Nadam, NadamConfig,
    OptimError, Optimizer, Radam, RadamConfig, Rmsprop, RmspropConfig, Sgd, SgdConfig,
};

/// Any optimizer with its hyperparameters, tagged by `name`
/// (`sgd`, `adagrad`, `rmsprop`, `adam`, `adamw`, `adamax`, `nadam`, `radam`, `adadelta`,
/// `lbfgs`, `backtracking`). Omitted fields take PyTorch's defaults.
///
/// ```
/// use descent_optim::OptimizerConfig;
///
/// let config: OptimizerConfig = toml::from_str(r#"
///     name = "adam"
///     lr = 0.01
///     betas = [0.9, 0.99]
/// "#).unwrap();
/// assert_eq!(config.lr(), 0.01);
/// let optimizer = config.build::<f32>().unwrap();
/// assert!(optimizer.into_step().is_some());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// [`Sgd`].
    Sgd(SgdConfig),
    /// [`Adagrad`].
    Adagrad(AdagradConfig),
    /// [`Rmsprop`].
    Rmsprop(RmspropConfig),
    /// [`Adam`].
    Adam(AdamConfig),
    /// [`AdamW`](crate::AdamW).
    #[serde(rename = "adamw")]
    AdamW(AdamWConfig),
    /// [`Adamax`].
    Adamax(AdamaxConfig),
    /// [`Nadam`].
    Nadam(NadamConfig),
    /// [`Radam`].
    Radam(RadamConfig),
    /// [`Adadelta`].
    Adadelta(AdadeltaConfig),
    /// [`Lbfgs`] (full batch, steps with a closure).
    Lbfgs(LbfgsConfig),
    /// [`Backtracking`] gradient descent (full batch, steps with a closure).
    Backtracking(BacktrackingConfig),
}

/// A built optimizer: one that steps from given gradients, or one that evaluates the
/// objective itself.
#[derive(Debug)]
pub enum BuiltOptimizer<T: Float> {
    /// An update rule stepping from gradients.
    Step(Box<dyn Optimizer<T> + Send>),
    /// L-BFGS.
    Lbfgs(Lbfgs<T>),
    /// Backtracking gradient descent.
    Backtracking(Backtracking<T>),
}

impl<T: Float> std::fmt::Debug for dyn Optimizer<T> + Send {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Optimizer({}, step {})", self.name(), self.state().step)
    }
}

impl<T: Float> BuiltOptimizer<T> {
    /// The gradient-stepping optimizer, if that is what was built.
    pub fn into_step(self) -> Option<Box<dyn Optimizer<T> + Send>> {
        match self {
            BuiltOptimizer::Step(o) => Some(o),
            _ => None,
        }
    }
}

impl OptimizerConfig {
    /// The name, as in the `name` field.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd(_) => "sgd",
            OptimizerConfig::Adagrad(_) => "adagrad",
            OptimizerConfig::Rmsprop(_) => "rmsprop",
            OptimizerConfig::Adam(_) => "adam",
            OptimizerConfig::AdamW(_) => "adamw",
            OptimizerConfig::Adamax(_) => "adamax",
            OptimizerConfig::Nadam(_) => "nadam",
            OptimizerConfig::Radam(_) => "radam",
            OptimizerConfig::Adadelta(_) => "adadelta",
            OptimizerConfig::Lbfgs(_) => "lbfgs",
            OptimizerConfig::Backtracking(_) => "backtracking",
        }
    }

    /// The base learning rate (the schedule's starting point).
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd(c) => c.lr,
            OptimizerConfig::Adagrad(c) => c.lr,
            OptimizerConfig::Rmsprop(c) => c.lr,
            OptimizerConfig::Adam(c) => c.lr,
            OptimizerConfig::AdamW(c) => c.lr,
            OptimizerConfig::Adamax(c) => c.lr,
            OptimizerConfig::Nadam(c) => c.lr,
            OptimizerConfig::Radam(c) => c.lr,
            OptimizerConfig::Adadelta(c) => c.lr,
            OptimizerConfig::Lbfgs(c) => c.lr,
            OptimizerConfig::Backtracking(c) => c.lr,
        }
    }

    /// Checks the hyperparameters and builds the optimizer.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn build<T: Float>(&self) -> Result<BuiltOptimizer<T>, OptimError> {
        use BuiltOptimizer::Step;
        Ok(match self {
            OptimizerConfig::Sgd(c) => {
                c.validate().map(|()| Step(Box::new(Sgd::new(c.clone()))))?
            }
            OptimizerConfig::Adagrad(c) => c
                .validate()
                .map(|()| Step(Box::new(Adagrad::new(c.clone()))))?,
            OptimizerConfig::Rmsprop(c) => c
                .validate()
                .map(|()| Step(Box::new(Rmsprop::new(c.clone()))))?,
            OptimizerConfig::Adam(c) => c
                .validate()
                .map(|()| Step(Box::new(Adam::new(c.clone()))))?,
            OptimizerConfig::AdamW(c) => c
                .validate()
                .map(|()| Step(Box::new(Adam::adamw(c.clone()))))?,
            OptimizerConfig::Adamax(c) => c
                .validate()
                .map(|()| Step(Box::new(Adamax::new(c.clone()))))?,
            OptimizerConfig::Nadam(c) => c
                .validate()
                .map(|()| Step(Box::new(Nadam::new(c.clone()))))?,
            OptimizerConfig::Radam(c) => c
                .validate()
                .map(|()| Step(Box::new(Radam::new(c.clone()))))?,
            OptimizerConfig::Adadelta(c) => c
                .validate()
                .map(|()| Step(Box::new(Adadelta::new(c.clone()))))?,
            OptimizerConfig::Lbfgs(c) => c
                .validate()
                .map(|()| BuiltOptimizer::Lbfgs(Lbfgs::new(c.clone())))?,
            OptimizerConfig::Backtracking(c) => c
                .validate()
                .map(|()| BuiltOptimizer::Backtracking(Backtracking::new(c.clone())))?,
        })
    }
}

fn default_gamma() -> f64 {
    0.1
}
fn one_third() -> f64 {
    1.0 / 3.0
}
fn one() -> f64 {
    1.0
}
fn five() -> u64 {
    5
}
fn one_u64() -> u64 {
    1
}
fn power_t() -> f64 {
    0.25
}
fn alpha() -> f64 {
    1e-4
}
fn pct_start() -> f64 {
    0.3
}
fn cos() -> AnnealStrategy {
    AnnealStrategy::Cos
}
fn yes() -> bool {
    true
}
fn m085() -> f64 {
    0.85
}
fn m095() -> f64 {
    0.95
}
fn m08() -> f64 {
    0.8
}
fn m09() -> f64 {
    0.9
}
fn div_factor() -> f64 {
    25.0
}
fn final_div_factor() -> f64 {
    1e4
}
fn step_size_up() -> u64 {
    2000
}
fn triangular() -> CyclicMode {
    CyclicMode::Triangular
}
fn min() -> PlateauMode {
    PlateauMode::Min
}
fn patience() -> u64 {
    10
}
fn threshold() -> f64 {
    1e-4
}
fn rel() -> ThresholdMode {
    ThresholdMode::Rel
}
fn eps8() -> f64 {
    1e-8
}

/// Any learning-rate schedule with its parameters, tagged by `name`, with PyTorch's
/// argument names and defaults. Built over the optimizer's base rate with
/// [`ScheduleConfig::build`].
///
/// ```
/// use descent_optim::ScheduleConfig;
///
/// let config: ScheduleConfig = toml::from_str("name = \"step\"\nstep_size = 10").unwrap();
/// let schedule = config.build(0.1).unwrap();
/// assert_eq!(schedule.lr(9), 0.1);
/// assert!((schedule.lr(10) - 0.01).abs() < 1e-17);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleConfig {
    /// The base rate throughout.
    Constant {},
    /// PyTorch's `ConstantLR`: [`ConstantFactor`].
    ConstantFactor {
        /// The factor until `total_iters` (default 1/3).
        #[serde(default = "one_third")]
        factor: f64,
        /// When the factor ends (default 5).
        #[serde(default = "five")]
        total_iters: u64,
    },
    /// PyTorch's `StepLR`: [`Step`].
    Step {
        /// Steps between decays.
        step_size: u64,
        /// The decay factor (default 0.1).
        #[serde(default = "default_gamma")]
        gamma: f64,
    },
    /// PyTorch's `MultiStepLR`: [`MultiStep`].
    MultiStep {
        /// The steps at which to decay (repeats decay repeatedly).
        milestones: Vec<u64>,
        /// The decay factor (default 0.1).
        #[serde(default = "default_gamma")]
        gamma: f64,
    },
    /// PyTorch's `ExponentialLR`: [`Exponential`].
    Exponential {
        /// The factor per step.
        gamma: f64,
    },
    /// scikit-learn's `invscaling`: [`InverseScaling`] with `eta0` the base rate.
    InvScaling {
        /// The exponent (default 0.25).
        #[serde(default = "power_t")]
        power_t: f64,
    },
    /// scikit-learn's `optimal`: [`Optimal`] (ignores the base rate).
    Optimal {
        /// The regularisation strength (default 1e-4).
        #[serde(default = "alpha")]
        alpha: f64,
    },
    /// PyTorch's `PolynomialLR`: [`Polynomial`](crate::schedule::Polynomial).
    Polynomial {
        /// Steps to reach 0 (default 5).
        #[serde(default = "five")]
        total_iters: u64,
        /// The exponent (default 1).
        #[serde(default = "one")]
        power: f64,
    },
    /// PyTorch's `LinearLR` (warm-up): [`Linear`].
    Linear {
        /// The factor at step 0 (default 1/3).
        #[serde(default = "one_third")]
        start_factor: f64,
        /// The factor from `total_iters` on (default 1).
        #[serde(default = "one")]
        end_factor: f64,
        /// The ramp's length (default 5).
        #[serde(default = "five")]
        total_iters: u64,
    },
    /// PyTorch's `CosineAnnealingLR`: [`CosineAnnealing`].
    Cosine {
        /// Half the period.
        #[serde(rename = "T_max", alias = "t_max")]
        t_max: u64,
        /// The lowest rate (default 0).
        #[serde(default)]
        eta_min: f64,
    },
    /// PyTorch's `CosineAnnealingWarmRestarts`: [`CosineWarmRestarts`].
    CosineWarmRestarts {
        /// The first cycle's length.
        #[serde(rename = "T_0", alias = "t_0")]
        t_0: u64,
        /// The growth factor of cycle lengths (default 1).
        #[serde(rename = "T_mult", alias = "t_mult", default = "one_u64")]
        t_mult: u64,
        /// The lowest rate (default 0).
        #[serde(default)]
        eta_min: f64,
    },
    /// PyTorch's `OneCycleLR`: [`OneCycle`] (ignores the base rate).
    OneCycle {
        /// The peak rate.
        max_lr: f64,
        /// The schedule's length in steps.
        total_steps: u64,
        /// The fraction spent rising (default 0.3).
        #[serde(default = "pct_start")]
        pct_start: f64,
        /// `cos` (default) or `linear`.
        #[serde(default = "cos")]
        anneal_strategy: AnnealStrategy,
        /// Cycle the momentum inversely (default true).
        #[serde(default = "yes")]
        cycle_momentum: bool,
        /// The lowest momentum (default 0.85).
        #[serde(default = "m085")]
        base_momentum: f64,
        /// The highest momentum (default 0.95).
        #[serde(default = "m095")]
        max_momentum: f64,
        /// `max_lr / initial rate` (default 25).
        #[serde(default = "div_factor")]
        div_factor: f64,
        /// `initial rate / final rate` (default 1e4).
        #[serde(default = "final_div_factor")]
        final_div_factor: f64,
        /// Fall back to the initial rate before annealing (default false).
        #[serde(default)]
        three_phase: bool,
    },
    /// PyTorch's `CyclicLR`: [`Cyclic`] (ignores the base rate).
    Cyclic {
        /// The lower bound.
        base_lr: f64,
        /// The upper bound.
        max_lr: f64,
        /// Steps rising (default 2000).
        #[serde(default = "step_size_up")]
        step_size_up: u64,
        /// Steps falling (default: `step_size_up`).
        #[serde(default)]
        step_size_down: Option<u64>,
        /// `triangular` (default), `triangular2` or `exp_range`.
        #[serde(default = "triangular")]
        mode: CyclicMode,
        /// The factor of `exp_range` (default 1).
        #[serde(default = "one")]
        gamma: f64,
        /// `cycle` or `iterations` (default: the mode's own).
        #[serde(default)]
        scale_mode: Option<ScaleMode>,
        /// Cycle the momentum inversely (default true).
        #[serde(default = "yes")]
        cycle_momentum: bool,
        /// The lowest momentum (default 0.8).
        #[serde(default = "m08")]
        base_momentum: f64,
        /// The highest momentum (default 0.9).
        #[serde(default = "m09")]
        max_momentum: f64,
    },
    /// PyTorch's `SequentialLR`: [`Sequential`].
    Sequential {
        /// The schedules, in order.
        schedulers: Vec<ScheduleConfig>,
        /// The steps at which the next one takes over (one fewer than the schedules).
        milestones: Vec<u64>,
    },
    /// PyTorch's `ReduceLROnPlateau`: [`ReduceOnPlateau`].
    ReduceOnPlateau {
        /// `min` (default) or `max`.
        #[serde(default = "min")]
        mode: PlateauMode,
        /// The cut factor (default 0.1).
        #[serde(default = "default_gamma")]
        factor: f64,
        /// Bad epochs tolerated (default 10).
        #[serde(default = "patience")]
        patience: u64,
        /// The significance threshold (default 1e-4).
        #[serde(default = "threshold")]
        threshold: f64,
        /// `rel` (default) or `abs`.
        #[serde(default = "rel")]
        threshold_mode: ThresholdMode,
        /// Epochs to wait after a cut (default 0).
        #[serde(default)]
        cooldown: u64,
        /// The floor (default 0).
        #[serde(default)]
        min_lr: f64,
        /// The smallest change applied (default 1e-8).
        #[serde(default = "eps8")]
        eps: f64,
    },
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig::Constant {}
    }
}

impl ScheduleConfig {
    /// Builds the schedule over the optimizer's base learning rate.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] for a value out of range (a zero
    /// `step_size` or `T_max`, a factor outside (0, 1], milestones that do not fit).
    pub fn build(&self, base_lr: f64) -> Result<Scheduler, OptimError> {
        Ok(match self {
            ScheduleConfig::ReduceOnPlateau {
                mode,
                factor,
                patience,
                threshold,
                threshold_mode,
                cooldown,
                min_lr,
                eps,
            } => {
                check_range(
                    "reduce_on_plateau",
                    "factor",
                    *factor,
                    *factor < 1.0 && *factor >= 0.0,
                    "must be in [0, 1)",
                )?;
                Scheduler::Plateau(ReduceOnPlateau::new(
                    base_lr,
                    *mode,
                    *factor,
                    *patience,
                    *threshold,
                    *threshold_mode,
                    *cooldown,
                    *min_lr,
                    *eps,
                ))
            }
            other => Scheduler::Pure(other.build_pure(base_lr)?),
        })
    }

    /// Builds a pure schedule (every kind but reduce-on-plateau).
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build); also for `reduce_on_plateau`, which is not pure.
    pub fn build_pure(&self, base_lr: f64) -> Result<Box<dyn Schedule>, OptimError> {
        let positive =
            |item, name, v: u64| check_range(item, name, v as f64, v > 0, "must be at least 1");
        Ok(match self {
            ScheduleConfig::Constant {} => Box::new(Constant::new(base_lr)),
            ScheduleConfig::ConstantFactor {
                factor,
                total_iters,
            } => {
                check_range(
                    "constant_factor",
                    "factor",
                    *factor,
                    *factor > 0.0 && *factor <= 1.0,
                    "must be in (0, 1]",
                )?;
                Box::new(ConstantFactor::new(base_lr, *factor, *total_iters))
            }
            ScheduleConfig::Step { step_size, gamma } => {
                positive("step", "step_size", *step_size)?;
                Box::new(Step::new(base_lr, *step_size, *gamma))
            }
            ScheduleConfig::MultiStep { milestones, gamma } => {
                Box::new(MultiStep::new(base_lr, milestones, *gamma))
            }
            ScheduleConfig::Exponential { gamma } => Box::new(Exponential::new(base_lr, *gamma)),
            ScheduleConfig::InvScaling { power_t } => {
                Box::new(InverseScaling::new(base_lr, *power_t))
            }
            ScheduleConfig::Optimal { alpha } => {
                check_range("optimal", "alpha", *alpha, *alpha > 0.0, "must be > 0")?;
                Box::new(Optimal::new(*alpha))
            }
            ScheduleConfig::Polynomial { total_iters, power } => {
                positive("polynomial", "total_iters", *total_iters)?;
                Box::new(crate::schedule::Polynomial::new(
                    base_lr,
                    *total_iters,
                    *power,
                ))
            }
            ScheduleConfig::Linear {
                start_factor,
                end_factor,
                total_iters,
            } => {
                check_range(
                    "linear",
                    "start_factor",
                    *start_factor,
                    *start_factor > 0.0 && *start_factor <= 1.0,
                    "must be in (0, 1]",
                )?;
                check_range(
                    "linear",
                    "end_factor",
                    *end_factor,
                    *end_factor >= 0.0 && *end_factor <= 1.0,
                    "must be in [0, 1]",
                )?;
                positive("linear", "total_iters", *total_iters)?;
                Box::new(Linear::new(
                    base_lr,
                    *start_factor,
                    *end_factor,
                    *total_iters,
                ))
            }
            ScheduleConfig::Cosine { t_max, eta_min } => {
                positive("cosine", "T_max", *t_max)?;
                Box::new(CosineAnnealing::new(base_lr, *t_max, *eta_min))
            }
            ScheduleConfig::CosineWarmRestarts {
                t_0,
                t_mult,
                eta_min,
            } => {
                positive("cosine_warm_restarts", "T_0", *t_0)?;
                positive("cosine_warm_restarts", "T_mult", *t_mult)?;
                Box::new(CosineWarmRestarts::new(base_lr, *t_0, *t_mult, *eta_min))
            }
            ScheduleConfig::OneCycle {
                max_lr,
                total_steps,
                pct_start,
                anneal_strategy,
                cycle_momentum,
                base_momentum,
                max_momentum,
                div_factor,
                final_div_factor,
                three_phase,
            } => {
                positive("one_cycle", "total_steps", *total_steps)?;
                check_range(
                    "one_cycle",
                    "pct_start",
                    *pct_start,
                    (0.0..=1.0).contains(pct_start),
                    "must be in [0, 1]",
                )?;
                Box::new(OneCycle::new(
                    *max_lr,
                    *total_steps,
                    *pct_start,
                    *anneal_strategy,
                    *cycle_momentum,
                    *base_momentum,
                    *max_momentum,
                    *div_factor,
                    *final_div_factor,
                    *three_phase,
                ))
            }
            ScheduleConfig::Cyclic {
                base_lr: low,
                max_lr,
                step_size_up,
                step_size_down,
                mode,
                gamma,
                scale_mode,
                cycle_momentum,
                base_momentum,
                max_momentum,
            } => {
                positive("cyclic", "step_size_up", *step_size_up)?;
                let momentum = cycle_momentum.then_some((*base_momentum, *max_momentum));
                Box::new(Cyclic::new(
                    *low,
                    *max_lr,
                    *step_size_up,
                    *step_size_down,
                    *mode,
                    *gamma,
                    *scale_mode,
                    momentum,
                ))
            }
            ScheduleConfig::Sequential {
                schedulers,
                milestones,
            } => {
                let built = schedulers
                    .iter()
                    .map(|s| s.build_pure(base_lr))
                    .collect::<Result<Vec<_>, _>>()?;
                let count = milestones.len() as f64;
                Box::new(Sequential::new(built, milestones.clone()).ok_or(
                    OptimError::InvalidHyperparameter {
                        item: "sequential",
                        name: "milestones",
                        value: count,
                        reason: "needs one milestone fewer than schedulers, in increasing order",
                    },
                )?)
            }
            ScheduleConfig::ReduceOnPlateau { .. } => {
                return Err(OptimError::InvalidHyperparameter {
                    item: "reduce_on_plateau",
                    name: "name",
                    value: f64::NAN,
                    reason: "is driven by metrics, not a pure function of the step",
                });
            }
        })
    }
}
