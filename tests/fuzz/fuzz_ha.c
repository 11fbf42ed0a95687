/* SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer harness of the HA channel's parser (pipelines/ha/ha_msg.c): the
 * input is a byte stream as the channel receives it, decoded message by
 * message from a buffer of exactly its size (ASan catches a read past it)
 * until an error or an incomplete tail. Every message accepted must
 * re-encode to the same bytes (the decoder takes nothing the encoder
 * cannot say), and its length must lie inside what was left.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipelines/ha/ha_msg.h"

static size_t reencode(const struct ss_ha_msg *m, uint8_t *out)
{
	switch (m->h.type) {
	case SS_HA_HELLO:
		return ss_ha_encode_hello(out, m->h.ack, m->u.role);
	case SS_HA_HEARTBEAT:
		return ss_ha_encode_heartbeat(out, m->h.ack);
	case SS_HA_BULK_BEGIN:
	case SS_HA_BULK_END:
		return ss_ha_encode_bulk(out, m->h.type, m->h.seq, m->h.ack, m->u.flows);
	case SS_HA_FLOW:
	case SS_HA_FLOW_DEL:
		return ss_ha_encode_flow(out, m->h.type, m->h.seq, m->h.ack, &m->u.flow);
	case SS_HA_LB_SESS:
	case SS_HA_LB_SESS_DEL:
		return ss_ha_encode_lb(out, m->h.type, m->h.seq, m->h.ack, &m->u.lb);
	default:
		abort();   /* the decoder accepted a type it does not know */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	size_t off = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	while (off < size) {
		uint8_t again[SS_HA_MSG_MAX];
		struct ss_ha_msg m;
		const char *why;
		int rc = ss_ha_msg_decode(buf + off, size - off, &m, &why);

		if (rc <= 0) {
			if (rc < 0 && why == NULL)
				abort();   /* an error names its reason */
			break;
		}
		if ((size_t)rc > size - off || (size_t)rc < SS_HA_HDR_LEN)
			abort();
		if (reencode(&m, again) != (size_t)rc || memcmp(again, buf + off, (size_t)rc) != 0)
			abort();
		off += (size_t)rc;
	}
	free(buf);
	return 0;
}
