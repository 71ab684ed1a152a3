//! Every update rule minimises the reference README's test problem and a badly
//! conditioned quadratic, in f32 and f64; state saves and restores bit for bit; a
//! parameter list that changes between steps is an error.

use descent_autodiff::Float;
use descent_optim::{
    Adadelta, AdadeltaConfig, Adagrad, AdagradConfig, Adam, AdamConfig, AdamWConfig, Adamax,
    AdamaxConfig, Backtracking, BacktrackingConfig, Contiguous, Lbfgs, LbfgsConfig, LineSearchFn,
    Nadam, NadamConfig, OptimError, Optimizer, OptimizerConfig, OptimizerState, Radam, RadamConfig,
    Rmsprop, RmspropConfig, Sgd, SgdConfig,
};
use ndarray::{ArrayD, IxDyn};

/// The README's problem `Σ a_i (p_i − c_i)²/2 + b Σ p_i⁴/4` with the public file's constants.
const A: [f64; 5] = [
    1.0887533311030304,
    0.601652293792668,
    1.4123025508339244,
    1.2693933703704467,
    1.9390605412735689,
];
const C: [f64; 5] = [
    0.5279173461756567,
    0.018539059841072618,
    -0.9771597870480131,
    0.4446985557330986,
    1.0853502159682573,
];
const B: f64 = 0.1;
const X0: [f64; 5] = [0.5, 1.5, 2.0, -1.5, -2.0];

fn quartic<T: Float>(x: &[T], g: &mut [T]) -> T {
    let mut f = T::zero();
    for i in 0..x.len() {
        let (a, c, b) = (T::of(A[i]), T::of(C[i]), T::of(B));
        let d = x[i] - c;
        f = f + a * d * d / T::of(2.0) + b * x[i].powi(4) / T::of(4.0);
        g[i] = a * d + b * x[i].powi(3);
    }
    f
}

/// A quadratic with curvatures 0.01 ... 10 (condition number 1000), minimum 0 at 0.
const H: [f64; 4] = [0.01, 0.1, 1.0, 10.0];

fn ill_conditioned<T: Float>(x: &[T], g: &mut [T]) -> T {
    let mut f = T::zero();
    for i in 0..x.len() {
        g[i] = T::of(H[i]) * x[i];
        f += T::of(H[i]) * x[i] * x[i] / T::of(2.0);
    }
    f
}

type Problem<T> = fn(&[T], &mut [T]) -> T;

fn norm<T: Float>(g: &[T]) -> f64 {
    g.iter()
        .map(|g| g.as_f64() * g.as_f64())
        .sum::<f64>()
        .sqrt()
}

/// Runs `steps` steps from `x0`; returns (initial gradient norm, final gradient norm).
fn descend<T: Float>(
    optimizer: &mut dyn Optimizer<T>,
    problem: Problem<T>,
    x0: &[f64],
    lr: f64,
    steps: usize,
) -> (f64, f64) {
    let mut p =
        ArrayD::from_shape_vec(IxDyn(&[x0.len()]), x0.iter().map(|&x| T::of(x)).collect()).unwrap();
    let mut g = ArrayD::zeros(IxDyn(&[x0.len()]));
    problem(p.as_slice().unwrap(), g.as_slice_mut().unwrap());
    let initial = norm(g.as_slice().unwrap());
    for _ in 0..steps {
        problem(p.as_slice().unwrap(), g.as_slice_mut().unwrap());
        optimizer
            .step(&mut [p.view_mut()], &[g.view()], T::of(lr))
            .unwrap();
    }
    problem(p.as_slice().unwrap(), g.as_slice_mut().unwrap());
    (initial, norm(g.as_slice().unwrap()))
}

/// Every gradient-stepping optimizer with a learning rate and a step count that suit it.
fn all<T: Float>() -> Vec<(Box<dyn Optimizer<T>>, f64, usize)> {
    vec![
        (Box::new(Sgd::new(SgdConfig::default())), 0.15, 6000),
        (
            Box::new(Sgd::new(SgdConfig {
                momentum: 0.9,
                ..Default::default()
            })),
            0.02,
            3000,
        ),
        (
            Box::new(Sgd::new(SgdConfig {
                momentum: 0.9,
                nesterov: true,
                ..Default::default()
            })),
            0.02,
            3000,
        ),
        (Box::new(Adagrad::new(AdagradConfig::default())), 0.5, 6000),
        (
            Box::new(Rmsprop::new(RmspropConfig::default())),
            0.001,
            6000,
        ),
        (
            Box::new(Rmsprop::new(RmspropConfig {
                centered: true,
                momentum: 0.5,
                ..Default::default()
            })),
            0.001,
            6000,
        ),
        (Box::new(Adam::new(AdamConfig::default())), 0.01, 6000),
        (
            Box::new(Adam::new(AdamConfig {
                amsgrad: true,
                ..Default::default()
            })),
            0.01,
            6000,
        ),
        (
            Box::new(Adam::adamw(AdamWConfig {
                weight_decay: 0.0,
                ..Default::default()
            })),
            0.01,
            6000,
        ),
        (Box::new(Adamax::new(AdamaxConfig::default())), 0.01, 6000),
        (Box::new(Nadam::new(NadamConfig::default())), 0.01, 6000),
        (Box::new(Radam::new(RadamConfig::default())), 0.01, 6000),
        (
            Box::new(Adadelta::new(AdadeltaConfig::default())),
            0.1,
            100_000,
        ),
    ]
}

fn minimises_both_problems<T: Float>(tolerance: f64) {
    for (problem, x0, name) in [
        (quartic::<T> as Problem<T>, &X0[..], "quadratic + quartic"),
        (
            ill_conditioned::<T> as Problem<T>,
            &[1.0, 1.0, 1.0, 1.0][..],
            "ill-conditioned",
        ),
    ] {
        for (mut optimizer, lr, steps) in all::<T>() {
            let (initial, last) = descend(optimizer.as_mut(), problem, x0, lr, steps);
            assert!(
                last <= tolerance * initial,
                "{} on the {name} problem in {}: gradient norm {initial:e} -> {last:e}",
                optimizer.name(),
                T::NAME
            );
        }
    }
}

#[test]
fn every_optimizer_minimises_both_problems_in_f64() {
    minimises_both_problems::<f64>(1e-3);
}

#[test]
fn every_optimizer_minimises_both_problems_in_f32() {
    minimises_both_problems::<f32>(1e-3);
}

#[test]
fn lbfgs_and_backtracking_minimise_both_problems() {
    for (problem, x0) in [
        (quartic::<f64> as Problem<f64>, &X0[..]),
        (ill_conditioned::<f64> as Problem<f64>, &[1.0; 4][..]),
    ] {
        for line_search_fn in [LineSearchFn::None, LineSearchFn::StrongWolfe] {
            let lr = if line_search_fn == LineSearchFn::None {
                0.5
            } else {
                1.0
            };
            let mut lbfgs = Lbfgs::new(LbfgsConfig {
                lr,
                line_search_fn,
                tolerance_change: 1e-14,
                ..Default::default()
            });
            let mut x = x0.to_vec();
            for _ in 0..50 {
                lbfgs.step_flat(&mut x, problem).unwrap();
            }
            let mut g = vec![0.0; x.len()];
            problem(&x, &mut g);
            assert!(
                norm(&g) < 1e-6,
                "L-BFGS ({line_search_fn:?}): gradient norm {:e}",
                norm(&g)
            );
        }
        let mut gd = Backtracking::new(BacktrackingConfig::default());
        let mut x = x0.to_vec();
        let mut last = f64::INFINITY;
        for _ in 0..3000 {
            let step = gd.step_flat(&mut x, problem);
            assert!(
                step.new_loss <= step.loss,
                "the Armijo condition never increases the loss"
            );
            last = step.new_loss;
        }
        let mut g = vec![0.0; x.len()];
        problem(&x, &mut g);
        assert!(
            norm(&g) < 1e-3,
            "backtracking: gradient norm {:e}, loss {last}",
            norm(&g)
        );
    }
}

#[test]
fn lbfgs_steps_parameter_arrays_through_a_closure() {
    // Two arrays, f = Σ (w − 1)² / 2 + Σ (b + 2)² / 2.
    let mut w = ArrayD::from_elem(IxDyn(&[2, 2]), 0.0_f64);
    let mut b = ArrayD::from_elem(IxDyn(&[3]), 0.0_f64);
    let mut lbfgs = Lbfgs::new(LbfgsConfig {
        line_search_fn: LineSearchFn::StrongWolfe,
        ..Default::default()
    });
    let loss = lbfgs
        .step(&mut [w.view_mut(), b.view_mut()], |params, grads| {
            let mut f = 0.0;
            for ((p, g), target) in params.iter().zip(grads.iter_mut()).zip([1.0, -2.0]) {
                for (p, g) in p.iter().zip(g.iter_mut()) {
                    *g = p - target;
                    f += (p - target) * (p - target) / 2.0;
                }
            }
            f
        })
        .unwrap();
    assert_eq!(loss, 4.0 * 0.5 + 3.0 * 2.0);
    assert!(w.iter().all(|&w| (w - 1.0).abs() < 1e-9), "{w}");
    assert!(b.iter().all(|&b| (b + 2.0).abs() < 1e-9), "{b}");
}

#[test]
fn backtracking_steps_parameter_arrays_and_halves_until_armijo() {
    // f = 50 x², g = 100 x at x = 1: t = 1, 0.5, ... until 50 (1 − 100 t)² <= 50 − 1e-4·t·1e4.
    let mut x = ArrayD::from_elem(IxDyn(&[1]), 1.0_f64);
    let mut gd = Backtracking::new(BacktrackingConfig::default());
    let step = gd.step(&mut [x.view_mut()], |p, g| {
        let x = p[0][[0]];
        g[0][[0]] = 100.0 * x;
        50.0 * x * x
    });
    // t = 1/64: (1 − 100/64)² · 50 = 15.8 <= 50 − 1e-2·(1/64)·... accepted; 1/32 is not.
    assert_eq!(step.step_length, 1.0 / 64.0);
    assert_eq!(step.evaluations, 8);
    assert_eq!(x[[0]], 1.0 - 100.0 / 64.0);
}

/// Runs `steps` steps of the ill-conditioned problem on two parameter arrays.
fn run<T: Float>(optimizer: &mut dyn Optimizer<T>, params: &mut [ArrayD<T>; 2], steps: usize) {
    for _ in 0..steps {
        let grads: Vec<ArrayD<T>> = params
            .iter()
            .map(|p| p.mapv(|x| x * T::of(0.5) - T::one()))
            .collect();
        let mut views: Vec<_> = params.iter_mut().map(|p| p.view_mut()).collect();
        let grad_views: Vec<_> = grads.iter().map(|g| g.view()).collect();
        optimizer
            .step(&mut views, &grad_views, T::of(0.05))
            .unwrap();
    }
}

fn resumes_bit_for_bit<T: Float + serde::Serialize + serde::de::DeserializeOwned>(
    through_toml: bool,
) {
    for i in 0..all::<T>().len() {
        let fresh = || all::<T>().swap_remove(i).0;
        let (mut straight, mut first, mut second) = (fresh(), fresh(), fresh());
        let init = || {
            [
                ArrayD::from_elem(IxDyn(&[2, 3]), T::of(3.0)),
                ArrayD::from_elem(IxDyn(&[4]), T::of(-1.0)),
            ]
        };
        let (mut reference, mut resumed) = (init(), init());
        run(straight.as_mut(), &mut reference, 10);
        run(first.as_mut(), &mut resumed, 4);
        // `second` is a fresh optimizer of the same configuration: a new process resuming.
        let state: OptimizerState<T> = if through_toml {
            toml::from_str(&toml::to_string(first.state()).unwrap()).unwrap()
        } else {
            serde_json::from_str(&serde_json::to_string(first.state()).unwrap()).unwrap()
        };
        assert_eq!(&state, first.state());
        second.load_state(state).unwrap();
        run(second.as_mut(), &mut resumed, 6);
        assert_eq!(resumed, reference, "{} in {}", first.name(), T::NAME);
        assert_eq!(second.state(), straight.state());
    }
}

#[test]
fn state_save_and_restore_resumes_bit_for_bit() {
    resumes_bit_for_bit::<f64>(false);
    resumes_bit_for_bit::<f32>(false);
    resumes_bit_for_bit::<f64>(true);
}

#[test]
fn a_parameter_list_that_changes_is_an_error_not_a_panic() {
    let mut adam = Adam::<f64>::new(AdamConfig::default());
    let mut p = ArrayD::from_elem(IxDyn(&[3]), 1.0);
    let mut q = ArrayD::from_elem(IxDyn(&[2]), 1.0);
    let g = ArrayD::from_elem(IxDyn(&[3]), 1.0);
    let h = ArrayD::from_elem(IxDyn(&[2]), 1.0);
    adam.step(&mut [p.view_mut()], &[g.view()], 0.1).unwrap();
    let before = p.clone();
    assert_eq!(
        adam.step(
            &mut [p.view_mut(), q.view_mut()],
            &[g.view(), h.view()],
            0.1
        ),
        Err(OptimError::ParamCount {
            optimizer: "adam",
            expected: 1,
            got: 2
        })
    );
    assert_eq!(
        adam.step(&mut [q.view_mut()], &[h.view()], 0.1),
        Err(OptimError::ParamShape {
            optimizer: "adam",
            index: 0,
            expected: vec![3],
            got: vec![2]
        })
    );
    assert_eq!(
        adam.step(&mut [p.view_mut()], &[], 0.1),
        Err(OptimError::GradCount {
            optimizer: "adam",
            params: 1,
            grads: 0
        })
    );
    assert_eq!(
        adam.step(&mut [p.view_mut()], &[h.view()], 0.1),
        Err(OptimError::GradShape {
            optimizer: "adam",
            index: 0,
            param: vec![3],
            grad: vec![2]
        })
    );
    assert_eq!(p, before, "a failed step changes nothing");
    assert_eq!(adam.state().step, 1);
    adam.reset();
    adam.step(&mut [q.view_mut()], &[h.view()], 0.1).unwrap();
    assert_eq!(adam.state().shapes, vec![vec![2]]);
}

#[test]
fn a_state_from_another_configuration_is_refused() {
    let mut amsgrad = Adam::<f64>::new(AdamConfig {
        amsgrad: true,
        ..Default::default()
    });
    let mut p = ArrayD::from_elem(IxDyn(&[3]), 1.0);
    let g = ArrayD::from_elem(IxDyn(&[3]), 1.0);
    amsgrad.step(&mut [p.view_mut()], &[g.view()], 0.1).unwrap();
    let mut plain = Adam::<f64>::new(AdamConfig::default());
    let err = plain.load_state(amsgrad.state().clone()).unwrap_err();
    assert!(
        matches!(
            err,
            OptimError::StateMismatch {
                optimizer: "adam",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("max_exp_avg_sq"), "{err}");
    let mut sgd = Sgd::<f64>::new(SgdConfig::default());
    assert_eq!(
        sgd.load_state(amsgrad.state().clone())
            .unwrap_err()
            .to_string(),
        "sgd: cannot restore the state: it was saved by `adam`"
    );
    let mut broken = amsgrad.state().clone();
    broken.params[0].pop();
    let mut again = Adam::<f64>::new(AdamConfig {
        amsgrad: true,
        ..Default::default()
    });
    assert!(again.load_state(broken).is_err());
}

#[test]
fn first_steps_match_the_textbook_formulas() {
    // SGD: p − lr·g; Adam's first step moves by lr·g/(|g| + eps·…) ≈ lr·sign(g).
    let mut p = ArrayD::from_elem(IxDyn(&[1]), 1.0_f64);
    let g = ArrayD::from_elem(IxDyn(&[1]), 0.5_f64);
    Sgd::new(SgdConfig::default())
        .step(&mut [p.view_mut()], &[g.view()], 0.1)
        .unwrap();
    assert_eq!(p[[0]], 1.0 - 0.1 * 0.5);
    let mut p = ArrayD::from_elem(IxDyn(&[1]), 1.0_f64);
    Adam::new(AdamConfig::default())
        .step(&mut [p.view_mut()], &[g.view()], 0.1)
        .unwrap();
    // m̂ = 0.5, v̂ = 0.25: p = 1 − 0.1·0.5/(0.5 + 1e-8)
    assert!((p[[0]] - (1.0 - 0.1 * 0.5 / (0.5 + 1e-8))).abs() < 1e-15);
    // maximize ascends.
    let mut p = ArrayD::from_elem(IxDyn(&[1]), 1.0_f64);
    Sgd::new(SgdConfig {
        maximize: true,
        ..Default::default()
    })
    .step(&mut [p.view_mut()], &[g.view()], 0.1)
    .unwrap();
    assert_eq!(p[[0]], 1.0 + 0.1 * 0.5);
}

#[test]
fn configs_build_every_optimizer_and_reject_bad_values() {
    for name in [
        "sgd",
        "adagrad",
        "rmsprop",
        "adam",
        "adamw",
        "adamax",
        "nadam",
        "radam",
        "adadelta",
        "lbfgs",
        "backtracking",
    ] {
        let config: OptimizerConfig =
            serde_json::from_str(&format!(r#"{{"name": "{name}"}}"#)).unwrap();
        assert_eq!(config.name(), name);
        config.build::<f32>().unwrap();
        let back = serde_json::to_value(&config).unwrap();
        assert_eq!(
            serde_json::from_value::<OptimizerConfig>(back).unwrap(),
            config
        );
    }
    let config: OptimizerConfig = toml::from_str("name = \"adam\"\nbetas = [0.9, 1.5]").unwrap();
    assert_eq!(
        config.build::<f64>().unwrap_err().to_string(),
        "adam: invalid betas[1] = 1.5: must be in [0, 1)"
    );
    let config: OptimizerConfig = toml::from_str("name = \"sgd\"\nnesterov = true").unwrap();
    assert!(matches!(
        config.build::<f64>().unwrap_err(),
        OptimError::InvalidHyperparameter {
            item: "sgd",
            name: "dampening",
            ..
        }
    ));
}

#[test]
fn unknown_names_and_fields_list_the_valid_ones() {
    let err =
        serde_json::from_str::<OptimizerConfig>(r#"{"name": "adamm", "lr": 0.1}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown variant `adamm`, expected one of `sgd`, `adagrad`, `rmsprop`, `adam`, `adamw`, \
         `adamax`, `nadam`, `radam`, `adadelta`, `lbfgs`, `backtracking` at line 1 column 16"
    );
    let err = serde_json::from_str::<OptimizerConfig>(r#"{"name": "adam", "beta": [0.9, 0.99]}"#)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown field `beta`, expected one of `lr`, `betas`, `eps`, `weight_decay`, `amsgrad`, \
         `decoupled_weight_decay`, `maximize`"
    );
    let err = toml::from_str::<OptimizerConfig>("name = \"sgd\"\nnesterow = true\n").unwrap_err();
    assert_eq!(
        err.message(),
        "unknown field `nesterow`, expected one of `lr`, `momentum`, `dampening`, `weight_decay`, \
         `nesterov`, `maximize`"
    );
    let err = toml::from_str::<OptimizerConfig>("lr = 0.1\n").unwrap_err();
    assert_eq!(err.message(), "missing field `name`");
}

#[test]
fn strided_parameters_take_the_same_steps_as_contiguous_ones() {
    // The same 2×3 problem stored row-major and, transposed, column-major: the slice fast
    // path and the Zip fallback must agree to the bit.
    let p0 = ArrayD::from_shape_fn(IxDyn(&[2, 3]), |i| (i[0] * 3 + i[1]) as f64 * 0.3 - 0.7);
    for i in 0..all::<f64>().len() {
        let mut contiguous = all::<f64>().swap_remove(i).0;
        let mut strided = all::<f64>().swap_remove(i).0;
        let mut a = p0.clone();
        let mut b = p0.t().as_standard_layout().to_owned().reversed_axes();
        assert!(!b.is_standard_layout());
        for _ in 0..5 {
            let ga = a.mapv(|x| 2.0 * x - 1.0);
            let gb = b.mapv(|x| 2.0 * x - 1.0);
            contiguous
                .step(&mut [a.view_mut()], &[ga.view()], 0.1)
                .unwrap();
            strided
                .step(&mut [b.view_mut()], &[gb.view()], 0.1)
                .unwrap();
        }
        assert_eq!(a, b, "{}", contiguous.name());
    }
}

/// A large parameter (split over threads in chunks, run with the widest vectors), the
/// same values in small pieces, and the same values in a transposed (non-standard)
/// layout, which takes the scalar element-by-element loop: every rule gives the same
/// bits on all three, step after step.
#[test]
fn large_parameters_get_the_same_bits_whatever_the_split_width_or_layout() {
    const N: usize = 150_001;
    const PIECE: usize = 10_007;
    let value = |i: usize, t: usize| ((i * 7 + t * 13) as f32 * 0.001).sin();
    type Make = Box<dyn Fn() -> Box<dyn Optimizer<f32>>>;
    let rules: Vec<Make> = vec![
        Box::new(|| Box::new(Adam::new(AdamConfig::default()))),
        Box::new(|| {
            Box::new(Adam::new(AdamConfig {
                amsgrad: true,
                weight_decay: 0.01,
                ..AdamConfig::default()
            }))
        }),
        Box::new(|| {
            Box::new(Sgd::new(SgdConfig {
                momentum: 0.9,
                nesterov: true,
                ..SgdConfig::default()
            }))
        }),
        Box::new(|| Box::new(Rmsprop::new(RmspropConfig::default()))),
    ];
    for make in rules {
        let (mut whole_rule, mut pieces_rule, mut strided_rule) = (make(), make(), make());
        let mut whole = ArrayD::from_shape_fn(IxDyn(&[N]), |i| value(i[0], 0));
        let starts: Vec<usize> = (0..N).step_by(PIECE).collect();
        let mut pieces: Vec<ArrayD<f32>> = starts
            .iter()
            .map(|&s| ArrayD::from_shape_fn(IxDyn(&[PIECE.min(N - s)]), |i| value(s + i[0], 0)))
            .collect();
        // The transposed view of a (cols × rows) array against the same values flat.
        let (rows, cols) = (391, 383);
        let n2 = rows * cols;
        let mut strided =
            ArrayD::from_shape_fn(IxDyn(&[cols, rows]), |i| value(i[1] * cols + i[0], 0));
        let mut flat = ArrayD::from_shape_fn(IxDyn(&[n2]), |i| value(i[0], 0));
        let mut flat_rule = make();
        for t in 1..4 {
            let g = ArrayD::from_shape_fn(IxDyn(&[N]), |i| value(i[0], t));
            whole_rule
                .step(&mut [whole.view_mut()], &[g.view()], 0.01)
                .unwrap();
            let mut views: Vec<_> = pieces.iter_mut().map(|p| p.view_mut()).collect();
            let grads: Vec<ArrayD<f32>> = starts
                .iter()
                .map(|&s| ArrayD::from_shape_fn(IxDyn(&[PIECE.min(N - s)]), |i| value(s + i[0], t)))
                .collect();
            let gv: Vec<_> = grads.iter().map(|g| g.view()).collect();
            pieces_rule.step(&mut views, &gv, 0.01).unwrap();
            let g2 = ArrayD::from_shape_fn(IxDyn(&[cols, rows]), |i| value(i[1] * cols + i[0], t));
            let gt = g2.t();
            let mut st = strided.view_mut();
            st.swap_axes(0, 1);
            strided_rule.step(&mut [st], &[gt], 0.01).unwrap();
            let gf = ArrayD::from_shape_fn(IxDyn(&[n2]), |i| value(i[0], t));
            flat_rule
                .step(&mut [flat.view_mut()], &[gf.view()], 0.01)
                .unwrap();
        }
        let joined: Vec<u32> = pieces
            .iter()
            .flat_map(|p| p.iter().map(|v| v.to_bits()))
            .collect();
        let whole_bits: Vec<u32> = whole.iter().map(|v| v.to_bits()).collect();
        assert!(
            joined == whole_bits,
            "{}: split and pieces differ",
            whole_rule.name()
        );
        let strided_bits: Vec<u32> = strided.t().iter().map(|v| v.to_bits()).collect();
        let flat_bits: Vec<u32> = flat.iter().map(|v| v.to_bits()).collect();
        assert!(
            strided_bits == flat_bits,
            "{}: layouts differ",
            whole_rule.name()
        );
    }
}

/// Steps two parameters (of shapes `[2, 3]` and `[1]`) `steps` times, through views or
/// through [`Optimizer::step_contiguous`]; `None` where the rule has no contiguous path.
fn trajectory<T: Float>(
    optimizer: &mut dyn Optimizer<T>,
    contiguous: bool,
    steps: usize,
) -> Option<Vec<Vec<T>>> {
    let mut params = [
        ArrayD::from_shape_fn(IxDyn(&[2, 3]), |i| T::of(i[0] as f64 - 0.25 * i[1] as f64)),
        ArrayD::from_elem(IxDyn(&[1]), T::of(0.75)),
    ];
    for step in 0..steps {
        let grads: Vec<ArrayD<T>> = params
            .iter()
            .map(|p| p.mapv(|x| x * x * T::of(0.5) - T::of(step as f64 * 0.125)))
            .collect();
        if contiguous {
            let [a, b] = &mut params;
            let mut entries = [
                Contiguous {
                    values: a.as_slice_mut().unwrap(),
                    grad: grads[0].as_slice().unwrap(),
                    shape: &[2, 3],
                },
                Contiguous {
                    values: b.as_slice_mut().unwrap(),
                    grad: grads[1].as_slice().unwrap(),
                    shape: &[1],
                },
            ];
            optimizer
                .step_contiguous(&mut entries, T::of(0.05))?
                .unwrap();
        } else {
            let mut views: Vec<_> = params.iter_mut().map(|p| p.view_mut()).collect();
            let grad_views: Vec<_> = grads.iter().map(|g| g.view()).collect();
            optimizer
                .step(&mut views, &grad_views, T::of(0.05))
                .unwrap();
        }
    }
    Some(params.iter().map(|p| p.iter().copied().collect()).collect())
}

fn contiguous_steps_match_view_steps<T: Float>() {
    let sgd_variants = [
        SgdConfig::default(),
        SgdConfig {
            momentum: 0.9,
            dampening: 0.25,
            weight_decay: 0.01,
            ..Default::default()
        },
        SgdConfig {
            momentum: 0.8,
            nesterov: true,
            maximize: true,
            ..Default::default()
        },
    ];
    let mut with_path = 0;
    for (index, ((mut by_views, ..), (mut by_slices, ..))) in
        all::<T>().into_iter().zip(all::<T>()).enumerate()
    {
        let expected = trajectory(&mut *by_views, false, 7).unwrap();
        match trajectory(&mut *by_slices, true, 7) {
            Some(got) => {
                with_path += 1;
                assert_eq!(got, expected, "optimizer {index} ({})", by_views.name());
                assert_eq!(by_slices.state(), by_views.state());
            }
            // Without the path nothing may have been updated or counted.
            None => assert_eq!(by_slices.state().step, 0, "{}", by_slices.name()),
        }
    }
    assert!(with_path >= 1, "SGD at least has the contiguous path");
    for config in sgd_variants {
        let expected = trajectory(&mut Sgd::<T>::new(config.clone()), false, 7).unwrap();
        let got = trajectory(&mut Sgd::<T>::new(config.clone()), true, 7).unwrap();
        assert_eq!(got, expected, "{config:?}");
    }
}

#[test]
fn contiguous_steps_give_the_bits_of_view_steps() {
    contiguous_steps_match_view_steps::<f64>();
    contiguous_steps_match_view_steps::<f32>();
}

/// One contiguous SGD step of a single parameter.
fn step_one(values: &mut [f64], grad: &[f64], shape: &[usize]) -> Result<(), OptimError> {
    let mut sgd = Sgd::<f64>::new(SgdConfig::default());
    let mut entries = [Contiguous {
        values,
        grad,
        shape,
    }];
    sgd.step_contiguous(&mut entries, 0.1)
        .expect("SGD has the contiguous path")
}

#[test]
fn contiguous_parameters_that_do_not_fit_their_shapes_are_errors() {
    let mut values = vec![1.0, 2.0];
    let result = step_one(&mut values, &[0.5], &[2]);
    assert!(matches!(
        result,
        Err(OptimError::GradShape { index: 0, .. })
    ));
    let result = step_one(&mut values, &[0.5, 0.5], &[3]);
    assert!(matches!(
        result,
        Err(OptimError::ParamShape { index: 0, .. })
    ));
    assert_eq!(values, [1.0, 2.0], "nothing is updated on an error");
}
