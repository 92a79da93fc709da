// SPDX-License-Identifier: GPL-2.0

//! A misc character device with `poll`, on the model of
//! `kernel::miscdevice` (which in 7.2 has no `poll` and leaves the file
//! operations without an owner module): a fixed minor, one `T` per open
//! file, `llseek = noop_llseek`, and the module held while a file is open.
//! The file operations are a static of that module ([`MiscFops`]), so that
//! dropping the registration while files are open leaves them valid.

use core::marker::PhantomData;
use kernel::bindings as kb;
use kernel::iov::{IovIterDest, IovIterSource};
use kernel::prelude::*;
use kernel::types::Opaque;

/// A `poll` call on an open file whose data is a `T`.
///
/// The file's data comes only from here ([`PollCtx::this`]), so whatever
/// registers a wait for this file (e.g. `Vhost`'s `chr_poll`) waits on a
/// queue of this file's own `T`, which lives until the file's release, and
/// never on another file's.
///
/// # Invariants
///
/// `file` and `table` are those the VFS passed to the current `poll` call,
/// valid for `'a`; `this` is `file`'s data.
pub struct PollCtx<'a, T> {
    this: &'a T,
    file: *mut kb::file,
    table: *mut kb::poll_table_struct,
}

impl<'a, T> PollCtx<'a, T> {
    /// The data of the file being polled.
    pub fn this(&self) -> &'a T {
        self.this
    }

    /// The file being polled.
    pub(crate) fn file(&self) -> *mut kb::file {
        self.file
    }

    /// The poll table (may be NULL).
    pub(crate) fn table(&self) -> *mut kb::poll_table_struct {
        self.table
    }
}

/// What an open file of a [`MiscReg`] does.
pub trait MiscFile: Send + Sync + Sized + 'static {
    /// A new open of the device node.
    fn open() -> Result<Pin<KBox<Self>>>;
    /// The last reference to the file is gone.
    fn release(this: Pin<KBox<Self>>) {
        drop(this);
    }
    /// `unlocked_ioctl` (and `compat_ioctl` through `compat_ptr_ioctl`, as
    /// upstream's vhost devices): `arg` is an integer or a user address.
    fn ioctl(this: &Self, cmd: u32, arg: usize) -> Result<i64>;
    /// `read_iter`.
    fn read_iter(this: &Self, to: &mut IovIterDest<'_>, nonblock: bool) -> Result<usize>;
    /// `write_iter`.
    fn write_iter(this: &Self, from: &mut IovIterSource<'_>) -> Result<usize>;
    /// `poll` of the file whose data is `ctx.this()`: the `EPOLL*` mask.
    fn poll(ctx: &PollCtx<'_, Self>) -> u32;
}

/// The `T` of an open file.
///
/// # Safety
///
/// `file` is an open file of a [`MiscReg<T>`], between its `open` and
/// `release`.
unsafe fn file_data<'a, T: MiscFile>(file: *mut kb::file) -> &'a T {
    // SAFETY: `open` stored a `KBox<T>` there, freed only in `release`.
    unsafe { &*(*file).private_data.cast::<T>() }
}

/// `open`.
///
/// # Safety
///
/// Called by the VFS (`misc_open`) for a file of a `MiscReg<T>`.
unsafe extern "C" fn open_tramp<T: MiscFile>(_inode: *mut kb::inode, file: *mut kb::file) -> i32 {
    match T::open() {
        Ok(data) => {
            // SAFETY: the box stays pinned: only `release` turns it back
            // into a `Pin<KBox<T>>`.
            let p = KBox::into_raw(unsafe { Pin::into_inner_unchecked(data) });
            // SAFETY: the file is being opened; we own its private data.
            unsafe { (*file).private_data = p.cast() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `release`.
///
/// # Safety
///
/// Called by the VFS once for a file `open_tramp` opened.
unsafe extern "C" fn release_tramp<T: MiscFile>(
    _inode: *mut kb::inode,
    file: *mut kb::file,
) -> i32 {
    // SAFETY: `open` stored a pinned `KBox<T>`; this is its last use.
    let data = unsafe { Pin::new_unchecked(KBox::from_raw((*file).private_data.cast::<T>())) };
    T::release(data);
    0
}

/// `unlocked_ioctl`.
///
/// # Safety
///
/// Called by the VFS for an open file of a `MiscReg<T>`.
unsafe extern "C" fn ioctl_tramp<T: MiscFile>(
    file: *mut kb::file,
    cmd: kernel::ffi::c_uint,
    arg: kernel::ffi::c_ulong,
) -> kernel::ffi::c_long {
    // SAFETY: an open file (see above).
    let this = unsafe { file_data::<T>(file) };
    let r = match T::ioctl(this, cmd, arg) {
        Ok(r) => r,
        Err(e) => i64::from(e.to_errno()),
    };
    r as kernel::ffi::c_long
}

/// `read_iter`.
///
/// # Safety
///
/// Called by the VFS for an open file of a `MiscReg<T>`, with a valid
/// destination iterator.
unsafe extern "C" fn read_tramp<T: MiscFile>(
    kiocb: *mut kb::kiocb,
    to: *mut kb::iov_iter,
) -> isize {
    // SAFETY: a live kiocb of an open file of ours.
    let file = unsafe { (*kiocb).ki_filp };
    // SAFETY: as above.
    let this = unsafe { file_data::<T>(file) };
    // SAFETY: live file.
    let nonblock = unsafe { (*file).f_flags } & kb::O_NONBLOCK != 0;
    // SAFETY: the VFS's destination iterator for this call.
    let to = unsafe { IovIterDest::from_raw(to) };
    match T::read_iter(this, to, nonblock) {
        Ok(n) => isize::try_from(n).unwrap_or(isize::MAX),
        Err(e) => e.to_errno() as isize,
    }
}

/// `write_iter`.
///
/// # Safety
///
/// As [`read_tramp`], with a source iterator.
unsafe extern "C" fn write_tramp<T: MiscFile>(
    kiocb: *mut kb::kiocb,
    from: *mut kb::iov_iter,
) -> isize {
    // SAFETY: a live kiocb of an open file of ours.
    let this = unsafe { file_data::<T>((*kiocb).ki_filp) };
    // SAFETY: the VFS's source iterator for this call.
    let from = unsafe { IovIterSource::from_raw(from) };
    match T::write_iter(this, from) {
        Ok(n) => isize::try_from(n).unwrap_or(isize::MAX),
        Err(e) => e.to_errno() as isize,
    }
}

/// `poll`.
///
/// # Safety
///
/// Called by the VFS for an open file of a `MiscReg<T>`.
unsafe extern "C" fn poll_tramp<T: MiscFile>(
    file: *mut kb::file,
    table: *mut kb::poll_table_struct,
) -> kb::__poll_t {
    // SAFETY: an open file of ours.
    let this = unsafe { file_data::<T>(file) };
    // INVARIANT: the arguments of this `poll` call and the file's data,
    // borrowed for it.
    let ctx = PollCtx { this, file, table };
    T::poll(&ctx)
}

/// The file operations of the files of a [`MiscReg<T>`].
///
/// A static of the module that implements `T` (declare it with
/// [`vsock_rs_misc_fops!`]): an open file keeps using its operations, and
/// holds that module, until its release, which may come after the
/// [`MiscReg`] that opened it is dropped.
///
/// # Invariants
///
/// `fops.owner` is the module that defines the static holding this value;
/// the operations are the trampolines of `T`.
#[repr(transparent)]
pub struct MiscFops<T: MiscFile> {
    fops: kb::file_operations,
    _t: PhantomData<T>,
}

// SAFETY: never written after construction; the VFS only reads it.
unsafe impl<T: MiscFile> Sync for MiscFops<T> {}

impl<T: MiscFile> MiscFops<T> {
    /// The file operations of `T`'s files.
    ///
    /// # Safety
    ///
    /// `module` is the `struct module` of the module that defines the
    /// static holding the result (the VFS takes references on it while a
    /// file is open).  Use [`vsock_rs_misc_fops!`].
    pub const unsafe fn new(module: *mut kb::module) -> Self {
        // SAFETY: `file_operations` holds pointers, integers and optional
        // functions, for which all-zero is valid (none).
        let mut fops: kb::file_operations = unsafe { core::mem::zeroed() };
        fops.owner = module;
        fops.open = Some(open_tramp::<T>);
        fops.release = Some(release_tramp::<T>);
        fops.llseek = Some(kb::noop_llseek);
        fops.unlocked_ioctl = Some(ioctl_tramp::<T>);
        #[cfg(CONFIG_COMPAT)]
        {
            fops.compat_ioctl = Some(kb::compat_ptr_ioctl);
        }
        fops.read_iter = Some(read_tramp::<T>);
        fops.write_iter = Some(write_tramp::<T>);
        fops.poll = Some(poll_tramp::<T>);
        // INVARIANT: the owner is given by the caller; `T`'s trampolines.
        MiscFops {
            fops,
            _t: PhantomData,
        }
    }
}

/// Declares the file operations of misc files of type `$file` as the
/// static `$name` of this module, for [`MiscReg::register`].
#[macro_export]
macro_rules! vsock_rs_misc_fops {
    ($name:ident, $file:ty) => {
        // The abstraction's `unsafe`, allowed in crates that deny it.
        #[allow(unsafe_code)]
        static $name: $crate::vhost::misc::MiscFops<$file> = {
            #[allow(improper_ctypes)]
            extern "C" {
                static __this_module: kernel::types::Opaque<kernel::bindings::module>;
            }
            // SAFETY: `__this_module` is this module's `struct module`,
            // defined by modpost, and the static is this module's; only its
            // address is taken.
            unsafe { $crate::vhost::misc::MiscFops::new(__this_module.get()) }
        };
    };
}

/// A registered misc device whose files are `T`s.
///
/// # Invariants
///
/// `misc` is registered, with the static file operations `fops`, from a
/// successful [`MiscReg::register`] until drop.  Files opened meanwhile use
/// only `fops` and their own `T` after `open`, so they may outlive it.
#[pin_data(PinnedDrop)]
pub struct MiscReg<T: MiscFile> {
    fops: &'static MiscFops<T>,
    #[pin]
    misc: Opaque<kb::miscdevice>,
}

// SAFETY: registration and deregistration may happen on any thread; the
// file operations are immutable.
unsafe impl<T: MiscFile> Send for MiscReg<T> {}
// SAFETY: as above.
unsafe impl<T: MiscFile> Sync for MiscReg<T> {}

impl<T: MiscFile> MiscReg<T> {
    /// Registers device `name` with minor `minor`, whose files use `fops`.
    pub fn register(
        fops: &'static MiscFops<T>,
        minor: i32,
        name: &'static CStr,
    ) -> Result<Pin<KBox<Self>>> {
        let fops_ptr: *const kb::file_operations = &fops.fops;
        KBox::pin_init(
            try_pin_init!(MiscReg {
                fops,
                misc <- Opaque::try_ffi_init(move |slot: *mut kb::miscdevice| {
                    let mut m: kb::miscdevice = pin_init::zeroed();
                    m.minor = minor;
                    m.name = name.as_char_ptr();
                    m.fops = fops_ptr;
                    // SAFETY: `slot` is ours to write; the device is pinned
                    // and deregistered in drop; `fops` is a static.
                    unsafe {
                        slot.write(m);
                        kernel::error::to_result(kb::misc_register(slot))
                    }
                }),
            }? Error),
            GFP_KERNEL,
        )
    }
}

#[pinned_drop]
impl<T: MiscFile> PinnedDrop for MiscReg<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: registered (invariant).  Open files keep the static
        // `fops` and their module.
        unsafe { kb::misc_deregister(self.misc.get()) };
    }
}
