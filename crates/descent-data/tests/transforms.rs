//! Splits, k-fold, scalers, one-hot and the synthetic generators.

use descent_data::synthetic;
use descent_data::{
    MinMaxScaler, Shipped, StandardScaler, Targets, k_fold, one_hot, train_test_split,
    train_validation_test_split,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn stratified_split_keeps_class_shares_and_covers_all_rows() {
    let iris = Shipped::Iris.load::<f64>().unwrap();
    let split = train_validation_test_split(&iris, 0.2, 0.2, 5, true).unwrap();
    assert_eq!(split.train.targets().class_counts(), Some(vec![30, 30, 30]));
    assert_eq!(
        split.validation.targets().class_counts(),
        Some(vec![10, 10, 10])
    );
    assert_eq!(split.test.targets().class_counts(), Some(vec![10, 10, 10]));
    let again = train_validation_test_split(&iris, 0.2, 0.2, 5, true).unwrap();
    assert_eq!(split, again);
    let other = train_validation_test_split(&iris, 0.2, 0.2, 6, true).unwrap();
    assert_ne!(split.test, other.test);
    let (train, test) = train_test_split(&iris, 0.3, 1, false).unwrap();
    assert_eq!((train.rows(), test.rows()), (105, 45));
    assert!(train_test_split(&iris, 1.0, 1, false).is_err());
    assert!(train_validation_test_split(&iris, 0.6, 0.5, 1, false).is_err());
    let diabetes = Shipped::Diabetes.load::<f64>().unwrap();
    assert!(train_test_split(&diabetes, 0.2, 1, true).is_err());
}

#[test]
fn k_fold_partitions_the_rows() {
    let wine = Shipped::Wine.load::<f32>().unwrap();
    let folds = k_fold(&wine, 5, 2, true).unwrap();
    assert_eq!(folds.len(), 5);
    let mut held: Vec<usize> = folds.iter().flat_map(|f| f.validation.clone()).collect();
    held.sort();
    assert_eq!(held, (0..178).collect::<Vec<_>>());
    for fold in &folds {
        assert_eq!(fold.train.len() + fold.validation.len(), 178);
        assert!(fold.validation.len() == 35 || fold.validation.len() == 36);
        assert!(fold.train.iter().all(|r| !fold.validation.contains(r)));
    }
    assert!(k_fold(&wine, 1, 0, false).is_err());
    assert!(k_fold(&wine, 179, 0, false).is_err());
}

#[test]
fn scalers_fit_on_train_only() {
    let wine = Shipped::Wine.load::<f64>().unwrap();
    let (mut train, mut test) = train_test_split(&wine, 0.3, 9, true).unwrap();
    let scaler = StandardScaler::fit(train.features()).unwrap();
    scaler.transform(train.features_mut()).unwrap();
    for j in 0..train.n_features() {
        let col = train.features().column(j).to_owned();
        let mean = col.mean().unwrap();
        let std = col.std(0.0);
        assert!(
            mean.abs() < 1e-10 && (std - 1.0).abs() < 1e-10,
            "{j}: {mean} {std}"
        );
    }
    let before = test.features().to_owned();
    scaler.transform(test.features_mut()).unwrap();
    // The test rows are not standardised exactly (the statistics are the training rows').
    assert!(test.features().column(0).mean().unwrap().abs() > 1e-6);
    scaler.inverse_transform(test.features_mut()).unwrap();
    assert!(
        test.features()
            .iter()
            .zip(&before)
            .all(|(a, b)| (a - b).abs() < 1e-9)
    );

    let minmax = MinMaxScaler::fit(train.features()).unwrap();
    minmax.transform(train.features_mut()).unwrap();
    assert!(
        train
            .features()
            .iter()
            .all(|v| (-1e-12..=1.0 + 1e-12).contains(v))
    );
    let iris = Shipped::Iris.load::<f64>().unwrap();
    assert!(
        minmax
            .transform(iris.features().to_owned().view_mut())
            .is_err()
    );
}

#[test]
fn one_hot_rows() {
    let y = one_hot::<f64>(&[1, 0, 1], 2).unwrap();
    assert_eq!(y, ndarray::array![[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]);
    assert!(one_hot::<f32>(&[3], 3).is_err());
}

#[test]
fn synthetic_sets_are_seeded_and_shaped() {
    let rng = |s| ChaCha8Rng::seed_from_u64(s);
    let lin = synthetic::linear::<f64>(500, 3, 0.0, &mut rng(1)).unwrap();
    let Targets::Real(y) = lin.data.targets() else {
        panic!("real")
    };
    // Without noise y is exactly x·w + b.
    let x = lin.data.features();
    for r in 0..500 {
        let pred = x.row(r).dot(&lin.weights) + lin.bias;
        assert!((pred - y[r]).abs() < 1e-12);
    }
    assert_eq!(
        lin,
        synthetic::linear::<f64>(500, 3, 0.0, &mut rng(1)).unwrap()
    );
    assert_ne!(
        lin,
        synthetic::linear::<f64>(500, 3, 0.0, &mut rng(2)).unwrap()
    );

    let blobs = synthetic::blobs::<f32>(90, 3, 4, 0.5, &mut rng(3)).unwrap();
    assert_eq!(blobs.features().shape(), &[90, 4]);
    assert_eq!(blobs.targets().class_counts(), Some(vec![30, 30, 30]));

    let moons = synthetic::moons::<f64>(101, 0.0, &mut rng(4)).unwrap();
    assert_eq!(moons.targets().class_counts(), Some(vec![51, 50]));
    // Noise-free outer moon lies on the unit circle.
    let r0 = moons.features().row(10).dot(&moons.features().row(10));
    assert!((r0 - 1.0).abs() < 1e-12);

    let spirals = synthetic::spirals::<f32>(301, 3, 0.2, &mut rng(5)).unwrap();
    assert_eq!(spirals.targets().class_counts(), Some(vec![101, 100, 100]));

    let xor = synthetic::xor::<f64>(400, 0.0, &mut rng(6)).unwrap();
    let Targets::Classes { indices, .. } = xor.targets() else {
        panic!("classes")
    };
    for (row, &c) in xor.features().rows().into_iter().zip(indices) {
        assert_eq!(c, usize::from((row[0] > 0.0) != (row[1] > 0.0)));
    }
    assert!(synthetic::xor::<f64>(0, 0.0, &mut rng(6)).is_err());
    assert!(synthetic::moons::<f64>(10, -1.0, &mut rng(6)).is_err());
}
