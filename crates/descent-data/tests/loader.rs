//! The DataLoader: batch sizes all / one / k, drop_last, views without copying, seeded
//! shuffles with a fresh order each epoch, and bit-for-bit resume from a saved state.

use descent_data::{BatchSize, BatchTargets, DataLoader, Dataset, LoaderState, Targets};
use ndarray::{Array1, Array2};

fn data(rows: usize) -> Dataset<f32> {
    let x = Array2::from_shape_fn((rows, 3), |(r, c)| (r * 10 + c) as f32);
    let y = Targets::Classes {
        indices: Array1::from_shape_fn(rows, |r| r % 4),
        names: (0..4).map(|c| c.to_string()).collect(),
    };
    Dataset::new(x, y, vec!["a".into(), "b".into(), "c".into()], "y".into()).unwrap()
}

/// The rows of one epoch, as the first feature / 10, batch by batch.
fn epoch(loader: &mut DataLoader<'_, f32>) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    while let Some(batch) = loader.next_batch() {
        let rows: Vec<usize> = batch
            .features
            .column(0)
            .iter()
            .map(|v| *v as usize / 10)
            .collect();
        if let BatchTargets::Classes(y) = batch.targets {
            assert_eq!(y.to_vec(), rows.iter().map(|r| r % 4).collect::<Vec<_>>());
        } else {
            panic!("class targets expected");
        }
        out.push(rows);
    }
    out
}

#[test]
fn batch_sizes_and_drop_last() {
    let d = data(10);
    let sizes = |b: BatchSize, drop: bool| {
        let mut l = DataLoader::new(&d, b).unwrap().drop_last(drop);
        epoch(&mut l).iter().map(Vec::len).collect::<Vec<_>>()
    };
    assert_eq!(sizes(BatchSize::All, false), [10]);
    assert_eq!(sizes(BatchSize::One, false), [1; 10]);
    assert_eq!(sizes(BatchSize::Rows(4), false), [4, 4, 2]);
    assert_eq!(sizes(BatchSize::Rows(4), true), [4, 4]);
    assert_eq!(sizes(BatchSize::Rows(25), true), [10]);
    assert!(DataLoader::new(&d, BatchSize::Rows(0)).is_err());
    let l = DataLoader::new(&d, BatchSize::Rows(4)).unwrap();
    assert_eq!(l.batches_per_epoch(), 3);
}

#[test]
fn unshuffled_batches_are_views_into_the_data() {
    let d = data(10);
    let mut l = DataLoader::new(&d, BatchSize::Rows(4)).unwrap();
    let first = l.next_batch().unwrap();
    assert_eq!(first.features.as_ptr(), d.features().as_ptr());
    let second_ptr = l.next_batch().unwrap().features.as_ptr();
    assert_eq!(second_ptr, d.features().row(4).as_ptr());
}

#[test]
fn shuffled_batches_reuse_one_buffer() {
    let d = data(10);
    let mut l = DataLoader::new(&d, BatchSize::Rows(4)).unwrap().shuffled(1);
    let a = l.next_batch().unwrap().features.as_ptr();
    let b = l.next_batch().unwrap().features.as_ptr();
    assert_eq!(a, b);
    assert_ne!(a, d.features().as_ptr());
}

#[test]
fn each_epoch_is_a_fresh_permutation_and_seeds_repeat() {
    let d = data(50);
    let mut l = DataLoader::new(&d, BatchSize::Rows(8))
        .unwrap()
        .shuffled(42);
    let e0: Vec<usize> = epoch(&mut l).concat();
    let e1: Vec<usize> = epoch(&mut l).concat();
    assert_ne!(e0, e1);
    assert_ne!(e0, (0..50).collect::<Vec<_>>());
    for e in [&e0, &e1] {
        let mut sorted = e.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }
    let mut again = DataLoader::new(&d, BatchSize::Rows(8))
        .unwrap()
        .shuffled(42);
    assert_eq!(epoch(&mut again).concat(), e0);
    let mut other = DataLoader::new(&d, BatchSize::Rows(8))
        .unwrap()
        .shuffled(43);
    assert_ne!(epoch(&mut other).concat(), e0);
    assert_eq!(l.epoch_order(0), e0);
}

/// Pinned values: the order must not change across machines, thread counts or versions
/// (ChaCha8 stream per epoch, rand 0.9's portable index sampling).
#[test]
fn shuffle_order_is_pinned() {
    let d = data(10);
    let l = DataLoader::new(&d, BatchSize::One).unwrap().shuffled(7);
    let pinned = l.epoch_order(0);
    let from_thread = std::thread::spawn(move || {
        let d = data(10);
        DataLoader::new(&d, BatchSize::One)
            .unwrap()
            .shuffled(7)
            .epoch_order(0)
    })
    .join()
    .unwrap();
    assert_eq!(pinned, from_thread);
    assert_eq!(pinned, PINNED_SEED7_EPOCH0);
}

const PINNED_SEED7_EPOCH0: [usize; 10] = [0, 7, 5, 2, 9, 1, 6, 8, 3, 4];

#[test]
fn resume_from_saved_state_bit_for_bit() {
    let d = data(23);
    let make = || DataLoader::new(&d, BatchSize::Rows(5)).unwrap().shuffled(9);
    let mut full = make();
    let mut all = Vec::new();
    for _ in 0..3 {
        all.extend(epoch(&mut full));
    }
    // Stop after the 7th batch (inside epoch 1), save, and resume in a new loader.
    let mut first = make();
    let mut got = Vec::new();
    while got.len() < 7 {
        match first.next_batch() {
            Some(b) => got.push(
                b.features
                    .column(0)
                    .iter()
                    .map(|v| *v as usize / 10)
                    .collect::<Vec<_>>(),
            ),
            None => continue,
        }
    }
    let saved = serde_json::to_string(&first.state()).unwrap();
    let state: LoaderState = serde_json::from_str(&saved).unwrap();
    let mut resumed = make();
    resumed.restore(&state).unwrap();
    while resumed.epoch() < 3 {
        got.extend(epoch(&mut resumed));
    }
    assert_eq!(got, all);
    let mut wrong = DataLoader::new(&d, BatchSize::Rows(5))
        .unwrap()
        .shuffled(10);
    assert!(wrong.restore(&state).is_err());
}

#[test]
fn real_targets_follow_their_rows() {
    let x = Array2::from_shape_fn((6, 1), |(r, _)| r as f64);
    let y = Targets::Real(Array1::from_shape_fn(6, |r| r as f64 * 2.0));
    let d = Dataset::new(x, y, vec!["x".into()], "y".into()).unwrap();
    let mut l = DataLoader::new(&d, BatchSize::Rows(4)).unwrap().shuffled(3);
    while let Some(b) = l.next_batch() {
        let BatchTargets::Real(y) = b.targets else {
            panic!("real targets")
        };
        for (x, y) in b.features.column(0).iter().zip(y) {
            assert_eq!(*y, x * 2.0);
        }
    }
}

#[test]
fn parallel_gathering_gives_the_same_batches() {
    // Batches of 12,000 rows × 3 features: large enough to be split over threads.
    let d = data(30_000);
    let batches = |parallel: bool| {
        let mut l = DataLoader::new(&d, BatchSize::Rows(12_000))
            .unwrap()
            .shuffled(7)
            .parallel(parallel);
        let mut all = Vec::new();
        while let Some(batch) = l.next_batch() {
            all.push(batch.features.to_owned());
        }
        all
    };
    let (serial, parallel) = (batches(false), batches(true));
    assert_eq!(serial.len(), 3);
    assert_eq!(serial, parallel);
}
