// SPDX-License-Identifier: GPL-2.0
/*
 * The C shims of vsock_rs_virtio: the transports' shared ones and the
 * virtio ones, private to this module.
 */
#include "vsock_rs_transport_helpers.c"
#include "vsock_rs_virtio_helpers.c"
