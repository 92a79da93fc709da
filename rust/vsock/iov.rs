// SPDX-License-Identifier: GPL-2.0

//! `iov_iter`s over kernel buffers (`iov_iter_kvec`), as
//! [`kernel::iov::IovIterSource`] and [`kernel::iov::IovIterDest`]: what
//! the vhost backend's copies look like, over memory the caller owns (the
//! KUnit suites use them to test the skb copies).

use kernel::bindings;
use kernel::iov::{IovIterDest, IovIterSource};
use kernel::types::Opaque;

/// The segment array of a [`KvecIter`] (one `struct kvec`), owned by the
/// caller: the iterator refers to it for as long as to the data, so an
/// iterator swapped into another place still refers to live memory.
pub struct Kvec(bindings::kvec);

impl Kvec {
    /// An empty segment.
    pub fn new() -> Self {
        Kvec(bindings::kvec {
            iov_base: core::ptr::null_mut(),
            iov_len: 0,
        })
    }
}

impl Default for Kvec {
    fn default() -> Self {
        Self::new()
    }
}

/// An `iov_iter` over one kernel buffer, borrowed for `'a`.
///
/// # Invariants
///
/// `iter` is initialised by `iov_iter_kvec` over a `kvec` borrowed for `'a`
/// that describes the buffer borrowed for `'a` (mutably for `ITER_DEST`).
pub struct KvecIter<'a> {
    iter: Opaque<bindings::iov_iter>,
    _data: core::marker::PhantomData<(&'a mut [u8], &'a mut Kvec)>,
}

impl<'a> KvecIter<'a> {
    fn new(base: *mut u8, len: usize, dir: u32, kv: &'a mut Kvec) -> Self {
        kv.0 = bindings::kvec {
            iov_base: base.cast(),
            iov_len: len,
        };
        let it = KvecIter {
            iter: Opaque::uninit(),
            _data: core::marker::PhantomData,
        };
        // SAFETY: `kv` describes `len` bytes at `base`, both borrowed for
        // `'a` by the caller; the iterator is a plain value that records
        // pointers to them, never to itself.
        unsafe { bindings::iov_iter_kvec(it.iter.get(), dir, &kv.0, 1, len) };
        it
    }

    /// An iterator that reads `buf`, with its segment in `kv`.
    pub fn source(buf: &'a [u8], kv: &'a mut Kvec) -> Self {
        Self::new(
            buf.as_ptr().cast_mut(),
            buf.len(),
            bindings::ITER_SOURCE,
            kv,
        )
    }

    /// An iterator that writes `buf`, with its segment in `kv`.
    pub fn dest(buf: &'a mut [u8], kv: &'a mut Kvec) -> Self {
        Self::new(buf.as_mut_ptr(), buf.len(), bindings::ITER_DEST, kv)
    }

    /// As a source (`None` unless made by [`Self::source`]).
    pub fn as_source(&mut self) -> Option<&mut IovIterSource<'a>> {
        let p = self.iter.get();
        // SAFETY: initialised iterator (invariant); reading its direction.
        let dir = unsafe { (*p).data_source };
        // SAFETY: a valid `ITER_SOURCE` iterator whose segment and data are
        // readable for `'a`, only accessed through the result while it is
        // borrowed.
        (u32::from(dir) == bindings::ITER_SOURCE).then(|| unsafe { IovIterSource::from_raw(p) })
    }

    /// As a destination (`None` unless made by [`Self::dest`]).
    pub fn as_dest(&mut self) -> Option<&mut IovIterDest<'a>> {
        let p = self.iter.get();
        // SAFETY: initialised iterator (invariant); reading its direction.
        let dir = unsafe { (*p).data_source };
        // SAFETY: a valid `ITER_DEST` iterator whose segment and data are
        // writable for `'a`, only accessed through the result while it is
        // borrowed.
        (u32::from(dir) == bindings::ITER_DEST).then(|| unsafe { IovIterDest::from_raw(p) })
    }
}
