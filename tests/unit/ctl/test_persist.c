/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Durability: snapshot + journal round trips, torn journal tails
 * tolerated, corruption refused (never silently dropped), bootstrap file,
 * compaction (ss_ctl_save).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_test_util.h"

#define OK(ctl, m, p) json_decref(t_ok(ctl, m, p))

struct paths {
	char *dir;
	char state[512];
	char journal[520];
	char boot[512];
};

static int
setup(void **state)
{
	struct paths *p = calloc(1, sizeof(*p));

	p->dir = t_tmpdir();
	snprintf(p->state, sizeof(p->state), "%s/sub/state.json", p->dir);  /* dir created */
	snprintf(p->journal, sizeof(p->journal), "%s.journal", p->state);
	snprintf(p->boot, sizeof(p->boot), "%s/objects.json", p->dir);
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct paths *p = *state;

	t_rmdir(p->dir);
	free(p->dir);
	free(p);
	return 0;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	b[n] = '\0';
	*len = (size_t)n;
	return b;
}

static void
spit(const char *path, const void *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
}

/* create + add ports + restore; returns NULL and the error when it fails */
static struct ss_ctl *
open_ctl(const struct paths *p, const char *boot, char *err, size_t errlen)
{
	struct ss_ctl_conf conf = { .socket_path = "/tmp/unused.sock", .state_file = p->state,
				    .bootstrap_file = boot };
	struct ss_ctl *ctl = ss_ctl_create(&conf, NULL);

	assert_non_null(ctl);
	assert_int_equal(ss_ctl_add_port(ctl, "host0", "host"), 0);
	if (ss_ctl_restore(ctl, err, errlen) != 0) {
		ss_ctl_destroy(ctl);
		return NULL;
	}
	return ctl;
}

static struct ss_ctl *
must_open(const struct paths *p)
{
	char err[512];
	struct ss_ctl *ctl = open_ctl(p, NULL, err, sizeof(err));

	if (ctl == NULL)
		fail_msg("restore: %s", err);
	return ctl;
}

/* three commits: gen 1..3 */
static void
populate(struct ss_ctl *ctl)
{
	OK(ctl, "vnet.add", "{\"name\":\"v1\",\"vni\":100}");
	OK(ctl, "txn", "{\"ops\":[{\"method\":\"eni.add\",\"params\":{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\",\"port\":\"host0\"}},"
		"{\"method\":\"mapping.add\",\"params\":{\"entries\":[{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"},"
		"{\"vnet\":\"v1\",\"ip\":\"10.0.0.2\",\"underlay_ip\":\"1.1.1.2\",\"mac\":\"02:00:00:00:00:06\"}]}}]}");
	OK(ctl, "txn", "{\"ops\":[{\"method\":\"mapping.delete\",\"params\":{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\"}},"
		"{\"method\":\"eni.set\",\"params\":{\"name\":\"e1\",\"admin_state\":\"down\"}},"
		"{\"method\":\"flow.config\",\"params\":{\"max_flows\":1000}}]}");
}

static void
test_round_trip(void **state)
{
	struct paths *p = *state;
	struct ss_ctl *ctl = must_open(p);
	char *s1, *s2;
	struct stat st;

	populate(ctl);
	s1 = t_state(ctl);
	assert_int_equal(ss_ctl_generation(ctl), 3);
	ss_ctl_destroy(ctl);
	/* no snapshot yet: the journal alone carries the state */
	assert_int_equal(stat(p->state, &st), -1);
	ctl = must_open(p);
	s2 = t_state(ctl);
	assert_string_equal(s1, s2);
	assert_int_equal(ss_ctl_generation(ctl), 3);
	free(s2);
	/* snapshot, then more commits on top in the journal */
	{
		char err[256];

		assert_int_equal(ss_ctl_save(ctl, err, sizeof(err)), 0);
	}
	assert_int_equal(stat(p->journal, &st), 0);
	assert_int_equal(st.st_size, 8);   /* magic only */
	OK(ctl, "vnet.add", "{\"name\":\"v2\",\"vni\":200}");
	free(s1);
	s1 = t_state(ctl);
	ss_ctl_destroy(ctl);
	ctl = must_open(p);
	s2 = t_state(ctl);
	assert_string_equal(s1, s2);
	assert_int_equal(ss_ctl_generation(ctl), 4);
	free(s1);
	free(s2);
	ss_ctl_destroy(ctl);
}

static void
test_torn_tail(void **state)
{
	struct paths *p = *state;
	struct ss_ctl *ctl = must_open(p);
	char *s_before, *s, *j;
	size_t len, len2;
	struct stat st;

	populate(ctl);
	s_before = t_state(ctl);
	ss_ctl_destroy(ctl);
	/* a crash while appending: a length header announcing more than there is */
	j = slurp(p->journal, &len);
	{
		char *t = malloc(len + 20);

		memcpy(t, j, len);
		memcpy(t + len, "\x40\x00\x00\x00\x12\x34\x56\x78{\"gen\":4,\"ch", 19);
		spit(p->journal, t, len + 19);
		free(t);
	}
	ctl = must_open(p);
	s = t_state(ctl);
	assert_string_equal(s_before, s);
	free(s);
	assert_int_equal(ss_ctl_generation(ctl), 3);
	/* the torn bytes were cut: new commits append after the good records */
	assert_int_equal(stat(p->journal, &st), 0);
	assert_int_equal((size_t)st.st_size, len);
	OK(ctl, "vnet.add", "{\"name\":\"v3\",\"vni\":300}");
	free(s_before);
	s_before = t_state(ctl);
	ss_ctl_destroy(ctl);
	ctl = must_open(p);
	s = t_state(ctl);
	assert_string_equal(s_before, s);
	free(s);
	ss_ctl_destroy(ctl);
	/* a final record complete in length but not in content (CRC fails) */
	free(j);
	j = slurp(p->journal, &len2);
	j[len2 - 3] ^= 0x55;
	spit(p->journal, j, len2);
	ctl = must_open(p);
	assert_int_equal(ss_ctl_generation(ctl), 3);   /* gen 4 discarded */
	assert_null(ss_ctl_store_get(ctl, "vnet", "v3"));
	ss_ctl_destroy(ctl);
	/* only part of the 8-byte record header */
	free(j);
	j = slurp(p->journal, &len);
	{
		char *t = malloc(len + 3);

		memcpy(t, j, len);
		memcpy(t + len, "\x01\x02\x03", 3);
		spit(p->journal, t, len + 3);
		free(t);
	}
	ctl = must_open(p);
	assert_int_equal(ss_ctl_generation(ctl), 3);
	ss_ctl_destroy(ctl);
	free(j);
	free(s_before);
}

static void
test_corruption_refused(void **state)
{
	struct paths *p = *state;
	struct ss_ctl *ctl = must_open(p);
	char err[512], *j, *bad;
	size_t len;

	populate(ctl);
	ss_ctl_destroy(ctl);
	j = slurp(p->journal, &len);
	/* a flipped byte in the first record, with records after it */
	bad = malloc(len);
	memcpy(bad, j, len);
	bad[8 + 8 + 3] ^= 0x01;
	spit(p->journal, bad, len);
	assert_null(open_ctl(p, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "offset 8"));
	assert_non_null(strstr(err, "CRC"));
	assert_non_null(strstr(err, p->journal));
	/* a record missing in the middle: generation gap */
	{
		uint32_t l1 = (uint32_t)(unsigned char)j[8] | (uint32_t)(unsigned char)j[9] << 8 |
			      (uint32_t)(unsigned char)j[10] << 16 | (uint32_t)(unsigned char)j[11] << 24;
		size_t second = 8 + 8 + l1;
		uint32_t l2 = (uint32_t)(unsigned char)j[second] | (uint32_t)(unsigned char)j[second + 1] << 8 |
			      (uint32_t)(unsigned char)j[second + 2] << 16 |
			      (uint32_t)(unsigned char)j[second + 3] << 24;
		size_t third = second + 8 + l2;

		memcpy(bad, j, second);
		memcpy(bad + second, j + third, len - third);
		spit(p->journal, bad, second + len - third);
		assert_null(open_ctl(p, NULL, err, sizeof(err)));
		assert_non_null(strstr(err, "generation 3 follows 1"));
	}
	/* not a journal */
	spit(p->journal, "HELLO WORLD!", 12);
	assert_null(open_ctl(p, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "bad magic"));
	/* corrupt snapshot */
	spit(p->journal, j, len);
	{
		const char *s = "{\"format\":\"sswitch-state\",\"version\":1,\"generation\":0,\"ops\":[";

		spit(p->state, s, strlen(s));
	}
	assert_null(open_ctl(p, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, p->state));
	assert_non_null(strstr(err, "corrupt"));
	/* a snapshot that does not apply is refused with the op */
	{
		const char *s = "{\"format\":\"sswitch-state\",\"version\":1,\"generation\":0,"
				"\"ops\":[{\"method\":\"vnet.add\",\"params\":{\"name\":\"v\",\"vni\":0}}]}";

		spit(p->state, s, strlen(s));
	}
	assert_null(open_ctl(p, NULL, err, sizeof(err)));
	if (strstr(err, "op 0") == NULL)
		fail_msg("%s", err);
	/* and nothing was overwritten meanwhile: with the right files it loads */
	unlink(p->state);
	ctl = open_ctl(p, NULL, err, sizeof(err));
	assert_non_null(ctl);
	assert_int_equal(ss_ctl_generation(ctl), 3);
	ss_ctl_destroy(ctl);
	free(bad);
	free(j);
}

static void
test_bootstrap(void **state)
{
	struct paths *p = *state;
	const char *boot = "{\"ops\":[{\"method\":\"vnet.add\",\"params\":{\"name\":\"bv\",\"vni\":9}},"
			   "{\"method\":\"eni.add\",\"params\":{\"name\":\"be\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"bv\"}}]}";
	char err[512];
	struct ss_ctl *ctl;

	spit(p->boot, boot, strlen(boot));
	ctl = open_ctl(p, p->boot, err, sizeof(err));
	assert_non_null(ctl);
	assert_non_null(ss_ctl_store_get(ctl, "eni", "be"));
	assert_int_equal(ss_ctl_generation(ctl), 1);
	OK(ctl, "eni.set", "{\"name\":\"be\",\"admin_state\":\"down\"}");
	ss_ctl_destroy(ctl);
	/* applied again at every start: the same objects change nothing, and
	 * the ENI changed by the API since keeps its committed value */
	ctl = open_ctl(p, p->boot, err, sizeof(err));
	assert_non_null(ctl);
	assert_int_equal(ss_ctl_generation(ctl), 2);
	assert_string_equal(json_string_value(json_object_get(ss_ctl_store_get(ctl, "eni", "be"),
							      "admin_state")), "down");
	ss_ctl_destroy(ctl);
	/* a bootstrap op that is invalid fails the start, naming file and op */
	boot = "{\"ops\":[{\"method\":\"vnet.add\",\"params\":{\"name\":\"bv\",\"vni\":9}},"
	       "{\"method\":\"vnet.add\",\"params\":{\"name\":\"bad\",\"vni\":0}}]}";
	spit(p->boot, boot, strlen(boot));
	assert_null(open_ctl(p, p->boot, err, sizeof(err)));
	assert_non_null(strstr(err, p->boot));
	assert_non_null(strstr(err, "op 1"));
	/* a bootstrap that is not {"ops": [...]} */
	spit(p->boot, "[1,2]", 5);
	assert_null(open_ctl(p, p->boot, err, sizeof(err)));
}

static void
test_save_requires_restore(void **state)
{
	struct paths *p = *state;
	struct ss_ctl_conf conf = { .socket_path = "/tmp/unused.sock", .state_file = p->state };
	struct ss_ctl *ctl = must_open(p);
	char err[256];

	populate(ctl);
	ss_ctl_destroy(ctl);
	/* a daemon that failed before restoring must not wipe the state */
	ctl = ss_ctl_create(&conf, NULL);
	assert_true(ss_ctl_save(ctl, err, sizeof(err)) < 0);
	ss_ctl_destroy(ctl);
	ctl = must_open(p);
	assert_int_equal(ss_ctl_generation(ctl), 3);
	ss_ctl_destroy(ctl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corruption_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_requires_restore, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
