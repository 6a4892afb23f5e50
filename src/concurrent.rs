//! Independent computations side by side: on all cores with the `parallel` feature, one after
//! the other without it. Either way the results are the same.

/// `a()` and `b()`, in parallel with the `parallel` feature (rayon's `join`).
pub(crate) fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}
