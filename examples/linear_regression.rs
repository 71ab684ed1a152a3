//! Linear regression on the diabetes data set, fitted by gradient descent and checked
//! against the closed-form least-squares solution.
//!
//! What it shows:
//! - reading `datasets/diabetes.csv` (442 patients, 10 features, one target) and
//!   standardising every feature to mean 0 and standard deviation 1;
//! - a linear model `y ≈ X w + b` whose mean squared error is built as an autodiff
//!   graph, with the gradient of the loss with respect to `w` and `b` computed by
//!   reverse mode (`graph.backward`), never written by hand;
//! - full-batch gradient descent: every step uses all 442 rows and moves the
//!   parameters against the gradient, `w ← w − lr · ∂L/∂w`;
//! - the same problem solved exactly by the normal equations `(AᵀA) β = Aᵀy`
//!   (Cholesky factorisation written out below), and the two mean squared errors
//!   compared: they agree to better than 0.1 %.
//!
//! Run it with `cargo run --release --example linear_regression`.

use std::error::Error;
use std::fs;
use std::path::Path;

use descent::autodiff::Graph;
use ndarray::{Array1, Array2, ArrayD, IxDyn};

/// Rows of features and the target, as read from a CSV with a header and no quoting.
struct Table {
    names: Vec<String>,
    features: Array2<f64>,
    target: Array1<f64>,
}

/// Reads a numeric CSV whose last column is the target.
fn read_csv(path: &Path) -> Result<Table, Box<dyn Error>> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .ok_or_else(|| format!("{}: empty file", path.display()))?;
    let columns: Vec<String> = header.split(',').map(|s| s.trim().to_string()).collect();
    let width = columns.len();
    let mut values = Vec::new();
    let mut rows = 0;
    for (number, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != width {
            let line = number + 2;
            return Err(format!(
                "{}:{line}: {} fields, expected {width}",
                path.display(),
                fields.len()
            )
            .into());
        }
        for (field, name) in fields.iter().zip(&columns) {
            let value: f64 = field.trim().parse().map_err(|_| {
                format!(
                    "{}:{}: column {name}: {field:?} is not a number",
                    path.display(),
                    number + 2
                )
            })?;
            values.push(value);
        }
        rows += 1;
    }
    let all = Array2::from_shape_vec((rows, width), values)?;
    let features = all.slice(ndarray::s![.., ..width - 1]).to_owned();
    let target = all.column(width - 1).to_owned();
    Ok(Table {
        names: columns[..width - 1].to_vec(),
        features,
        target,
    })
}

/// Scales every column to mean 0 and (population) standard deviation 1.
fn standardise(x: &mut Array2<f64>) {
    for mut column in x.columns_mut() {
        let n = column.len() as f64;
        let mean = column.sum() / n;
        let std = (column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        column.mapv_inplace(|v| (v - mean) / std);
    }
}

/// Solves `m β = r` for a symmetric positive definite `m` by Cholesky, `m = L Lᵀ`.
fn cholesky_solve(m: &Array2<f64>, r: &Array1<f64>) -> Result<Array1<f64>, Box<dyn Error>> {
    let n = m.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let pivot = m[[i, i]] - dot;
                if pivot <= 0.0 {
                    return Err("normal equations are not positive definite".into());
                }
                l[[i, i]] = pivot.sqrt();
            } else {
                l[[i, j]] = (m[[i, j]] - dot) / l[[j, j]];
            }
        }
    }
    // Forward substitution L z = r, then back substitution Lᵀ β = z.
    let mut z = Array1::<f64>::zeros(n);
    for i in 0..n {
        let dot: f64 = (0..i).map(|k| l[[i, k]] * z[k]).sum();
        z[i] = (r[i] - dot) / l[[i, i]];
    }
    let mut beta = Array1::<f64>::zeros(n);
    for i in (0..n).rev() {
        let dot: f64 = (i + 1..n).map(|k| l[[k, i]] * beta[k]).sum();
        beta[i] = (z[i] - dot) / l[[i, i]];
    }
    Ok(beta)
}

/// Closed-form least squares with an intercept: returns (weights, bias).
fn least_squares(x: &Array2<f64>, y: &Array1<f64>) -> Result<(Array1<f64>, f64), Box<dyn Error>> {
    let (n, d) = x.dim();
    let mut a = Array2::<f64>::ones((n, d + 1));
    a.slice_mut(ndarray::s![.., ..d]).assign(x);
    let ata = a.t().dot(&a);
    let aty = a.t().dot(y);
    let beta = cholesky_solve(&ata, &aty)?;
    Ok((beta.slice(ndarray::s![..d]).to_owned(), beta[d]))
}

fn mse(x: &Array2<f64>, y: &Array1<f64>, w: &Array1<f64>, b: f64) -> f64 {
    let residual = x.dot(w) + b - y;
    residual.dot(&residual) / y.len() as f64
}

fn main() -> Result<(), Box<dyn Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/diabetes.csv");
    let Table {
        names,
        mut features,
        target,
    } = read_csv(&path)?;
    standardise(&mut features);
    let (n, d) = features.dim();
    println!("diabetes: {n} rows, {d} standardised features, target `progression`\n");

    // Data enter the graph as shared constants, parameters as shared leaves: no copies.
    let x = features.clone().into_dyn().into_shared();
    let y = target
        .clone()
        .into_shape_with_order((n, 1))?
        .into_dyn()
        .into_shared();
    let mut w = ArrayD::<f64>::zeros(IxDyn(&[d, 1])).into_shared();
    let mut b = ArrayD::<f64>::zeros(IxDyn(&[1])).into_shared();
    let mut grad_w = ArrayD::<f64>::zeros(IxDyn(&[d, 1]));
    let mut grad_b = ArrayD::<f64>::zeros(IxDyn(&[1]));

    let learning_rate = 0.1;
    let steps = 3000;
    let mut graph = Graph::<f64>::new();
    println!("full-batch gradient descent, learning rate {learning_rate}, {steps} steps");
    let mut loss = f64::NAN;
    for step in 0..=steps {
        // loss(w, b) = mean((X w + b − y)²)
        let xv = graph.input(&x);
        let yv = graph.input(&y);
        let wv = graph.param(&w);
        let bv = graph.param(&b);
        let product = graph.matmul(xv, wv);
        let prediction = graph.add(product, bv);
        let residual = graph.sub(prediction, yv);
        let squared = graph.mul(residual, residual);
        let loss_var = graph.mean(squared);
        loss = graph.scalar(loss_var);
        if step % 300 == 0 || step < 5 {
            println!("  step {step:>5}  mse {loss:>12.4}");
        }
        if step == steps {
            break;
        }
        graph.backward(loss_var);
        grad_w.assign(&graph.grad(wv).ok_or("no gradient for w")?);
        grad_b.assign(&graph.grad(bv).ok_or("no gradient for b")?);
        // Release the graph's references so that the parameters update in place.
        graph.clear();
        w.zip_mut_with(&grad_w, |p, g| *p -= learning_rate * g);
        b.zip_mut_with(&grad_b, |p, g| *p -= learning_rate * g);
    }

    let w_gd = w
        .into_shape_with_order(d)?
        .to_owned()
        .into_dimensionality()?;
    let b_gd = b[[0]];
    let mse_gd = mse(&features, &target, &w_gd, b_gd);
    let (w_ls, b_ls) = least_squares(&features, &target)?;
    let mse_ls = mse(&features, &target, &w_ls, b_ls);
    let gap = (mse_gd - mse_ls).abs() / mse_ls;

    println!(
        "\n{:<10} {:>14} {:>14}",
        "feature", "gradient", "closed form"
    );
    for (i, name) in names.iter().enumerate() {
        println!("{name:<10} {:>14.4} {:>14.4}", w_gd[i], w_ls[i]);
    }
    println!("{:<10} {:>14.4} {:>14.4}", "bias", b_gd, b_ls);
    println!("\nMSE, gradient descent : {mse_gd:.4}  (last graph loss {loss:.4})");
    println!("MSE, least squares    : {mse_ls:.4}");
    println!("relative difference   : {:.4} %", 100.0 * gap);
    if gap > 1e-3 {
        return Err(format!("MSEs differ by {:.4} %, more than 0.1 %", 100.0 * gap).into());
    }
    println!("the two agree to better than 0.1 %");
    Ok(())
}
