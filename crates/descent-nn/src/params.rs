//! A model's named parameters: shared arrays for the graph, views for optimizers,
//! gradient buffers, and saving and loading with the shapes checked.

use std::fs;
use std::io::Write;
use std::path::Path;

use descent_autodiff::{Float, Graph, Var};
use ndarray::{ArcArray, ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use serde::{Deserialize, Serialize};

use crate::NnError;

/// Named parameters in a fixed order, each with a gradient buffer of its shape.
///
/// The values are [`ArcArray`]s: [`ParamSet::leaf`] enters one into a graph without a
/// copy. After `backward`, [`Graph::release_shared`] lets go of the graph's references
/// to them while keeping the gradients readable, and [`ParamSet::with_graph_grads`]
/// hands the optimizer the parameters to update in place beside the graph's own
/// gradient buffers: nothing is copied. (A parameter still shared with a graph would
/// be copied on write.) Where the gradients must be changed before the update
/// (clipping), [`ParamSet::take_grads`] copies them into this set's buffers and
/// [`ParamSet::with_views`] hands those over instead.
#[derive(Debug)]
pub struct ParamSet<T: Float> {
    names: Vec<String>,
    values: Vec<ArcArray<T, IxDyn>>,
    grads: Vec<ArrayD<T>>,
    /// A reusable vector for the views handed to an optimizer (no allocation per step).
    scratch: Vec<ArrayViewMutD<'static, T>>,
    scratch_grads: Vec<ArrayViewD<'static, T>>,
}

/// Parameters as saved to a file: names, shapes and values, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
pub struct SavedParams<T> {
    /// The parameters' names.
    pub names: Vec<String>,
    /// The values (each carries its shape).
    pub values: Vec<ArrayD<T>>,
}

impl<T: Float> Clone for ParamSet<T> {
    /// A deep copy: the values are copied, not shared.
    fn clone(&self) -> Self {
        let mut copy = Self::new();
        for (name, value) in self.names.iter().zip(&self.values) {
            copy.push(name.clone(), value.to_owned());
        }
        copy
    }
}

impl<T: Float> Default for ParamSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> ParamSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            names: Vec::new(),
            values: Vec::new(),
            grads: Vec::new(),
            scratch: Vec::new(),
            scratch_grads: Vec::new(),
        }
    }

    /// Adds a parameter and returns its index.
    pub fn push(&mut self, name: impl Into<String>, value: ArrayD<T>) -> usize {
        self.grads.push(ArrayD::zeros(value.raw_dim()));
        self.names.push(name.into());
        self.values.push(value.into_shared());
        self.scratch.reserve(1);
        self.scratch_grads.reserve(1);
        self.values.len() - 1
    }

    /// The number of parameter arrays.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The total number of scalars.
    pub fn count(&self) -> usize {
        self.values.iter().map(|v| v.len()).sum()
    }

    /// The names, in order (`layer0.weight`, `layer0.bias`, ...).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of a named parameter.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The shared values, in order (what the graph's `param` takes).
    pub fn values(&self) -> &[ArcArray<T, IxDyn>] {
        &self.values
    }

    /// One value.
    pub fn value(&self, index: usize) -> ArrayViewD<'_, T> {
        self.values[index].view()
    }

    /// One value, by name.
    pub fn get(&self, name: &str) -> Option<ArrayViewD<'_, T>> {
        self.index_of(name).map(|i| self.values[i].view())
    }

    /// The gradient buffers, in order, as last filled by [`ParamSet::take_grads`].
    pub fn grads(&self) -> &[ArrayD<T>] {
        &self.grads
    }

    /// The gradient buffers, to modify (clipping).
    pub fn grads_mut(&mut self) -> &mut [ArrayD<T>] {
        &mut self.grads
    }

    /// Enters parameter `index` into `graph` as a trainable leaf, without a copy.
    pub fn leaf(&self, graph: &mut Graph<T>, index: usize) -> Var {
        graph.param(&self.values[index])
    }

    /// Enters every parameter into `graph`, in order, writing their leaves into `vars`
    /// (cleared first; its capacity is reused).
    pub fn leaves(&self, graph: &mut Graph<T>, vars: &mut Vec<Var>) {
        vars.clear();
        vars.extend(self.values.iter().map(|v| graph.param(v)));
    }

    /// Overwrites this set's values with another set's of the same names and shapes,
    /// without allocating (to keep and restore a best-so-far copy).
    ///
    /// # Errors
    /// As [`ParamSet::restore`].
    pub fn copy_from(&mut self, other: &ParamSet<T>) -> Result<(), NnError> {
        for ((name, mine), theirs) in self.names.iter().zip(&self.values).zip(&other.values) {
            if mine.shape() != theirs.shape() {
                return Err(NnError::ShapeMismatch {
                    name: name.clone(),
                    expected: mine.shape().to_vec(),
                    found: theirs.shape().to_vec(),
                });
            }
        }
        if self.names != other.names {
            return Err(NnError::NameMismatch {
                expected: self.names.clone(),
                found: other.names.clone(),
            });
        }
        for (mine, theirs) in self.values.iter_mut().zip(&other.values) {
            mine.assign(theirs);
        }
        Ok(())
    }

    /// Copies the gradients of the leaves `vars` (one per parameter, in order) out of
    /// `graph` into the gradient buffers; a parameter the loss does not depend on gets
    /// zeros and its index is returned as an error.
    ///
    /// # Errors
    /// The index of the first parameter that got no gradient (dfdx's "unused tensor").
    pub fn take_grads(&mut self, graph: &Graph<T>, vars: &[Var]) -> Result<(), usize> {
        let mut missing = None;
        for (i, (&var, grad)) in vars.iter().zip(&mut self.grads).enumerate() {
            match graph.grad(var) {
                Some(g) => grad.assign(&g),
                None => {
                    grad.fill(T::zero());
                    missing.get_or_insert(i);
                }
            }
        }
        missing.map_or(Ok(()), Err)
    }

    /// Calls `f` with mutable views of every parameter and views of the gradients of
    /// their leaves `vars` (one per parameter, in order, as [`ParamSet::leaves`] made
    /// them), read in place from `graph`: the form an optimizer's `step` takes, with no
    /// gradient copied. Call [`Graph::release_shared`] (or `clear`, which forgets the
    /// gradients) after `backward` and before this, so that the graph no longer shares
    /// the parameters; otherwise each one is copied on write. Reuses its vectors, so a
    /// warm call allocates nothing.
    ///
    /// # Errors
    /// The index of the first parameter that got no gradient (dfdx's "unused
    /// tensor"); `f` is not called then.
    ///
    /// # Panics
    /// If `vars` has fewer entries than there are parameters.
    pub fn with_graph_grads<R>(
        &mut self,
        graph: &Graph<T>,
        vars: &[Var],
        f: impl FnOnce(&mut [ArrayViewMutD<'_, T>], &[ArrayViewD<'_, T>]) -> R,
    ) -> Result<R, usize> {
        assert!(
            vars.len() >= self.values.len(),
            "with_graph_grads: {} leaves for {} parameters",
            vars.len(),
            self.values.len()
        );
        let mut grads: Vec<ArrayViewD<'_, T>> = recycle(std::mem::take(&mut self.scratch_grads));
        for (i, &var) in vars.iter().take(self.values.len()).enumerate() {
            match graph.grad(var) {
                Some(g) => grads.push(g),
                None => {
                    grads.clear();
                    self.scratch_grads = recycle(grads);
                    return Err(i);
                }
            }
        }
        let mut params: Vec<ArrayViewMutD<'_, T>> = recycle(std::mem::take(&mut self.scratch));
        params.extend(self.values.iter_mut().map(|v| v.view_mut()));
        let result = f(&mut params, &grads);
        params.clear();
        grads.clear();
        self.scratch = recycle(params);
        self.scratch_grads = recycle(grads);
        Ok(result)
    }

    /// Each parameter's values as one mutable slice in standard order, in order; `None`
    /// for a parameter not held that way. Call it after the graph that shared the
    /// parameters let them go, otherwise each is copied on write.
    ///
    /// ```
    /// use descent_nn::ParamSet;
    /// use ndarray::array;
    ///
    /// let mut set = ParamSet::<f64>::new();
    /// set.push("w", array![[1.0, 2.0]].into_dyn());
    /// for values in set.value_slices() {
    ///     values.expect("contiguous").iter_mut().for_each(|v| *v *= 2.0);
    /// }
    /// assert_eq!(set.get("w").unwrap().as_slice(), Some(&[2.0, 4.0][..]));
    /// ```
    pub fn value_slices(&mut self) -> impl Iterator<Item = Option<&mut [T]>> {
        self.values.iter_mut().map(|v| v.as_slice_mut())
    }

    /// Calls `f` with mutable views of every parameter and views of their gradients,
    /// in order: the form an optimizer's `step` takes. Reuses its vectors, so a warm
    /// call allocates nothing. Call it after the graph that shared the parameters was
    /// cleared, otherwise each parameter is copied on write.
    pub fn with_views<R>(
        &mut self,
        f: impl FnOnce(&mut [ArrayViewMutD<'_, T>], &[ArrayViewD<'_, T>]) -> R,
    ) -> R {
        let mut params: Vec<ArrayViewMutD<'_, T>> = recycle(std::mem::take(&mut self.scratch));
        let mut grads: Vec<ArrayViewD<'_, T>> = recycle(std::mem::take(&mut self.scratch_grads));
        params.extend(self.values.iter_mut().map(|v| v.view_mut()));
        grads.extend(self.grads.iter().map(|g| g.view()));
        let result = f(&mut params, &grads);
        params.clear();
        grads.clear();
        self.scratch = recycle(params);
        self.scratch_grads = recycle(grads);
        result
    }

    /// The Euclidean norm of all gradients together.
    pub fn grad_norm(&self) -> f64 {
        self.grads
            .iter()
            .flat_map(|g| g.iter())
            .map(|v| v.as_f64() * v.as_f64())
            .sum::<f64>()
            .sqrt()
    }

    /// The norm of each gradient, in order.
    pub fn grad_norms(&self) -> impl Iterator<Item = f64> + '_ {
        self.grads.iter().map(|g| {
            g.iter()
                .map(|v| v.as_f64() * v.as_f64())
                .sum::<f64>()
                .sqrt()
        })
    }

    /// A copy of the values, to save or to restore later.
    pub fn snapshot(&self) -> SavedParams<T> {
        SavedParams {
            names: self.names.clone(),
            values: self.values.iter().map(|v| v.to_owned()).collect(),
        }
    }

    /// Overwrites the values in place with saved ones.
    ///
    /// # Errors
    /// [`NnError::NameMismatch`] or [`NnError::ShapeMismatch`] when the saved parameters
    /// are not those of this model; nothing is changed then.
    pub fn restore(&mut self, saved: &SavedParams<T>) -> Result<(), NnError> {
        if saved.names != self.names || saved.values.len() != self.values.len() {
            return Err(NnError::NameMismatch {
                expected: self.names.clone(),
                found: saved.names.clone(),
            });
        }
        for ((name, value), new) in self.names.iter().zip(&self.values).zip(&saved.values) {
            if value.shape() != new.shape() {
                return Err(NnError::ShapeMismatch {
                    name: name.clone(),
                    expected: value.shape().to_vec(),
                    found: new.shape().to_vec(),
                });
            }
        }
        for (value, new) in self.values.iter_mut().zip(&saved.values) {
            value.assign(new);
        }
        Ok(())
    }

    /// Writes the parameters as JSON, atomically (a temporary file, then a rename).
    ///
    /// # Errors
    /// [`NnError::Io`] when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), NnError>
    where
        T: Serialize,
    {
        let json = serde_json::to_vec(&self.snapshot()).map_err(|source| NnError::Format {
            path: path.display().to_string(),
            source,
        })?;
        write_atomic(path, &json)
    }

    /// Reads parameters written by [`ParamSet::save`] into this set, checking names and
    /// shapes.
    ///
    /// # Errors
    /// [`NnError::Io`], [`NnError::Format`], or the errors of [`ParamSet::restore`].
    pub fn load(&mut self, path: &Path) -> Result<(), NnError>
    where
        T: for<'de> Deserialize<'de>,
    {
        let bytes = fs::read(path).map_err(|source| NnError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let saved: SavedParams<T> =
            serde_json::from_slice(&bytes).map_err(|source| NnError::Format {
                path: path.display().to_string(),
                source,
            })?;
        self.restore(&saved)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a
/// rename, so that a reader never sees a half-written file.
///
/// # Errors
/// [`NnError::Io`] naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), NnError> {
    let io = |source| NnError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut file = fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    fs::rename(&tmp, path).map_err(io)
}

/// Reuses a vector's allocation for another element type of the same layout (here the
/// same view type with another lifetime). The vector must be empty.
fn recycle<A, B>(mut v: Vec<A>) -> Vec<B> {
    v.clear();
    // In-place collection keeps the allocation when the layouts agree.
    v.into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;

    fn set() -> ParamSet<f64> {
        let mut p = ParamSet::new();
        p.push("a.weight", arr1(&[1.0, 2.0]).into_dyn());
        p.push("a.bias", arr1(&[3.0]).into_dyn());
        p
    }

    #[test]
    fn grads_from_the_graph_and_an_in_place_update() {
        let mut p = set();
        let mut graph = Graph::new();
        let w = p.leaf(&mut graph, 0);
        let b = p.leaf(&mut graph, 1);
        let ww = graph.mul(w, w);
        let s = graph.sum(ww);
        let loss = graph.add(s, b);
        graph.backward(loss);
        p.take_grads(&graph, &[w, b]).unwrap();
        graph.clear();
        assert_eq!(p.grads()[0].as_slice().unwrap(), &[2.0, 4.0]);
        assert_eq!(p.grads()[1].as_slice().unwrap(), &[1.0]);
        assert!((p.grad_norm() - 21f64.sqrt()).abs() < 1e-15);
        let before = p.values()[0].as_ptr();
        p.with_views(|params, grads| {
            for (p, g) in params.iter_mut().zip(grads) {
                p.zip_mut_with(g, |p, g| *p -= 0.5 * g);
            }
        });
        assert_eq!(
            p.values()[0].as_ptr(),
            before,
            "updated in place, not copied"
        );
        assert_eq!(p.value(0).as_slice().unwrap(), &[0.0, 0.0]);
        assert_eq!(p.get("a.bias").unwrap()[0], 2.5);
    }

    #[test]
    fn an_update_straight_from_the_graphs_gradients_copies_nothing() {
        let mut p = set();
        let mut graph = Graph::new();
        let mut vars = Vec::new();
        p.leaves(&mut graph, &mut vars);
        // loss = sum(w * w) + 3 b: dloss/dw = 2 w = [2, 4], dloss/db = 3.
        let square = graph.mul(vars[0], vars[0]);
        let sum = graph.sum(square);
        let three = graph.scalar_constant(3.0);
        let scaled = graph.mul(vars[1], three);
        let b = graph.sum(scaled);
        let loss = graph.add(sum, b);
        graph.backward(loss);
        graph.release_shared();
        let before = [p.values()[0].as_ptr(), p.values()[1].as_ptr()];
        let grad_at = graph.grad(vars[0]).unwrap().as_ptr();
        p.with_graph_grads(&graph, &vars, |params, grads| {
            assert_eq!(
                grads[0].as_ptr(),
                grad_at,
                "the graph's own buffer, not a copy"
            );
            for (p, g) in params.iter_mut().zip(grads) {
                p.zip_mut_with(g, |p, g| *p -= 0.25 * g);
            }
        })
        .unwrap();
        assert_eq!(
            [p.values()[0].as_ptr(), p.values()[1].as_ptr()],
            before,
            "updated in place, not copied on write"
        );
        assert_eq!(p.value(0).as_slice().unwrap(), &[0.5, 1.0]);
        assert_eq!(p.get("a.bias").unwrap()[0], 2.25);
    }

    #[test]
    fn an_unused_parameter_stops_an_update_from_the_graph() {
        let mut p = set();
        let mut graph = Graph::new();
        let w = p.leaf(&mut graph, 0);
        let b = p.leaf(&mut graph, 1);
        let loss = graph.sum(w);
        graph.backward(loss);
        graph.release_shared();
        let mut called = false;
        assert_eq!(
            p.with_graph_grads(&graph, &[w, b], |_, _| called = true),
            Err(1)
        );
        assert!(!called);
        assert_eq!(p.value(0).as_slice().unwrap(), &[1.0, 2.0], "unchanged");
    }

    #[test]
    fn unused_parameter_is_reported() {
        let mut p = set();
        let mut graph = Graph::new();
        let w = p.leaf(&mut graph, 0);
        let b = p.leaf(&mut graph, 1);
        let loss = graph.sum(w);
        graph.backward(loss);
        assert_eq!(p.take_grads(&graph, &[w, b]), Err(1));
    }

    #[test]
    fn save_load_round_trip_and_shape_check() {
        let dir = std::env::temp_dir().join(format!("descent-nn-params-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.json");
        let p = set();
        p.save(&path).unwrap();
        let mut q = set();
        q.with_views(|params, _| params[0].fill(9.0));
        q.load(&path).unwrap();
        assert_eq!(q.snapshot(), p.snapshot());

        let mut other = ParamSet::<f64>::new();
        other.push("a.weight", arr1(&[1.0, 2.0, 3.0]).into_dyn());
        other.push("a.bias", arr1(&[3.0]).into_dyn());
        let err = other.load(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            "saved parameter `a.weight` has shape [2], but the model's has shape [3]"
        );
        assert_eq!(
            other.value(0).as_slice().unwrap(),
            &[1.0, 2.0, 3.0],
            "unchanged"
        );
        let mut renamed = ParamSet::<f64>::new();
        renamed.push("b.weight", arr1(&[1.0, 2.0]).into_dyn());
        assert!(matches!(
            renamed.load(&path),
            Err(NnError::NameMismatch { .. })
        ));
        fs::remove_dir_all(&dir).unwrap();
    }
}
