//! The batching loader: all rows, one row or k rows per step, seeded shuffling, resumable.

use descent_autodiff::Float;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Targets, invalid};
use crate::error::{DataError, Result};

/// Entries of a batch from which a [parallel](DataLoader::parallel) loader gathers
/// it on several threads: below, handing rows to another thread costs more than it
/// saves.
const PARALLEL_GATHER: usize = 1 << 15;

/// How many rows a batch holds: the three modes of gradient descent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchSize {
    /// Every row in one batch: (full-)batch gradient descent.
    All,
    /// One row per batch: stochastic gradient descent.
    One,
    /// `k` rows per batch: mini-batch gradient descent. A `k` above the number of rows
    /// means all rows.
    Rows(usize),
}

impl BatchSize {
    /// The number of rows per batch for a data set of `rows` rows.
    pub fn rows_for(self, rows: usize) -> usize {
        match self {
            BatchSize::All => rows,
            BatchSize::One => 1.min(rows),
            BatchSize::Rows(k) => k.min(rows),
        }
    }
}

/// The targets of one batch, as a view.
#[derive(Debug, Clone, Copy)]
pub enum BatchTargets<'b, T> {
    /// Real targets.
    Real(ArrayView1<'b, T>),
    /// Class indices.
    Classes(ArrayView1<'b, usize>),
}

/// One batch: views of its features (`rows × features`) and its targets.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'b, T> {
    /// The batch's feature rows.
    pub features: ArrayView2<'b, T>,
    /// The batch's targets, one per feature row.
    pub targets: BatchTargets<'b, T>,
}

/// Where a loader stands, to save with a checkpoint and restore to resume bit for bit.
///
/// The order of epoch `e` is a pure function of the seed and `e`, so the position
/// (epoch and cursor) is the whole random state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoaderState {
    /// The shuffle seed, `None` when not shuffled.
    pub seed: Option<u64>,
    /// The current epoch, from 0.
    pub epoch: u64,
    /// The position in the epoch's row order of the next batch's first row.
    pub cursor: usize,
    /// The number of rows of the data set.
    pub rows: usize,
    /// Rows per batch.
    pub batch_rows: usize,
    /// Whether a last partial batch is dropped.
    pub drop_last: bool,
}

/// Hands out the batches of a data set, epoch after epoch.
///
/// Not shuffled, a batch is a view into the data set (no copy). Shuffled, each epoch
/// has a fresh order, drawn from a [`ChaCha8Rng`] seeded with the seed and the epoch
/// number as its stream, and rows are gathered into buffers reused from batch to batch.
/// The same seed gives the same batches on any machine and thread count.
///
/// # Example
/// ```
/// use descent_data::{BatchSize, BatchTargets, DataLoader, Shipped};
///
/// let wine = Shipped::Wine.load::<f64>()?;
/// let mut loader = DataLoader::new(&wine, BatchSize::Rows(50))?.shuffled(42).drop_last(true);
/// for _epoch in 0..2 {
///     while let Some(batch) = loader.next_batch() {
///         assert_eq!(batch.features.nrows(), 50);
///         if let BatchTargets::Classes(y) = batch.targets {
///             assert!(y.iter().all(|&c| c < 3));
///         }
///     }
/// }
/// assert_eq!(loader.epoch(), 2);
/// # Ok::<(), descent_data::DataError>(())
/// ```
#[derive(Debug)]
pub struct DataLoader<'a, T> {
    data: &'a Dataset<T>,
    batch_rows: usize,
    drop_last: bool,
    seed: Option<u64>,
    epoch: u64,
    cursor: usize,
    order: Vec<usize>,
    order_epoch: Option<u64>,
    x_buf: Array2<T>,
    real_buf: Array1<T>,
    class_buf: Array1<usize>,
    parallel: bool,
}

impl<'a, T: Float> DataLoader<'a, T> {
    /// A loader over `data`, not shuffled, keeping the last partial batch.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] when the data set has no rows or the batch size is 0.
    pub fn new(data: &'a Dataset<T>, batch: BatchSize) -> Result<Self> {
        if data.rows() == 0 {
            return Err(invalid("data set", "0 rows", "at least one row"));
        }
        if batch == BatchSize::Rows(0) {
            return Err(invalid("batch size", 0, "at least 1 row"));
        }
        Ok(Self {
            data,
            batch_rows: batch.rows_for(data.rows()),
            drop_last: false,
            seed: None,
            epoch: 0,
            cursor: 0,
            order: Vec::new(),
            order_epoch: None,
            x_buf: Array2::zeros((0, 0)),
            real_buf: Array1::zeros(0),
            class_buf: Array1::zeros(0),
            parallel: false,
        })
    }

    /// Shuffles with this seed, a fresh order every epoch.
    pub fn shuffled(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self.order_epoch = None;
        self
    }

    /// Drops (`true`) or keeps (`false`, the default) the last batch of an epoch when it
    /// is smaller than the batch size.
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// Gathers large shuffled batches on all threads of rayon's pool (`true`) or on
    /// the calling thread (`false`, the default): for a run that has the machine to
    /// itself. The batches are the same either way.
    ///
    /// A batch's rows lie scattered over memory: each thread waits for its own rows, so
    /// the waits overlap (W2's batch of 128 rows of 784 features gathers in about two
    /// thirds of the time on two threads). The rows a thread gathers also stay in its
    /// cache, and the products of the step split over threads the same way.
    pub fn parallel(mut self, parallel: bool) -> Self {
        self.parallel = parallel;
        self
    }

    /// Rows per batch.
    pub fn batch_rows(&self) -> usize {
        self.batch_rows
    }

    /// The current epoch, from 0; it advances when [`DataLoader::next_batch`] returns `None`.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Batches in each epoch.
    pub fn batches_per_epoch(&self) -> usize {
        let n = self.data.rows();
        if self.drop_last {
            n / self.batch_rows
        } else {
            n.div_ceil(self.batch_rows)
        }
    }

    /// The row order of an epoch: `0..rows` unshuffled, else a seeded permutation.
    pub fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.data.rows()).collect();
        if let Some(seed) = self.seed {
            shuffle(&mut order, seed, epoch);
        }
        order
    }

    /// The next batch of the current epoch, or `None` at its end, after which the next
    /// call starts the next epoch.
    pub fn next_batch(&mut self) -> Option<Batch<'_, T>> {
        let n = self.data.rows();
        let remaining = n - self.cursor.min(n);
        if remaining == 0 || (self.drop_last && remaining < self.batch_rows) {
            self.epoch += 1;
            self.cursor = 0;
            return None;
        }
        let start = self.cursor;
        let end = (start + self.batch_rows).min(n);
        self.cursor = end;
        let Some(seed) = self.seed else {
            return Some(Batch {
                features: row_range(self.data.features(), start, end),
                targets: match self.data.targets() {
                    Targets::Real(y) => BatchTargets::Real(row_range(y.view(), start, end)),
                    Targets::Classes { indices, .. } => {
                        BatchTargets::Classes(row_range(indices.view(), start, end))
                    }
                },
            });
        };
        if self.order_epoch != Some(self.epoch) {
            self.order.clear();
            self.order.extend(0..n);
            shuffle(&mut self.order, seed, self.epoch);
            self.order_epoch = Some(self.epoch);
        }
        Some(self.gather(start, end))
    }

    fn gather(&mut self, start: usize, end: usize) -> Batch<'_, T> {
        let d = self.data.n_features();
        let m = end - start;
        if self.x_buf.dim() != (self.batch_rows, d) {
            self.x_buf = Array2::zeros((self.batch_rows, d));
        }
        let rows = &self.order[start..end];
        // The next batch's rows are known now: fetching them (and their targets) into
        // cache while this batch trains hides a memory round trip per row, most of the
        // cost of one-row steps over data larger than the cache.
        let next = &self.order[end..(end + self.batch_rows).min(self.order.len())];
        let features = self.data.features();
        if let (Some(src), true) = (features.as_slice(), d > 0) {
            next.iter()
                .for_each(|&r| prefetch(&src[r * d..(r + 1) * d]));
        }
        match (features.as_slice(), self.x_buf.as_slice_mut()) {
            (Some(src), Some(dst)) if d > 0 => {
                let copy = |dst: &mut [T], rows: &[usize]| {
                    for (out, &r) in dst.chunks_exact_mut(d).zip(rows) {
                        out.copy_from_slice(&src[r * d..(r + 1) * d]);
                    }
                };
                let threads = if self.parallel && m * d >= PARALLEL_GATHER {
                    rayon::current_num_threads()
                } else {
                    1
                };
                if threads > 1 {
                    let per_thread = m.div_ceil(threads);
                    dst[..m * d]
                        .par_chunks_mut(per_thread * d)
                        .zip(rows.par_chunks(per_thread))
                        .for_each(|(dst, rows)| copy(dst, rows));
                } else {
                    copy(dst, rows);
                }
            }
            _ => {
                for (i, &r) in rows.iter().enumerate() {
                    self.x_buf.row_mut(i).assign(&features.row(r));
                }
            }
        }
        let targets = match self.data.targets() {
            Targets::Real(y) => {
                if self.real_buf.len() != self.batch_rows {
                    self.real_buf = Array1::zeros(self.batch_rows);
                }
                for (out, &r) in self.real_buf.iter_mut().zip(rows) {
                    *out = y[r];
                }
                if let Some(y) = y.as_slice() {
                    next.iter().for_each(|&r| prefetch(&y[r..=r]));
                }
                BatchTargets::Real(row_range(self.real_buf.view(), 0, m))
            }
            Targets::Classes { indices, .. } => {
                if self.class_buf.len() != self.batch_rows {
                    self.class_buf = Array1::zeros(self.batch_rows);
                }
                for (out, &r) in self.class_buf.iter_mut().zip(rows) {
                    *out = indices[r];
                }
                if let Some(indices) = indices.as_slice() {
                    next.iter().for_each(|&r| prefetch(&indices[r..=r]));
                }
                BatchTargets::Classes(row_range(self.class_buf.view(), 0, m))
            }
        };
        Batch {
            features: row_range(self.x_buf.view(), 0, m),
            targets,
        }
    }

    /// Where the loader stands, to save (it is serde-serializable).
    pub fn state(&self) -> LoaderState {
        LoaderState {
            seed: self.seed,
            epoch: self.epoch,
            cursor: self.cursor,
            rows: self.data.rows(),
            batch_rows: self.batch_rows,
            drop_last: self.drop_last,
        }
    }

    /// Continues from a saved state: the next batch is the one that would have come next.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] when the state is of a loader with another seed,
    /// batch size, drop-last setting or number of rows, or its cursor is past the end.
    pub fn restore(&mut self, state: &LoaderState) -> Result<()> {
        let mine = self.state();
        let same = (mine.seed, mine.rows, mine.batch_rows, mine.drop_last)
            == (state.seed, state.rows, state.batch_rows, state.drop_last);
        if !same || state.cursor > state.rows {
            return Err(DataError::InvalidArgument {
                what: "loader state".to_string(),
                found: format!("{state:?}"),
                expected: format!(
                    "the state of a loader with seed {:?}, {} rows, {} rows per batch, drop_last {}",
                    mine.seed, mine.rows, mine.batch_rows, mine.drop_last
                ),
            });
        }
        self.epoch = state.epoch;
        self.cursor = state.cursor;
        self.order_epoch = None;
        Ok(())
    }
}

/// Fisher–Yates with a ChaCha8 stream per epoch; rand 0.9 samples indices portably.
fn shuffle(order: &mut [usize], seed: u64, epoch: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch);
    order.shuffle(&mut rng);
}

/// Rows `start..end` of `view`: two splits, which cost less than a general slice
/// (`s![start..end, ..]`) on the one-row steps of stochastic descent.
fn row_range<A, D: ndarray::RemoveAxis>(
    view: ndarray::ArrayView<'_, A, D>,
    start: usize,
    end: usize,
) -> ndarray::ArrayView<'_, A, D> {
    let (head, _) = view.split_at(ndarray::Axis(0), end);
    head.split_at(ndarray::Axis(0), start).1
}

/// Asks the processor to bring `data` into cache ahead of use; a hint with no effect
/// on results (and none at all off x86-64).
#[inline]
fn prefetch<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        const LINE: usize = 64;
        let start = data.as_ptr().cast::<i8>();
        for offset in (0..std::mem::size_of_val(data)).step_by(LINE) {
            // SAFETY: a prefetch never faults or reads into the program; the address
            // lies inside `data`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}
