// SPDX-License-Identifier: GPL-2.0
/*
 * The C shims of vhost_vsock_rs: the transports' shared ones and the
 * vhost ones, private to this module.
 */
#include "vsock_rs_transport_helpers.c"
#include "vsock_rs_vhost_helpers.c"
