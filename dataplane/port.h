/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SS_PORT_H
#define SS_PORT_H

#include <stddef.h>

#include "dataplane/config.h"
#include "dataplane/port-t.h"

/* Probe, configure and set up the queues of every configured port, with mbuf
 * pools on each port's NUMA node. Ports are not started. Control thread,
 * after rte_eal_init. 0 or -1 with a message naming the port in err. */
int ss_ports_init(const struct ss_config *cfg, char *err, size_t errlen);
/* Start every port. 0 or -1 with err. */
int ss_ports_start(char *err, size_t errlen);
/* Stop and close every port: pcap outputs are flushed and closed. */
void ss_ports_close(void);
/* Index of a port by name, SS_PORT_NONE if absent. */
uint16_t ss_port_by_name(const char *name);

#endif
