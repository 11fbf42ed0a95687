/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "control/objects.h"
#include "control/store.h"

/* ---- big arrays ------------------------------------------------------------ */

/* Large tables (buckets, node chunks) live in their own mappings with
 * transparent huge pages requested: a lookup in a 1M-entry table is a
 * random access, and on a VM a TLB miss costs more than the cache miss
 * (measured: ~40% of the mapping.add time in the bucket walk with 4 KiB
 * pages). */
#define BIG_MIN (1u << 20)

static void *
big_zalloc(size_t size)
{
	void *p;

	if (size < BIG_MIN)
		return calloc(1, size);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, size, MADV_HUGEPAGE);   /* best effort */
	return p;
}

static void
big_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (size < BIG_MIN)
		free(p);
	else
		munmap(p, size);
}

/* ---- hash table ---------------------------------------------------------- */

uint32_t
ss_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

int
ss_hmap_reserve(struct ss_hmap *m, uint32_t n)
{
	struct ss_hent **nb;
	uint32_t size, i;

	/* load factor <= 0.5: chains stay ~1 long, one cache miss per find */
	if (n <= m->nb / 2)
		return 0;
	size = m->nb ? m->nb : 16;
	while (size / 2 < n) {
		if (size >= (1u << 31))
			return -ENOMEM;
		size *= 2;
	}
	nb = big_zalloc((size_t)size * sizeof(*nb));
	if (nb == NULL)
		return -ENOMEM;
	for (i = 0; i < m->nb; i++) {
		struct ss_hent *e = m->b[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (size - 1)];
			nb[e->hash & (size - 1)] = e;
		}
	}
	big_free(m->b, (size_t)m->nb * sizeof(*nb));
	m->b = nb;
	m->nb = size;
	return 0;
}

struct ss_hent *
ss_hmap_find(const struct ss_hmap *m, const char *key, size_t klen, uint32_t hash)
{
	struct ss_hent *e;

	if (m->nb == 0)
		return NULL;
	for (e = m->b[hash & (m->nb - 1)]; e != NULL; e = e->next)
		if (e->hash == hash && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	return NULL;
}

/* Buckets must have been reserved (never allocates). */
static void
hmap_link(struct ss_hmap *m, struct ss_hent *e)
{
	struct ss_hent **b = &m->b[e->hash & (m->nb - 1)];

	e->next = *b;
	*b = e;
	m->n++;
}

static void
hmap_unlink(struct ss_hmap *m, struct ss_hent *e)
{
	struct ss_hent **pp = &m->b[e->hash & (m->nb - 1)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	e->next = NULL;
	m->n--;
}

void
ss_hmap_free(struct ss_hmap *m)
{
	big_free(m->b, (size_t)m->nb * sizeof(*m->b));
	memset(m, 0, sizeof(*m));
}

/* ---- lists ---------------------------------------------------------------- */

static void
dl_init(struct ss_dl *l)
{
	l->prev = l->next = l;
}

static void
dl_add(struct ss_dl *head, struct ss_dl *e)
{
	e->prev = head->prev;
	e->next = head;
	head->prev->next = e;
	head->prev = e;
}

static void
dl_del(struct ss_dl *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = e;
}

/* Move every element of `from` to the empty list `to`. */
static void
dl_move(struct ss_dl *to, struct ss_dl *from)
{
	if (from->next == from) {
		dl_init(to);
		return;
	}
	to->next = from->next;
	to->prev = from->prev;
	to->next->prev = to;
	to->prev->next = to;
	dl_init(from);
}

/* ---- node memory ------------------------------------------------------------ */

/* size bytes at a 2 MiB boundary, so that huge pages can back all of it */
static char *
map_aligned(size_t size)
{
	const size_t align = 2u << 20;
	char *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	size_t head;

	if (p == MAP_FAILED)
		return NULL;
	head = (align - ((uintptr_t)p & (align - 1))) & (align - 1);
	if (head)
		munmap(p, head);
	munmap(p + head + size, align - head);
	return p + head;
}

static void *
pool_alloc(struct ss_pool *p, size_t size)
{
	size_t cls = (size + SS_POOL_CLASS - 1) / SS_POOL_CLASS, bytes = cls * SS_POOL_CLASS;
	void *m;

	if (cls >= SS_POOL_CLASSES)
		return malloc(size);
	if (p->free[cls] != NULL) {
		m = p->free[cls];
		p->free[cls] = *(void **)m;
		return m;
	}
	if (p->left < bytes) {
		void **v = realloc(p->chunks, (p->nchunks + 1) * sizeof(*v));
		char *c;

		if (v == NULL)
			return NULL;
		p->chunks = v;
		c = map_aligned(SS_POOL_CHUNK);
		if (c == NULL)
			return NULL;
		madvise(c, SS_POOL_CHUNK, MADV_HUGEPAGE);   /* best effort */
		p->chunks[p->nchunks++] = c;
		/* the tail of the previous chunk is lost: < 2 KiB per 4 MiB */
		p->cur = c;
		p->left = SS_POOL_CHUNK;
	}
	m = p->cur;
	p->cur += bytes;
	p->left -= bytes;
	return m;
}

static void
pool_free(struct ss_pool *p, void *m, size_t size)
{
	size_t cls = (size + SS_POOL_CLASS - 1) / SS_POOL_CLASS;

	if (cls >= SS_POOL_CLASSES) {
		free(m);
		return;
	}
	*(void **)m = p->free[cls];
	p->free[cls] = m;
}

static void
pool_fini(struct ss_pool *p)
{
	size_t i;

	for (i = 0; i < p->nchunks; i++)
		munmap(p->chunks[i], SS_POOL_CHUNK);
	free(p->chunks);
	memset(p, 0, sizeof(*p));
}

static size_t
node_size(size_t klen, size_t tlen)
{
	return sizeof(struct ss_node) + klen + 1 + tlen + 1;
}

/* ---- nodes ---------------------------------------------------------------- */

void
ss_store_init(struct ss_store *s)
{
	memset(s, 0, sizeof(*s));
}

uint32_t
ss_store_prefetch(struct ss_store *s, int type, const char *key, size_t klen)
{
	const struct ss_hmap *m = &s->map[type];
	uint32_t h = ss_hash(key, klen);

	if (m->nb != 0)
		__builtin_prefetch(&m->b[h & (m->nb - 1)]);
	return h;
}

struct ss_node *
ss_store_find(struct ss_store *s, int type, const char *key, size_t klen)
{
	struct ss_node *n = s->hot;

	if (n != NULL && n->type == type && n->h.klen == klen && memcmp(n->key, key, klen) == 0)
		return n;
	return ss_store_find_hash(s, type, key, klen, ss_hash(key, klen));
}

struct ss_node *
ss_store_find_hash(struct ss_store *s, int type, const char *key, size_t klen, uint32_t hash)
{
	struct ss_node *n;
	struct ss_hent *e;

	e = ss_hmap_find(&s->map[type], key, klen, hash);
	if (e == NULL)
		return NULL;
	n = ss_dl_entry(e, struct ss_node, h);
	s->hot = n;
	return n;
}

struct ss_node *
ss_store_idx_find(struct ss_store *s, int idx, const char *key)
{
	size_t klen = strlen(key);
	struct ss_hent *e = ss_hmap_find(&s->idx[idx], key, klen, ss_hash(key, klen));

	return e ? ss_dl_entry(e, struct ss_idx, h)->owner : NULL;
}

/* Types whose objects can be a parent (named by the first key field of
 * another type that has a reference): they keep a children list. */
static bool
is_parent_type(int type)
{
	int t;

	for (t = 0; t < ss_ntypes; t++) {
		const struct ss_field *f = &ss_types[t]->schema.f[0];

		if ((f->flags & SS_FF_KEY) && f->ref_id == type + 1)
			return true;
	}
	return false;
}

static struct ss_node_ext *
ext_new(void)
{
	struct ss_node_ext *x = calloc(1, sizeof(*x));

	if (x != NULL)
		dl_init(&x->children);
	return x;
}

struct ss_node *
ss_node_new(struct ss_store *s, int type, const char *key, size_t klen, const char *text,
	    size_t tlen, const json_t *obj)
{
	const struct ss_type *t = ss_types[type];
	struct ss_node *n;
	int i;

	n = pool_alloc(&s->pool, node_size(klen, tlen));
	if (n == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->h.key = n->key;
	n->h.klen = (uint32_t)klen;
	memcpy(n->key, key, klen);
	n->key[klen] = '\0';
	memcpy(ss_node_text(n), text, tlen);
	ss_node_text(n)[tlen] = '\0';
	n->tlen = (uint32_t)tlen;
	n->type = (uint8_t)type;
	n->h.hash = ss_hash(key, klen);
	dl_init(&n->sib);
	if (t->idx[0] >= 0 || is_parent_type(type)) {
		n->ext = ext_new();
		if (n->ext == NULL) {
			ss_node_free(s, n);
			return NULL;
		}
	}
	for (i = 0; i < SS_NODE_IDX; i++) {
		char ikey[SS_KEY_MAX];
		struct ss_idx *x;
		size_t ilen;

		if (t->idx[i] < 0 || t->idx_key(obj, i, ikey, sizeof(ikey)) != 0)
			continue;
		ilen = strlen(ikey);
		x = malloc(sizeof(*x) + ilen + 1);
		if (x == NULL) {
			ss_node_free(s, n);
			return NULL;
		}
		memset(x, 0, sizeof(*x));
		memcpy(x->key, ikey, ilen + 1);
		x->h.key = x->key;
		x->h.klen = (uint32_t)ilen;
		x->h.hash = ss_hash(ikey, ilen);
		x->owner = n;
		x->which = (uint8_t)t->idx[i];
		n->ext->idx[i] = x;
	}
	return n;
}

void
ss_node_free(struct ss_store *s, struct ss_node *n)
{
	int i;

	if (n == NULL)
		return;
	if (s->hot == n)
		s->hot = NULL;
	if (n->ext != NULL) {
		for (i = 0; i < SS_NODE_IDX; i++)
			free(n->ext->idx[i]);
		json_decref(n->ext->cache);
		free(n->ext);
	}
	pool_free(&s->pool, n, node_size(n->h.klen, n->tlen));
}

json_t *
ss_node_value(struct ss_node *n)
{
	json_t *values, *obj;

	if (n->ext != NULL && n->ext->cache != NULL)
		return json_incref(n->ext->cache);
	/* the text was produced by our serialiser: only ENOMEM can fail */
	values = ss_json_parse(ss_node_text(n), n->tlen, NULL, 0);
	if (values == NULL)
		return NULL;
	obj = ss_schema_expand_json(&ss_types[n->type]->schema, values);
	json_decref(values);
	return obj;
}

const json_t *
ss_node_obj(struct ss_node *n)
{
	if (n->ext == NULL && (n->ext = ext_new()) == NULL)
		return NULL;
	if (n->ext->cache == NULL)
		n->ext->cache = ss_node_value(n);
	return n->ext->cache;
}

/* ---- linking ---------------------------------------------------------------- */

static int
log_reserve(struct ss_log *l)
{
	struct ss_log_ent *v;
	size_t cap;

	if (l->n < l->cap)
		return 0;
	cap = l->cap ? l->cap * 2 : 64;
	v = realloc(l->v, cap * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	l->v = v;
	l->cap = cap;
	return 0;
}

static int
reserve_for(struct ss_store *s, const struct ss_node *n)
{
	int i;

	if (log_reserve(&s->log) < 0 ||
	    ss_hmap_reserve(&s->map[n->type], s->map[n->type].n + 1) < 0)
		return -ENOMEM;
	for (i = 0; i < SS_NODE_IDX; i++) {
		struct ss_idx *x = ss_node_idx(n, i);

		if (x != NULL && ss_hmap_reserve(&s->idx[x->which], s->idx[x->which].n + 1) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Adjust the reference counts of what obj references; returns the parent
 * (the object named by the first key field with a reference) or NULL. */
/* Nodes stored without a value at hand (bulk_raw types): their only
 * reference is the first key field, the key up to its first '/'. */
static struct ss_node *
adjust_key_refs(struct ss_store *s, int type, const char *key, int delta)
{
	const struct ss_field *f = &ss_types[type]->schema.f[0];
	const char *slash;
	struct ss_node *t;

	if (!(f->flags & SS_FF_KEY) || !f->ref_id)
		return NULL;
	slash = strchr(key, '/');
	t = ss_store_find(s, f->ref_id - 1, key, slash ? (size_t)(slash - key) : strlen(key));
	if (t != NULL)
		t->refs = (uint32_t)((int)t->refs + delta);
	return t;
}

static struct ss_node *
adjust_refs(struct ss_store *s, int type, const char *key, const json_t *obj, int delta)
{
	struct ss_ref refs[SS_MAX_REFS];
	struct ss_node *parent = NULL;
	int i, n;

	if (obj == NULL)
		return adjust_key_refs(s, type, key, delta);
	n = ss_schema_refs(ss_types[type], obj, refs, SS_MAX_REFS);

	for (i = 0; i < n; i++) {
		struct ss_node *t = ss_store_find(s, refs[i].type, refs[i].key,
						  strlen(refs[i].key));

		/* existence was validated before the link; keep going if not */
		if (t == NULL)
			continue;
		t->refs = (uint32_t)((int)t->refs + delta);
		if (refs[i].is_key && parent == NULL)
			parent = t;
	}
	return parent;
}

/* Put n (with value obj) into the store: map, indexes, refs, parent. */
static void
do_link(struct ss_store *s, struct ss_node *n, const json_t *obj)
{
	struct ss_node *p;
	int i;

	hmap_link(&s->map[n->type], &n->h);
	for (i = 0; i < SS_NODE_IDX; i++)
		if (ss_node_idx(n, i) != NULL)
			hmap_link(&s->idx[n->ext->idx[i]->which], &n->ext->idx[i]->h);
	p = adjust_refs(s, n->type, n->key, obj, +1);
	if (p != NULL)
		dl_add(&p->ext->children, &n->sib);   /* parents have an ext */
}

static void
do_unlink(struct ss_store *s, struct ss_node *n, const json_t *obj)
{
	int i;

	if (s->hot == n)
		s->hot = NULL;   /* only linked nodes may be found */

	dl_del(&n->sib);
	adjust_refs(s, n->type, n->key, obj, -1);
	for (i = 0; i < SS_NODE_IDX; i++)
		if (ss_node_idx(n, i) != NULL)
			hmap_unlink(&s->idx[n->ext->idx[i]->which], &n->ext->idx[i]->h);
	hmap_unlink(&s->map[n->type], &n->h);
}

int
ss_store_link(struct ss_store *s, struct ss_node *n, json_t *obj)
{
	struct ss_log_ent *e;

	if (reserve_for(s, n) < 0)
		return -ENOMEM;
	do_link(s, n, obj);
	e = &s->log.v[s->log.n++];
	memset(e, 0, sizeof(*e));
	e->kind = SS_LOG_LINK;
	e->node = n;
	e->obj = json_incref(obj);
	return 0;
}

int
ss_store_unlink(struct ss_store *s, struct ss_node *n, json_t *old_obj)
{
	struct ss_log_ent *e;

	if (log_reserve(&s->log) < 0)
		return -ENOMEM;
	do_unlink(s, n, old_obj);
	e = &s->log.v[s->log.n++];
	memset(e, 0, sizeof(*e));
	e->kind = SS_LOG_UNLINK;
	e->node = n;
	e->old_obj = json_incref(old_obj);
	return 0;
}

static void
transfer(struct ss_node *to, struct ss_node *from)
{
	to->refs = from->refs;
	from->refs = 0;
	if (to->ext != NULL && from->ext != NULL)   /* same type: both or neither */
		dl_move(&to->ext->children, &from->ext->children);
}

int
ss_store_replace(struct ss_store *s, struct ss_node *old, struct ss_node *n,
		 json_t *old_obj, json_t *obj)
{
	struct ss_log_ent *e;

	if (reserve_for(s, n) < 0)
		return -ENOMEM;
	do_unlink(s, old, old_obj);
	do_link(s, n, obj);
	transfer(n, old);
	e = &s->log.v[s->log.n++];
	memset(e, 0, sizeof(*e));
	e->kind = SS_LOG_REPLACE;
	e->node = n;
	e->old = old;
	e->obj = json_incref(obj);
	e->old_obj = json_incref(old_obj);
	return 0;
}

void
ss_store_rollback(struct ss_store *s)
{
	size_t i = s->log.n;

	while (i-- > 0) {
		struct ss_log_ent *e = &s->log.v[i];

		switch (e->kind) {
		case SS_LOG_LINK:
			do_unlink(s, e->node, e->obj);
			ss_node_free(s, e->node);
			break;
		case SS_LOG_UNLINK:
			do_link(s, e->node, e->old_obj);
			break;
		case SS_LOG_REPLACE:
			do_unlink(s, e->node, e->obj);
			do_link(s, e->old, e->old_obj);
			transfer(e->old, e->node);
			ss_node_free(s, e->node);
			break;
		}
		json_decref(e->obj);
		json_decref(e->old_obj);
	}
	s->log.n = 0;
}

/* A node a commit removed (unlinked: its h.next is free): freed now, or
 * by the last unpin. */
static void
release_node(struct ss_store *s, struct ss_node *n)
{
	if (s->pins == 0) {
		ss_node_free(s, n);
		return;
	}
	n->h.next = s->deferred;
	s->deferred = &n->h;
}

static void
free_deferred(struct ss_store *s)
{
	while (s->deferred != NULL) {
		struct ss_hent *e = s->deferred;

		s->deferred = e->next;
		ss_node_free(s, ss_dl_entry(e, struct ss_node, h));
	}
}

void
ss_store_pin(struct ss_store *s)
{
	s->pins++;
}

void
ss_store_unpin(struct ss_store *s)
{
	if (s->pins > 0 && --s->pins == 0)
		free_deferred(s);
}

void
ss_store_release(struct ss_store *s)
{
	size_t i;

	for (i = 0; i < s->log.n; i++) {
		struct ss_log_ent *e = &s->log.v[i];

		if (e->kind == SS_LOG_UNLINK)
			release_node(s, e->node);
		else if (e->kind == SS_LOG_REPLACE)
			release_node(s, e->old);
		json_decref(e->obj);
		json_decref(e->old_obj);
	}
	s->log.n = 0;
	/* do not keep a huge log array around after a bulk load */
	if (s->log.cap > 65536) {
		free(s->log.v);
		s->log.v = NULL;
		s->log.cap = 0;
	}
}

static int
cmp_node_key(const void *a, const void *b)
{
	const struct ss_node *x = *(struct ss_node *const *)a;
	const struct ss_node *y = *(struct ss_node *const *)b;

	return strcmp(x->key, y->key);
}

void
ss_nodes_sort(struct ss_node **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_node_key);
}

int
ss_store_nodes(struct ss_store *s, int type, bool sorted, struct ss_node ***out, size_t *n)
{
	struct ss_hmap *m = &s->map[type];
	struct ss_node **v;
	size_t k = 0;
	uint32_t i;

	*out = NULL;
	*n = 0;
	if (m->n == 0)
		return 0;
	v = malloc(m->n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (i = 0; i < m->nb; i++) {
		struct ss_hent *e;

		for (e = m->b[i]; e != NULL; e = e->next)
			v[k++] = ss_dl_entry(e, struct ss_node, h);
	}
	if (sorted)
		ss_nodes_sort(v, k);
	*out = v;
	*n = k;
	return 0;
}

void
ss_store_fini(struct ss_store *s)
{
	int t, i;

	for (t = 0; t < SS_TYPES_MAX; t++) {
		struct ss_hmap *m = &s->map[t];
		uint32_t b;

		for (b = 0; b < m->nb; b++) {
			struct ss_hent *e = m->b[b], *next;

			for (; e != NULL; e = next) {
				next = e->next;
				ss_node_free(s, ss_dl_entry(e, struct ss_node, h));
			}
		}
		ss_hmap_free(m);
	}
	for (i = 0; i < SS_IDX_MAX; i++)
		ss_hmap_free(&s->idx[i]);
	free_deferred(s);
	free(s->log.v);
	pool_fini(&s->pool);
	memset(s, 0, sizeof(*s));
}
