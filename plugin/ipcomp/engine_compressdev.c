/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * engine_compressdev.c: the "compressdev" engine, asynchronous, on a DPDK
 * compressdev device (Intel QAT through its PMD, or DPDK's software
 * compress_isal / compress_zlib devices).  Built only when libdpdk is found.
 *
 * startup.conf:
 *   ipcomp {
 *     compressdev {
 *       vdev compress_isal0          # a virtual device (EAL --vdev), or
 *       dev 0000:3d:00.0             # a PCI device (EAL -a; needs hugepages)
 *       queue-size 512               # in-flight ops per queue pair
 *       num-ops 4096                 # op and mbuf pools (default from above)
 *       mbuf-size 10240              # largest payload handed to the device
 *       policy fallback|drop         # when the device cannot take a packet
 *       mode polling|interrupt       # ipcomp-async-dequeue node
 *       op-timeout-ms 100            # an op not back by then: software fallback
 *       priority 50                  # engine priority (isal is 100)
 *       eal-args "..."               # replaces the EAL arguments entirely
 *       no-eal                       # do not start the EAL: no device
 *     }
 *   }
 *
 * The plugin starts the EAL itself (VPP's dpdk plugin must not be loaded,
 * see README.md), from a short-lived thread so that VPP's main thread keeps
 * its CPU affinity.  Any failure leaves the engine without a device: every
 * packet then takes the software fallback (or is dropped, per policy) and
 * is counted under "no-device"; VPP keeps running.
 *
 * One queue pair per VPP thread.  Ops are stateless raw DEFLATE with one
 * private xform per (profile, thread).  Payloads are copied into mbufs from
 * DPDK's own memory (so a real device sees IOVA-able memory) and results
 * are copied back by the -post node; the output mbuf of a completed op is
 * freed at the next dequeue on the same thread.
 */

/* DPDK first: VPP's always_inline macro would break DPDK's inline attributes */
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_comp.h>
#include <rte_compressdev.h>

#include <pthread.h>
#include <vlib/unix/plugin.h>
#include <ipcomp/ipcomp.h>
#include <ipcomp/ipcomp_async.h>
#include <ipcomp/ipcomp_inlines.h>

#define CDEV_DEFAULT_QUEUE_SIZE 512
#define CDEV_DEFAULT_MBUF_SIZE	10240
#define CDEV_DEFAULT_PRIORITY	50
#define CDEV_MAX_XFORMS		256
#define CDEV_POOL_CACHE		128 /* per-lcore cache of the op and mbuf pools */
#define CDEV_RETRY_INTERVAL	1.0 /* s between tries of a failed device */
/* device-failure event reason of an op time-out (beyond rte_comp_op_status) */
#define CDEV_EVENT_REASON_TIMEOUT 256

typedef struct
{
  void *xform;	       /* device private xform, 0 when the device cannot */
  void *sw_ctx;	       /* the software fallback's context */
  u32 sw_engine_index; /* the software fallback engine */
  u32 n_inflight;      /* ops on the device (its one thread writes it) */
  u8 op;
  u8 level;
  u8 window_bits;
  u8 dead;    /* freed by its owner while ops were in flight */
  u8 waiting; /* on cdev_main.xform_waiting: no xform yet, the cap was full */
} cdev_ctx_t;

typedef struct
{
  CLIB_CACHE_LINE_ALIGN_MARK (cacheline0);
  u32 n_inflight;
  u8 registered;  /* this VPP thread has a DPDK lcore id (mempool caches) */
  u8 failed;	  /* device failure seen, not yet recovered */
  u8 on_fallback; /* last decision of this thread: 1 software, 0 hardware */
  f64 failed_at;  /* vlib time of the failure */
  u32 n_done_ops; /* ops of the previous dequeue, output mbufs still in use */
  struct rte_comp_op *done_ops[VLIB_FRAME_SIZE];
  ipcomp_async_frame_t done;
} cdev_per_thread_t;

typedef struct
{
  /* configuration */
  u8 configured;
  u8 *vdev;
  u8 *pci;
  u8 *eal_args;
  u8 no_eal;
  u32 queue_size;
  u32 num_ops;
  u32 mbuf_size;
  u32 priority;

  /* state */
  u8 started;	 /* start attempted */
  u8 dev_ok;	 /* a device is up */
  u8 force_fail; /* test hook: treat the device as failed */
  u8 stall;	 /* test hook: leave completed ops on the device */
  u8 dev_id;
  u32 engine_index;
  u8 *status; /* why there is no device, or the device name */
  struct rte_mempool *op_pool;
  struct rte_mempool *mbuf_pool;
  cdev_per_thread_t *per_thread;
  u32 n_qps;
  u32 n_xforms;
  cdev_ctx_t **dead_ctxs;     /* freed while their ops were in flight */
  cdev_ctx_t **xform_waiting; /* live, no xform: made once the cap has room */
} cdev_main_t;

/* device 0 of the offload counters (ipcomp_async.h) */
#define CDEV_COUNTER_ENQUEUED	    IPCOMP_OFFLOAD_DEV_ENQUEUED
#define CDEV_COUNTER_DEQUEUED	    IPCOMP_OFFLOAD_DEV_DEQUEUED
#define CDEV_COUNTER_ENQUEUE_ERRORS IPCOMP_OFFLOAD_DEV_ENQUEUE_ERRORS
#define CDEV_COUNTER_DEQUEUE_ERRORS IPCOMP_OFFLOAD_DEV_DEQUEUE_ERRORS
#define CDEV_COUNTER_OUT_OF_SPACE   IPCOMP_OFFLOAD_DEV_OUT_OF_SPACE
#define CDEV_N_COUNTERS		    IPCOMP_OFFLOAD_DEV_N_COUNTERS

static cdev_main_t cdev_main;

static u32 cdev_best_sw_engine (void);

/* --- events -------------------------------------------------------------- */

static void
cdev_event (u32 thread_index, ipcomp_event_type_t type, u16 reason, u32 sa_index, u32 engine_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  u8 zero[16] = {};
  ipcomp_sa_t *sa = 0;

  if (!im->stats_ready)
    return;
  if (sa_index != ~0 && !pool_is_free_index (im->sas, sa_index))
    sa = ipcomp_sa_get (sa_index);
  if (sa)
    {
      u8 src[16] = {}, dst[16] = {};
      clib_memcpy (src, sa->is_ip6 ? sa->local.ip6.as_u8 : sa->local.ip4.as_u8,
		   sa->is_ip6 ? 16 : 4);
      clib_memcpy (dst, sa->is_ip6 ? sa->peer.ip6.as_u8 : sa->peer.ip4.as_u8, sa->is_ip6 ? 16 : 4);
      ipcomp_event_packet (thread_index, type, reason, sa_index, sa->is_ip6, src, dst, sa->cpi, 0,
			   engine_index);
    }
  else
    ipcomp_event_packet (thread_index, type, reason, ~0, 0, zero, zero, 0, 0, engine_index);
}

/* A thread switches between hardware and software: one event per switch */
static_always_inline void
cdev_path_taken (u32 thread_index, cdev_per_thread_t *cpt, u8 reason, u32 sa_index)
{
  cdev_main_t *cm = &cdev_main;
  u8 sw = reason != IPCOMP_FALLBACK_NONE;
  if (PREDICT_TRUE (sw == cpt->on_fallback))
    return;
  cpt->on_fallback = sw;
  /* engine_index: the engine packets go to from now on */
  cdev_event (thread_index, IPCOMP_EVENT_ENGINE_SWITCH, reason, sa_index,
	      sw ? cdev_best_sw_engine () : cm->engine_index);
}

static void
cdev_device_failed (u32 thread_index, cdev_per_thread_t *cpt, u16 status, u32 sa_index)
{
  if (cpt->failed)
    return;
  cpt->failed = 1;
  cpt->failed_at = vlib_time_now (vlib_get_main_by_index (thread_index));
  cdev_event (thread_index, IPCOMP_EVENT_DEVICE_FAILURE, status, sa_index, cdev_main.engine_index);
}

static void
cdev_device_ok (u32 thread_index, cdev_per_thread_t *cpt, u32 sa_index)
{
  if (PREDICT_TRUE (!cpt->failed))
    return;
  cpt->failed = 0;
  cdev_event (thread_index, IPCOMP_EVENT_DEVICE_RECOVERY, 0, sa_index, cdev_main.engine_index);
}

static void cdev_ctx_release (cdev_ctx_t *c);
static int cdev_ctx_xform_create (cdev_ctx_t *c);

/* Main thread. Release the freed contexts whose last op came back: their
 * SA is gone, so no worker can give them a new op (n_inflight only falls). */
static void
cdev_release_dead_ctxs (void)
{
  cdev_main_t *cm = &cdev_main;

  for (u32 i = 0; i < vec_len (cm->dead_ctxs);)
    {
      cdev_ctx_t *c = cm->dead_ctxs[i];
      if (c->n_inflight)
	{
	  i++;
	  continue;
	}
      cdev_ctx_release (c);
      vec_del1 (cm->dead_ctxs, i);
    }
}

/* Once a second from the ipcomp stats process (main thread): the
 * /net/ipcomp/engine/compressdev/inflight gauge over all queue pairs (the
 * workers never write the stats directory), and contexts freed while their
 * ops were in flight, released once the last op came back. */
static void
cdev_periodic (void)
{
  cdev_main_t *cm = &cdev_main;
  ipcomp_engine_t *e = vec_elt_at_index (ipcomp_main.engines, cm->engine_index);
  cdev_per_thread_t *cpt;
  u64 n = 0;
  if (e->gauge_inflight == ~0)
    return;
  vec_foreach (cpt, cm->per_thread)
    n += cpt->n_inflight;
  vlib_stats_set_gauge (e->gauge_inflight, n);

  cdev_release_dead_ctxs ();

  /* contexts made while the xform cap was full (SA churn with ops still on
   * the device) get their xform as soon as released ones made room */
  for (u32 i = 0; i < vec_len (cm->xform_waiting);)
    {
      cdev_ctx_t *c = cm->xform_waiting[i];
      if (!cdev_ctx_xform_create (c))
	break;
      c->waiting = 0;
      vec_del1 (cm->xform_waiting, i);
    }
}

/* --- device bring-up ----------------------------------------------------- */

typedef struct
{
  int argc;
  char **argv;
  int rv;
  int err;
} cdev_eal_args_t;

static void *
cdev_eal_thread (void *arg)
{
  cdev_eal_args_t *a = arg;
  a->rv = rte_eal_init (a->argc, a->argv);
  a->err = a->rv < 0 ? rte_errno : 0;
  return 0;
}

/* Ops in the pool: every queue pair full, plus one dequeue burst per
 * thread whose output is still being read, plus the per-lcore caches */
static u32
cdev_pool_elts (u32 n_threads)
{
  cdev_main_t *cm = &cdev_main;
  return cm->num_ops ? cm->num_ops :
		       n_threads * (cm->queue_size + VLIB_FRAME_SIZE + 2 * CDEV_POOL_CACHE) + 64;
}

/* EAL memory (--no-huge -m) for the pools of n_threads queue pairs: ops,
 * two mbufs per op (mbuf-size data + headroom + the mbuf itself), a quarter
 * more for the allocator, and 64 MB for the EAL and the PMD */
static u32
cdev_eal_mem_mb (u32 n_threads)
{
  cdev_main_t *cm = &cdev_main;
  u64 per_op = 2 * ((u64) cm->mbuf_size + RTE_PKTMBUF_HEADROOM + 256) + 512;
  u64 bytes = (u64) cdev_pool_elts (n_threads) * per_op;
  return 64 + (u32) ((bytes + bytes / 4) >> 20);
}

static clib_error_t *
cdev_eal_start (void)
{
  cdev_main_t *cm = &cdev_main;
  vlib_thread_main_t *tm = vlib_get_thread_main ();
  char **argv = 0;
  cdev_eal_args_t a = {};
  pthread_t thr;
  u8 *s;

  if (vlib_get_plugin_symbol ("dpdk_plugin.so", "dpdk_main"))
    return clib_error_return (0, "VPP's dpdk plugin is loaded: it owns a separate, statically "
				 "linked EAL; disable it or do not configure ipcomp compressdev");

  vec_add1 (argv, (char *) format (0, "vpp-ipcomp%c", 0));
  if (cm->eal_args)
    {
      unformat_input_t in;
      u8 *tok;
      unformat_init_string (&in, (char *) cm->eal_args, vec_len (cm->eal_args));
      while (unformat (&in, "%s", &tok))
	{
	  vec_add1 (tok, 0);
	  vec_add1 (argv, (char *) tok);
	}
      unformat_free (&in);
    }
  else
    {
      vec_add1 (argv, (char *) format (0, "--no-telemetry%c", 0));
      vec_add1 (argv, (char *) format (0, "--no-shconf%c", 0));
      vec_add1 (argv, (char *) format (0, "-l%c", 0));
      vec_add1 (argv, (char *) format (0, "%u%c", tm->main_lcore, 0));
      vec_add1 (argv, (char *) format (0, "--log-level=lib.eal:warning%c", 0));
      if (cm->pci)
	{
	  vec_add1 (argv, (char *) format (0, "-a%c", 0));
	  vec_add1 (argv, (char *) format (0, "%s%c", cm->pci, 0));
	}
      else
	{
	  vec_add1 (argv, (char *) format (0, "--no-huge%c", 0));
	  vec_add1 (argv, (char *) format (0, "-m%c", 0));
	  vec_add1 (argv, (char *) format (0, "%u%c", cdev_eal_mem_mb (vlib_get_n_threads ()), 0));
	  vec_add1 (argv, (char *) format (0, "--no-pci%c", 0));
	  if (cm->vdev)
	    vec_add1 (argv, (char *) format (0, "--vdev=%s%c", cm->vdev, 0));
	}
    }

  s = format (0, "EAL arguments:");
  for (u32 i = 0; i < vec_len (argv); i++)
    s = format (s, " %s", argv[i]);
  IPCOMP_LOG_NOTICE ("compressdev: %v", s);
  vec_free (s);

  a.argc = vec_len (argv);
  a.argv = argv;
  /* EAL pins the calling thread to its lcore: not VPP's main thread */
  if (pthread_create (&thr, 0, cdev_eal_thread, &a) || pthread_join (thr, 0))
    return clib_error_return_unix (0, "cannot start the EAL thread");
  /* EAL keeps pointers into argv: never freed */
  if (a.rv < 0)
    {
      if (a.err == EALREADY)
	return clib_error_return (0, "rte_eal_init: the EAL of this process is already "
				     "initialised by someone else (EALREADY)");
      return clib_error_return (0, "rte_eal_init failed: %s (rte_errno %d)", rte_strerror (a.err),
				a.err);
    }
  return 0;
}

static clib_error_t *
cdev_device_start (void)
{
  cdev_main_t *cm = &cdev_main;
  struct rte_compressdev_info info;
  struct rte_compressdev_config conf = {};
  u32 n_threads = vlib_get_n_threads (), i, n_elts;
  int dev_id = -1;
  const char *name;

  if (rte_compressdev_count () == 0)
    return clib_error_return (0, "no compress device (is the PMD installed? librte-compress-*)");
  if (cm->vdev)
    {
      /* "compress_isal0,socket_id=0": the name ends at the first comma */
      u8 *n = format (0, "%s%c", cm->vdev, 0);
      u8 *comma = (u8 *) strchr ((char *) n, ',');
      if (comma)
	*comma = 0;
      dev_id = rte_compressdev_get_dev_id ((char *) n);
      vec_free (n);
    }
  else
    dev_id = 0;
  if (dev_id < 0)
    return clib_error_return (0, "compress device '%s' not found", cm->vdev);
  cm->dev_id = dev_id;
  name = rte_compressdev_name_get (dev_id);

  rte_compressdev_info_get (dev_id, &info);
  if (info.max_nb_queue_pairs && info.max_nb_queue_pairs < n_threads)
    return clib_error_return (0, "%s: %u queue pairs, %u threads need one each", name,
			      info.max_nb_queue_pairs, n_threads);

  conf.socket_id = SOCKET_ID_ANY;
  conf.nb_queue_pairs = n_threads;
  conf.max_nb_priv_xforms = CDEV_MAX_XFORMS;
  conf.max_nb_streams = 0;
  if (rte_compressdev_configure (dev_id, &conf) < 0)
    return clib_error_return (0, "%s: rte_compressdev_configure failed", name);
  for (i = 0; i < n_threads; i++)
    if (rte_compressdev_queue_pair_setup (dev_id, i, cm->queue_size, SOCKET_ID_ANY) < 0)
      return clib_error_return (0, "%s: queue pair %u setup failed", name, i);

  n_elts = cdev_pool_elts (n_threads);
  cm->op_pool = rte_comp_op_pool_create ("ipcomp_ops", n_elts, CDEV_POOL_CACHE,
					 sizeof (ipcomp_async_op_t), SOCKET_ID_ANY);
  if (!cm->op_pool)
    return clib_error_return (0, "cannot create the op pool (%u ops): %s", n_elts,
			      rte_strerror (rte_errno));
  cm->mbuf_pool = rte_pktmbuf_pool_create ("ipcomp_mbufs", 2 * n_elts, CDEV_POOL_CACHE, 0,
					   cm->mbuf_size + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
  if (!cm->mbuf_pool)
    return clib_error_return (0, "cannot create the mbuf pool (%u x %u bytes): %s", 2 * n_elts,
			      cm->mbuf_size, rte_strerror (rte_errno));
  if (rte_compressdev_start (dev_id) < 0)
    return clib_error_return (0, "%s: rte_compressdev_start failed", name);

  cm->n_qps = n_threads;
  cm->status = format (0, "%s (driver %s), %u queue pairs of %u ops, mbufs of %u bytes, %u ops",
		       name, info.driver_name, n_threads, cm->queue_size, cm->mbuf_size, n_elts);
  return 0;
}

static void
cdev_stats_init (void)
{
  cdev_main_t *cm = &cdev_main;
  ipcomp_async_main_t *am = &ipcomp_async_main;

  ipcomp_async_stats_init ();
  vlib_stats_set_string_vector (&am->device_names, 0, "%s",
				cm->dev_ok ? rte_compressdev_name_get (cm->dev_id) : "none");
}

/* Once, on the main thread, when the number of threads is final (from the
 * first context or from main-loop entry, whichever comes first) */
static void
cdev_start_once (void)
{
  cdev_main_t *cm = &cdev_main;
  clib_error_t *err = 0;

  if (cm->started || !cm->configured)
    return;
  cm->started = 1;
  vec_validate_aligned (cm->per_thread, vlib_get_n_threads () - 1, CLIB_CACHE_LINE_BYTES);

  if (cm->no_eal)
    err = clib_error_return (0, "no-eal: the EAL is not started");
  else if (!cm->vdev && !cm->pci && !cm->eal_args)
    err = clib_error_return (0, "no device configured (vdev or dev)");
  if (!err)
    err = cdev_eal_start ();
  if (!err)
    err = cdev_device_start ();

  if (err)
    {
      cm->status = format (0, "no device: %v", err->what);
      IPCOMP_LOG_ERR ("compressdev: %v; packets take the software fallback (%s policy)", cm->status,
		      ipcomp_async_main.policy == IPCOMP_ASYNC_POLICY_DROP ? "drop" : "fallback");
      clib_warning ("ipcomp compressdev: %v", cm->status);
      clib_error_free (err);
      cm->dev_ok = 0;
    }
  else
    {
      cm->dev_ok = 1;
      IPCOMP_LOG_NOTICE ("compressdev: %v", cm->status);
    }
  cdev_stats_init ();
}

/* --- engine handlers ----------------------------------------------------- */

static u32
cdev_best_sw_engine (void)
{
  ipcomp_engine_t *e;
  u32 best = ~0, prio = 0;
  vec_foreach (e, ipcomp_main.engines)
    if (!(e->flags & IPCOMP_ENGINE_F_ASYNC) && (best == ~0 || e->priority > prio))
      {
	best = e->index;
	prio = e->priority;
      }
  return best;
}

static void *
cdev_ctx_new (u32 thread_index, ipcomp_op_type_t op, u8 level, u8 window_bits)
{
  cdev_main_t *cm = &cdev_main;
  ipcomp_engine_t *sw;
  cdev_ctx_t *c;
  u32 swi;

  cdev_start_once ();
  /* SA churn frees contexts faster than the stats process releases them:
   * reclaim the xforms of those whose ops came back before taking one */
  cdev_release_dead_ctxs ();
  swi = cdev_best_sw_engine ();
  if (swi == ~0)
    return 0;
  sw = vec_elt_at_index (ipcomp_main.engines, swi);
  c = clib_mem_alloc (sizeof (*c));
  clib_memset (c, 0, sizeof (*c));
  c->op = op;
  c->level = level;
  c->sw_engine_index = swi;
  c->sw_ctx = sw->ctx_new (thread_index, op, clib_min (level, sw->max_level), window_bits);
  if (!c->sw_ctx)
    {
      clib_mem_free (c);
      return 0;
    }

  c->window_bits = window_bits;
  if (cm->dev_ok && !cdev_ctx_xform_create (c))
    {
      /* the cap is full of contexts whose ops are still on the device: the
       * stats process makes this one's xform when they are released */
      c->waiting = 1;
      vec_add1 (cm->xform_waiting, c);
    }
  return c;
}

/* Give 'c' a device private xform (main thread). Returns 0 only when the
 * xform cap is full (worth trying again later); a device that refuses the
 * parameters leaves 'c' in software for good and returns 1. */
static int
cdev_ctx_xform_create (cdev_ctx_t *c)
{
  cdev_main_t *cm = &cdev_main;
  struct rte_comp_xform x = {};
  void *xform;

  if (cm->n_xforms >= CDEV_MAX_XFORMS)
    return 0;
  if (c->op == IPCOMP_OP_COMPRESS)
    {
      x.type = RTE_COMP_COMPRESS;
      x.compress.algo = RTE_COMP_ALGO_DEFLATE;
      x.compress.deflate.huffman = RTE_COMP_HUFFMAN_DYNAMIC;
      x.compress.level = c->level;
      x.compress.window_size = c->window_bits;
      x.compress.chksum = RTE_COMP_CHECKSUM_NONE;
      x.compress.hash_algo = RTE_COMP_HASH_ALGO_NONE;
    }
  else
    {
      x.type = RTE_COMP_DECOMPRESS;
      x.decompress.algo = RTE_COMP_ALGO_DEFLATE;
      x.decompress.chksum = RTE_COMP_CHECKSUM_NONE;
      x.decompress.window_size = IPCOMP_CODEC_WBITS_MAX;
      x.decompress.hash_algo = RTE_COMP_HASH_ALGO_NONE;
    }
  if (rte_compressdev_private_xform_create (cm->dev_id, &x, &xform) < 0)
    {
      IPCOMP_LOG_ERR ("compressdev: the device refuses %s level %u window %u: software only",
		      c->op == IPCOMP_OP_COMPRESS ? "compress" : "decompress", c->level,
		      c->window_bits);
      return 1;
    }
  cm->n_xforms++;
  c->xform = xform; /* one pointer store: a worker sees 0 (software) or the xform */
  return 1;
}

static void
cdev_ctx_release (cdev_ctx_t *c)
{
  cdev_main_t *cm = &cdev_main;
  ipcomp_engine_t *sw = vec_elt_at_index (ipcomp_main.engines, c->sw_engine_index);

  if (c->waiting)
    {
      u32 i = vec_search (cm->xform_waiting, c);
      if (i != ~0)
	vec_del1 (cm->xform_waiting, i);
    }

  if (c->xform && cm->dev_ok && rte_compressdev_private_xform_free (cm->dev_id, c->xform) == 0)
    cm->n_xforms--;
  sw->ctx_free (c->sw_ctx);
  clib_mem_free (c);
}

/* Callers hold the barrier.  A context whose ops are still on the device
 * (their buffers come back through it) lives on until the last returns:
 * the next cdev_ctx_new or cdev_periodic releases it, so SA churn under
 * traffic never leaks xforms. */
static void
cdev_ctx_free (void *ctx)
{
  cdev_main_t *cm = &cdev_main;
  cdev_ctx_t *c = ctx;

  if (c->n_inflight)
    {
      c->dead = 1;
      vec_add1 (cm->dead_ctxs, c);
      return;
    }
  cdev_ctx_release (c);
}

static u32
cdev_ctx_size (void *ctx)
{
  cdev_ctx_t *c = ctx;
  ipcomp_engine_t *sw = vec_elt_at_index (ipcomp_main.engines, c->sw_engine_index);
  return sizeof (*c) + (sw->ctx_size ? sw->ctx_size (c->sw_ctx) : 0);
}

/* The synchronous ops are the software fallback */
static int
cdev_sw_compress (void *ctx, const u8 *in, u32 in_len, u8 *out, u32 out_cap, u32 *out_len)
{
  cdev_ctx_t *c = ctx;
  ipcomp_engine_t *sw = vec_elt_at_index (ipcomp_main.engines, c->sw_engine_index);
  return sw->ops[IPCOMP_OP_COMPRESS](c->sw_ctx, in, in_len, out, out_cap, out_len);
}

static int
cdev_sw_decompress (void *ctx, const u8 *in, u32 in_len, u8 *out, u32 out_cap, u32 *out_len)
{
  cdev_ctx_t *c = ctx;
  ipcomp_engine_t *sw = vec_elt_at_index (ipcomp_main.engines, c->sw_engine_index);
  return sw->ops[IPCOMP_OP_DECOMPRESS](c->sw_ctx, in, in_len, out, out_cap, out_len);
}

/* Copy 'len' bytes at 'offset' of a buffer chain to 'dst' */
static_always_inline int
cdev_copy_from_chain (vlib_main_t *vm, vlib_buffer_t *b, u32 offset, u32 len, u8 *dst)
{
  const u8 *p = ipcomp_buffer_linear (vm, b, offset, len, dst);
  if (!p)
    return -1;
  if (p != dst)
    clib_memcpy_fast (dst, p, len);
  return 0;
}

static_always_inline ipcomp_async_op_t *
cdev_op_user (struct rte_comp_op *cop)
{
  return (ipcomp_async_op_t *) (cop + 1);
}

static int
cdev_enqueue (vlib_main_t *vm, ipcomp_async_frame_t *f)
{
  cdev_main_t *cm = &cdev_main;
  u32 ti = vm->thread_index, n = f->n_ops, i, m = 0, enq = 0;
  cdev_per_thread_t *cpt = vec_elt_at_index (cm->per_thread, ti);
  struct rte_comp_op *cops[VLIB_FRAME_SIZE], *sent[VLIB_FRAME_SIZE];
  struct rte_mbuf *mbufs[2 * VLIB_FRAME_SIZE];
  u8 reason = 0;
  u64 now;

  if (PREDICT_FALSE (!cpt->registered) && cm->dev_ok)
    {
      /* VPP threads are not EAL threads: give this one an lcore id so the
       * pools' per-lcore caches work (without, every alloc/free is a ring op) */
      if (rte_lcore_id () == LCORE_ID_ANY && rte_thread_register () < 0)
	IPCOMP_LOG_NOTICE ("compressdev: thread %u: rte_thread_register failed, no pool cache", ti);
      cpt->registered = 1;
    }
  if (PREDICT_FALSE (!cm->dev_ok))
    reason = IPCOMP_FALLBACK_NO_DEVICE;
  else if (PREDICT_FALSE (cm->force_fail))
    {
      cdev_device_failed (ti, cpt, RTE_COMP_OP_STATUS_NOT_PROCESSED, f->ops[0].sa_index);
      reason = IPCOMP_FALLBACK_DEVICE_ERROR;
    }
  else if (PREDICT_FALSE (cpt->failed))
    {
      /* try the device again once per interval; the rest falls back */
      if (vlib_time_now (vm) - cpt->failed_at < CDEV_RETRY_INTERVAL)
	reason = IPCOMP_FALLBACK_DEVICE_ERROR;
      else
	cpt->failed_at = vlib_time_now (vm);
    }
  else if (PREDICT_FALSE (rte_comp_op_bulk_alloc (cm->op_pool, cops, n) == 0))
    reason = IPCOMP_FALLBACK_QUEUE_FULL;
  else if (PREDICT_FALSE (rte_pktmbuf_alloc_bulk (cm->mbuf_pool, mbufs, 2 * n) != 0))
    {
      rte_comp_op_bulk_free (cops, n);
      reason = IPCOMP_FALLBACK_QUEUE_FULL;
    }
  /* a failed device being retried: allocate now */
  if (!reason && cpt->failed)
    {
      if (rte_comp_op_bulk_alloc (cm->op_pool, cops, n) == 0)
	reason = IPCOMP_FALLBACK_QUEUE_FULL;
      else if (rte_pktmbuf_alloc_bulk (cm->mbuf_pool, mbufs, 2 * n) != 0)
	{
	  rte_comp_op_bulk_free (cops, n);
	  reason = IPCOMP_FALLBACK_QUEUE_FULL;
	}
    }

  if (PREDICT_FALSE (reason))
    {
      for (i = 0; i < n; i++)
	f->ops[i].fallback = reason;
      cdev_path_taken (ti, cpt, reason, f->ops[0].sa_index);
      return -1;
    }

  now = clib_cpu_time_now ();
  for (i = 0; i < n; i++)
    {
      ipcomp_async_op_t *o = &f->ops[i];
      cdev_ctx_t *c = o->ctx;
      struct rte_comp_op *cop = cops[i];
      struct rte_mbuf *src = mbufs[2 * i], *dst = mbufs[2 * i + 1];
      u32 cap = clib_min (o->out_cap, cm->mbuf_size);
      u8 *d;

      if (PREDICT_FALSE (!c->xform))
	o->fallback = IPCOMP_FALLBACK_NO_DEVICE;
      else if (PREDICT_FALSE (o->in_len > cm->mbuf_size || o->in_len == 0))
	o->fallback = IPCOMP_FALLBACK_TOO_BIG;
      if (o->fallback)
	goto unused;

      d = (u8 *) rte_pktmbuf_append (src, o->in_len);
      if (PREDICT_FALSE (!d || cdev_copy_from_chain (vm, vlib_get_buffer (vm, o->buffer_index),
						     o->in_offset, o->in_len, d)))
	{
	  o->fallback = IPCOMP_FALLBACK_TOO_BIG;
	  goto unused;
	}
      if (PREDICT_FALSE (!rte_pktmbuf_append (dst, cap)))
	{
	  o->fallback = IPCOMP_FALLBACK_TOO_BIG;
	  goto unused;
	}
      cop->op_type = RTE_COMP_OP_STATELESS;
      cop->private_xform = c->xform;
      cop->m_src = src;
      cop->m_dst = dst;
      cop->src.offset = 0;
      cop->src.length = o->in_len;
      cop->dst.offset = 0;
      cop->flush_flag = RTE_COMP_FLUSH_FINAL;
      cop->status = RTE_COMP_OP_STATUS_NOT_PROCESSED;
      o->t_enqueue = now;
      *cdev_op_user (cop) = *o;
      cdev_op_user (cop)->next = i; /* where it sat in the frame */
      sent[m++] = cop;
      continue;

    unused:
      rte_pktmbuf_free (src);
      rte_pktmbuf_free (dst);
      rte_comp_op_free (cop);
    }

  if (m)
    enq = rte_compressdev_enqueue_burst (cm->dev_id, ti, sent, m);
  for (i = enq; i < m; i++)
    {
      /* the device queue pair is full: these fall back */
      f->ops[cdev_op_user (sent[i])->next].fallback = IPCOMP_FALLBACK_QUEUE_FULL;
      rte_pktmbuf_free (sent[i]->m_src);
      rte_pktmbuf_free (sent[i]->m_dst);
      rte_comp_op_free (sent[i]);
    }

  cpt->n_inflight += enq;
  for (i = 0; i < enq; i++)
    ((cdev_ctx_t *) cdev_op_user (sent[i])->ctx)->n_inflight++;
  vlib_increment_simple_counter (&ipcomp_async_main.dev_counters[CDEV_COUNTER_ENQUEUED], ti, 0,
				 enq);
  if (m > enq)
    vlib_increment_simple_counter (&ipcomp_async_main.dev_counters[CDEV_COUNTER_ENQUEUE_ERRORS], ti,
				   0, m - enq);
  cdev_path_taken (ti, cpt, m > enq ? IPCOMP_FALLBACK_QUEUE_FULL : IPCOMP_FALLBACK_NONE,
		   f->ops[0].sa_index);
  return enq == n ? 0 : -1;
}

static ipcomp_async_frame_t *
cdev_dequeue (vlib_main_t *vm, u32 *n_inflight)
{
  cdev_main_t *cm = &cdev_main;
  u32 ti = vm->thread_index, n, i, n_err = 0, n_oos = 0;
  cdev_per_thread_t *cpt;
  struct rte_comp_op **cops;
  u64 now;

  *n_inflight = 0;
  if (PREDICT_FALSE (!cm->dev_ok))
    return 0;
  cpt = vec_elt_at_index (cm->per_thread, ti);

  /* the -post nodes have read the previous outputs by now */
  for (i = 0; i < cpt->n_done_ops; i++)
    rte_pktmbuf_free (cpt->done_ops[i]->m_dst);
  if (cpt->n_done_ops)
    rte_comp_op_bulk_free (cpt->done_ops, cpt->n_done_ops);
  cpt->n_done_ops = 0;
  if (PREDICT_FALSE (cm->stall))
    {
      *n_inflight = cpt->n_inflight;
      return 0;
    }

  cops = cpt->done_ops;
  n = rte_compressdev_dequeue_burst (cm->dev_id, ti, cops, VLIB_FRAME_SIZE);
  *n_inflight = cpt->n_inflight - n;
  if (!n)
    return 0;
  cpt->n_done_ops = n;
  cpt->n_inflight -= n;
  now = clib_cpu_time_now ();

  cpt->done.n_ops = n;
  cpt->done.thread_index = ti;
  for (i = 0; i < n; i++)
    {
      struct rte_comp_op *cop = cops[i];
      ipcomp_async_op_t *o = &cpt->done.ops[i];
      u8 st = cop->status;

      *o = *cdev_op_user (cop);
      ((cdev_ctx_t *) o->ctx)->n_inflight--;
      o->next = 0;
      o->t_dequeue = now;
      o->out = 0;
      o->out_len = 0;
      ipcomp_hist_add (&ipcomp_async_main.latency_hist, ti, now - o->t_enqueue);
      rte_pktmbuf_free (cop->m_src);
      cop->m_src = 0;

      if (PREDICT_TRUE (st == RTE_COMP_OP_STATUS_SUCCESS))
	{
	  if (o->op == IPCOMP_OP_DECOMPRESS && PREDICT_FALSE (cop->consumed != o->in_len))
	    {
	      /* trailing bytes after the final block: let software name it */
	      o->fallback = IPCOMP_FALLBACK_DATA_ERROR;
	      continue;
	    }
	  o->status = IPCOMP_CODEC_OK;
	  o->out = rte_pktmbuf_mtod (cop->m_dst, u8 *);
	  o->out_len = cop->produced;
	  cdev_device_ok (ti, cpt, o->sa_index);
	}
      else if (st == RTE_COMP_OP_STATUS_OUT_OF_SPACE_TERMINATED ||
	       st == RTE_COMP_OP_STATUS_OUT_OF_SPACE_RECOVERABLE)
	{
	  n_oos++;
	  cdev_device_ok (ti, cpt, o->sa_index);
	  if (o->op == IPCOMP_OP_DECOMPRESS && o->out_cap > cm->mbuf_size)
	    o->fallback = IPCOMP_FALLBACK_TOO_BIG; /* the SA allows more */
	  else
	    o->status = IPCOMP_CODEC_NO_SPACE; /* incompressible, or a bomb */
	}
      else if (st == RTE_COMP_OP_STATUS_ERROR && o->op == IPCOMP_OP_DECOMPRESS)
	{
	  /* corrupt or truncated input (most likely): software says which */
	  n_err++;
	  o->fallback = IPCOMP_FALLBACK_DATA_ERROR;
	}
      else
	{
	  n_err++;
	  o->fallback = IPCOMP_FALLBACK_DEVICE_ERROR;
	  cdev_device_failed (ti, cpt, st, o->sa_index);
	}
    }

  vlib_increment_simple_counter (&ipcomp_async_main.dev_counters[CDEV_COUNTER_DEQUEUED], ti, 0, n);
  if (n_err)
    vlib_increment_simple_counter (&ipcomp_async_main.dev_counters[CDEV_COUNTER_DEQUEUE_ERRORS], ti,
				   0, n_err);
  if (n_oos)
    vlib_increment_simple_counter (&ipcomp_async_main.dev_counters[CDEV_COUNTER_OUT_OF_SPACE], ti,
				   0, n_oos);
  return &cpt->done;
}

/* An op of this thread's queue pair did not come back in time: the device
 * counts as failed (device-failure event, reason timeout) and is retried
 * as after any failure; the op, if it returns, is only counted late. */
static void
cdev_op_timeout (vlib_main_t *vm, u32 sa_index)
{
  cdev_main_t *cm = &cdev_main;
  u32 ti = vm->thread_index;
  cdev_device_failed (ti, vec_elt_at_index (cm->per_thread, ti), CDEV_EVENT_REASON_TIMEOUT,
		      sa_index);
}

/* --- configuration and registration ------------------------------------- */

clib_error_t *
ipcomp_compressdev_config (vlib_main_t *vm, unformat_input_t *input)
{
  cdev_main_t *cm = &cdev_main;
  ipcomp_async_main_t *am = &ipcomp_async_main;
  ipcomp_engine_t reg = {
    .name = "compressdev",
    .desc = "DPDK compressdev (asynchronous), software fallback",
    .flags = IPCOMP_ENGINE_F_ASYNC | IPCOMP_ENGINE_F_SYNC,
    .max_level = 9,
    .default_level = 1,
    .fast_level = 1,
    .ctx_new = cdev_ctx_new,
    .ctx_free = cdev_ctx_free,
    .ctx_size = cdev_ctx_size,
    .periodic = cdev_periodic,
    .ops[IPCOMP_OP_COMPRESS] = cdev_sw_compress,
    .ops[IPCOMP_OP_DECOMPRESS] = cdev_sw_decompress,
    .enqueue = cdev_enqueue,
    .dequeue = cdev_dequeue,
    .op_timeout = cdev_op_timeout,
  };

  if (cm->configured)
    return clib_error_return (0, "ipcomp: one compressdev section only");
  cm->queue_size = CDEV_DEFAULT_QUEUE_SIZE;
  cm->mbuf_size = CDEV_DEFAULT_MBUF_SIZE;
  cm->priority = CDEV_DEFAULT_PRIORITY;
  am->timeout_ms = IPCOMP_ASYNC_DEFAULT_TIMEOUT_MS;

  while (unformat_check_input (input) != UNFORMAT_END_OF_INPUT)
    {
      if (unformat (input, "vdev %s", &cm->vdev))
	;
      else if (unformat (input, "dev %s", &cm->pci))
	;
      else if (unformat (input, "queue-size %u", &cm->queue_size))
	;
      else if (unformat (input, "num-ops %u", &cm->num_ops))
	;
      else if (unformat (input, "mbuf-size %u", &cm->mbuf_size))
	;
      else if (unformat (input, "priority %u", &cm->priority))
	;
      else if (unformat (input, "policy fallback"))
	am->policy = IPCOMP_ASYNC_POLICY_FALLBACK;
      else if (unformat (input, "policy drop"))
	am->policy = IPCOMP_ASYNC_POLICY_DROP;
      else if (unformat (input, "mode polling"))
	am->interrupt_mode = 0;
      else if (unformat (input, "mode interrupt"))
	am->interrupt_mode = 1;
      else if (unformat (input, "op-timeout-ms %u", &am->timeout_ms))
	;
      else if (unformat (input, "eal-args %v", &cm->eal_args))
	;
      else if (unformat (input, "no-eal"))
	cm->no_eal = 1;
      else
	return clib_error_return (0, "ipcomp compressdev: unknown input '%U'",
				  format_unformat_error, input);
    }
  if (am->timeout_ms < 1 || am->timeout_ms > 60000)
    return clib_error_return (0, "ipcomp compressdev: op-timeout-ms 1..60000");
  if (cm->queue_size < 1 || cm->queue_size > 65536)
    return clib_error_return (0, "ipcomp compressdev: queue-size 1..65536");
  if (cm->mbuf_size < 256 || cm->mbuf_size + RTE_PKTMBUF_HEADROOM > 65535)
    return clib_error_return (0, "ipcomp compressdev: mbuf-size 256..%u",
			      65535 - RTE_PKTMBUF_HEADROOM);
  if (vec_len (cm->eal_args))
    vec_add1 (cm->eal_args, 0);

  cm->configured = 1;
  reg.priority = cm->priority;
  cm->engine_index = ipcomp_engine_register (&reg);
  return 0;
}

static clib_error_t *
cdev_main_loop_enter (vlib_main_t *vm)
{
  cdev_start_once ();
  return 0;
}

VLIB_MAIN_LOOP_ENTER_FUNCTION (cdev_main_loop_enter);

/* --- CLI ----------------------------------------------------------------- */

static clib_error_t *
cdev_show_cmd (vlib_main_t *vm, unformat_input_t *input, vlib_cli_command_t *cmd)
{
  cdev_main_t *cm = &cdev_main;
  ipcomp_async_main_t *am = &ipcomp_async_main;
  u32 t, i;

  if (!cm->configured)
    {
      vlib_cli_output (vm,
		       "compressdev: not configured (startup.conf ipcomp { compressdev {..} })");
      return 0;
    }
  vlib_cli_output (vm, "compressdev: %v", cm->status);
  vlib_cli_output (vm, "  policy %s, dequeue %s, op timeout %u ms, device %s",
		   am->policy == IPCOMP_ASYNC_POLICY_DROP ? "drop" : "fallback",
		   am->interrupt_mode ? "interrupt" : "polling", am->timeout_ms,
		   cm->force_fail ? "forced failed" :
		   cm->stall	  ? "stalled" :
				    "normal");
  if (cm->dev_ok)
    {
      u32 held = 0;
      for (t = 0; t < vec_len (cm->per_thread); t++)
	held += cm->per_thread[t].n_done_ops;
      /* leak check: outside the device, only the last dequeue's ops (and
       * their output mbufs) are held, until the next dequeue */
      vlib_cli_output (vm, "  pools: ops in use %u, mbufs in use %u, held for -post %u",
		       rte_mempool_in_use_count (cm->op_pool),
		       rte_mempool_in_use_count (cm->mbuf_pool), held);
      vlib_cli_output (vm, "  xforms %u (of %u), waiting for their ops %u", cm->n_xforms,
		       CDEV_MAX_XFORMS, vec_len (cm->dead_ctxs));
    }
  if (!am->ready)
    return 0;
  for (t = 0; t < vec_len (cm->per_thread); t++)
    {
      u8 *s = format (0, "  qp %u:", t);
      for (i = 0; i < CDEV_N_COUNTERS; i++)
	s = format (s, " %s %llu", am->dev_counters[i].name + strlen ("offload/"),
		    am->dev_counters[i].counters[t][0]);
      s = format (s, " inflight %u%s", cm->per_thread[t].n_inflight,
		  cm->per_thread[t].failed ? " (failed)" : "");
      vlib_cli_output (vm, "%v", s);
      vec_free (s);
    }
  return 0;
}

VLIB_CLI_COMMAND (cdev_show_command, static) = {
  .path = "show ipcomp offload",
  .short_help = "show ipcomp offload",
  .function = cdev_show_cmd,
};

static clib_error_t *
cdev_set_cmd (vlib_main_t *vm, unformat_input_t *input, vlib_cli_command_t *cmd)
{
  cdev_main_t *cm = &cdev_main;
  ipcomp_async_main_t *am = &ipcomp_async_main;
  u32 n;

  while (unformat_check_input (input) != UNFORMAT_END_OF_INPUT)
    {
      if (unformat (input, "policy fallback"))
	am->policy = IPCOMP_ASYNC_POLICY_FALLBACK;
      else if (unformat (input, "policy drop"))
	am->policy = IPCOMP_ASYNC_POLICY_DROP;
      else if (unformat (input, "fail"))
	cm->force_fail = 1;
      else if (unformat (input, "unstall"))
	cm->stall = 0;
      else if (unformat (input, "stall"))
	cm->stall = 1;
      else if (unformat (input, "op-timeout-ms %u", &n))
	{
	  if (n < 1 || n > 60000)
	    return clib_error_return (0, "op-timeout-ms 1..60000");
	  ipcomp_async_set_timeout (n);
	}
      else if (unformat (input, "recover"))
	{
	  cm->force_fail = 0;
	  /* let the next enqueue try the device at once */
	  for (u32 t = 0; t < vec_len (cm->per_thread); t++)
	    cm->per_thread[t].failed_at = -1e9;
	}
      else
	return clib_error_return (0, "unknown input '%U'", format_unformat_error, input);
    }
  return 0;
}

/* Test hooks: "fail" makes every enqueue behave as if the device had failed
 * (the fallback and the failure/recovery events); "stall" makes the
 * dequeue leave completed ops on the device, as a device that never hands
 * them back (the op time-out), "unstall" lets them return (late). */
VLIB_CLI_COMMAND (cdev_set_command, static) = {
  .path = "set ipcomp offload",
  .short_help = "set ipcomp offload [policy fallback|drop] [fail|recover] [stall|unstall] "
		"[op-timeout-ms <n>]",
  .function = cdev_set_cmd,
};
