/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_handoff.h: spreading one tunnel's decompression over workers.
 *
 * RSS (or one packet-generator stream) delivers all packets of one tunnel
 * to one worker.  With `ipcomp decompress-workers <list>` the decompress
 * nodes hand packets of tunnel SAs to the `ipcomp4/6-decompress-handoff`
 * node, which spreads them over the listed workers through VPP's frame
 * queues (vlib_buffer_enqueue_to_thread); `ipcomp4/6-decompress-handed`
 * decompresses them there and sends them on to ipip4/6-input on that
 * worker.  The main thread is not used unless named (`main`): VPP pins
 * one thread per CPU, so on a 2-CPU machine main + 1 worker is all there is.
 *
 * Order: runs of `batch` consecutive packets (per receiving thread) go to
 * the same worker, the next run to the next worker.  Packets handed to one
 * worker keep their order; runs on different workers are processed in
 * parallel, so a tunnel's packets can be reordered across run boundaries
 * (by up to about a frame per worker).  Nothing restores the order.
 */

#ifndef included_ipcomp_handoff_h
#define included_ipcomp_handoff_h

#include <ipcomp/ipcomp.h>

#define IPCOMP_HANDOFF_DEFAULT_BATCH	  32
#define IPCOMP_HANDOFF_DEFAULT_QUEUE_SIZE 64 /* VPP's FRAME_QUEUE_MAX_NELTS */

typedef struct
{
  CLIB_CACHE_LINE_ALIGN_MARK (cacheline0);
  u64 n_packets; /* handed off by this thread since the last configuration */
} ipcomp_handoff_per_thread_t;

typedef struct
{
  u16 *thread_indices; /* the listed workers' thread indices; empty: off */
  u32 batch;	       /* consecutive packets per worker */
  u32 queue_size;      /* frame queue elements per thread (startup.conf) */
  u32 fq_index[2];     /* [is_ip6]: frame queues to ipcompX-decompress-handed */
  ipcomp_handoff_per_thread_t *per_thread;
} ipcomp_handoff_main_t;

extern ipcomp_handoff_main_t ipcomp_handoff_main;
extern vlib_node_registration_t ipcomp4_decompress_handed_node;
extern vlib_node_registration_t ipcomp6_decompress_handed_node;

/* Whether a received packet of this SA goes to the handoff node: handoff is
 * on and the SA protects a tunnel (transport SAs stay where they arrived). */
static_always_inline int
ipcomp_handoff_wanted (const ipcomp_sa_t *sa)
{
  return PREDICT_FALSE (vec_len (ipcomp_handoff_main.thread_indices) != 0) &&
	 (sa->flags & IPCOMP_SA_F_TUNNEL);
}

/* Spread over these workers (worker indices, 0-based: thread = worker + 1;
 * a vector) and, with main_thread, the main thread too (after the workers:
 * for machines with fewer cores than main + 2 workers), in runs of batch
 * packets; no worker and no main thread = off.  Main thread only, with the
 * workers stopped at the barrier (CLI, API).  Returns 0, or
 * VNET_API_ERROR_INVALID_WORKER (no such worker, or a worker listed twice),
 * VNET_API_ERROR_INVALID_VALUE (batch 0). */
int ipcomp_handoff_set (const u32 *workers, int main_thread, u32 batch);

/* startup.conf `ipcomp { decompress-queue-size <n> }` (power of two, at
 * least 8 + threads) and the frame queues: called by the plugin's config
 * function once the thread count is known and before workers start. */
clib_error_t *ipcomp_handoff_queues_init (vlib_main_t *vm, u32 queue_size);

#endif /* included_ipcomp_handoff_h */
