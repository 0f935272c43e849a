/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_protect.c: IPComp as protection of VPP's own point-to-point ipip
 * tunnels, in the spirit of IPsec tunnel protection (vnet/ipsec/ipsec_tun.c).
 *
 *   ipcomp protect <ipip-interface> sa-out <id> sa-in <id>
 *
 * Send side: ipcomp4-compress (IPv4 outer) or ipcomp6-compress (IPv6 outer)
 * is enabled as an output feature of the tunnel interface on both the
 * ip4-output and the ip6-output arc (inner IPv4 / IPv6).  ip4-midchain /
 * ip6-midchain start those arcs after ipip's rewrite and fix-up, so the node
 * sees the outer header with length, checksum, DSCP/ECN/DF by the tunnel
 * flags.  It compresses the inner packet and inserts the IPComp header, or
 * leaves the plain IP-in-IP ipip built, and the arc goes on to its end node:
 * ipip's tunnel-output (the midchain's stacked path: loop detection and the
 * outer lookup stay ipip's) or, with `ipsec tunnel protect` on the same
 * tunnel, esp4/6-encrypt-tun, so IPComp comes before ESP (RFC 3173).  The
 * feature is per interface: adjacencies ipip creates or rewrites later need
 * nothing.
 *
 * Receive side: the sa-in SA's key (peer -> local, table, CPI) is in the
 * receive table of ipcomp4/6-decompress (IP protocol 108); those nodes
 * restore the outer header with the inner protocol and hand the packet to
 * ipip4-input/ipip6-input, so ipip's tunnel lookup, counters and decap
 * apply.  IP protocols 4 and 41 stay ipip's.
 *
 * All changes run on the main thread with the workers stopped.
 */

#include <vnet/feature/feature.h>
#include <vnet/ipip/ipip.h>
#include <ipcomp/ipcomp.h>

ipcomp_protect_t *
ipcomp_protect_get_by_sw_if_index (u32 sw_if_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  if (sw_if_index >= vec_len (im->protect_index_by_sw_if_index) ||
      im->protect_index_by_sw_if_index[sw_if_index] == ~0)
    return 0;
  return pool_elt_at_index (im->protects, im->protect_index_by_sw_if_index[sw_if_index]);
}

/* The compress feature on both output arcs of the tunnel */
static void
ipcomp_protect_feature (const ipcomp_protect_t *p, int enable)
{
  const char *node = p->is_ip6 ? "ipcomp6-compress" : "ipcomp4-compress";
  vnet_feature_enable_disable ("ip4-output", node, p->sw_if_index, enable, 0, 0);
  vnet_feature_enable_disable ("ip6-output", node, p->sw_if_index, enable, 0, 0);
}

/* What an SA must share with the tunnel it protects */
typedef struct
{
  u32 sw_if_index;
  u8 is_ip6;
  ip46_address_t src;
  ip46_address_t dst;
  u32 fib_index;
} ipcomp_tunnel_ends_t;

/* The SA must be the tunnel's: same family, endpoints and outer table */
static int
ipcomp_protect_sa_check (const ipcomp_tunnel_ends_t *t, u32 sa_index)
{
  ipcomp_sa_t *sa;

  if (sa_index == ~0)
    return VNET_API_ERROR_NO_SUCH_ENTRY;
  sa = ipcomp_sa_get (sa_index);
  if (sa->flags & IPCOMP_SA_F_TRANSPORT_ENABLED)
    return VNET_API_ERROR_INSTANCE_IN_USE;
  if (sa->sw_if_index != ~0 && sa->sw_if_index != t->sw_if_index)
    return VNET_API_ERROR_INSTANCE_IN_USE;
  if (sa->is_ip6 != t->is_ip6 || !ip46_address_is_equal (&sa->local, &t->src) ||
      !ip46_address_is_equal (&sa->peer, &t->dst) || sa->fib_index != t->fib_index)
    return VNET_API_ERROR_INVALID_VALUE_2;
  return 0;
}

static void
ipcomp_protect_sa_attach (u32 sa_index, u32 sw_if_index, u32 protect_index)
{
  ipcomp_sa_t *sa = ipcomp_sa_get (sa_index);
  sa->flags |= IPCOMP_SA_F_TUNNEL;
  sa->sw_if_index = sw_if_index;
  sa->tunnel_index = protect_index;
}

static void
ipcomp_protect_sa_detach (u32 sa_index)
{
  ipcomp_sa_t *sa = ipcomp_sa_get (sa_index);
  sa->flags &= ~IPCOMP_SA_F_TUNNEL;
  sa->sw_if_index = ~0;
  sa->tunnel_index = ~0;
}

int
ipcomp_protect_add (u32 sw_if_index, u32 sa_out, u32 sa_in)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_tunnel_ends_t tc;
  ipcomp_protect_t *p;
  ipip_tunnel_t *t;
  u32 old_out = ~0, old_in = ~0;
  int rv;

  t = ipip_tunnel_db_find_by_sw_if_index (sw_if_index);
  if (!t)
    return VNET_API_ERROR_INVALID_SW_IF_INDEX;
  if (t->mode != IPIP_MODE_P2P)
    return VNET_API_ERROR_INVALID_INTERFACE;

  tc.sw_if_index = sw_if_index;
  tc.is_ip6 = t->transport == IPIP_TRANSPORT_IP6;
  tc.src = t->tunnel_src;
  tc.dst = t->tunnel_dst;
  tc.fib_index = t->fib_index;
  if ((rv = ipcomp_protect_sa_check (&tc, sa_out)) || (rv = ipcomp_protect_sa_check (&tc, sa_in)))
    return rv;

  p = ipcomp_protect_get_by_sw_if_index (sw_if_index);
  if (p)
    {
      /* replace the SAs of an existing protection */
      old_out = p->sa_out;
      old_in = p->sa_in;
    }
  else
    {
      pool_get_zero (im->protects, p);
      p->sw_if_index = sw_if_index;
      p->is_ip6 = tc.is_ip6;
      vec_validate_init_empty (im->protect_index_by_sw_if_index, sw_if_index, ~0);
      im->protect_index_by_sw_if_index[sw_if_index] = p - im->protects;
    }
  if (old_out != ~0)
    ipcomp_protect_sa_detach (old_out);
  if (old_in != ~0 && old_in != old_out)
    ipcomp_protect_sa_detach (old_in);
  p->sa_out = sa_out;
  p->sa_in = sa_in;
  ipcomp_protect_sa_attach (sa_out, sw_if_index, p - im->protects);
  ipcomp_protect_sa_attach (sa_in, sw_if_index, p - im->protects);

  if (old_out == ~0)
    {
      ipcomp_protect_feature (p, 1);
      ipcomp_event_control (IPCOMP_EVENT_TUNNEL_ADD, sa_out);
    }
  vlib_stats_set_gauge (im->gauge_n_tunnels, pool_elts (im->protects));
  return 0;
}

int
ipcomp_protect_del (u32 sw_if_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_protect_t *p = ipcomp_protect_get_by_sw_if_index (sw_if_index);

  if (!p)
    return VNET_API_ERROR_NO_SUCH_ENTRY;

  ipcomp_event_control (IPCOMP_EVENT_TUNNEL_DEL, p->sa_out);
  ipcomp_protect_feature (p, 0);
  ipcomp_protect_sa_detach (p->sa_out);
  if (p->sa_in != p->sa_out)
    ipcomp_protect_sa_detach (p->sa_in);
  im->protect_index_by_sw_if_index[sw_if_index] = ~0;
  pool_put (im->protects, p);
  vlib_stats_set_gauge (im->gauge_n_tunnels, pool_elts (im->protects));
  return 0;
}

/* ipip deleted the tunnel (or its interface): the protection goes with it */
static clib_error_t *
ipcomp_protect_sw_interface_add_del (vnet_main_t *vnm, u32 sw_if_index, u32 is_add)
{
  if (!is_add && ipcomp_protect_get_by_sw_if_index (sw_if_index))
    ipcomp_protect_del (sw_if_index);
  return 0;
}

VNET_SW_INTERFACE_ADD_DEL_FUNCTION (ipcomp_protect_sw_interface_add_del);

u8 *
format_ipcomp_protect (u8 *s, va_list *args)
{
  ipcomp_protect_t *p = va_arg (*args, ipcomp_protect_t *);
  int verbose = va_arg (*args, int);
  ipcomp_main_t *im = &ipcomp_main;

  s = format (s, "%U (sw_if_index %u) sa-out %u sa-in %u", format_vnet_sw_if_index_name,
	      im->vnet_main, p->sw_if_index, p->sw_if_index, ipcomp_sa_get (p->sa_out)->id,
	      ipcomp_sa_get (p->sa_in)->id);
  s = format (s, "\n  out %U", format_ipcomp_sa, p->sa_out, verbose);
  if (p->sa_in != p->sa_out)
    s = format (s, "\n  in  %U", format_ipcomp_sa, p->sa_in, verbose);
  return s;
}
