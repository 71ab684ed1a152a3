//! The fused element loops every update rule runs: one pass over the parameter, its
//! gradient and its state buffers, with no temporary arrays.
//!
//! When every array is in standard (C-contiguous) layout — always the case for the state,
//! and for parameters owned by a model — the loop runs over plain slices, which the
//! compiler vectorises; otherwise it runs through `ndarray::Zip`, which pairs entries by
//! index whatever the strides.

use descent_autodiff::Float;
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

macro_rules! fused {
    (@mut $s:ident) => { &mut T };
    ($(#[$doc:meta])* $name:ident; $($s:ident),*) => {
        $(#[$doc])*
        #[inline(always)]
        pub(crate) fn $name<T: Float>(
            p: &mut ArrayViewMutD<'_, T>,
            g: &ArrayViewD<'_, T>,
            $($s: &mut ArrayD<T>,)*
            f: impl Fn(&mut T, T, $(fused!(@mut $s)),*),
        ) {
            if p.is_standard_layout() && g.is_standard_layout() $(&& $s.is_standard_layout())* {
                let p = p.as_slice_mut().expect("standard layout");
                let n = p.len();
                let g = &g.as_slice().expect("standard layout")[..n];
                $(let $s = &mut $s.as_slice_mut().expect("standard layout")[..n];)*
                for i in 0..n {
                    f(&mut p[i], g[i], $(&mut $s[i]),*);
                }
            } else {
                Zip::from(p).and(g)$(.and($s))*.for_each(|p, &g, $($s),*| f(p, g, $($s),*));
            }
        }
    };
}

fused!(
    /// `f(p, g)` for every entry.
    fused0;
);
fused!(
    /// `f(p, g, a)` for every entry.
    fused1; a
);
fused!(
    /// `f(p, g, a, b)` for every entry.
    fused2; a, b
);
fused!(
    /// `f(p, g, a, b, c)` for every entry.
    fused3; a, b, c
);
