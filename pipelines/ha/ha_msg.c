/* SPDX-License-Identifier: BSD-3-Clause
 *
 * HA channel messages: encoders and the one decoder (layout in ha_msg.h).
 */
#include <stdbool.h>
#include <string.h>

#include "pipelines/ha/ha_msg.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t hdr(uint8_t *buf, size_t len, uint8_t type, uint32_t seq, uint32_t ack)
{
	put32(buf, (uint32_t)len);
	buf[4] = SS_HA_VERSION;
	buf[5] = type;
	put16(buf + 6, 0);
	put32(buf + 8, seq);
	put32(buf + 12, ack);
	return len;
}

size_t ss_ha_encode_hello(uint8_t *buf, uint32_t ack, uint8_t role)
{
	buf[16] = role;
	buf[17] = buf[18] = buf[19] = 0;
	return hdr(buf, SS_HA_HDR_LEN + 4, SS_HA_HELLO, 0, ack);
}

size_t ss_ha_encode_heartbeat(uint8_t *buf, uint32_t ack)
{
	return hdr(buf, SS_HA_HDR_LEN, SS_HA_HEARTBEAT, 0, ack);
}

size_t ss_ha_encode_bulk(uint8_t *buf, uint8_t type, uint32_t seq, uint32_t ack,
			 uint32_t flows)
{
	put32(buf + 16, flows);
	return hdr(buf, SS_HA_HDR_LEN + 4, type, seq, ack);
}

size_t ss_ha_encode_flow(uint8_t *buf, uint8_t type, uint32_t seq, uint32_t ack,
			 const struct ss_ha_flow *f)
{
	uint8_t *b = buf + SS_HA_HDR_LEN;
	size_t nl = strnlen(f->eni, SS_HA_NAME_MAX);

	b[0] = f->proto;
	b[1] = f->v6 ? 6 : 4;
	b[2] = f->init_dir;
	b[3] = f->init_side;
	b[4] = f->tcp;
	b[5] = (uint8_t)nl;
	put16(b + 6, f->pa);
	put16(b + 8, f->pb);
	put16(b + 10, 0);
	put32(b + 12, f->idle_ms);
	put32(b + 16, f->fin_age_ms);
	memcpy(b + 20, f->a, 16);
	memcpy(b + 36, f->b, 16);
	if (!f->v6) {
		memset(b + 24, 0, 12);
		memset(b + 40, 0, 12);
	}
	memcpy(b + SS_HA_FLOW_FIXED, f->eni, nl);
	return hdr(buf, SS_HA_HDR_LEN + SS_HA_FLOW_FIXED + nl, type, seq, ack);
}

size_t ss_ha_encode_lb(uint8_t *buf, uint8_t type, uint32_t seq, uint32_t ack,
		       const struct ss_ha_lb *l)
{
	uint8_t *b = buf + SS_HA_HDR_LEN;
	size_t ll = strnlen(l->lb, SS_HA_NAME_MAX), el = strnlen(l->eni, SS_HA_NAME_MAX);

	b[0] = l->proto;
	b[1] = l->v6 ? 6 : 4;
	b[2] = (uint8_t)ll;
	b[3] = (uint8_t)el;
	put16(b + 4, l->sport);
	put16(b + 6, l->dport);
	memcpy(b + 8, l->src, 16);
	memcpy(b + 24, l->vip, 16);
	memcpy(b + 40, l->backend, 16);
	if (!l->v6) {
		memset(b + 12, 0, 12);
		memset(b + 28, 0, 12);
		memset(b + 44, 0, 12);
	}
	memcpy(b + SS_HA_LB_FIXED, l->lb, ll);
	memcpy(b + SS_HA_LB_FIXED + ll, l->eni, el);
	return hdr(buf, SS_HA_HDR_LEN + SS_HA_LB_FIXED + ll + el, type, seq, ack);
}

static int bad(const char **why, const char *reason)
{
	*why = reason;
	return SS_HA_E_MALFORMED;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static int decode_flow(const uint8_t *b, size_t blen, struct ss_ha_flow *f, const char **why)
{
	uint8_t nl;

	if (blen < SS_HA_FLOW_FIXED)
		return bad(why, "flow body shorter than its fixed part");
	nl = b[5];
	if (nl == 0 || nl > SS_HA_NAME_MAX)
		return bad(why, "ENI name length not 1..63");
	if (blen != (size_t)SS_HA_FLOW_FIXED + nl)
		return bad(why, "flow body length does not match its ENI name");
	if (b[1] != 4 && b[1] != 6)
		return bad(why, "address family not 4 or 6");
	if (b[2] > 1 || b[3] > 1)
		return bad(why, "initiator direction or side not 0 or 1");
	if (b[4] & ~SS_HA_TCP_MASK)
		return bad(why, "unknown TCP state bits");
	if (get16(b + 10) != 0)
		return bad(why, "non-zero pad");
	if (b[1] == 4 && (!all_zero(b + 24, 12) || !all_zero(b + 40, 12)))
		return bad(why, "IPv4 address with bytes past the fourth");
	if (memchr(b + SS_HA_FLOW_FIXED, 0, nl) != NULL)
		return bad(why, "NUL in the ENI name");
	memset(f, 0, sizeof(*f));
	f->proto = b[0];
	f->v6 = b[1] == 6;
	f->init_dir = b[2];
	f->init_side = b[3];
	f->tcp = b[4];
	f->pa = get16(b + 6);
	f->pb = get16(b + 8);
	f->idle_ms = get32(b + 12);
	f->fin_age_ms = get32(b + 16);
	memcpy(f->a, b + 20, 16);
	memcpy(f->b, b + 36, 16);
	memcpy(f->eni, b + SS_HA_FLOW_FIXED, nl);
	f->eni[nl] = '\0';
	return 0;
}

static int decode_lb(const uint8_t *b, size_t blen, struct ss_ha_lb *l, const char **why)
{
	uint8_t ll, el;

	if (blen < SS_HA_LB_FIXED)
		return bad(why, "LB session body shorter than its fixed part");
	ll = b[2];
	el = b[3];
	if (ll == 0 || ll > SS_HA_NAME_MAX)
		return bad(why, "LB name length not 1..63");
	if (el == 0 || el > SS_HA_NAME_MAX)
		return bad(why, "ENI name length not 1..63");
	if (blen != (size_t)SS_HA_LB_FIXED + ll + el)
		return bad(why, "LB session body length does not match its names");
	if (b[0] != 6 && b[0] != 17)
		return bad(why, "LB session protocol not TCP or UDP");
	if (b[1] != 4 && b[1] != 6)
		return bad(why, "address family not 4 or 6");
	if (b[1] == 4 && (!all_zero(b + 12, 12) || !all_zero(b + 28, 12) || !all_zero(b + 44, 12)))
		return bad(why, "IPv4 address with bytes past the fourth");
	if (memchr(b + SS_HA_LB_FIXED, 0, (size_t)ll + el) != NULL)
		return bad(why, "NUL in the LB or ENI name");
	memset(l, 0, sizeof(*l));
	l->proto = b[0];
	l->v6 = b[1] == 6;
	l->sport = get16(b + 4);
	l->dport = get16(b + 6);
	memcpy(l->src, b + 8, 16);
	memcpy(l->vip, b + 24, 16);
	memcpy(l->backend, b + 40, 16);
	memcpy(l->lb, b + SS_HA_LB_FIXED, ll);
	l->lb[ll] = '\0';
	memcpy(l->eni, b + SS_HA_LB_FIXED + ll, el);
	l->eni[el] = '\0';
	return 0;
}

int ss_ha_msg_decode(const uint8_t *buf, size_t n, struct ss_ha_msg *m, const char **why)
{
	const uint8_t *b = buf + SS_HA_HDR_LEN;
	size_t blen;
	int rc;

	*why = NULL;
	if (n < SS_HA_HDR_LEN) {
		/* a wrong version or length is refused as soon as it is seen */
		if (n > 4 && buf[4] != SS_HA_VERSION)
			goto version;
		if (n >= 4 && (get32(buf) < SS_HA_HDR_LEN || get32(buf) > SS_HA_MSG_MAX))
			return bad(why, "length out of range");
		return 0;
	}
	m->h.len = get32(buf);
	m->h.version = buf[4];
	m->h.type = buf[5];
	m->h.flags = get16(buf + 6);
	m->h.seq = get32(buf + 8);
	m->h.ack = get32(buf + 12);
	if (m->h.version != SS_HA_VERSION)
		goto version;
	if (m->h.len < SS_HA_HDR_LEN || m->h.len > SS_HA_MSG_MAX)
		return bad(why, "length out of range");
	if (m->h.flags != 0)
		return bad(why, "non-zero flags");
	if (n < m->h.len)
		return 0;
	blen = m->h.len - SS_HA_HDR_LEN;
	switch (m->h.type) {
	case SS_HA_HELLO:
		if (blen != 4 || m->h.seq != 0)
			return bad(why, "HELLO: body not 4 bytes or a sequence number");
		if (b[0] != SS_HA_ROLE_ACTIVE && b[0] != SS_HA_ROLE_STANDBY)
			return bad(why, "HELLO: unknown role");
		if (!all_zero(b + 1, 3))
			return bad(why, "non-zero pad");
		m->u.role = b[0];
		break;
	case SS_HA_HEARTBEAT:
		if (blen != 0 || m->h.seq != 0)
			return bad(why, "HEARTBEAT: a body or a sequence number");
		break;
	case SS_HA_BULK_BEGIN:
	case SS_HA_BULK_END:
		if (blen != 4 || m->h.seq == 0)
			return bad(why, "BULK: body not 4 bytes or no sequence number");
		m->u.flows = get32(b);
		break;
	case SS_HA_FLOW:
	case SS_HA_FLOW_DEL:
		if (m->h.seq == 0)
			return bad(why, "FLOW: no sequence number");
		rc = decode_flow(b, blen, &m->u.flow, why);
		if (rc != 0)
			return rc;
		break;
	case SS_HA_LB_SESS:
	case SS_HA_LB_SESS_DEL:
		if (m->h.seq == 0)
			return bad(why, "LB_SESS: no sequence number");
		rc = decode_lb(b, blen, &m->u.lb, why);
		if (rc != 0)
			return rc;
		break;
	default:
		return bad(why, "unknown message type");
	}
	return (int)m->h.len;
version:
	*why = "unsupported protocol version";
	return SS_HA_E_VERSION;
}

const char *ss_ha_type_name(uint8_t type)
{
	static const char *const names[] = {
		[SS_HA_HELLO] = "hello", [SS_HA_HEARTBEAT] = "heartbeat",
		[SS_HA_BULK_BEGIN] = "bulk_begin", [SS_HA_FLOW] = "flow",
		[SS_HA_FLOW_DEL] = "flow_del", [SS_HA_BULK_END] = "bulk_end",
		[SS_HA_LB_SESS] = "lb_sess", [SS_HA_LB_SESS_DEL] = "lb_sess_del",
	};

	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}
