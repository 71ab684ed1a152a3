//! The `mlp_digits` example reaches at least 95 % accuracy on its held-out digits.

#[path = "../examples/mlp_digits.rs"]
mod example;

#[test]
fn mlp_on_digits_reaches_95_percent_held_out() {
    let outcome = example::train(false).expect("training runs");
    let [train, validation, test] = outcome.rows;
    assert_eq!(train + validation + test, 1797);
    assert!(
        outcome.test.accuracy >= 0.95,
        "held-out accuracy {:.4} below 0.95 after {:?}",
        outcome.test.accuracy,
        outcome.report.termination
    );
    let total: usize = outcome.test.confusion.iter().flatten().sum();
    assert_eq!(total, test, "every held-out row is in the confusion matrix");
}
