/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Packet trace: frames to and from JSON (trace_fmt.c). Control thread.
 */
#ifndef SS_TRACE_FMT_H
#define SS_TRACE_FMT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "pipelines/trace/trace_node.h"

/* "tcp" / "udp" / "icmp" / "icmp6" or 0-255 -> *proto; 0 or -1. */
int ss_trace_proto_parse(const json_t *v, uint8_t *proto);

/* Build the frame trace.packet `fields` describe (Ethernet, optional
 * 802.1Q, IPv4 / IPv6, TCP / UDP / ICMP echo with valid checksums) to be
 * received on sswitch port `port` (dst_mac defaults to its MAC). 0, or a
 * JSON-RPC error code with the message and the field. */
int ss_trace_build_frame(const json_t *fields, uint16_t port, uint8_t *buf, size_t cap,
			 uint32_t *len, char *err, size_t errlen, const char **err_field);

#endif
