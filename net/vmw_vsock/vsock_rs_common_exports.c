// SPDX-License-Identifier: GPL-2.0
/*
 * Exports of vsock_rs_common: the Rust functions of include/net/vsock_rs.h
 * (defined with #[no_mangle] in vsock_rs_common_main.rs) for the transport
 * modules.
 */
#include <linux/export.h>
#include <net/vsock_rs.h>

EXPORT_SYMBOL_GPL(vsock_rs_do_socket_init);
EXPORT_SYMBOL_GPL(vsock_rs_destruct);
EXPORT_SYMBOL_GPL(vsock_rs_release);
EXPORT_SYMBOL_GPL(vsock_rs_connect);
EXPORT_SYMBOL_GPL(vsock_rs_shutdown);
EXPORT_SYMBOL_GPL(vsock_rs_dgram_bind);
EXPORT_SYMBOL_GPL(vsock_rs_dgram_dequeue);
EXPORT_SYMBOL_GPL(vsock_rs_dgram_enqueue);
EXPORT_SYMBOL_GPL(vsock_rs_dgram_allow);
EXPORT_SYMBOL_GPL(vsock_rs_stream_dequeue);
EXPORT_SYMBOL_GPL(vsock_rs_stream_enqueue);
EXPORT_SYMBOL_GPL(vsock_rs_stream_has_data);
EXPORT_SYMBOL_GPL(vsock_rs_stream_has_space);
EXPORT_SYMBOL_GPL(vsock_rs_stream_rcvhiwat);
EXPORT_SYMBOL_GPL(vsock_rs_stream_is_active);
EXPORT_SYMBOL_GPL(vsock_rs_seqpacket_dequeue);
EXPORT_SYMBOL_GPL(vsock_rs_seqpacket_enqueue);
EXPORT_SYMBOL_GPL(vsock_rs_seqpacket_has_data);
EXPORT_SYMBOL_GPL(vsock_rs_notify_poll_in);
EXPORT_SYMBOL_GPL(vsock_rs_notify_poll_out);
EXPORT_SYMBOL_GPL(vsock_rs_notify_recv_init);
EXPORT_SYMBOL_GPL(vsock_rs_notify_recv_pre_block);
EXPORT_SYMBOL_GPL(vsock_rs_notify_recv_pre_dequeue);
EXPORT_SYMBOL_GPL(vsock_rs_notify_recv_post_dequeue);
EXPORT_SYMBOL_GPL(vsock_rs_notify_send_init);
EXPORT_SYMBOL_GPL(vsock_rs_notify_send_pre_block);
EXPORT_SYMBOL_GPL(vsock_rs_notify_send_pre_enqueue);
EXPORT_SYMBOL_GPL(vsock_rs_notify_send_post_enqueue);
EXPORT_SYMBOL_GPL(vsock_rs_notify_buffer_size);
EXPORT_SYMBOL_GPL(vsock_rs_notify_set_rcvlowat);
EXPORT_SYMBOL_GPL(vsock_rs_unsent_bytes);
EXPORT_SYMBOL_GPL(vsock_rs_read_skb);
EXPORT_SYMBOL_GPL(vsock_rs_recv_pkt);
EXPORT_SYMBOL_GPL(vsock_rs_recv_pkts);
EXPORT_SYMBOL_GPL(vsock_rs_purge_skbs);
EXPORT_SYMBOL_GPL(vsock_rs_consume_skb_sent);
EXPORT_SYMBOL_GPL(vsock_rs_deliver_tap_pkt);
EXPORT_SYMBOL_GPL(vsock_rs_inc_tx_pkt);
EXPORT_SYMBOL_GPL(vsock_rs_steer_cpu);
