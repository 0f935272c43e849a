/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_async.h: the asynchronous path shared by every node and every
 * asynchronous engine (issue 4).
 *
 * A node that meets an SA whose engine is asynchronous does everything up to
 * the engine call, then submits the packet (ipcomp_async_step, pre pass) and
 * leaves it out of its next frame.  At the end of its frame the node hands
 * all submitted packets to the engine in one enqueue (ipcomp_async_flush);
 * packets the engine refuses (queue full, device error, no device) go
 * straight to the node's "-post" twin marked for fallback.  The dequeue node
 * (ipcomp-async-dequeue, an input node in polling or interrupt mode) collects
 * completed operations and sends them to the same "-post" twins.
 *
 * A "-post" node runs the very same node function with is_post set: it
 * repeats the cheap checks (lookups, header parsing), takes the engine's
 * result from the buffer instead of calling an engine (ipcomp_async_step,
 * post pass) and finishes the packet exactly as the synchronous path does;
 * error counters are those of the original node.  A fallback result runs the
 * best software engine there, or drops the packet when the policy says so.
 * Every packet is thus counted once, under one reason.
 *
 * Order (one path per SA while it has ops in flight, as VPP's async ESP):
 * each thread keeps an order queue of the packets it handed to the
 * asynchronous path, in the order its nodes saw them, and per SA the
 * number of them still queued.  At the end of a pre pass every op goes in
 * (pending, or ready when the engine refused it), and so does any other
 * packet of an SA with entries queued (ready, "pass": the pre pass already
 * finished and counted it).  The dequeue node marks ops ready as the engine
 * returns them and sends the queue's ready head, in order, to the -post
 * nodes.  A pending head older than the op time-out is finished by the
 * software fallback (reason "timeout", or dropped under policy drop) and the
 * engine is told (it marks the device failed); the op, when it comes back,
 * no longer matches its entry and is only counted as late.  When the queue
 * has no room for a frame, that frame's packets take their paths at once
 * (counted as reordered).
 */

#ifndef included_ipcomp_async_h
#define included_ipcomp_async_h

#include <vnet/buffer.h>
#include <ipcomp/ipcomp.h>

/* Which -post node finishes a packet */
typedef enum
{
  IPCOMP_ASYNC_KIND_COMPRESS4 = 0,
  IPCOMP_ASYNC_KIND_COMPRESS6,
  IPCOMP_ASYNC_KIND_TCOMPRESS4,
  IPCOMP_ASYNC_KIND_TCOMPRESS6,
  IPCOMP_ASYNC_KIND_DECOMPRESS4,
  IPCOMP_ASYNC_KIND_DECOMPRESS6,
  IPCOMP_ASYNC_N_KINDS,
} ipcomp_async_kind_t;

/* Why a packet did not take the hardware path.  Names are frozen: they are
 * part of the per-SA counter names (README.md). */
#define foreach_ipcomp_fallback_reason                                                             \
  _ (QUEUE_FULL, "queue-full", "the device queue pair was full")                                   \
  _ (DEVICE_ERROR, "device-error", "the device failed or is marked failed")                        \
  _ (NO_DEVICE, "no-device", "no device for this thread")                                          \
  _ (TOO_BIG, "too-big", "input or output larger than the device buffers")                         \
  _ (DATA_ERROR, "data-error", "the device rejected the data; software gives the exact reason")   \
  _ (TIMEOUT, "timeout", "the device did not return the op within op-timeout-ms")

typedef enum
{
  IPCOMP_FALLBACK_NONE = 0,
#define _(sym, name, desc) IPCOMP_FALLBACK_##sym,
  foreach_ipcomp_fallback_reason
#undef _
    IPCOMP_FALLBACK_N_REASONS,
} ipcomp_fallback_reason_t;

/* Per-SA offload counters (combined: packets, payload bytes in) */
#define foreach_ipcomp_offload_sa_counter                                                          \
  _ (HW, "offload-hw", "packets the device processed")                                             \
  _ (QUEUE_FULL, "offload-fallback-queue-full", "software fallback: queue pair full")              \
  _ (DEVICE_ERROR, "offload-fallback-device-error", "software fallback: device failed")            \
  _ (NO_DEVICE, "offload-fallback-no-device", "software fallback: no device")                      \
  _ (TOO_BIG, "offload-fallback-too-big", "software fallback: beyond the device buffers")          \
  _ (DATA_ERROR, "offload-fallback-data-error", "device data error, classified in software")       \
  _ (TIMEOUT, "offload-fallback-timeout", "software fallback: the op timed out on the device")      \
  _ (DROPPED, "offload-dropped", "dropped by the drop policy instead of a fallback")

typedef enum
{
#define _(sym, name, desc) IPCOMP_OFFLOAD_SA_##sym,
  foreach_ipcomp_offload_sa_counter
#undef _
    IPCOMP_OFFLOAD_SA_N_COUNTERS,
} ipcomp_offload_sa_counter_t;

/* Per device and queue pair: simple counters [thread = queue pair][device] */
#define foreach_ipcomp_offload_dev_counter                                                         \
  _ (ENQUEUED, "enqueued", "operations the device accepted")                                       \
  _ (DEQUEUED, "dequeued", "operations that came back")                                            \
  _ (ENQUEUE_ERRORS, "enqueue-errors", "operations the device refused (queue full)")               \
  _ (DEQUEUE_ERRORS, "dequeue-errors", "operations that came back with an error status")           \
  _ (OUT_OF_SPACE, "out-of-space", "operations that came back out of space")                       \
  _ (LATE, "late", "operations that came back after their time-out (discarded)")                   \
  _ (REORDERED, "reordered", "packets sent at once because the order queue was full")

typedef enum
{
#define _(sym, name, desc) IPCOMP_OFFLOAD_DEV_##sym,
  foreach_ipcomp_offload_dev_counter
#undef _
    IPCOMP_OFFLOAD_DEV_N_COUNTERS,
} ipcomp_offload_dev_counter_t;

#define IPCOMP_OFFLOAD_LAT_MIN_EXP 6  /* first bin: < 128 clocks */
#define IPCOMP_OFFLOAD_LAT_N_BINS  24 /* last bin: >= 2^29 clocks */

/* Codec statuses of the asynchronous step beyond ipcomp_codec_status_t */
#define IPCOMP_CODEC_ASYNC_SUBMITTED 100 /* pre pass: the packet left the frame */
#define IPCOMP_CODEC_ASYNC_DROP	     101 /* post pass: dropped by the policy */
/* result status: run the software fallback */
#define IPCOMP_ASYNC_STATUS_FALLBACK (-1)
/* result status: finished by the pre pass, the -post node only sends it on */
#define IPCOMP_ASYNC_STATUS_PASS (-2)
/* next[] marker of a submitted packet in a pre pass */
#define IPCOMP_ASYNC_NEXT_PENDING 0xffff
/* next[] marker of a packet put in the order queue at flush */
#define IPCOMP_ASYNC_NEXT_QUEUED 0xfffe
/* order queue entries per thread (a power of 2) */
#define IPCOMP_ASYNC_ORDER_SIZE 8192
#define IPCOMP_ASYNC_DEFAULT_TIMEOUT_MS 100

/* The engine's answer, carried in the buffer from dequeue to -post node */
typedef struct
{
  u8 *data;    /* output bytes (valid until the next dequeue on this thread) */
  u32 out_len; /* output length */
  u32 clocks;  /* enqueue-to-dequeue CPU clocks (saturated) */
  u16 next;    /* transport mode: the feature arc's next of the pre pass */
  i8 status;   /* ipcomp_codec_status_t or IPCOMP_ASYNC_STATUS_FALLBACK */
  u8 reason;   /* ipcomp_fallback_reason_t */
} ipcomp_async_result_t;

STATIC_ASSERT (sizeof (ipcomp_async_result_t) <= sizeof (((vnet_buffer_opaque2_t *) 0)->unused),
	       "async result fits in vnet_buffer2 unused space");

static_always_inline ipcomp_async_result_t *
ipcomp_async_result (vlib_buffer_t *b)
{
  return (ipcomp_async_result_t *) vnet_buffer2 (b)->unused;
}

typedef enum
{
  IPCOMP_ASYNC_POLICY_FALLBACK = 0,
  IPCOMP_ASYNC_POLICY_DROP,
} ipcomp_async_policy_t;

typedef enum
{
  IPCOMP_ASYNC_ORDER_FREE = 0,
  IPCOMP_ASYNC_ORDER_PENDING, /* on the device */
  IPCOMP_ASYNC_ORDER_READY,   /* result (or pass) in the buffer */
  IPCOMP_ASYNC_ORDER_READY_HW, /* device result: its output lives until the next dequeue */
} ipcomp_async_order_state_t;

/* One packet in the order queue */
typedef struct
{
  u64 t_enqueue; /* CPU clocks when it entered */
  u32 buffer_index;
  u32 sa_index;
  u32 seq; /* matches the op's seq while pending */
  u8 kind; /* ipcomp_async_kind_t: its -post node */
  u8 state; /* ipcomp_async_order_state_t */
  u8 engine_index;
} ipcomp_async_order_t;

typedef struct
{
  CLIB_CACHE_LINE_ALIGN_MARK (cacheline0);
  ipcomp_async_frame_t pending; /* submitted by the node that runs now */
  u32 engine_index;		/* of the pending ops */
  u8 dequeue_active;		/* dequeue node state is polling/interrupt armed */
  /* the order queue: entries head..tail-1 (seq numbers, mod the size) */
  u32 order_head;
  u32 order_tail;
  u32 n_ready_hw;	      /* device results queued but not sent yet */
  ipcomp_async_order_t *order; /* IPCOMP_ASYNC_ORDER_SIZE entries */
  u32 *sa_queued;	      /* [sa_index]: entries of the SA in the queue */
} ipcomp_async_per_thread_t;

typedef struct
{
  ipcomp_async_per_thread_t *per_thread;
  /* next index from a pre node to its -post twin, and from the dequeue node */
  u16 pre_to_post_next[IPCOMP_ASYNC_N_KINDS];
  u16 dequeue_next[IPCOMP_ASYNC_N_KINDS];
  u32 post_node_index[IPCOMP_ASYNC_N_KINDS];
  u32 *async_engine_indices;
  u8 policy;	     /* ipcomp_async_policy_t */
  u8 interrupt_mode; /* dequeue node: interrupt instead of polling */
  u8 ready;
  u32 timeout_ms;     /* op time-out (compressdev op-timeout-ms) */
  u64 timeout_clocks; /* the same in CPU clocks */
  vlib_combined_counter_main_t sa_counters[IPCOMP_OFFLOAD_SA_N_COUNTERS];
  /* devices of asynchronous engines (index: device, names below) */
  vlib_simple_counter_main_t dev_counters[IPCOMP_OFFLOAD_DEV_N_COUNTERS];
  vlib_log2_histogram_main_t latency_hist; /* enqueue to dequeue, clocks */
  vlib_stats_string_vector_t device_names;
} ipcomp_async_main_t;

extern ipcomp_async_main_t ipcomp_async_main;
extern vlib_node_registration_t ipcomp_async_dequeue_node;
extern vlib_node_registration_t ipcomp4_compress_post_node;
extern vlib_node_registration_t ipcomp6_compress_post_node;
extern vlib_node_registration_t ipcomp4_transport_compress_post_node;
extern vlib_node_registration_t ipcomp6_transport_compress_post_node;
extern vlib_node_registration_t ipcomp4_decompress_post_node;
extern vlib_node_registration_t ipcomp6_decompress_post_node;

/* ipcomp_async.c */
void ipcomp_async_stats_init (void);
void ipcomp_async_sa_added (u32 sa_index);
void ipcomp_async_dequeue_arm (vlib_main_t *vm, ipcomp_async_per_thread_t *apt);
void ipcomp_async_set_timeout (u32 ms);
format_function_t format_ipcomp_fallback_reason;
/* engine_compressdev.c (a stub without DPDK) */
clib_error_t *ipcomp_compressdev_config (vlib_main_t *vm, unformat_input_t *input);

/* Pre pass: queue the packet for the engine.  Post pass: take the engine's
 * result (or run the software fallback).  Returns an ipcomp_codec_status_t,
 * IPCOMP_CODEC_ASYNC_SUBMITTED or IPCOMP_CODEC_ASYNC_DROP; *dt is the engine
 * time to account for the call. */
static_always_inline int
ipcomp_async_step (vlib_main_t *vm, ipcomp_engine_t *e, void *ctx, vlib_buffer_t *b, int is_post,
		   ipcomp_op_type_t op, ipcomp_async_kind_t kind, u32 sa_index, u32 offset,
		   const u8 *in, u32 len, u8 *out, u32 cap, u32 *out_len, u64 *dt, u16 post_next)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  u32 thread_index = vm->thread_index;
  ipcomp_async_result_t *r = ipcomp_async_result (b);
  int rv;

  if (!is_post)
    {
      ipcomp_async_per_thread_t *apt = vec_elt_at_index (am->per_thread, thread_index);
      ipcomp_async_op_t *o;
      if (PREDICT_FALSE (apt->pending.n_ops && apt->engine_index != e->index))
	{
	  /* one asynchronous engine per frame: this frame's ops are another
	   * engine's, so this packet takes its software fallback now, counted
	   * as a full queue */
	  u64 t0;
	  vlib_increment_combined_counter (&am->sa_counters[IPCOMP_OFFLOAD_SA_QUEUE_FULL],
					   thread_index, sa_index, 1, len);
	  t0 = clib_cpu_time_now ();
	  rv = e->ops[op](ctx, in, len, out, cap, out_len);
	  *dt = clib_cpu_time_now () - t0;
	  return rv;
	}
      o = &apt->pending.ops[apt->pending.n_ops++];
      ASSERT (apt->pending.n_ops <= VLIB_FRAME_SIZE);
      apt->engine_index = e->index;
      o->buffer_index = vlib_get_buffer_index (vm, b);
      o->sa_index = sa_index;
      o->in_len = len;
      o->out_len = 0;
      o->status = 0;
      o->op = op;
      o->next = 0;
      o->kind = kind;
      o->fallback = 0;
      o->in_offset = offset;
      o->out_cap = cap;
      o->ctx = ctx;
      o->out = 0;
      r->next = post_next;
      return IPCOMP_CODEC_ASYNC_SUBMITTED;
    }

  if (PREDICT_FALSE (r->status == IPCOMP_ASYNC_STATUS_FALLBACK))
    {
      u64 t0;
      if (am->policy == IPCOMP_ASYNC_POLICY_DROP && r->reason != IPCOMP_FALLBACK_DATA_ERROR)
	{
	  vlib_increment_combined_counter (&am->sa_counters[IPCOMP_OFFLOAD_SA_DROPPED],
					   thread_index, sa_index, 1, len);
	  *dt = 0;
	  return IPCOMP_CODEC_ASYNC_DROP;
	}
      /* r->reason is 1..N: the counters after HW, in the same order */
      vlib_increment_combined_counter (&am->sa_counters[r->reason], thread_index, sa_index, 1, len);
      /* the engine's synchronous ops are its software fallback */
      t0 = clib_cpu_time_now ();
      rv = e->ops[op](ctx, in, len, out, cap, out_len);
      *dt = clib_cpu_time_now () - t0;
      return rv;
    }

  vlib_increment_combined_counter (&am->sa_counters[IPCOMP_OFFLOAD_SA_HW], thread_index, sa_index,
				   1, len);
  *dt = r->clocks;
  *out_len = 0;
  if (r->status == IPCOMP_CODEC_OK)
    {
      if (PREDICT_FALSE (r->out_len > cap))
	return op == IPCOMP_OP_COMPRESS ? IPCOMP_CODEC_NO_SPACE : IPCOMP_CODEC_NO_SPACE;
      clib_memcpy_fast (out, r->data, r->out_len);
      *out_len = r->out_len;
    }
  return r->status;
}

/* Post pass: a device result the node rejects (tunnel inner check) is
 * decompressed again in software, because a device may accept a truncated
 * stream without an error.  Returns -1 when the result already came from
 * software, else the software codec status. */
static_always_inline int
ipcomp_async_verify (vlib_buffer_t *b, ipcomp_engine_t *e, u32 thread_index, const u8 *in, u32 len,
		     u8 *out, u32 cap, u32 *out_len)
{
  if (ipcomp_async_result (b)->status == IPCOMP_ASYNC_STATUS_FALLBACK ||
      !(e->flags & IPCOMP_ENGINE_F_ASYNC) || !in)
    return -1;
  return e->ops[IPCOMP_OP_DECOMPRESS](e->decompress_ctx_by_thread[thread_index], in, len, out, cap,
				      out_len);
}

static_always_inline int
ipcomp_async_is_pass (vlib_buffer_t *b)
{
  return ipcomp_async_result (b)->status == IPCOMP_ASYNC_STATUS_PASS;
}

/* End of a pre pass (see "Order" above): put this frame's ops, and the
 * other packets of SAs with entries queued, in the order queue, in frame
 * order; enqueue the ops; packets refused by the engine become ready
 * fallback entries.  Without room for the frame the ops take the fallback
 * at once and nothing is queued.  sas[i] is packet i's SA (~0: none).
 * Compacts the packets left for enqueue_to_next into to/nexts and returns
 * their number. */
static_always_inline u32
ipcomp_async_flush (vlib_main_t *vm, ipcomp_async_kind_t kind, u32 *from, u16 *nexts, u32 *sas,
		    u32 n, u32 *to)
{
  ipcomp_async_main_t *am = &ipcomp_async_main;
  u32 ti = vm->thread_index;
  ipcomp_async_per_thread_t *apt = vec_elt_at_index (am->per_thread, ti);
  ipcomp_async_frame_t *f = &apt->pending;
  u32 i, j = 0, k = 0, seq = apt->order_tail, mask = IPCOMP_ASYNC_ORDER_SIZE - 1;
  u32 n_sas = vec_len (apt->sa_queued);
  int room = IPCOMP_ASYNC_ORDER_SIZE - (apt->order_tail - apt->order_head) >= n;
  u64 now = clib_cpu_time_now ();

  if (PREDICT_FALSE (!room))
    {
      u32 n_reordered = 0;
      for (j = 0; j < f->n_ops; j++)
	f->ops[j].fallback = IPCOMP_FALLBACK_QUEUE_FULL;
      for (i = 0; i < n; i++)
	n_reordered += sas[i] < n_sas && apt->sa_queued[sas[i]];
      vlib_increment_simple_counter (&am->dev_counters[IPCOMP_OFFLOAD_DEV_REORDERED], ti, 0,
				     n_reordered);
    }
  else
    {
      for (i = 0; i < n; i++)
	{
	  u32 sa = sas[i];
	  ipcomp_async_order_t *q;
	  u8 state = IPCOMP_ASYNC_ORDER_PENDING;
	  if (nexts[i] == IPCOMP_ASYNC_NEXT_PENDING)
	    f->ops[j++].seq = seq;
	  else if (PREDICT_TRUE (sa >= n_sas || !apt->sa_queued[sa]))
	    continue;
	  else
	    {
	      /* behind its SA's queued packets: the -post node sends it on */
	      ipcomp_async_result_t *r = ipcomp_async_result (vlib_get_buffer (vm, from[i]));
	      r->status = IPCOMP_ASYNC_STATUS_PASS;
	      r->next = nexts[i];
	      nexts[i] = IPCOMP_ASYNC_NEXT_QUEUED;
	      state = IPCOMP_ASYNC_ORDER_READY;
	    }
	  q = &apt->order[seq & mask];
	  q->t_enqueue = now;
	  q->buffer_index = from[i];
	  q->sa_index = sa;
	  q->seq = seq;
	  q->kind = kind;
	  q->state = state;
	  q->engine_index = apt->engine_index;
	  if (sa < n_sas)
	    apt->sa_queued[sa]++;
	  seq++;
	}
      apt->order_tail = seq;
      if (f->n_ops)
	{
	  ipcomp_engine_t *e = vec_elt_at_index (ipcomp_main.engines, apt->engine_index);
	  f->thread_index = ti;
	  e->enqueue (vm, f);
	}
    }

  for (i = 0, j = 0; i < n; i++)
    {
      if (nexts[i] == IPCOMP_ASYNC_NEXT_QUEUED)
	continue;
      if (nexts[i] == IPCOMP_ASYNC_NEXT_PENDING)
	{
	  ipcomp_async_op_t *o = &f->ops[j++];
	  ipcomp_async_result_t *r;
	  if (PREDICT_TRUE (!o->fallback))
	    continue;
	  r = ipcomp_async_result (vlib_get_buffer (vm, from[i]));
	  r->status = IPCOMP_ASYNC_STATUS_FALLBACK;
	  r->reason = o->fallback;
	  r->clocks = 0;
	  if (room)
	    {
	      apt->order[o->seq & mask].state = IPCOMP_ASYNC_ORDER_READY;
	      continue;
	    }
	  nexts[k] = am->pre_to_post_next[kind];
	}
      else
	nexts[k] = nexts[i];
      to[k++] = from[i];
    }
  ASSERT (j == f->n_ops);
  f->n_ops = 0;
  if (apt->order_tail != apt->order_head)
    ipcomp_async_dequeue_arm (vm, apt);
  return k;
}

/* End of a node's frame: with packets submitted to an asynchronous engine,
 * or packets of this thread in the order queue, flush (ipcomp_async_flush)
 * and send the rest on; otherwise send the whole frame to its next nodes.
 * sas: each packet's SA in a pre pass, 0 in a -post node (never queued). */
static_always_inline void
ipcomp_node_dispatch (vlib_main_t *vm, vlib_node_runtime_t *node, ipcomp_async_kind_t kind,
		      u32 *from, u16 *nexts, u32 *sas, u32 n_vectors, u32 n_async)
{
  ipcomp_async_per_thread_t *apt;
  if (PREDICT_FALSE (n_async ||
		     (sas && vec_len (ipcomp_async_main.per_thread) &&
		      (apt = vec_elt_at_index (ipcomp_async_main.per_thread, vm->thread_index),
		       apt->order_head != apt->order_tail))))
    {
      u32 to[VLIB_FRAME_SIZE];
      u32 n = ipcomp_async_flush (vm, kind, from, nexts, sas, n_vectors, to);
      if (n)
	vlib_buffer_enqueue_to_next (vm, node, to, nexts, n);
    }
  else
    vlib_buffer_enqueue_to_next (vm, node, from, nexts, n_vectors);
}

#endif /* included_ipcomp_async_h */
