/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Capacities: the one place where the default and the hard maximum of every
 * bounded table are defined. Used by the config loader (dataplane/config.c,
 * which refuses a value above the maximum with file:line: key: reason), by
 * the object store (ss_ctl_limits defaults, control/ctl.c) and by the data
 * plane tables (pipelines/overlay/ovl_tables.c sizes its arrays and pools).
 *
 * A maximum is what the data plane can hold, not a wish: a VNET index is 16
 * bits in the overlay (packet metadata, route next hops), underlay routes
 * are LPM next hops (21 bits). Everything else is bounded by
 * SS_LIM_TABLE_MAX, the largest table a DPU-class machine is sized for.
 */
#ifndef SS_CTL_LIMITS_H
#define SS_CTL_LIMITS_H

#define SS_LIM_TABLE_MAX (64u * 1024 * 1024)

/* Defaults and maxima of the `tables` section (0 in ss_ctl_limits: the
 * default). */
#define SS_LIM_DEF_VNETS 16384u
#define SS_LIM_MAX_VNETS 65535u                 /* 16-bit VNET index */
#define SS_LIM_DEF_ENIS 4096u
#define SS_LIM_DEF_MAPPINGS 8388608u            /* SPEC section 6 */
#define SS_LIM_DEF_ROUTES 1048576u
#define SS_LIM_DEF_INBOUND_ROUTES 65536u
#define SS_LIM_DEF_UNDERLAY_ROUTES 65536u
#define SS_LIM_MAX_UNDERLAY_ROUTES ((1u << 21) - 1)   /* LPM next hops */
#define SS_LIM_DEF_ACL_GROUPS 4096u
#define SS_LIM_DEF_ACL_RULES 262144u
#define SS_LIM_DEF_RDMA_POLICIES 4096u
#define SS_LIM_DEF_VIPS 1024u
#define SS_LIM_DEF_PA_VALIDATIONS 1048576u

/* X(config key in `tables`, struct ss_ctl_limits field, object type,
 *   default, maximum) */
#define SS_TABLE_LIMITS(X)                                                                   \
	X(vnets, max_vnets, "vnet", SS_LIM_DEF_VNETS, SS_LIM_MAX_VNETS)                      \
	X(enis, max_enis, "eni", SS_LIM_DEF_ENIS, SS_LIM_TABLE_MAX)                          \
	X(mappings, max_mappings, "mapping", SS_LIM_DEF_MAPPINGS, SS_LIM_TABLE_MAX)          \
	X(routes, max_routes, "route", SS_LIM_DEF_ROUTES, SS_LIM_TABLE_MAX)                  \
	X(inbound_routes, max_inbound_routes, "inbound_route", SS_LIM_DEF_INBOUND_ROUTES,    \
	  SS_LIM_TABLE_MAX)                                                                  \
	X(underlay_routes, max_underlay_routes, "underlay_route", SS_LIM_DEF_UNDERLAY_ROUTES, \
	  SS_LIM_MAX_UNDERLAY_ROUTES)                                                        \
	X(acl_groups, max_acl_groups, "acl_group", SS_LIM_DEF_ACL_GROUPS, SS_LIM_TABLE_MAX)  \
	X(acl_rules, max_acl_rules, "acl_rule", SS_LIM_DEF_ACL_RULES, SS_LIM_TABLE_MAX)      \
	X(rdma_policies, max_rdma_policies, "rdma.policy", SS_LIM_DEF_RDMA_POLICIES,         \
	  SS_LIM_TABLE_MAX)                                                                  \
	X(vips, max_vips, "vip", SS_LIM_DEF_VIPS, SS_LIM_TABLE_MAX)                          \
	X(pa_validations, max_pa_validations, "pa_validation", SS_LIM_DEF_PA_VALIDATIONS,    \
	  SS_LIM_TABLE_MAX)

/* Types without a config key declare their capacity (ss_type.capacity). */
#define SS_LIM_DEF_DIRECTIONS 4096u

/* Flow table (`flows` section, flow.config) and RDMA settings (`rdma`
 * section, rdma.config): defaults and bounds. */
#define SS_LIM_DEF_MAX_FLOWS 1048576u
#define SS_LIM_MAX_FLOWS SS_LIM_TABLE_MAX
#define SS_LIM_DEF_IDLE_TIMEOUT_MS 30000u
#define SS_LIM_DEF_FIN_TIMEOUT_MS 2000u
#define SS_LIM_MAX_TIMEOUT_MS 86400000u
#define SS_LIM_DEF_QP_TABLE_SIZE 65536u
#define SS_LIM_MAX_QP_TABLE_SIZE SS_LIM_TABLE_MAX
#define SS_LIM_DEF_QP_IDLE_MS 60000u
#define SS_LIM_DEF_RDMA_DATA_DSCP 26u
#define SS_LIM_DEF_RDMA_CNP_DSCP 48u

/* The control socket and the state file (`control` section; server.c,
 * persist.c, docs/control.md): defaults and bounds. */
#define SS_CTL_DEF_IDLE_TIMEOUT_S 60u
#define SS_CTL_MAX_IDLE_TIMEOUT_S 86400u
#define SS_CTL_DEF_REQUEST_TIMEOUT_MS 10000u
#define SS_CTL_MIN_REQUEST_TIMEOUT_MS 100u
#define SS_CTL_MAX_REQUEST_TIMEOUT_MS 600000u
#define SS_CTL_DEF_MAX_CLIENTS 256u
#define SS_CTL_MAX_MAX_CLIENTS 4096u
#define SS_CTL_DEF_MAX_CLIENTS_PER_UID 64u
#define SS_CTL_DEF_MAX_BUFFERED_MB 256u
#define SS_CTL_MIN_MAX_BUFFERED_MB 34u       /* two requests of 16 MiB and their reads */
#define SS_CTL_MAX_MAX_BUFFERED_MB 65536u
#define SS_CTL_DEF_SNAPSHOT_INTERVAL_S 10u
#define SS_CTL_MAX_SNAPSHOT_INTERVAL_S 86400u

#endif /* SS_CTL_LIMITS_H */
