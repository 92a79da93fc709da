// SPDX-License-Identifier: GPL-2.0

//! `iov_iter`s over kernel buffers (`iov_iter_kvec`), as
//! [`kernel::iov::IovIterSource`] and [`kernel::iov::IovIterDest`]: what
//! the vhost backend's copies look like, over memory the caller owns (the
//! KUnit suites use them to test the skb copies).

use kernel::bindings;
use kernel::iov::{IovIterDest, IovIterSource};
use kernel::types::Opaque;

/// An `iov_iter` over one kernel buffer, borrowed for `'a`.
///
/// # Invariants
///
/// `iter` is initialised by `iov_iter_kvec` over `kvec`, which describes
/// the buffer borrowed for `'a` (mutably for `ITER_DEST`); both are pinned
/// in the box for the iterator's life.
pub struct KvecIter<'a> {
    inner: Pin<KBox<KvecInner>>,
    _buf: core::marker::PhantomData<&'a mut [u8]>,
}

#[pin_data]
struct KvecInner {
    kvec: bindings::kvec,
    #[pin]
    iter: Opaque<bindings::iov_iter>,
}

use kernel::prelude::*;

impl<'a> KvecIter<'a> {
    fn new(base: *mut u8, len: usize, dir: u32) -> Result<Self> {
        let inner = KBox::pin_init(
            pin_init!(KvecInner {
                kvec: bindings::kvec {
                    iov_base: base.cast(),
                    iov_len: len,
                },
                iter: Opaque::uninit(),
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: `iter` and `kvec` are pinned in the box; `kvec` describes
        // `len` bytes at `base`, borrowed for `'a` by the caller.
        unsafe { bindings::iov_iter_kvec(inner.iter.get(), dir, &inner.kvec, 1, len) };
        Ok(KvecIter {
            inner,
            _buf: core::marker::PhantomData,
        })
    }

    /// An iterator that reads `buf`.
    pub fn source(buf: &'a [u8]) -> Result<Self> {
        Self::new(buf.as_ptr().cast_mut(), buf.len(), bindings::ITER_SOURCE)
    }

    /// An iterator that writes `buf`.
    pub fn dest(buf: &'a mut [u8]) -> Result<Self> {
        Self::new(buf.as_mut_ptr(), buf.len(), bindings::ITER_DEST)
    }

    /// As a source (`None` unless made by [`Self::source`]).
    pub fn as_source(&mut self) -> Option<&mut IovIterSource<'a>> {
        let p = self.inner.iter.get();
        // SAFETY: initialised iterator (invariant); reading its direction.
        let dir = unsafe { (*p).data_source };
        // SAFETY: a valid `ITER_SOURCE` iterator over a buffer readable for
        // `'a`, only accessed through the result while it is borrowed.
        (u32::from(dir) == bindings::ITER_SOURCE).then(|| unsafe { IovIterSource::from_raw(p) })
    }

    /// As a destination (`None` unless made by [`Self::dest`]).
    pub fn as_dest(&mut self) -> Option<&mut IovIterDest<'a>> {
        let p = self.inner.iter.get();
        // SAFETY: initialised iterator (invariant); reading its direction.
        let dir = unsafe { (*p).data_source };
        // SAFETY: a valid `ITER_DEST` iterator over a buffer writable for
        // `'a`, only accessed through the result while it is borrowed.
        (u32::from(dir) == bindings::ITER_DEST).then(|| unsafe { IovIterDest::from_raw(p) })
    }
}
