/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_sa.c: the SA pool.  An SA holds the endpoints, the CPI and the
 * compression policy; an ipcomp protection attaches SAs to an ipip tunnel
 * (ipcomp_protect.c), transport mode enables an SA on one interface.  All
 * changes run on the main thread with the workers stopped (CLI and API
 * handlers hold the barrier), so the data path reads the pools and hashes
 * without locks.
 */

#include <vnet/fib/fib_table.h>
#include <ipcomp/ipcomp.h>

void
ipcomp_sa_args_default (ipcomp_sa_args_t *a)
{
  clib_memset (a, 0, sizeof (*a));
  a->id = ~0;
  a->level = IPCOMP_LEVEL_DEFAULT;
  a->window_bits = IPCOMP_DEFAULT_WINDOW_BITS;
  a->threshold = IPCOMP_DEFAULT_THRESHOLD;
  a->max_decompressed = IPCOMP_DEFAULT_MAX_DECOMPRESSED;
}

u32
ipcomp_sa_find_by_id (u32 id)
{
  uword *p = hash_get (ipcomp_main.sa_index_by_id, id);
  return p ? p[0] : ~0;
}

static void
ipcomp_sa_rx_key (const ipcomp_sa_t *sa, u32 cpi, ipcomp_rx_key_t *k)
{
  clib_memset (k, 0, sizeof (*k));
  /* received packets come from the peer to us */
  k->src = sa->peer;
  k->dst = sa->local;
  k->fib_index = sa->fib_index;
  k->cpi = cpi;
}

static void
ipcomp_sa_tx_key (const ipcomp_sa_t *sa, u32 sw_if_index, ipcomp_tx_key_t *k)
{
  clib_memset (k, 0, sizeof (*k));
  k->peer = sa->peer;
  k->sw_if_index = sw_if_index;
  k->is_ip6 = sa->is_ip6;
}

int
ipcomp_sa_add (const ipcomp_sa_args_t *a, u32 *sa_indexp)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_rx_key_t k, *kp;
  ipcomp_engine_t *e;
  ipcomp_sa_t *sa;
  u32 engine_index, fib_index, profile_index, small_profile_index, sa_index, id, i;
  void **learn = 0;
  u8 level;
  int rv;

  if (!im->stats_ready)
    return VNET_API_ERROR_FEATURE_DISABLED;
  if (a->id != ~0 && ipcomp_sa_find_by_id (a->id) != ~0)
    return VNET_API_ERROR_ENTRY_ALREADY_EXISTS;
  if (ip46_address_is_zero (&a->local) || ip46_address_is_zero (&a->peer))
    return VNET_API_ERROR_INVALID_SRC_ADDRESS;
  if (!ipcomp_cpi_is_valid (a->cpi))
    return VNET_API_ERROR_INVALID_VALUE_4;
  if (a->window_bits < IPCOMP_CODEC_WBITS_MIN || a->window_bits > IPCOMP_CODEC_WBITS_MAX)
    return VNET_API_ERROR_INVALID_VALUE;
  if (a->max_decompressed < 64 || a->max_decompressed > IPCOMP_MAX_IP_PACKET)
    return VNET_API_ERROR_INVALID_VALUE_2;

  fib_index = fib_table_find (a->is_ip6 ? FIB_PROTOCOL_IP6 : FIB_PROTOCOL_IP4, a->table_id);
  if (fib_index == ~0)
    return VNET_API_ERROR_NO_SUCH_FIB;

  engine_index = a->engine ? ipcomp_engine_find (a->engine) : ipcomp_engine_best ();
  if (engine_index == ~0)
    return VNET_API_ERROR_NO_SUCH_ENTRY;
  e = vec_elt_at_index (im->engines, engine_index);
  level = (a->level == IPCOMP_LEVEL_DEFAULT || a->level == IPCOMP_LEVEL_AUTO) ? e->default_level :
									  a->level;
  if (level > e->max_level)
    return VNET_API_ERROR_INVALID_VALUE_3;

  /* one SA per (peer, local, table, cpi) */
  clib_memset (&k, 0, sizeof (k));
  k.src = a->peer;
  k.dst = a->local;
  k.fib_index = fib_index;
  k.cpi = a->cpi;
  if (hash_get_mem (im->sa_index_by_rx_key, &k))
    return VNET_API_ERROR_ADDRESS_IN_USE;

  rv = ipcomp_profile_get (engine_index, level, a->window_bits, &profile_index);
  if (rv)
    return rv;
  small_profile_index = profile_index;
  if (a->level == IPCOMP_LEVEL_AUTO &&
      (rv = ipcomp_profile_get (engine_index, e->fast_level, a->window_bits, &small_profile_index)))
    {
      ipcomp_profile_put (profile_index);
      return rv;
    }
  /* level auto: per thread, the state of a coding learned from this SA */
  if (a->level == IPCOMP_LEVEL_AUTO && e->learn.new)
    for (i = 0; i < vec_len (im->per_thread); i++)
      {
	void *l = e->learn.new ();
	if (!l)
	  {
	    vec_foreach_index (i, learn)
	      e->learn.free (learn[i]);
	    vec_free (learn);
	    ipcomp_profile_put (profile_index);
	    ipcomp_profile_put (small_profile_index);
	    return VNET_API_ERROR_INIT_FAILED;
	  }
	vec_add1 (learn, l);
      }

  pool_get_zero (im->sas, sa);
  sa_index = sa - im->sas;
  id = a->id != ~0 ? a->id : sa_index;
  /* an automatic id may collide with a user id: move on to a free one */
  while (a->id == ~0 && ipcomp_sa_find_by_id (id) != ~0)
    id++;
  sa->id = id;
  sa->cpi = a->cpi;
  sa->is_ip6 = a->is_ip6;
  sa->flags = 0;
  sa->local = a->local;
  sa->peer = a->peer;
  sa->fib_index = fib_index;
  sa->table_id = a->table_id;
  sa->threshold = a->threshold;
  sa->max_decompressed = a->max_decompressed;
  sa->engine_index = engine_index;
  sa->level = level;
  sa->window_bits = a->window_bits;
  sa->ttl = IPCOMP_DEFAULT_TTL;
  sa->backoff = !a->no_backoff;
  sa->profile_index = profile_index;
  sa->small_profile_index = small_profile_index;
  sa->level_auto = a->level == IPCOMP_LEVEL_AUTO;
  e->n_sas++;
  ipcomp_engine_set_gauges (e);
  sa->tunnel_index = ~0;
  sa->sw_if_index = ~0;
  sa->transport_sw_if_index = ~0;

  hash_set (im->sa_index_by_id, sa->id, sa_index);
  {
    ipcomp_per_thread_t *ptd;
    vec_foreach (ptd, im->per_thread)
      {
	vec_validate (ptd->sa_state, sa_index);
	clib_memset (&ptd->sa_state[sa_index], 0, sizeof (ptd->sa_state[0]));
	if (learn)
	  ptd->sa_state[sa_index].learn = learn[ptd - im->per_thread];
      }
    vec_free (learn);
  }
  kp = clib_mem_alloc (sizeof (*kp));
  ipcomp_sa_rx_key (sa, sa->cpi, kp);
  hash_set_mem (im->sa_index_by_rx_key, kp, sa_index);

  /* IPComp only: IP-in-IP (4, 41) stays ipip's */
  if (sa->is_ip6)
    ip6_register_protocol (IPCOMP_IP_PROTOCOL, ipcomp6_decompress_node.index);
  else
    ip4_register_protocol (IPCOMP_IP_PROTOCOL, ipcomp4_decompress_node.index);
  ipcomp_stats_sa_added (sa_index);
  ipcomp_event_control (IPCOMP_EVENT_SA_ADD, sa_index);

  *sa_indexp = sa_index;
  return 0;
}

static void
ipcomp_sa_rx_key_del (ipcomp_sa_t *sa, u32 cpi)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_rx_key_t k;
  hash_pair_t *hp;
  void *key;

  ipcomp_sa_rx_key (sa, cpi, &k);
  hp = hash_get_pair_mem (im->sa_index_by_rx_key, &k);
  if (!hp)
    return;
  key = uword_to_pointer (hp->key, void *);
  hash_unset_mem (im->sa_index_by_rx_key, &k);
  clib_mem_free (key);
}

int
ipcomp_sa_del (u32 sa_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_sa_t *sa;

  if (pool_is_free_index (im->sas, sa_index))
    return VNET_API_ERROR_NO_SUCH_ENTRY;
  sa = ipcomp_sa_get (sa_index);
  if (sa->flags & IPCOMP_SA_F_TRANSPORT_ENABLED)
    return VNET_API_ERROR_INSTANCE_IN_USE;
  if (sa->flags & IPCOMP_SA_F_TUNNEL)
    return VNET_API_ERROR_TUNNEL_EXIST; /* remove the protection first */

  ipcomp_event_control (IPCOMP_EVENT_SA_DEL, sa_index);

  ipcomp_sa_rx_key_del (sa, sa->cpi);
  hash_unset (im->sa_index_by_id, sa->id);
  ipcomp_profile_put (sa->profile_index);
  if (sa->level_auto)
    ipcomp_profile_put (sa->small_profile_index);
  {
    ipcomp_engine_t *e = vec_elt_at_index (im->engines, sa->engine_index);
    ipcomp_per_thread_t *ptd;
    vec_foreach (ptd, im->per_thread)
      {
	ipcomp_sa_thread_t *st = vec_elt_at_index (ptd->sa_state, sa_index);
	if (st->learn)
	  e->learn.free (st->learn);
	st->learn = 0;
      }
    e->n_sas--;
    ipcomp_engine_set_gauges (e);
  }
  vlib_stats_set_string_vector (&im->sa_names, sa_index, "");
  pool_put (im->sas, sa);
  vlib_stats_set_gauge (im->gauge_n_sas, pool_elts (im->sas));
  return 0;
}

/* Transport mode: compress IP payloads of packets leaving sw_if_index for
 * the SA's peer (an output feature), decompress what the peer sends (the
 * protocol 108 handler does that for every SA anyway).  An SA is enabled on
 * at most one interface; enabling it there again changes nothing, disabling
 * it elsewhere is refused, so the feature's reference count always matches
 * the SAs enabled on the interface. */
int
ipcomp_sa_transport_enable_disable (u32 sa_index, u32 sw_if_index, int enable)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_tx_key_t k, *kp;
  ipcomp_sa_t *sa;
  hash_pair_t *hp;

  if (pool_is_free_index (im->sas, sa_index))
    return VNET_API_ERROR_NO_SUCH_ENTRY;
  sa = ipcomp_sa_get (sa_index);
  if (sa->flags & IPCOMP_SA_F_TUNNEL)
    return VNET_API_ERROR_INVALID_VALUE;
  if (!vnet_sw_interface_is_api_valid (im->vnet_main, sw_if_index))
    return VNET_API_ERROR_INVALID_SW_IF_INDEX;

  if (enable)
    {
      if (sa->transport_sw_if_index == sw_if_index)
	return 0;
      if (sa->transport_sw_if_index != ~0)
	return VNET_API_ERROR_INSTANCE_IN_USE;
      ipcomp_sa_tx_key (sa, sw_if_index, &k);
      if (hash_get_mem (im->sa_index_by_tx_key, &k))
	return VNET_API_ERROR_ADDRESS_IN_USE;
      kp = clib_mem_alloc (sizeof (*kp));
      *kp = k;
      hash_set_mem (im->sa_index_by_tx_key, kp, sa_index);
      sa->flags |= IPCOMP_SA_F_TRANSPORT_ENABLED;
      sa->transport_sw_if_index = sw_if_index;
    }
  else
    {
      if (sa->transport_sw_if_index != sw_if_index)
	return VNET_API_ERROR_NO_SUCH_ENTRY;
      ipcomp_sa_tx_key (sa, sw_if_index, &k);
      hp = hash_get_pair_mem (im->sa_index_by_tx_key, &k);
      kp = uword_to_pointer (hp->key, void *);
      hash_unset_mem (im->sa_index_by_tx_key, &k);
      clib_mem_free (kp);
      sa->flags &= ~IPCOMP_SA_F_TRANSPORT_ENABLED;
      sa->transport_sw_if_index = ~0;
    }

  vnet_feature_enable_disable (sa->is_ip6 ? "ip6-output" : "ip4-output",
			       sa->is_ip6 ? "ipcomp6-transport-compress" :
					    "ipcomp4-transport-compress",
			       sw_if_index, enable, 0, 0);
  return 0;
}

/* ipip or anybody deleted an interface an SA was enabled on */
static clib_error_t *
ipcomp_sa_sw_interface_add_del (vnet_main_t *vnm, u32 sw_if_index, u32 is_add)
{
  ipcomp_main_t *im = &ipcomp_main;
  u32 sa_index;

  if (is_add)
    return 0;
  pool_foreach_index (sa_index, im->sas)
    if (ipcomp_sa_get (sa_index)->transport_sw_if_index == sw_if_index)
      ipcomp_sa_transport_enable_disable (sa_index, sw_if_index, 0);
  return 0;
}

VNET_SW_INTERFACE_ADD_DEL_FUNCTION (ipcomp_sa_sw_interface_add_del);

/* What level auto chooses for an SA, per thread, and why */
static u8 *
format_ipcomp_sa_auto (u8 *s, va_list *args)
{
  u32 sa_index = va_arg (*args, u32);
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_sa_t *sa = ipcomp_sa_get (sa_index);
  ipcomp_engine_t *e = vec_elt_at_index (im->engines, sa->engine_index);
  ipcomp_per_thread_t *ptd;

  s = format (s, "\n    level auto: below %u bytes %U, from there level %u", IPCOMP_AUTO_SPLIT,
	      format_ipcomp_profile, pool_elt_at_index (im->profiles, sa->small_profile_index),
	      sa->level);
  if (!e->learn.new)
    return format (s, "\n      why: level %u's per-packet cost only pays on large packets; "
		      "%s cannot learn from the SA's data",
		   sa->level, e->name);
  s = format (s,
	      "\n      why: level %u builds Huffman tables per packet (~6k clocks), which only "
	      "large packets repay; below %u bytes level %u codes with tables learned from this "
	      "SA's packets (%u bytes per thread)",
	      sa->level, IPCOMP_AUTO_SPLIT, e->fast_level, e->learn.size ());
  vec_foreach (ptd, im->per_thread)
    {
      ipcomp_sa_thread_t *st;
      if (sa_index >= vec_len (ptd->sa_state))
	continue;
      st = vec_elt_at_index (ptd->sa_state, sa_index);
      if (st->learn_valid)
	s = format (s,
		    "\n      thread %u: learned tables, built %u times from %llu sampled packets "
		    "(one in %u sampled, rebuilt every %u samples)",
		    ptd - im->per_thread, st->learn_builds, st->learn_sampled,
		    IPCOMP_AUTO_SAMPLE_EVERY, IPCOMP_AUTO_BUILD_EVERY);
      else
	s = format (s,
		    "\n      thread %u: default tables, learning (%u of %u packets sampled)",
		    ptd - im->per_thread, st->learn_samples, IPCOMP_AUTO_FIRST_BUILD);
      if (st->learn_forgets)
	s = format (s, "; relearned %u times after %u+ packets in a row did not compress",
		    st->learn_forgets, IPCOMP_AUTO_MISSES);
    }
  return s;
}

u8 *
format_ipcomp_sa (u8 *s, va_list *args)
{
  u32 sa_index = va_arg (*args, u32);
  int verbose = va_arg (*args, int);
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_sa_t *sa = ipcomp_sa_get (sa_index);
  vlib_counter_t c;
  u32 i;

  s = format (s, "[%u] sa %u cpi %u %U -> %U table %u %s", sa_index, sa->id, sa->cpi,
	      format_ip46_address, &sa->local, IP46_TYPE_ANY, format_ip46_address, &sa->peer,
	      IP46_TYPE_ANY, sa->table_id,
	      (sa->flags & IPCOMP_SA_F_TUNNEL)		  ? "protect" :
	      (sa->flags & IPCOMP_SA_F_TRANSPORT_ENABLED) ? "transport" :
							    "transport (disabled)");
  if (sa->sw_if_index != ~0)
    s = format (s, " %U", format_vnet_sw_if_index_name, im->vnet_main, sa->sw_if_index);
  if (sa->transport_sw_if_index != ~0)
    s = format (s, " %U", format_vnet_sw_if_index_name, im->vnet_main, sa->transport_sw_if_index);
  s = format (s, "\n    %U threshold %u max-decompressed %u backoff %s", format_ipcomp_profile,
	      pool_elt_at_index (im->profiles, sa->profile_index), sa->threshold,
	      sa->max_decompressed, sa->backoff ? "on" : "off");
  if (sa->level_auto)
    s = format (s, "%U", format_ipcomp_sa_auto, sa_index);
  if (!verbose)
    return s;
  for (i = 0; i < IPCOMP_SA_N_COUNTERS; i++)
    {
      vlib_get_combined_counter (&im->sa_counters[i], sa_index, &c);
      s = format (s, "\n    %-17s %12llu packets %14llu bytes", im->sa_counters[i].name + 3,
		  c.packets, c.bytes);
    }
  return s;
}
