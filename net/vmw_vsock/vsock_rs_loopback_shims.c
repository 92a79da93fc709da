// SPDX-License-Identifier: GPL-2.0
/*
 * The C shims of vsock_rs_loopback: the transports' shared ones, private
 * to this module (see include/net/vsock_rs_transport.h).
 */
#include "vsock_rs_transport_helpers.c"
