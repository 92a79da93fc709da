// SPDX-License-Identifier: GPL-2.0

//! Lock backends for the per-packet paths: the kernel crate's
//! [`SpinLock`] and [`Mutex`] without the calls that C does not make.
//!
//! Through the kernel crate, a spinlock section costs five calls where C's
//! `spin_lock()` and `spin_unlock()` cost two: `rust_helper_spin_lock`,
//! which calls `_raw_spin_lock`; `rust_helper_spin_assert_is_held`, which
//! every guard calls and which is empty without lockdep; and
//! `rust_helper_spin_unlock`, which calls `_raw_spin_unlock`.  A mutex
//! section costs three where C's costs two (the guard's
//! `rust_helper_mutex_assert_is_held`).  Under TCG, where the guest driver
//! is measured, each call and return out of a page is a lookup in QEMU's
//! table of translated blocks (`Documentation/design.rst`).
//!
//! `SpinBackend` calls `_raw_spin_lock` and `_raw_spin_unlock` itself, as
//! the inline `spin_lock()` and `spin_unlock()` do, where the kernel has
//! them out of line (`spinlock_api_smp.h`, i.e. SMP or
//! `CONFIG_DEBUG_SPINLOCK`; no `CONFIG_INLINE_SPIN_LOCK` or
//! `CONFIG_INLINE_SPIN_TRYLOCK`; `CONFIG_UNINLINE_SPIN_UNLOCK`) and
//! `spinlock_t` is a `raw_spinlock_t` (no `CONFIG_PREEMPT_RT`); elsewhere
//! [`FastSpinLock`] is the kernel crate's [`SpinLock`].  Both backends
//! assert that the lock is held only where lockdep can check it
//! (`CONFIG_LOCKDEP`), as C's `lockdep_assert_held()`.
//!
//! [`SpinLock`]: kernel::sync::SpinLock
//! [`Mutex`]: kernel::sync::Mutex

use kernel::bindings;
use kernel::sync::lock::{Backend, Guard, Lock};

#[cfg(all(
    any(CONFIG_SMP, CONFIG_DEBUG_SPINLOCK),
    CONFIG_UNINLINE_SPIN_UNLOCK,
    not(any(CONFIG_PREEMPT_RT, CONFIG_INLINE_SPIN_LOCK, CONFIG_INLINE_SPIN_TRYLOCK))
))]
mod spin {
    use super::{bindings, Backend};

    /// A spinlock taken through `_raw_spin_lock` and `_raw_spin_unlock`
    /// directly.
    pub struct SpinBackend;

    // `spinlock_t` without PREEMPT_RT: a union whose first member is the
    // `raw_spinlock_t` (`rlock`), and with lockdep a `lockdep_map` after
    // padding to where `rlock` has its own, so `rlock` is at offset 0 and
    // the two have one size (bindgen makes `spinlock_t` opaque with
    // lockdep, so the offset itself cannot be checked here).
    const _: () = assert!(
        core::mem::size_of::<bindings::spinlock_t>()
            == core::mem::size_of::<bindings::raw_spinlock_t>()
            && core::mem::align_of::<bindings::spinlock_t>()
                == core::mem::align_of::<bindings::raw_spinlock_t>()
    );

    /// C's `&lock->rlock`.
    #[inline(always)]
    fn rlock(ptr: *mut bindings::spinlock_t) -> *mut bindings::raw_spinlock_t {
        // `rlock` is at offset 0 (see above): a cast, no access.
        ptr.cast()
    }

    // SAFETY: `lock` and `try_lock` (when it succeeds) make the caller the
    // owner of the spinlock until `unlock`, and the default `relock` takes
    // it again with `lock`: they are the bodies of C's `spin_lock()`,
    // `spin_trylock()` and `spin_unlock()` in this configuration (no
    // PREEMPT_RT, the `_raw_spin_*` functions out of line).
    unsafe impl Backend for SpinBackend {
        type State = bindings::spinlock_t;
        type GuardState = ();

        #[inline]
        unsafe fn init(
            ptr: *mut Self::State,
            name: *const kernel::ffi::c_char,
            key: *mut bindings::lock_class_key,
        ) {
            // SAFETY: `ptr` is valid for writes and `name` and `key` are
            // valid for reads indefinitely (this function's requirements).
            unsafe { bindings::__spin_lock_init(ptr, name, key) }
        }

        #[inline]
        unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
            // SAFETY: `ptr` points to an initialised spinlock (this
            // function's requirements), whose `rlock` is at offset 0.
            unsafe { bindings::_raw_spin_lock(rlock(ptr)) }
        }

        #[inline]
        unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
            // SAFETY: `ptr` points to a spinlock the caller owns (this
            // function's requirements).
            unsafe { bindings::_raw_spin_unlock(rlock(ptr)) }
        }

        #[inline]
        unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
            // SAFETY: `ptr` points to an initialised spinlock (this
            // function's requirements).
            (unsafe { bindings::_raw_spin_trylock(rlock(ptr)) } != 0).then_some(())
        }

        #[inline]
        unsafe fn assert_is_held(_ptr: *mut Self::State) {
            #[cfg(CONFIG_LOCKDEP)]
            // SAFETY: `_ptr` points to an initialised spinlock (this
            // function's requirements).
            unsafe {
                bindings::spin_assert_is_held(_ptr)
            }
        }
    }
}

#[cfg(not(all(
    any(CONFIG_SMP, CONFIG_DEBUG_SPINLOCK),
    CONFIG_UNINLINE_SPIN_UNLOCK,
    not(any(CONFIG_PREEMPT_RT, CONFIG_INLINE_SPIN_LOCK, CONFIG_INLINE_SPIN_TRYLOCK))
)))]
mod spin {
    /// The kernel crate's spinlock backend, where `_raw_spin_*` are inline
    /// or `spinlock_t` is not a `raw_spinlock_t`.
    pub use kernel::sync::lock::spinlock::SpinLockBackend as SpinBackend;
}

/// A spinlock with `SpinBackend` (see the module's documentation).
pub type FastSpinLock<T> = Lock<T, spin::SpinBackend>;
/// Its guard.
pub type FastSpinLockGuard<'a, T> = Guard<'a, T, spin::SpinBackend>;

/// A mutex as the kernel crate's, whose guards assert only under lockdep.
pub struct MutexBackend;

// SAFETY: the same calls as the kernel crate's mutex backend (`mutex_lock`,
// `mutex_trylock`, `mutex_unlock`): `lock` and a successful `try_lock`
// make the caller the owner until `unlock`, and the default `relock` takes
// it again with `lock`.
unsafe impl Backend for MutexBackend {
    type State = bindings::mutex;
    type GuardState = ();

    #[inline]
    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: `ptr` is valid for writes and `name` and `key` are valid
        // for reads indefinitely (this function's requirements).
        unsafe { bindings::__mutex_init(ptr, name, key) }
    }

    #[inline]
    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: `ptr` points to an initialised mutex (this function's
        // requirements).
        unsafe { bindings::mutex_lock(ptr) };
    }

    #[inline]
    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: `ptr` points to a mutex the caller owns (this function's
        // requirements).
        unsafe { bindings::mutex_unlock(ptr) };
    }

    #[inline]
    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        // SAFETY: `ptr` points to an initialised mutex (this function's
        // requirements).
        (unsafe { bindings::mutex_trylock(ptr) } != 0).then_some(())
    }

    #[inline]
    unsafe fn assert_is_held(_ptr: *mut Self::State) {
        #[cfg(CONFIG_LOCKDEP)]
        // SAFETY: `_ptr` points to an initialised mutex (this function's
        // requirements).
        unsafe {
            bindings::mutex_assert_is_held(_ptr)
        }
    }
}

/// A mutex with [`MutexBackend`].
pub type FastMutex<T> = Lock<T, MutexBackend>;
/// Its guard.
pub type FastMutexGuard<'a, T> = Guard<'a, T, MutexBackend>;
