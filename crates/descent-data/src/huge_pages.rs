//! Large feature matrices on transparent huge pages (Linux).
//!
//! Training reads the features over and over: whole, once or twice per step (full-batch
//! descent), or one shuffled row at a time (stochastic descent). On 4 KiB pages every
//! 4 KiB of a pass, and nearly every random row, costs a TLB miss and a page-table walk,
//! which in a virtual machine walks two tables; that alone held a pass over 40 MB to
//! about half the memory bandwidth. With 2 MiB pages the same data needs 512 times fewer
//! translations. Where the kernel only grants huge pages on request
//! (`/sys/kernel/mm/transparent_hugepage/enabled` = `madvise`, a common default), we
//! ask: NumPy does the same for its large arrays.
//!
//! Everything here is advice: where it is refused (another kernel or system, no huge
//! pages free) the data stays where it is, on normal pages, and nothing else changes.

/// Buffers below this many bytes are left alone: a huge page is 2 MiB.
const MIN_BYTES: usize = 4 << 20;

/// Asks for the pages of `data` not yet touched to be huge (so that a buffer advised
/// before it is filled gets them as it is written).
pub(crate) fn advise<T>(data: &[T]) {
    #[cfg(target_os = "linux")]
    madvise(data, libc::MADV_HUGEPAGE);
    #[cfg(not(target_os = "linux"))]
    let _ = data;
}

/// Moves `data`, already written, onto huge pages where the kernel can (Linux 6.1's
/// `MADV_COLLAPSE`, which copies in place, synchronously): about the cost of one copy.
pub(crate) fn collapse<T>(data: &[T]) {
    #[cfg(target_os = "linux")]
    if madvise(data, libc::MADV_HUGEPAGE) {
        madvise(data, libc::MADV_COLLAPSE);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = data;
}

/// `madvise` over the whole pages inside `data`; true when the kernel accepted it.
#[cfg(target_os = "linux")]
fn madvise<T>(data: &[T], advice: libc::c_int) -> bool {
    const PAGE: usize = 4096;
    let bytes = std::mem::size_of_val(data);
    if bytes < MIN_BYTES {
        return false;
    }
    let start = (data.as_ptr() as usize).next_multiple_of(PAGE);
    let end = (data.as_ptr() as usize + bytes) / PAGE * PAGE;
    // SAFETY: the range lies inside memory this process owns (the slice `data`), and
    // this advice changes only how that memory is backed, never its contents.
    unsafe { libc::madvise(start as *mut libc::c_void, end - start, advice) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_never_changes_the_data() {
        let mut data = vec![0f32; 3 << 20];
        advise(&data);
        data.iter_mut().enumerate().for_each(|(i, v)| *v = i as f32);
        collapse(&data);
        assert!(data.iter().enumerate().all(|(i, &v)| v == i as f32));
        collapse(&data[..10]);
    }
}
