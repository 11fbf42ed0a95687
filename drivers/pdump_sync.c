/* SPDX-License-Identifier: BSD-3-Clause
 *
 * dpdk-dumpcap on a live sswitchd: the grace period DPDK's pdump leaves out.
 *
 * DPDK 22.11's pdump (rte_pdump_init, on the control thread at start)
 * serves a capture client's requests on the EAL IPC thread: ENABLE adds an
 * ethdev rx / tx callback that copies every packet into the client's mempool
 * and ring; DISABLE removes the callback and answers at once. The client
 * (dpdk-dumpcap) then frees that ring and mempool. But removing an ethdev
 * callback does not wait for a worker that is inside it (rte_ethdev.h: the
 * caller must make sure the callback is no longer running before freeing
 * what it uses), so a worker in the middle of a burst copies into a mempool
 * that was just freed. DPDK's allocator zeroes freed memory: the pool's
 * ops_index reads 0, which is the first mempool driver the plugin directory
 * registered (octeontx_fpavf on Debian), and the worker jumps into
 * librte_mempool_octeontx (or memcpy into a freed mbuf): the segfault of
 * issue 13, about one capture in ten (docs/operations.md).
 *
 * sswitchd's workers run the rx and tx bursts inside their graph walk and
 * report an RCU quiescent state between walks, so the missing step is one
 * grace period between the removal and the answer. These two definitions
 * interpose on librte_ethdev's (sswitchd exports them: dataplane/meson.build,
 * sswitchd.dynsym) and add it: the real removal, then, from any thread but a
 * worker, a wait until every worker has finished the walk it was in. pdump
 * answers the client only after that, so the client frees nothing a worker
 * still uses.
 */
#include <dlfcn.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include "dataplane/worker.h"

typedef int (*remove_cb_fn)(uint16_t port_id, uint16_t queue_id,
			    const struct rte_eth_rxtx_callback *user_cb);

/* The thread id a worker reports as (it cannot wait for itself), or
 * RTE_QSBR_THRID_INVALID for any other thread. */
static unsigned int self_thread(void)
{
	unsigned int lcore = rte_lcore_id();

	for (unsigned int i = 0; i < ss_workers.nb; i++)
		if (ss_workers.w[i] != NULL && ss_workers.w[i]->lcore == lcore)
			return ss_workers.w[i]->index;
	return RTE_QSBR_THRID_INVALID;
}

/* Every worker that was inside a burst when the callback was unlinked has
 * left it. Workers never block, so this is at most one graph walk. */
static void callbacks_quiesce(void)
{
	struct rte_rcu_qsbr *v = __atomic_load_n(&ss_qsbr, __ATOMIC_ACQUIRE);

	if (v != NULL)
		rte_rcu_qsbr_synchronize(v, self_thread());
}

static int remove_then_quiesce(const char *sym, remove_cb_fn *real, uint16_t port_id,
			       uint16_t queue_id, const struct rte_eth_rxtx_callback *user_cb)
{
	remove_cb_fn fn = __atomic_load_n(real, __ATOMIC_ACQUIRE);
	int rc;

	if (fn == NULL) {
		fn = (remove_cb_fn)dlsym(RTLD_NEXT, sym);
		if (fn == NULL)
			return -ENOTSUP;
		__atomic_store_n(real, fn, __ATOMIC_RELEASE);
	}
	rc = fn(port_id, queue_id, user_cb);
	if (rc == 0)
		callbacks_quiesce();
	return rc;
}

int rte_eth_remove_rx_callback(uint16_t port_id, uint16_t queue_id,
			       const struct rte_eth_rxtx_callback *user_cb)
{
	static remove_cb_fn real;

	return remove_then_quiesce("rte_eth_remove_rx_callback", &real, port_id, queue_id,
				   user_cb);
}

int rte_eth_remove_tx_callback(uint16_t port_id, uint16_t queue_id,
			       const struct rte_eth_rxtx_callback *user_cb)
{
	static remove_cb_fn real;

	return remove_then_quiesce("rte_eth_remove_tx_callback", &real, port_id, queue_id,
				   user_cb);
}
