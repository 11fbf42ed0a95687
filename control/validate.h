/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Parsing and normalisation of the value syntaxes of the control API:
 * addresses, prefixes, MACs, port ranges, object names. Pure functions, no
 * allocation: each writes the canonical text form into a caller buffer.
 */
#ifndef SS_CTL_VALIDATE_H
#define SS_CTL_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#define SS_NAME_MAX 63           /* object names: [A-Za-z0-9_.:-]{1,63} */
#define SS_IP_STRLEN 46          /* INET6_ADDRSTRLEN */
#define SS_PREFIX_STRLEN 50

/* An address of either family. */
struct ss_ip {
	int family;              /* AF_INET or AF_INET6 */
	uint8_t a[16];           /* network order; IPv4 in a[0..3] */
};

/* 0 if `s` (len bytes, not NUL-terminated) is a valid object name. */
int ss_valid_name(const char *s, size_t len);

/* Parse an address of the given family (0: either). Writes the canonical
 * text (IPv4 dotted quad, IPv6 RFC 5952 form as inet_ntop prints it) to
 * out. Returns 0 or -1 (with a reason in *why). */
int ss_parse_ip(const char *s, size_t len, int family, struct ss_ip *ip,
		char out[SS_IP_STRLEN], const char **why);

/* Parse "addr/len"; host bits are cleared ("10.1.2.3/8" -> "10.0.0.0/8"). */
int ss_parse_prefix(const char *s, size_t len, int family, struct ss_ip *ip, int *plen,
		    char out[SS_PREFIX_STRLEN], const char **why);

/* Parse a MAC "aa:bb:cc:dd:ee:ff" (also '-' separated, any case); writes the
 * lowercase colon form. unicast_only refuses multicast/broadcast and zero. */
int ss_parse_mac(const char *s, size_t len, int unicast_only, uint8_t mac[6],
		 char out[18], const char **why);

/* Parse a port range "a-b" or "a" (decimal, 0..65535, a <= b). */
int ss_parse_port_range(const char *s, size_t len, unsigned *lo, unsigned *hi,
			const char **why);

#endif /* SS_CTL_VALIDATE_H */
