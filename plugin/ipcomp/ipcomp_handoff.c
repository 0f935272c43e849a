/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_handoff.c: decompression of one tunnel on several workers.
 *
 *   ipcomp decompress-workers [<list>] [main] [batch <n>]
 *                         e.g. 0-1 (worker indices); main: the main thread too
 *   ipcomp decompress-workers off
 *   show ipcomp decompress-workers
 *   startup.conf: ipcomp { decompress-queue-size <n> }
 *
 * ipcomp4/6-decompress find the SA of a received packet; with handoff on, a
 * tunnel SA's packet goes to ipcomp4/6-decompress-handoff instead of being
 * decompressed there.  This node picks a worker per packet (runs of `batch`
 * consecutive packets per worker, see ipcomp_handoff.h for the order this
 * keeps) and enqueues the frame to those threads' frame queues, as VPP's
 * own handoff nodes do (ipsec_handoff.c, the reassembly handoffs).  On the
 * worker the frame queue feeds ipcomp4/6-decompress-handed (a twin of the
 * decompress node that never hands off again; its counters are the
 * decompress node's).  A frame queue that is full drops the packets,
 * counted as `congestion-drop`; every packet the node takes is either
 * `handed-off` or `congestion-drop`.
 */

#include <ipcomp/ipcomp_handoff.h>

ipcomp_handoff_main_t ipcomp_handoff_main;

#define foreach_ipcomp_handoff_error                                                               \
  _ (HANDED_OFF, "handed-off", INFO, "handed to a decompress worker")                              \
  _ (CONGESTION_DROP, "congestion-drop", ERROR, "worker's frame queue full (dropped)")

typedef enum
{
#define _(sym, name, sev, str) IPCOMP_HANDOFF_ERROR_##sym,
  foreach_ipcomp_handoff_error
#undef _
    IPCOMP_HANDOFF_N_ERROR,
} ipcomp_handoff_error_t;

static vlib_error_desc_t ipcomp_handoff_error_counters[] = {
#define _(sym, n, sev, str) { .name = n, .desc = str, .severity = VL_COUNTER_SEVERITY_##sev },
  foreach_ipcomp_handoff_error
#undef _
};

typedef struct
{
  u64 seq;
  u16 thread_index;
} ipcomp_handoff_trace_t;

static u8 *
format_ipcomp_handoff_trace (u8 *s, va_list *args)
{
  CLIB_UNUSED (vlib_main_t * vm) = va_arg (*args, vlib_main_t *);
  CLIB_UNUSED (vlib_node_t * node) = va_arg (*args, vlib_node_t *);
  ipcomp_handoff_trace_t *t = va_arg (*args, ipcomp_handoff_trace_t *);

  return format (s, "ipcomp-handoff: packet %lu to thread %u", t->seq, t->thread_index);
}

static_always_inline uword
ipcomp_decompress_handoff_inline (vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame,
				  int is_ip6)
{
  ipcomp_handoff_main_t *hm = &ipcomp_handoff_main;
  ipcomp_handoff_per_thread_t *ptd = vec_elt_at_index (hm->per_thread, vm->thread_index);
  u16 thread_indices[VLIB_FRAME_SIZE];
  u32 *from = vlib_frame_vector_args (frame);
  u32 n = frame->n_vectors, n_workers = vec_len (hm->thread_indices), n_enq, i;
  u64 seq = ptd->n_packets;

  for (i = 0; i < n; i++)
    /* turned off between the decompress node and here cannot happen (the
     * barrier waits for the frame); if it did, the packet stays here */
    thread_indices[i] =
      n_workers ? hm->thread_indices[(seq + i) / hm->batch % n_workers] : vm->thread_index;

  if (PREDICT_FALSE (node->flags & VLIB_NODE_FLAG_TRACE))
    for (i = 0; i < n; i++)
      {
	vlib_buffer_t *b = vlib_get_buffer (vm, from[i]);
	if (b->flags & VLIB_BUFFER_IS_TRACED)
	  {
	    ipcomp_handoff_trace_t *t = vlib_add_trace (vm, node, b, sizeof (*t));
	    t->seq = seq + i;
	    t->thread_index = thread_indices[i];
	  }
      }
  ptd->n_packets = seq + n;

  n_enq = vlib_buffer_enqueue_to_thread (vm, node, hm->fq_index[is_ip6], from, thread_indices, n,
					 1 /* drop on congestion */);
  vlib_node_increment_counter (vm, node->node_index, IPCOMP_HANDOFF_ERROR_HANDED_OFF, n_enq);
  if (n_enq < n)
    vlib_node_increment_counter (vm, node->node_index, IPCOMP_HANDOFF_ERROR_CONGESTION_DROP,
				 n - n_enq);
  return n;
}

VLIB_NODE_FN (ipcomp4_decompress_handoff_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_decompress_handoff_inline (vm, node, frame, 0);
}

VLIB_NODE_FN (ipcomp6_decompress_handoff_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_decompress_handoff_inline (vm, node, frame, 1);
}

VLIB_REGISTER_NODE (ipcomp4_decompress_handoff_node) = {
  .name = "ipcomp4-decompress-handoff",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_handoff_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .n_errors = IPCOMP_HANDOFF_N_ERROR,
  .error_counters = ipcomp_handoff_error_counters,
  .n_next_nodes = 1,
  .next_nodes = {
    [0] = "error-drop",
  },
};

VLIB_REGISTER_NODE (ipcomp6_decompress_handoff_node) = {
  .name = "ipcomp6-decompress-handoff",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_handoff_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .n_errors = IPCOMP_HANDOFF_N_ERROR,
  .error_counters = ipcomp_handoff_error_counters,
  .n_next_nodes = 1,
  .next_nodes = {
    [0] = "error-drop",
  },
};

/* While the main thread is one of the decompress threads it polls, as a
 * worker does: VPP's main loop otherwise sleeps in epoll whenever no input
 * node polls, and frames queued to it meanwhile wait (measured: the main
 * thread then got a fifth of its core and a third of the packets were
 * congestion drops).  This input node only keeps it awake. */
VLIB_NODE_FN (ipcomp_decompress_main_poll_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return 0;
}

VLIB_REGISTER_NODE (ipcomp_decompress_main_poll_node) = {
  .name = "ipcomp-decompress-main-poll",
  .type = VLIB_NODE_TYPE_INPUT,
  .state = VLIB_NODE_STATE_DISABLED,
};

#ifndef CLIB_MARCH_VARIANT

int
ipcomp_handoff_set (const u32 *workers, int main_thread, u32 batch)
{
  ipcomp_handoff_main_t *hm = &ipcomp_handoff_main;
  uword *seen = 0;
  u16 *tis = 0;
  const u32 *w;
  int rv = 0;

  if (batch == 0)
    return VNET_API_ERROR_INVALID_VALUE;
  vec_foreach (w, workers)
    {
      if (*w >= vlib_num_workers () || clib_bitmap_get (seen, *w))
	{
	  rv = VNET_API_ERROR_INVALID_WORKER;
	  goto done;
	}
      seen = clib_bitmap_set (seen, *w, 1);
      vec_add1 (tis, vlib_get_worker_thread_index (*w));
    }
  if (main_thread)
    vec_add1 (tis, 0);
  vlib_node_set_state (vlib_get_main_by_index (0), ipcomp_decompress_main_poll_node.index,
		       main_thread ? VLIB_NODE_STATE_POLLING : VLIB_NODE_STATE_DISABLED);

  vec_free (hm->thread_indices);
  hm->thread_indices = tis;
  tis = 0;
  hm->batch = batch;
  /* runs start at a known point (the tests rely on it) */
  for (u32 i = 0; i < vec_len (hm->per_thread); i++)
    hm->per_thread[i].n_packets = 0;
  IPCOMP_LOG_NOTICE ("decompress-workers: %u threads (main %s), batch %u",
		     vec_len (hm->thread_indices), main_thread ? "yes" : "no", batch);
done:
  vec_free (tis);
  clib_bitmap_free (seen);
  return rv;
}

clib_error_t *
ipcomp_handoff_queues_init (vlib_main_t *vm, u32 queue_size)
{
  ipcomp_handoff_main_t *hm = &ipcomp_handoff_main;
  u32 n_threads = vlib_get_thread_main ()->n_vlib_mains;

  if (queue_size == 0)
    queue_size = IPCOMP_HANDOFF_DEFAULT_QUEUE_SIZE;
  if (!is_pow2 (queue_size) || queue_size < 8 + n_threads)
    return clib_error_return (0,
			      "ipcomp: decompress-queue-size %u: a power of two, at least 8 + the "
			      "number of threads (%u)",
			      queue_size, n_threads);
  hm->queue_size = queue_size;
  hm->batch = IPCOMP_HANDOFF_DEFAULT_BATCH;
  vec_validate_aligned (hm->per_thread, n_threads - 1, CLIB_CACHE_LINE_BYTES);
  hm->fq_index[0] = vlib_frame_queue_main_init (ipcomp4_decompress_handed_node.index, queue_size);
  hm->fq_index[1] = vlib_frame_queue_main_init (ipcomp6_decompress_handed_node.index, queue_size);
  return 0;
}

static clib_error_t *
ipcomp_decompress_workers_command_fn (vlib_main_t *vm, unformat_input_t *input,
				      vlib_cli_command_t *cmd)
{
  ipcomp_handoff_main_t *hm = &ipcomp_handoff_main;
  unformat_input_t _line, *line = &_line;
  clib_error_t *err = 0;
  uword *bitmap = 0;
  u32 *workers = 0, batch = hm->batch, w;
  int off = 0, main_thread = 0, rv;

  if (!unformat_user (input, unformat_line_input, line))
    return clib_error_return (0, "expected a worker list or 'off'");
  while (unformat_check_input (line) != UNFORMAT_END_OF_INPUT)
    {
      if (unformat (line, "off"))
	off = 1;
      else if (unformat (line, "main"))
	main_thread = 1;
      else if (unformat (line, "batch %u", &batch))
	;
      else if (!bitmap && unformat (line, "%U", unformat_bitmap_list, &bitmap))
	;
      else
	{
	  err = clib_error_return (0, "unknown input '%U'", format_unformat_error, line);
	  goto done;
	}
    }
  if (off == (bitmap != 0 || main_thread))
    {
      err = clib_error_return (0, "expected a worker list (and/or 'main') or 'off'");
      goto done;
    }
  clib_bitmap_foreach (w, bitmap)
    vec_add1 (workers, w);
  rv = ipcomp_handoff_set (workers, main_thread, batch);
  if (rv == VNET_API_ERROR_INVALID_WORKER)
    err = clib_error_return (0,
			     "no such worker, or one listed twice (workers 0..%d; 'main' for the "
			     "main thread)",
			     (int) vlib_num_workers () - 1);
  else if (rv)
    err = clib_error_return (0, "batch must be at least 1");
done:
  vec_free (workers);
  clib_bitmap_free (bitmap);
  unformat_free (line);
  return err;
}

VLIB_CLI_COMMAND (ipcomp_decompress_workers_command, static) = {
  .path = "ipcomp decompress-workers",
  .short_help = "ipcomp decompress-workers [<worker-list>] [main] [batch <n>] | off",
  .function = ipcomp_decompress_workers_command_fn,
};

static clib_error_t *
ipcomp_show_decompress_workers_command_fn (vlib_main_t *vm, unformat_input_t *input,
					   vlib_cli_command_t *cmd)
{
  ipcomp_handoff_main_t *hm = &ipcomp_handoff_main;
  u16 *ti;

  if (vec_len (hm->thread_indices) == 0)
    vlib_cli_output (vm, "decompress-workers: off (queue-size %u)", hm->queue_size);
  else
    {
      u8 *s = 0;
      vec_foreach (ti, hm->thread_indices)
	s = *ti ? format (s, " %u", vlib_get_worker_index (*ti)) : format (s, " main");
      vlib_cli_output (vm, "decompress-workers:%v batch %u (queue-size %u)", s, hm->batch,
		       hm->queue_size);
      vec_free (s);
    }
  return 0;
}

VLIB_CLI_COMMAND (ipcomp_show_decompress_workers_command, static) = {
  .path = "show ipcomp decompress-workers",
  .short_help = "show ipcomp decompress-workers",
  .function = ipcomp_show_decompress_workers_command_fn,
};

#endif /* CLIB_MARCH_VARIANT */
