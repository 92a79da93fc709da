// SPDX-License-Identifier: GPL-2.0

//! The credit counters of a socket under their lock, with `rx_bytes`
//! published for readers that do not take it (`stream_has_data`).
//!
//! The fields are private to this module: every change to the counters
//! goes through [`CreditGuard`], whose drop publishes `rx_bytes` before the
//! lock is released.

use crate::vsock::lock::{FastSpinLock, FastSpinLockGuard};
use crate::vsock::proto::credit::Credit;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::prelude::*;

/// Credit counters and the published copy of their `rx_bytes`.
///
/// # Invariants
///
/// `rx_bytes` equals `lock`'s `rx_bytes` whenever the lock is free.
#[pin_data]
pub(crate) struct CreditCell {
    #[pin]
    lock: FastSpinLock<Credit>,
    rx_bytes: AtomicU32,
}

impl CreditCell {
    /// A cell holding `credit`.
    pub(crate) fn new(credit: Credit) -> impl PinInit<Self> {
        // INVARIANT: both start from the same `rx_bytes`.
        pin_init!(CreditCell {
            rx_bytes: AtomicU32::new(credit.rx_bytes),
            lock <- FastSpinLock::new(
                credit,
                kernel::c_str!("vsock_rs_credit"),
                kernel::static_lock_class!()
            ),
        })
    }

    /// The counters, locked.
    pub(crate) fn lock(&self) -> CreditGuard<'_> {
        CreditGuard {
            credit: self.lock.lock(),
            rx_bytes: &self.rx_bytes,
        }
    }

    /// `rx_bytes` as of the last unlock, without the lock.  Every change
    /// to it is also made under the socket lock (the receive path and the
    /// dequeues; `read_skb` is only reached from the receive path's
    /// `sk_data_ready`), and the AF_VSOCK core holds that lock when it
    /// asks (`recvmsg`, `poll`, `SIOCINQ`, the receive path's wake-ups):
    /// there the value is exact, as upstream's read under `rx_lock`.
    pub(crate) fn rx_bytes(&self) -> u32 {
        self.rx_bytes.load(Ordering::Acquire)
    }
}

/// The counters under their lock; see [`CreditCell`].
pub(crate) struct CreditGuard<'a> {
    credit: FastSpinLockGuard<'a, Credit>,
    rx_bytes: &'a AtomicU32,
}

impl Deref for CreditGuard<'_> {
    type Target = Credit;

    fn deref(&self) -> &Credit {
        &self.credit
    }
}

impl DerefMut for CreditGuard<'_> {
    fn deref_mut(&mut self) -> &mut Credit {
        &mut self.credit
    }
}

impl Drop for CreditGuard<'_> {
    fn drop(&mut self) {
        // Runs before the field `credit` is dropped, i.e. under the lock,
        // where the relaxed load is exact (only lock holders store).
        let now = self.credit.rx_bytes;
        if self.rx_bytes.load(Ordering::Relaxed) != now {
            // INVARIANT: published before the lock is released.
            self.rx_bytes.store(now, Ordering::Release);
        }
    }
}
