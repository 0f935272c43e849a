/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_async.c: the asynchronous path's plumbing (see ipcomp_async.h):
 * next arcs from every node to its -post twin, the dequeue input node, the
 * per-SA offload counters.
 *
 * ipcomp-async-dequeue is an input node, disabled while nothing is in
 * flight on its thread.  In polling mode (default) the first accepted
 * enqueue switches it to polling and it switches itself off when the last
 * operation came back; in interrupt mode an enqueue raises its interrupt
 * and it re-raises it while operations remain.  No thread ever waits for a
 * device: the main loop keeps running other nodes in between.  It runs
 * while its thread's order queue has entries or a device holds ops
 * (ipcomp_async.h, "Order").
 */

#include <ipcomp/ipcomp.h>
#include <ipcomp/ipcomp_async.h>

ipcomp_async_main_t ipcomp_async_main;

static char *ipcomp_offload_sa_counter_names[] = {
#define _(sym, name, desc) "/net/ipcomp/sa/" name,
  foreach_ipcomp_offload_sa_counter
#undef _
};

static char *ipcomp_offload_dev_counter_names[] = {
#define _(sym, name, desc) "/net/ipcomp/offload/" name,
  foreach_ipcomp_offload_dev_counter
#undef _
};

static char *ipcomp_fallback_reason_names[] = { "none",
#define _(sym, name, desc) name,
						foreach_ipcomp_fallback_reason
#undef _
};

STATIC_ASSERT (IPCOMP_OFFLOAD_SA_QUEUE_FULL == IPCOMP_FALLBACK_QUEUE_FULL &&
		 IPCOMP_OFFLOAD_SA_TIMEOUT == IPCOMP_FALLBACK_TIMEOUT,
	       "per-SA fallback counters follow the reasons");

u8 *
format_ipcomp_fallback_reason (u8 *s, va_list *args)
{
  u32 r = va_arg (*args, u32);
  return format (
    s, "%s", r < ARRAY_LEN (ipcomp_fallback_reason_names) ? ipcomp_fallback_reason_names[r] : "?");
}

/* Without DPDK the compressdev section is refused with a clear message */
__clib_weak clib_error_t *
ipcomp_compressdev_config (vlib_main_t *vm, unformat_input_t *input)
{
  return clib_error_return (0, "ipcomp: this build has no DPDK compressdev support "
			       "(libdpdk-dev was not found when the plugin was built)");
}

void
ipcomp_async_dequeue_arm (vlib_main_t *vm, ipcomp_async_per_thread_t *apt)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  if (am->interrupt_mode)
    {
      vlib_node_set_interrupt_pending (vm, ipcomp_async_dequeue_node.index);
      return;
    }
  if (!apt->dequeue_active)
    {
      vlib_node_set_state (vm, ipcomp_async_dequeue_node.index, VLIB_NODE_STATE_POLLING);
      apt->dequeue_active = 1;
    }
}

/* The offload entries exist in every VPP with the plugin, device or not
 * (README.md lists them); idempotent, main thread. */
void
ipcomp_async_stats_init (void)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  u32 i;

  if (am->ready)
    return;
  for (i = 0; i < IPCOMP_OFFLOAD_SA_N_COUNTERS; i++)
    {
      am->sa_counters[i].name = ipcomp_offload_sa_counter_names[i] + strlen ("/net/ipcomp/");
      am->sa_counters[i].stat_segment_name = ipcomp_offload_sa_counter_names[i];
      vlib_validate_combined_counter (&am->sa_counters[i], 0);
      vlib_zero_combined_counter (&am->sa_counters[i], 0);
    }
  for (i = 0; i < IPCOMP_OFFLOAD_DEV_N_COUNTERS; i++)
    {
      am->dev_counters[i].name = ipcomp_offload_dev_counter_names[i] + strlen ("/net/ipcomp/");
      am->dev_counters[i].stat_segment_name = ipcomp_offload_dev_counter_names[i];
      vlib_validate_simple_counter (&am->dev_counters[i], 0);
      vlib_zero_simple_counter (&am->dev_counters[i], 0);
    }
  am->latency_hist.stat_segment_name = "/net/ipcomp/offload/latency-clocks";
  am->latency_hist.min_exp = IPCOMP_OFFLOAD_LAT_MIN_EXP;
  vlib_validate_log2_histogram (&am->latency_hist, IPCOMP_OFFLOAD_LAT_N_BINS);
  am->device_names = vlib_stats_add_string_vector ("/net/ipcomp/offload/devices");
  am->ready = 1;
}

void
ipcomp_async_sa_added (u32 sa_index)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  ipcomp_async_per_thread_t *apt;
  u32 i;
  /* not zeroed: entries of a deleted SA with this index may still be
   * queued, and leave through the count */
  vec_foreach (apt, am->per_thread)
    vec_validate (apt->sa_queued, sa_index);
  if (!am->ready)
    return;
  for (i = 0; i < IPCOMP_OFFLOAD_SA_N_COUNTERS; i++)
    {
      vlib_validate_combined_counter (&am->sa_counters[i], sa_index);
      vlib_zero_combined_counter (&am->sa_counters[i], sa_index);
    }
}

void
ipcomp_async_set_timeout (u32 ms)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  am->timeout_ms = ms;
  am->timeout_clocks = (u64) (ms * 1e-3 * vlib_get_main ()->clib_time.clocks_per_second);
}

/* Mark the ops an engine returned ready in the order queue; an op whose
 * entry is gone (timed out) is late: counted, its buffer not touched */
static_always_inline void
ipcomp_async_mark_done (vlib_main_t *vm, ipcomp_async_per_thread_t *apt, ipcomp_async_frame_t *f)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  u32 i, n_late = 0;

  for (i = 0; i < f->n_ops; i++)
    {
      ipcomp_async_op_t *o = &f->ops[i];
      ipcomp_async_order_t *q = &apt->order[o->seq & (IPCOMP_ASYNC_ORDER_SIZE - 1)];
      ipcomp_async_result_t *r;
      if (PREDICT_FALSE (q->seq != o->seq || q->state != IPCOMP_ASYNC_ORDER_PENDING ||
			 q->buffer_index != o->buffer_index))
	{
	  n_late++;
	  continue;
	}
      r = ipcomp_async_result (vlib_get_buffer (vm, o->buffer_index));
      if (o->fallback)
	{
	  r->status = IPCOMP_ASYNC_STATUS_FALLBACK;
	  r->reason = o->fallback;
	  r->clocks = 0;
	  q->state = IPCOMP_ASYNC_ORDER_READY;
	}
      else
	{
	  u64 dt = o->t_dequeue - o->t_enqueue;
	  r->status = o->status;
	  r->reason = 0;
	  r->data = o->out;
	  r->out_len = o->out_len;
	  r->clocks = dt > CLIB_U32_MAX ? CLIB_U32_MAX : dt;
	  q->state = IPCOMP_ASYNC_ORDER_READY_HW;
	  apt->n_ready_hw++;
	}
    }
  f->n_ops = 0;
  if (n_late)
    vlib_increment_simple_counter (&am->dev_counters[IPCOMP_OFFLOAD_DEV_LATE], vm->thread_index, 0,
				   n_late);
}

static uword
ipcomp_async_dequeue_fn (vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  ipcomp_async_per_thread_t *apt = vec_elt_at_index (am->per_thread, vm->thread_index);
  u32 bis[VLIB_FRAME_SIZE];
  u16 nexts[VLIB_FRAME_SIZE];
  u32 *eip, n = 0, n_inflight_all = 0, mask = IPCOMP_ASYNC_ORDER_SIZE - 1;
  u64 now;

  /* one dequeue per dispatch, and none while device results wait in the
   * queue: an engine's outputs stay valid until its next dequeue, and the
   * -post nodes run before this node runs again */
  if (PREDICT_TRUE (!apt->n_ready_hw))
    vec_foreach (eip, am->async_engine_indices)
      {
	ipcomp_engine_t *e = vec_elt_at_index (ipcomp_main.engines, *eip);
	u32 n_inflight = 0;
	ipcomp_async_frame_t *f = e->dequeue (vm, &n_inflight);

	n_inflight_all += n_inflight;
	if (f && f->n_ops)
	  ipcomp_async_mark_done (vm, apt, f);
      }

  /* send the ready head of the queue, in order; a pending head past the
   * time-out is finished without its op */
  now = clib_cpu_time_now ();
  while (apt->order_head != apt->order_tail && n < VLIB_FRAME_SIZE)
    {
      ipcomp_async_order_t *q = &apt->order[apt->order_head & mask];
      if (q->state == IPCOMP_ASYNC_ORDER_PENDING)
	{
	  ipcomp_async_result_t *r;
	  ipcomp_engine_t *e;
	  if (now - q->t_enqueue < am->timeout_clocks)
	    break;
	  r = ipcomp_async_result (vlib_get_buffer (vm, q->buffer_index));
	  r->status = IPCOMP_ASYNC_STATUS_FALLBACK;
	  r->reason = IPCOMP_FALLBACK_TIMEOUT;
	  r->clocks = 0;
	  e = vec_elt_at_index (ipcomp_main.engines, q->engine_index);
	  if (e->op_timeout)
	    e->op_timeout (vm, q->sa_index);
	}
      else if (q->state == IPCOMP_ASYNC_ORDER_READY_HW)
	apt->n_ready_hw--;
      bis[n] = q->buffer_index;
      nexts[n] = am->dequeue_next[q->kind];
      n++;
      if (q->sa_index < vec_len (apt->sa_queued) && apt->sa_queued[q->sa_index])
	apt->sa_queued[q->sa_index]--;
      q->state = IPCOMP_ASYNC_ORDER_FREE;
      apt->order_head++;
    }
  if (n)
    vlib_buffer_enqueue_to_next (vm, node, bis, nexts, n);

  if (n_inflight_all == 0 && apt->order_head == apt->order_tail)
    {
      if (!am->interrupt_mode && apt->dequeue_active)
	{
	  vlib_node_set_state (vm, node->node_index, VLIB_NODE_STATE_DISABLED);
	  apt->dequeue_active = 0;
	}
    }
  else if (am->interrupt_mode)
    vlib_node_set_interrupt_pending (vm, node->node_index);
  return n;
}

VLIB_REGISTER_NODE (ipcomp_async_dequeue_node) = {
  .function = ipcomp_async_dequeue_fn,
  .name = "ipcomp-async-dequeue",
  .type = VLIB_NODE_TYPE_INPUT,
  .state = VLIB_NODE_STATE_DISABLED,
  .vector_size = sizeof (u32),
};

static clib_error_t *
ipcomp_async_init (vlib_main_t *vm)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  u32 pre[IPCOMP_ASYNC_N_KINDS] = {
    [IPCOMP_ASYNC_KIND_COMPRESS4] = ipcomp4_compress_node.index,
    [IPCOMP_ASYNC_KIND_COMPRESS6] = ipcomp6_compress_node.index,
    [IPCOMP_ASYNC_KIND_TCOMPRESS4] = ipcomp4_transport_compress_node.index,
    [IPCOMP_ASYNC_KIND_TCOMPRESS6] = ipcomp6_transport_compress_node.index,
    [IPCOMP_ASYNC_KIND_DECOMPRESS4] = ipcomp4_decompress_node.index,
    [IPCOMP_ASYNC_KIND_DECOMPRESS6] = ipcomp6_decompress_node.index,
  };
  u32 post[IPCOMP_ASYNC_N_KINDS] = {
    [IPCOMP_ASYNC_KIND_COMPRESS4] = ipcomp4_compress_post_node.index,
    [IPCOMP_ASYNC_KIND_COMPRESS6] = ipcomp6_compress_post_node.index,
    [IPCOMP_ASYNC_KIND_TCOMPRESS4] = ipcomp4_transport_compress_post_node.index,
    [IPCOMP_ASYNC_KIND_TCOMPRESS6] = ipcomp6_transport_compress_post_node.index,
    [IPCOMP_ASYNC_KIND_DECOMPRESS4] = ipcomp4_decompress_post_node.index,
    [IPCOMP_ASYNC_KIND_DECOMPRESS6] = ipcomp6_decompress_post_node.index,
  };
  u32 k;

  for (k = 0; k < IPCOMP_ASYNC_N_KINDS; k++)
    {
      am->post_node_index[k] = post[k];
      am->pre_to_post_next[k] = vlib_node_add_next (vm, pre[k], post[k]);
      am->dequeue_next[k] = vlib_node_add_next (vm, ipcomp_async_dequeue_node.index, post[k]);
    }
  return 0;
}

VLIB_INIT_FUNCTION (ipcomp_async_init) = {
  .runs_after = VLIB_INITS ("ipcomp_init"),
};

static clib_error_t *
ipcomp_async_main_loop_enter (vlib_main_t *vm)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  ipcomp_async_per_thread_t *apt;
  ipcomp_engine_t *e;

  vec_validate_aligned (am->per_thread, vlib_get_n_threads () - 1, CLIB_CACHE_LINE_BYTES);
  vec_foreach (e, ipcomp_main.engines)
    if (e->flags & IPCOMP_ENGINE_F_ASYNC)
      vec_add1 (am->async_engine_indices, e->index);
  ipcomp_async_set_timeout (am->timeout_ms ? am->timeout_ms : IPCOMP_ASYNC_DEFAULT_TIMEOUT_MS);
  if (vec_len (am->async_engine_indices))
    vec_foreach (apt, am->per_thread)
      {
	vec_validate_aligned (apt->order, IPCOMP_ASYNC_ORDER_SIZE - 1, CLIB_CACHE_LINE_BYTES);
	if (pool_len (ipcomp_main.sas))
	  vec_validate (apt->sa_queued, pool_len (ipcomp_main.sas) - 1);
      }

  ipcomp_async_stats_init ();
  if (vec_len (am->async_engine_indices) && am->interrupt_mode)
    foreach_vlib_main ()
      vlib_node_set_state (this_vlib_main, ipcomp_async_dequeue_node.index,
			   VLIB_NODE_STATE_INTERRUPT);
  return 0;
}

VLIB_MAIN_LOOP_ENTER_FUNCTION (ipcomp_async_main_loop_enter);
