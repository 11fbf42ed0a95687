/* SPDX-License-Identifier: BSD-3-Clause
 *
 * API errors (base layer of the control plane): the JSON-RPC / API error
 * codes of SPEC section 4 and the error being built by a request: code,
 * message, data.field path and data.index. Every control/ layer and every
 * feature's object type (semantic checks) reports through these.
 */
#ifndef SS_CTL_ERR_H
#define SS_CTL_ERR_H

/* JSON-RPC / API error codes (SPEC section 4). */
enum {
	SS_RPC_PARSE_ERROR = -32700,
	SS_RPC_INVALID_REQUEST = -32600,
	SS_RPC_METHOD_NOT_FOUND = -32601,
	SS_RPC_INVALID_PARAMS = -32602,
	SS_RPC_INTERNAL = -32603,
	SS_ERR_NOT_FOUND = 1001,
	SS_ERR_EXISTS = 1002,
	SS_ERR_IN_USE = 1003,
	SS_ERR_CAPACITY = 1004,
	SS_ERR_NOT_SUPPORTED = 1005,
	SS_ERR_PERMISSION = 1006,
};

/* An API error being built: code, message, data.field path, data.index. */
struct ss_err {
	int code;
	int index;                   /* txn op index or -1 */
	char field[192];
	char msg[384];
};

void ss_err_init(struct ss_err *e);
/* Fill e and return -1 (so `return ss_err_set(...)`). field may be NULL. */
int ss_err_set(struct ss_err *e, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prepend a path component: "entries[3]" + "ip" -> "entries[3].ip". */
void ss_err_prefix(struct ss_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* SS_CTL_ERR_H */
