/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control/validate.h"

int
ss_valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > SS_NAME_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == ':'))
			return -1;
	}
	return 0;
}

static void
fmt_ip4(const uint8_t *a, char *out)
{
	char *p = out;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (i)
			*p++ = '.';
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + (v / 10) % 10);
		*p++ = (char)('0' + v % 10);
	}
	*p = '\0';
}

/* Four decimal parts 0..255 without leading zeros: exactly what glibc's
 * inet_pton(AF_INET) accepts, which remains the judge of anything else. */
static int
parse_ip4(const char *s, size_t len, uint8_t *a)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (digits == 1 && v == 0)
				return -1;   /* leading zero */
			v = v * 10 + (unsigned)(s[i] - '0');
			if (v > 255)
				return -1;
			digits++;
			i++;
		}
		if (digits == 0)
			return -1;
		a[part] = (uint8_t)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
	}
	return i == len ? 0 : -1;
}

int
ss_parse_ip(const char *s, size_t len, int family, struct ss_ip *ip,
	    char out[SS_IP_STRLEN], const char **why)
{
	char buf[SS_IP_STRLEN];
	int v6;

	if (len == 0 || len >= sizeof(buf)) {
		*why = "not an IP address";
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	v6 = memchr(buf, ':', len) != NULL;
	if (family == AF_INET && v6) {
		*why = "an IPv4 address is required";
		return -1;
	}
	if (family == AF_INET6 && !v6) {
		*why = "an IPv6 address is required";
		return -1;
	}
	memset(ip, 0, sizeof(*ip));
	ip->family = v6 ? AF_INET6 : AF_INET;
	if (!v6 && parse_ip4(buf, len, ip->a) == 0) {
		/* the strict dotted quad is its own canonical form */
		memcpy(out, buf, len + 1);
		return 0;
	}
	if (inet_pton(ip->family, buf, ip->a) != 1) {
		*why = v6 ? "not an IPv6 address" : "not an IPv4 address";
		return -1;
	}
	if (v6)
		inet_ntop(AF_INET6, ip->a, out, SS_IP_STRLEN);
	else
		fmt_ip4(ip->a, out);
	return 0;
}

int
ss_parse_prefix(const char *s, size_t len, int family, struct ss_ip *ip, int *plen,
		char out[SS_PREFIX_STRLEN], const char **why)
{
	const char *slash = memchr(s, '/', len);
	char addr[SS_IP_STRLEN];
	size_t alen, i;
	int n = 0, max, bits;

	if (slash == NULL) {
		*why = "a prefix \"address/length\" is required";
		return -1;
	}
	alen = (size_t)(slash - s);
	if (ss_parse_ip(s, alen, family, ip, addr, why) < 0)
		return -1;
	max = ip->family == AF_INET ? 32 : 128;
	if (slash + 1 == s + len || len - alen - 1 > 3) {
		*why = "invalid prefix length";
		return -1;
	}
	for (i = alen + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = "invalid prefix length";
			return -1;
		}
		n = n * 10 + (s[i] - '0');
	}
	if (n > max) {
		*why = ip->family == AF_INET ? "prefix length must be 0..32"
					      : "prefix length must be 0..128";
		return -1;
	}
	/* clear host bits */
	for (bits = 0; bits < max; bits += 8) {
		int idx = bits / 8;

		if (bits >= n)
			ip->a[idx] = 0;
		else if (bits + 8 > n)
			ip->a[idx] &= (uint8_t)(0xff << (8 - (n - bits)));
	}
	if (ip->family == AF_INET)
		fmt_ip4(ip->a, addr);
	else
		inet_ntop(AF_INET6, ip->a, addr, sizeof(addr));
	snprintf(out, SS_PREFIX_STRLEN, "%s/%u", addr, (unsigned int)n & 0xff); /* n <= 128 */
	*plen = n;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ss_parse_mac(const char *s, size_t len, int unicast_only, uint8_t mac[6],
	     char out[18], const char **why)
{
	static const char hex[] = "0123456789abcdef";
	char sep;
	int i;

	if (len != 17) {
		*why = "a MAC address \"aa:bb:cc:dd:ee:ff\" is required";
		return -1;
	}
	sep = s[2];
	if (sep != ':' && sep != '-') {
		*why = "a MAC address \"aa:bb:cc:dd:ee:ff\" is required";
		return -1;
	}
	for (i = 0; i < 6; i++) {
		int h = hexval(s[i * 3]), l = hexval(s[i * 3 + 1]);

		if (h < 0 || l < 0 || (i < 5 && s[i * 3 + 2] != sep)) {
			*why = "a MAC address \"aa:bb:cc:dd:ee:ff\" is required";
			return -1;
		}
		mac[i] = (uint8_t)(h << 4 | l);
		out[i * 3] = hex[h];
		out[i * 3 + 1] = hex[l];
		out[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
	if (unicast_only) {
		if (mac[0] & 1) {
			*why = "a unicast MAC address is required";
			return -1;
		}
		if ((mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0) {
			*why = "the zero MAC address is not allowed";
			return -1;
		}
	}
	return 0;
}

static int
parse_port(const char *s, size_t len, unsigned *v)
{
	unsigned n = 0;
	size_t i;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (unsigned)(s[i] - '0');
	}
	if (n > 65535)
		return -1;
	*v = n;
	return 0;
}

int
ss_parse_port_range(const char *s, size_t len, unsigned *lo, unsigned *hi, const char **why)
{
	const char *dash = memchr(s, '-', len);

	if (dash == NULL) {
		if (parse_port(s, len, lo) < 0) {
			*why = "a port 0..65535 or a range \"a-b\" is required";
			return -1;
		}
		*hi = *lo;
		return 0;
	}
	if (parse_port(s, (size_t)(dash - s), lo) < 0 ||
	    parse_port(dash + 1, len - (size_t)(dash - s) - 1, hi) < 0) {
		*why = "a port 0..65535 or a range \"a-b\" is required";
		return -1;
	}
	if (*lo > *hi) {
		*why = "port range \"a-b\" needs a <= b";
		return -1;
	}
	return 0;
}
