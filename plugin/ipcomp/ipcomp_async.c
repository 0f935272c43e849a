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
 * device: the main loop keeps running other nodes in between.
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
		 IPCOMP_OFFLOAD_SA_DATA_ERROR == IPCOMP_FALLBACK_DATA_ERROR,
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
  u32 i;
  if (!am->ready)
    return;
  for (i = 0; i < IPCOMP_OFFLOAD_SA_N_COUNTERS; i++)
    {
      vlib_validate_combined_counter (&am->sa_counters[i], sa_index);
      vlib_zero_combined_counter (&am->sa_counters[i], sa_index);
    }
}

static uword
ipcomp_async_dequeue_fn (vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  ipcomp_async_per_thread_t *apt = vec_elt_at_index (am->per_thread, vm->thread_index);
  u32 bis[VLIB_FRAME_SIZE];
  u16 nexts[VLIB_FRAME_SIZE];
  u32 *eip, n_total = 0, n_inflight_all = 0;

  vec_foreach (eip, am->async_engine_indices)
    {
      ipcomp_engine_t *e = vec_elt_at_index (ipcomp_main.engines, *eip);
      u32 n_inflight = 0, i;
      /* one dequeue per dispatch: the outputs stay valid until the next
       * one, and the -post nodes run before this node runs again */
      ipcomp_async_frame_t *f = e->dequeue (vm, &n_inflight);

      n_inflight_all += n_inflight;
      if (!f || !f->n_ops)
	continue;
      for (i = 0; i < f->n_ops; i++)
	{
	  ipcomp_async_op_t *o = &f->ops[i];
	  vlib_buffer_t *b = vlib_get_buffer (vm, o->buffer_index);
	  ipcomp_async_result_t *r = ipcomp_async_result (b);
	  if (o->fallback)
	    {
	      r->status = IPCOMP_ASYNC_STATUS_FALLBACK;
	      r->reason = o->fallback;
	      r->clocks = 0;
	    }
	  else
	    {
	      u64 dt = o->t_dequeue - o->t_enqueue;
	      r->status = o->status;
	      r->reason = 0;
	      r->data = o->out;
	      r->out_len = o->out_len;
	      r->clocks = dt > CLIB_U32_MAX ? CLIB_U32_MAX : dt;
	    }
	  bis[i] = o->buffer_index;
	  nexts[i] = am->dequeue_next[o->kind];
	}
      vlib_buffer_enqueue_to_next (vm, node, bis, nexts, f->n_ops);
      n_total += f->n_ops;
      f->n_ops = 0;
    }

  apt->n_inflight = n_inflight_all;
  if (n_inflight_all == 0)
    {
      if (!am->interrupt_mode && apt->dequeue_active)
	{
	  vlib_node_set_state (vm, node->node_index, VLIB_NODE_STATE_DISABLED);
	  apt->dequeue_active = 0;
	}
    }
  else if (am->interrupt_mode)
    vlib_node_set_interrupt_pending (vm, node->node_index);
  return n_total;
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
  ipcomp_engine_t *e;

  vec_validate_aligned (am->per_thread, vlib_get_n_threads () - 1, CLIB_CACHE_LINE_BYTES);
  vec_foreach (e, ipcomp_main.engines)
    if (e->flags & IPCOMP_ENGINE_F_ASYNC)
      vec_add1 (am->async_engine_indices, e->index);

  ipcomp_async_stats_init ();
  if (vec_len (am->async_engine_indices) && am->interrupt_mode)
    foreach_vlib_main ()
      vlib_node_set_state (this_vlib_main, ipcomp_async_dequeue_node.index,
			   VLIB_NODE_STATE_INTERRUPT);
  return 0;
}

VLIB_MAIN_LOOP_ENTER_FUNCTION (ipcomp_async_main_loop_enter);
