/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * engine.h: the compression engine registry.
 *
 * Modelled on VPP's crypto engines: each engine registers a name, a priority
 * and a set of handlers; an SA names an engine or takes the one with the
 * highest priority.  State lives in per-thread contexts created on the main
 * thread (never in the data path):
 *
 *  - a "profile" is (engine, level, window bits) with one compress context
 *    per thread; SAs with the same settings share a profile (refcounted);
 *  - each engine has one decompress context per thread (inflate does not
 *    depend on the sender's level or window).
 *
 * Synchronous engines (zlib, isal) implement compress/decompress: one packet
 * in, one result out, on the calling thread.
 *
 * Asynchronous engines (DPDK compressdev / QAT, issue 4) set
 * IPCOMP_ENGINE_F_ASYNC and implement enqueue/dequeue instead: the data path
 * fills an ipcomp_async_frame_t per thread with ops that reference buffers,
 * enqueue hands the frame to the device, and a polling dequeue returns
 * completed frames whose ops carry a status and an output length; the
 * completion node then finishes each packet exactly as the synchronous path
 * does (same counters, same errors).  Nothing in the registry or in the SA
 * depends on which kind an engine is.
 */

#ifndef included_ipcomp_engine_h
#define included_ipcomp_engine_h

#include <vlib/vlib.h>
#include <vlib/counter.h>
#include <ipcomp/ipcomp_codec.h>

#define IPCOMP_MAX_ENGINES 8

typedef enum
{
  IPCOMP_OP_COMPRESS = 0,
  IPCOMP_OP_DECOMPRESS,
  IPCOMP_N_OPS,
} ipcomp_op_type_t;

#define IPCOMP_ENGINE_F_SYNC  (1 << 0)
#define IPCOMP_ENGINE_F_ASYNC (1 << 1)

/* Create a context for one thread.  For IPCOMP_OP_DECOMPRESS level and
 * window_bits are ignored.  Returns 0 on failure.  Main thread only. */
typedef void *(ipcomp_engine_ctx_new_fn_t) (u32 thread_index, ipcomp_op_type_t op, u8 level,
					    u8 window_bits);
typedef void (ipcomp_engine_ctx_free_fn_t) (void *ctx);
typedef u32 (ipcomp_engine_ctx_size_fn_t) (void *ctx);

/* Synchronous op: returns an ipcomp_codec_status_t */
typedef int (ipcomp_engine_sync_fn_t) (void *ctx, const u8 *in, u32 in_len, u8 *out, u32 out_cap,
				       u32 *out_len);

/* Optional, level auto (ipcomp.h, "Level auto"): a coding learned from one
 * SA's own packets, state per SA and thread.  learn_new/learn_free run on
 * the main thread; sample, build and compress run on the SA's thread with
 * that thread's context of the fast level and return an
 * ipcomp_codec_status_t.  Until the first build after new or forget,
 * compress codes as the plain compress op. */
typedef struct
{
  void *(*new) (void);
  void (*free) (void *learn);
  u32 (*size) (void);
  void (*forget) (void *learn);
  int (*sample) (void *ctx, void *learn, const u8 *in, u32 len);
  int (*build) (void *ctx, void *learn);
  int (*compress) (void *ctx, void *learn, const u8 *in, u32 in_len, u8 *out, u32 out_cap,
		   u32 *out_len);
} ipcomp_engine_learn_t;

/* Asynchronous ops (for hardware engines) */
typedef struct
{
  u32 buffer_index;
  u32 sa_index;
  u32 in_len;
  u32 out_len; /* set on completion */
  i8 status;   /* ipcomp_codec_status_t, set on completion */
  u8 op;       /* ipcomp_op_type_t */
  u16 next;    /* next node of the packet after completion */
  /* filled by the node that submits (ipcomp_async.h) */
  u8 kind;	 /* ipcomp_async_kind_t: which -post node finishes the packet */
  u8 fallback;	 /* set by enqueue/dequeue: ipcomp_fallback_reason_t, 0 = on the device */
  u16 in_offset; /* payload offset from the buffer's current data */
  u32 out_cap;	 /* output limit (compress budget, decompress bound) */
  void *ctx;	 /* the engine's per-thread context of the SA's profile */
  u8 *out;	 /* set on completion: output, valid until the next dequeue */
  u64 t_enqueue; /* CPU clocks at enqueue */
  u64 t_dequeue; /* CPU clocks at dequeue */
  u32 seq;	 /* its entry in the thread's order queue (ipcomp_async.h) */
} ipcomp_async_op_t;

typedef struct
{
  ipcomp_async_op_t ops[VLIB_FRAME_SIZE];
  u32 n_ops;
  u32 profile_index;
  u32 thread_index;
} ipcomp_async_frame_t;

/* Returns 0 when the whole frame was accepted */
typedef int (ipcomp_engine_enqueue_fn_t) (vlib_main_t *vm, ipcomp_async_frame_t *f);
/* Returns a completed frame or 0; *n_inflight: ops still on the device */
typedef ipcomp_async_frame_t *(ipcomp_engine_dequeue_fn_t) (vlib_main_t *vm, u32 *n_inflight);

typedef struct
{
  /* registration */
  char *name;
  char *desc;
  u32 priority;
  u32 flags;
  u8 max_level;
  u8 default_level;
  u8 fast_level; /* the cheapest level that still compresses (level auto) */
  ipcomp_engine_ctx_new_fn_t *ctx_new;
  ipcomp_engine_ctx_free_fn_t *ctx_free;
  ipcomp_engine_ctx_size_fn_t *ctx_size;
  ipcomp_engine_sync_fn_t *ops[IPCOMP_N_OPS];
  ipcomp_engine_enqueue_fn_t *enqueue;
  ipcomp_engine_dequeue_fn_t *dequeue;
  ipcomp_engine_learn_t learn; /* optional: all set or none */
  /* optional: an op of this thread did not come back within the time-out
   * (the packet is finished without it; the op may still return) */
  void (*op_timeout) (vlib_main_t *vm, u32 sa_index);
  /* optional, once a second on the main thread (ipcomp-stats-process):
   * gauges and deferred clean-up */
  void (*periodic) (void);

  /* state, filled in by the registry */
  u32 index;
  u32 n_sas;
  u32 n_contexts;
  u64 context_bytes;
  void **decompress_ctx_by_thread;
  u32 gauge_sas;
  u32 gauge_priority;
  u32 gauge_context_bytes;
  u32 gauge_inflight;
  u32 gauge_clocks_avg[IPCOMP_N_OPS];
  vlib_log2_histogram_main_t clocks_hist[IPCOMP_N_OPS];
  /* last totals seen by the gauge updater */
  u64 last_calls[IPCOMP_N_OPS];
  u64 last_clocks[IPCOMP_N_OPS];
} ipcomp_engine_t;

/* (engine, level, window) with one compress context per thread */
typedef struct
{
  u8 engine_index;
  u8 level;
  u8 window_bits;
  u32 refcnt;
  void **ctx_by_thread;
} ipcomp_profile_t;

u32 ipcomp_engine_register (const ipcomp_engine_t *reg);
u32 ipcomp_engine_find (const char *name);
u32 ipcomp_engine_best (void);
int ipcomp_profile_get (u32 engine_index, u8 level, u8 window_bits, u32 *profile_index);
void ipcomp_profile_put (u32 profile_index);
void ipcomp_engine_set_gauges (ipcomp_engine_t *e);
clib_error_t *ipcomp_engines_threads_init (vlib_main_t *vm);
void ipcomp_engines_update_gauges (void);

format_function_t format_ipcomp_engine;
format_function_t format_ipcomp_profile;

#endif /* included_ipcomp_engine_h */
