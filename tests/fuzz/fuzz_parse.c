/* SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer harness of the packet parser: any byte string, in a buffer of
 * exactly its size (ASan catches a read past the end), and when the parser
 * accepts it, every offset it reports must lie inside the frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipelines/parse/parse.h"

static void check_layer(const struct ss_layer *l, size_t size)
{
	if (l->l3_off > size || l->l2_off + 14u > size)
		abort();
	if (l->l3 != SS_L3_NONE && l->l3_off + (size_t)l->l3_len > size)
		abort();
	if ((l->flags & SS_PF_L4) && l->l4_off + 8u > size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_parsed p;
	struct ss_bth b;
	uint8_t *buf;

	if (size > 65535)
		return 0;
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (ss_parse(buf, (uint32_t)size, &p, &b) == 0) {
		check_layer(&p.outer, size);
		if (p.outer.flags & SS_PF_VXLAN)
			check_layer(&p.inner, size);
		if ((p.outer.flags & SS_PF_ROCE) && p.outer.l4_off + 8u + 12u > size)
			abort();
	}
	free(buf);
	return 0;
}
