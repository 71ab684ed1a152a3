//! The calling thread as one of rayon's workers, for programs that train from `main`.
//!
//! A large operation (a matrix product, an optimizer step over many parameters) splits
//! over rayon's global pool. Started from a thread outside the pool, each such operation
//! wakes the workers and puts the caller to sleep until they finish: on a small batch
//! (W2b, 16 rows) that cost a quarter of the time in scheduler calls. A caller that is
//! itself a worker runs a share of the work and steals the rest back if the others are
//! slow to wake. PyTorch's intra-op pool works the same way.

/// Makes the calling thread worker 0 of rayon's global pool, which it then builds (all
/// cores, or `RAYON_NUM_THREADS`, counting this thread). Call it once, first thing in
/// `main`, before anything uses rayon. Returns false, changing nothing, when the global
/// pool already exists; results never depend on it, only the speed.
///
/// ```
/// // In a program's `main`; in a test the pool may already exist.
/// let _ = descent_runner::join_thread_pool();
/// ```
pub fn join_thread_pool() -> bool {
    rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global()
        .is_ok()
}
