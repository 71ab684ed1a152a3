//! The shipped data sets load with their documented shapes and class counts, and a changed
//! file is caught by its checksum.

use descent_data::{DataError, Shipped, Targets};

#[test]
fn shapes_and_class_counts() {
    let expected: [(Shipped, usize, usize, Option<Vec<usize>>); 5] = [
        (Shipped::Iris, 150, 4, Some(vec![50, 50, 50])),
        (Shipped::Wine, 178, 13, Some(vec![59, 71, 48])),
        (Shipped::BreastCancer, 569, 30, Some(vec![357, 212])),
        (Shipped::Diabetes, 442, 10, None),
        (
            Shipped::Digits,
            1797,
            64,
            Some(vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]),
        ),
    ];
    for (set, rows, features, counts) in expected {
        let data = set.load::<f32>().unwrap();
        assert_eq!(data.features().shape(), &[rows, features], "{set}");
        assert_eq!(data.targets().class_counts(), counts, "{set}");
        let f64_data = set.load::<f64>().unwrap();
        assert_eq!(f64_data.rows(), rows);
    }
}

#[test]
fn class_names_in_documented_order() {
    let iris = Shipped::Iris.load::<f64>().unwrap();
    assert_eq!(
        iris.class_names().unwrap(),
        ["setosa", "versicolor", "virginica"]
    );
    assert_eq!(iris.target_name(), "species");
    let cancer = Shipped::BreastCancer.load::<f64>().unwrap();
    assert_eq!(cancer.class_names().unwrap(), ["benign", "malignant"]);
    let digits = Shipped::Digits.load::<f64>().unwrap();
    let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    assert_eq!(digits.class_names().unwrap(), names);
    // First iris row: 5.1,3.5,1.4,0.2,setosa.
    assert_eq!(iris.features().row(0).to_vec(), [5.1, 3.5, 1.4, 0.2]);
    let diabetes = Shipped::Diabetes.load::<f64>().unwrap();
    let Targets::Real(y) = diabetes.targets() else {
        panic!("diabetes is regression")
    };
    assert_eq!(y[0], 151.0);
}

#[test]
fn names_parse() {
    for set in Shipped::ALL {
        assert_eq!(set.name().parse::<Shipped>().unwrap(), set);
    }
    let err = "mnist".parse::<Shipped>().unwrap_err();
    assert!(matches!(&err, DataError::UnknownDataset { known, .. } if known.len() == 5));
    assert!(err.to_string().contains("expected one of: iris, wine"));
}

/// Run in a child process so the environment variable does not leak into other tests.
#[test]
fn checksum_mismatch_is_an_error() {
    if std::env::var_os("DESCENT_DATA_CHECKSUM_CHILD").is_some() {
        let err = Shipped::Iris.load::<f64>().unwrap_err();
        assert!(
            matches!(&err, DataError::Checksum { expected, .. }
            if expected == Shipped::Iris.sha256()),
            "{err:?}"
        );
        return;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("changed_datasets");
    std::fs::create_dir_all(&dir).unwrap();
    let original = std::fs::read(Shipped::Iris.path()).unwrap();
    let mut changed = original.clone();
    let at = changed.len() - 10;
    changed[at] = b'9';
    std::fs::write(dir.join("iris.csv"), changed).unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["checksum_mismatch_is_an_error", "--exact", "--nocapture"])
        .env("DESCENT_DATASETS", &dir)
        .env("DESCENT_DATA_CHECKSUM_CHILD", "1")
        .status()
        .unwrap();
    assert!(status.success());
}
