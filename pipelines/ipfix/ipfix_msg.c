/* SPDX-License-Identifier: BSD-3-Clause
 *
 * IPFIX message encoding (ipfix_msg.h): RFC 7011 section 3 (message
 * header, sets, template records), field encodings of RFC 7011 section 6
 * (network byte order, dateTimeMilliseconds as ms since the Unix epoch).
 */
#include <errno.h>
#include <string.h>

#include "pipelines/ipfix/ipfix_msg.h"

#define SET_TEMPLATE 2
#define P_TCP 6
#define P_UDP 17
#define P_SCTP 132

/* IE number, length: the order of the data record's fields */
static const uint16_t tmpl_v4[][2] = {
	{ 1, 8 }, { 2, 8 }, { 152, 8 }, { 153, 8 }, { 351, 8 },
	{ 8, 4 }, { 12, 4 }, { 7, 2 }, { 11, 2 }, { 4, 1 }, { 61, 1 }, { 136, 1 },
};
static const uint16_t tmpl_v6[][2] = {
	{ 1, 8 }, { 2, 8 }, { 152, 8 }, { 153, 8 }, { 351, 8 },
	{ 27, 16 }, { 28, 16 }, { 7, 2 }, { 11, 2 }, { 4, 1 }, { 61, 1 }, { 136, 1 },
};
#define NB_FIELDS (sizeof(tmpl_v4) / sizeof(tmpl_v4[0]))

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p = put16(p, (uint16_t)(v >> 16));
	return put16(p, (uint16_t)v);
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	p = put32(p, (uint32_t)(v >> 32));
	return put32(p, (uint32_t)v);
}

uint64_t ss_ipfix_ms(const struct ss_ipfix_clock *c, uint64_t ticks)
{
	int64_t d = (int64_t)(ticks - c->t0);
	uint64_t a = (uint64_t)(d < 0 ? -d : d);
	/* no overflow for any uptime: whole seconds, then the rest */
	uint64_t ms = a / c->hz * 1000 + a % c->hz * 1000 / c->hz;

	return d < 0 ? c->ms0 - ms : c->ms0 + ms;
}

unsigned int ss_ipfix_from_record(const struct ss_ct_record *r, uint32_t vni,
				  const struct ss_ipfix_clock *c, struct ss_ipfix_flow out[2])
{
	const struct ss_ct_key *k = &r->key;
	int ports = k->proto == P_TCP || k->proto == P_UDP || k->proto == P_SCTP;
	unsigned int n = 0;

	for (uint8_t side = 0; side < 2; side++) {
		struct ss_ipfix_flow *f = &out[n];
		size_t alen = k->v6 ? 16 : 4;

		if (r->pkts[side] == 0)
			continue;
		memset(f, 0, sizeof(*f));
		f->v6 = k->v6;
		f->proto = k->proto;
		/* the initiator sent in the initiating direction */
		f->direction = side == r->init_side ? r->init_dir : !r->init_dir;
		f->end_reason = r->reason;
		memcpy(f->src, side ? k->b : k->a, alen);
		memcpy(f->dst, side ? k->a : k->b, alen);
		if (ports) {
			f->sport = side ? k->pb : k->pa;
			f->dport = side ? k->pa : k->pb;
		}
		f->octets = r->bytes[side];
		f->packets = r->pkts[side];
		f->start_ms = ss_ipfix_ms(c, r->start);
		f->end_ms = ss_ipfix_ms(c, r->end);
		if (f->end_ms < f->start_ms)
			f->end_ms = f->start_ms;
		f->vni = vni;
		n++;
	}
	return n;
}

void ss_ipfix_msg_init(struct ss_ipfix_msg *m)
{
	m->len = SS_IPFIX_HDR_LEN;
	m->set_off = 0;
	m->set_id = 0;
	m->nb_data = 0;
}

static void set_close(struct ss_ipfix_msg *m)
{
	if (m->set_off == 0)
		return;
	put16(m->buf + m->set_off + 2, (uint16_t)(m->len - m->set_off));
	m->set_off = 0;
	m->set_id = 0;
}

/* Make sure a set `id` is open with room for `need` more bytes. */
static int set_room(struct ss_ipfix_msg *m, uint16_t id, size_t need)
{
	if (m->set_off != 0 && m->set_id == id) {
		if (m->len + need > sizeof(m->buf))
			return -ENOSPC;
		return 0;
	}
	if (m->len + 4 + need > sizeof(m->buf))
		return -ENOSPC;
	set_close(m);
	m->set_off = m->len;
	m->set_id = id;
	put16(m->buf + m->len, id);
	m->len += 4;
	return 0;
}

static size_t tmpl_write(uint8_t *p, uint16_t id, const uint16_t (*f)[2])
{
	uint8_t *q = put16(put16(p, id), (uint16_t)NB_FIELDS);

	for (size_t i = 0; i < NB_FIELDS; i++)
		q = put16(put16(q, f[i][0]), f[i][1]);
	return (size_t)(q - p);
}

int ss_ipfix_msg_add_templates(struct ss_ipfix_msg *m)
{
	size_t need = 2 * (4 + 4 * NB_FIELDS);

	if (set_room(m, SET_TEMPLATE, need) != 0)
		return -ENOSPC;
	m->len += tmpl_write(m->buf + m->len, SS_IPFIX_TMPL_V4, tmpl_v4);
	m->len += tmpl_write(m->buf + m->len, SS_IPFIX_TMPL_V6, tmpl_v6);
	return 0;
}

int ss_ipfix_msg_add(struct ss_ipfix_msg *m, const struct ss_ipfix_flow *f)
{
	size_t alen = f->v6 ? 16 : 4;
	uint8_t *p;

	if (set_room(m, f->v6 ? SS_IPFIX_TMPL_V6 : SS_IPFIX_TMPL_V4,
		     f->v6 ? SS_IPFIX_REC_V6 : SS_IPFIX_REC_V4) != 0)
		return -ENOSPC;
	p = m->buf + m->len;
	p = put64(p, f->octets);
	p = put64(p, f->packets);
	p = put64(p, f->start_ms);
	p = put64(p, f->end_ms);
	p = put64(p, f->vni);
	memcpy(p, f->src, alen);
	p += alen;
	memcpy(p, f->dst, alen);
	p += alen;
	p = put16(p, f->sport);
	p = put16(p, f->dport);
	*p++ = f->proto;
	*p++ = f->direction;
	*p++ = f->end_reason;
	m->len = (size_t)(p - m->buf);
	m->nb_data++;
	return 0;
}

size_t ss_ipfix_msg_finish(struct ss_ipfix_msg *m, uint32_t export_s, uint32_t seq,
			   uint32_t domain)
{
	uint8_t *p = m->buf;

	set_close(m);
	p = put16(p, SS_IPFIX_VERSION);
	p = put16(p, (uint16_t)m->len);
	p = put32(p, export_s);
	p = put32(p, seq);
	put32(p, domain);
	return m->len;
}
