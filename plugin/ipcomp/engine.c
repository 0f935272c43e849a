/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * engine.c: compression engine registry, per-thread contexts and the
 * per-engine entries of the stats segment.
 */

#include <ipcomp/ipcomp.h>

#define IPCOMP_CLOCKS_HIST_MIN_EXP 4  /* first bin: < 32 clocks */
#define IPCOMP_CLOCKS_HIST_N_BINS  24 /* last bin: >= 2^27 clocks */

u32
ipcomp_engine_register (const ipcomp_engine_t *reg)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_engine_t *e;

  ASSERT (vec_len (im->engines) < IPCOMP_MAX_ENGINES);
  ASSERT ((reg->flags & IPCOMP_ENGINE_F_SYNC) ? reg->ops[IPCOMP_OP_COMPRESS] != 0 : 1);
  ASSERT ((reg->flags & IPCOMP_ENGINE_F_ASYNC) ? reg->enqueue && reg->dequeue : 1);
  ASSERT (!reg->learn.new == !reg->learn.compress);
  /* engine names are directories under /net/ipcomp/engine/, beside these */
  if (!strcmp (reg->name, "calls") || !strcmp (reg->name, "clocks") ||
      !strcmp (reg->name, "names") || strchr (reg->name, '/'))
    {
      clib_warning ("ipcomp: engine name '%s' is reserved", reg->name);
      return ~0;
    }

  vec_add2 (im->engines, e, 1);
  *e = *reg;
  e->index = e - im->engines;
  e->gauge_sas = e->gauge_priority = e->gauge_context_bytes = e->gauge_inflight = ~0;
  e->gauge_clocks_avg[0] = e->gauge_clocks_avg[1] = ~0;
  return e->index;
}

u32
ipcomp_engine_find (const char *name)
{
  ipcomp_engine_t *e;
  vec_foreach (e, ipcomp_main.engines)
    if (!strcmp (e->name, name))
      return e->index;
  return ~0;
}

u32
ipcomp_engine_best (void)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_engine_t *e;
  u32 best = ~0, prio = 0;

  if (im->default_engine_index != ~0)
    return im->default_engine_index;
  vec_foreach (e, im->engines)
    if (best == ~0 || e->priority > prio)
      {
	best = e->index;
	prio = e->priority;
      }
  return best;
}

/* The engine's gauges (SAs, priority, context bytes); main thread */
void
ipcomp_engine_set_gauges (ipcomp_engine_t *e)
{
  if (e->gauge_sas == ~0)
    return;
  vlib_stats_set_gauge (e->gauge_sas, e->n_sas);
  vlib_stats_set_gauge (e->gauge_priority, e->priority);
  vlib_stats_set_gauge (e->gauge_context_bytes, e->context_bytes);
}

static void
ipcomp_engine_ctx_account (ipcomp_engine_t *e, void *ctx, int add)
{
  u64 sz = e->ctx_size ? e->ctx_size (ctx) : 0;
  if (add)
    {
      e->n_contexts++;
      e->context_bytes += sz;
    }
  else
    {
      e->n_contexts--;
      e->context_bytes -= sz;
    }
}

int
ipcomp_profile_get (u32 engine_index, u8 level, u8 window_bits, u32 *profile_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_engine_t *e = vec_elt_at_index (im->engines, engine_index);
  ipcomp_profile_t *p;
  u32 n_threads = vlib_get_n_threads (), i;

  pool_foreach (p, im->profiles)
    {
      if (p->engine_index == engine_index && p->level == level && p->window_bits == window_bits)
	{
	  p->refcnt++;
	  *profile_index = p - im->profiles;
	  return 0;
	}
    }

  pool_get_zero (im->profiles, p);
  p->engine_index = engine_index;
  p->level = level;
  p->window_bits = window_bits;
  p->refcnt = 1;
  vec_validate (p->ctx_by_thread, n_threads - 1);
  for (i = 0; i < n_threads; i++)
    {
      p->ctx_by_thread[i] = e->ctx_new (i, IPCOMP_OP_COMPRESS, level, window_bits);
      if (!p->ctx_by_thread[i])
	{
	  while (i--)
	    {
	      ipcomp_engine_ctx_account (e, p->ctx_by_thread[i], 0);
	      e->ctx_free (p->ctx_by_thread[i]);
	    }
	  vec_free (p->ctx_by_thread);
	  pool_put (im->profiles, p);
	  return VNET_API_ERROR_INIT_FAILED;
	}
      ipcomp_engine_ctx_account (e, p->ctx_by_thread[i], 1);
    }
  ipcomp_engine_set_gauges (e);
  *profile_index = p - im->profiles;
  return 0;
}

void
ipcomp_profile_put (u32 profile_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_profile_t *p = pool_elt_at_index (im->profiles, profile_index);
  ipcomp_engine_t *e = vec_elt_at_index (im->engines, p->engine_index);
  void **ctx;

  if (--p->refcnt == 0)
    {
      /* callers hold the worker barrier: no thread uses these contexts */
      vec_foreach (ctx, p->ctx_by_thread)
	{
	  ipcomp_engine_ctx_account (e, *ctx, 0);
	  e->ctx_free (*ctx);
	}
      vec_free (p->ctx_by_thread);
      pool_put (im->profiles, p);
    }
  ipcomp_engine_set_gauges (e);
}

/* At main-loop entry, when the number of threads is final: decompress
 * contexts and the stats entries of every registered engine. */
clib_error_t *
ipcomp_engines_threads_init (vlib_main_t *vm)
{
  ipcomp_main_t *im = &ipcomp_main;
  u32 n_threads = vlib_get_n_threads (), i, op;
  ipcomp_engine_t *e;

  /* the names by engine_index: readers never infer an index */
  im->engine_names = vlib_stats_add_string_vector ("/net/ipcomp/engine/names");
  vec_foreach (e, im->engines)
    {
      vlib_stats_set_string_vector (&im->engine_names, e->index, "%s", e->name);
      vec_validate (e->decompress_ctx_by_thread, n_threads - 1);
      for (i = 0; i < n_threads; i++)
	{
	  void *ctx = e->ctx_new (i, IPCOMP_OP_DECOMPRESS, 0, IPCOMP_DEFAULT_WINDOW_BITS);
	  if (!ctx)
	    return clib_error_return (0, "ipcomp engine %s: no decompress context", e->name);
	  e->decompress_ctx_by_thread[i] = ctx;
	  ipcomp_engine_ctx_account (e, ctx, 1);
	}

      e->gauge_sas = vlib_stats_add_gauge ("/net/ipcomp/engine/%s/sas", e->name);
      e->gauge_priority = vlib_stats_add_gauge ("/net/ipcomp/engine/%s/priority", e->name);
      e->gauge_context_bytes =
	vlib_stats_add_gauge ("/net/ipcomp/engine/%s/context-bytes", e->name);
      e->gauge_inflight = vlib_stats_add_gauge ("/net/ipcomp/engine/%s/inflight", e->name);
      e->gauge_clocks_avg[IPCOMP_OP_COMPRESS] =
	vlib_stats_add_gauge ("/net/ipcomp/engine/%s/compress-clocks-avg", e->name);
      e->gauge_clocks_avg[IPCOMP_OP_DECOMPRESS] =
	vlib_stats_add_gauge ("/net/ipcomp/engine/%s/decompress-clocks-avg", e->name);
      for (op = 0; op < IPCOMP_N_OPS; op++)
	{
	  vlib_log2_histogram_main_t *hm = &e->clocks_hist[op];
	  hm->stat_segment_name =
	    (char *) format (0, "/net/ipcomp/engine/%s/%s-clocks%c", e->name,
			     op == IPCOMP_OP_COMPRESS ? "compress" : "decompress", 0);
	  hm->min_exp = IPCOMP_CLOCKS_HIST_MIN_EXP;
	  vlib_validate_log2_histogram (hm, IPCOMP_CLOCKS_HIST_N_BINS);
	}
      ipcomp_engine_set_gauges (e);
      vlib_stats_set_gauge (e->gauge_inflight, 0);
    }
  return 0;
}

/* Once per interval, from the ipcomp process: average engine clocks per
 * call since the previous update. */
void
ipcomp_engines_update_gauges (void)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_engine_t *e;
  vlib_counter_t c;
  u32 op;

  vec_foreach (e, im->engines)
    {
      if (e->gauge_sas == ~0)
	continue;
      if (e->periodic)
	e->periodic ();
      for (op = 0; op < IPCOMP_N_OPS; op++)
	{
	  u64 clocks = vlib_get_simple_counter (&im->engine_clocks[op], e->index);
	  u64 calls;
	  vlib_get_combined_counter (&im->engine_calls[op], e->index, &c);
	  calls = c.packets;
	  if (calls > e->last_calls[op])
	    vlib_stats_set_gauge (e->gauge_clocks_avg[op],
				  (clocks - e->last_clocks[op]) / (calls - e->last_calls[op]));
	  e->last_calls[op] = calls;
	  e->last_clocks[op] = clocks;
	}
    }
}

u8 *
format_ipcomp_engine (u8 *s, va_list *args)
{
  ipcomp_engine_t *e = va_arg (*args, ipcomp_engine_t *);
  ipcomp_main_t *im = &ipcomp_main;
  vlib_counter_t c[IPCOMP_N_OPS];
  u64 clocks[IPCOMP_N_OPS];
  u32 op;

  for (op = 0; op < IPCOMP_N_OPS; op++)
    {
      vlib_get_combined_counter (&im->engine_calls[op], e->index, &c[op]);
      clocks[op] = vlib_get_simple_counter (&im->engine_clocks[op], e->index);
    }

  s = format (s, "%-12s prio %u %s levels 0..%u (default %u) sas %u contexts %u (%llu bytes)",
	      e->name, e->priority, (e->flags & IPCOMP_ENGINE_F_ASYNC) ? "async" : "sync",
	      e->max_level, e->default_level, e->n_sas, e->n_contexts, e->context_bytes);
  s = format (s, "\n    %s", e->desc);
  for (op = 0; op < IPCOMP_N_OPS; op++)
    s = format (s, "\n    %-10s calls %llu bytes %llu clocks/call %.1f",
		op == IPCOMP_OP_COMPRESS ? "compress" : "decompress", c[op].packets, c[op].bytes,
		c[op].packets ? (f64) clocks[op] / c[op].packets : 0.0);
  return s;
}

u8 *
format_ipcomp_profile (u8 *s, va_list *args)
{
  ipcomp_profile_t *p = va_arg (*args, ipcomp_profile_t *);
  ipcomp_engine_t *e = vec_elt_at_index (ipcomp_main.engines, p->engine_index);
  return format (s, "%s level %u window %u", e->name, p->level, p->window_bits);
}
