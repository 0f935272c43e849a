/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_protect.c: IPComp as protection of VPP's own point-to-point ipip
 * tunnels, modelled on IPsec tunnel protection (vnet/ipsec/ipsec_tun.c).
 *
 *   ipcomp protect <ipip-interface> sa-out <id> sa-in <id>
 *
 * Send side: every midchain adjacency on the tunnel gets ipcomp4-compress
 * (IPv4 outer) or ipcomp6-compress (IPv6 outer) as its next node, so the
 * node sees the packet after ipip's rewrite and fix-up (outer header with
 * length, checksum, DSCP/ECN/DF by the tunnel flags).  It compresses the
 * inner packet and inserts the IPComp header, or leaves the packet as the
 * plain IP-in-IP ipip built, and hands it to the node the adjacency had
 * before (adj-midchain-tx, which follows the stacked path; loop detection
 * and the outer lookup stay ipip's).  An adjacency delegate re-applies this
 * to adjacencies created or rewritten after the protection.
 *
 * Receive side: the sa-in SA's key (peer -> local, table, CPI) is in the
 * receive table of ipcomp4/6-decompress (IP protocol 108); those nodes
 * restore the outer header with the inner protocol and hand the packet to
 * ipip4-input/ipip6-input, so ipip's tunnel lookup, counters and decap
 * apply.  IP protocols 4 and 41 stay ipip's.
 *
 * All changes run on the main thread with the workers stopped.
 */

#include <vnet/adj/adj_delegate.h>
#include <vnet/adj/adj_midchain.h>
#include <vnet/ipip/ipip.h>
#include <ipcomp/ipcomp.h>

static adj_delegate_type_t ipcomp_adj_delegate_type;

ipcomp_protect_t *
ipcomp_protect_get_by_sw_if_index (u32 sw_if_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  if (sw_if_index >= vec_len (im->protect_index_by_sw_if_index) ||
      im->protect_index_by_sw_if_index[sw_if_index] == ~0)
    return 0;
  return pool_elt_at_index (im->protects, im->protect_index_by_sw_if_index[sw_if_index]);
}

static u32
ipcomp_protect_node_index (const ipcomp_protect_t *p)
{
  return p->is_ip6 ? ipcomp6_compress_node.index : ipcomp4_compress_node.index;
}

/* Point one midchain adjacency at the compress node; remember where it went
 * before, as the compress node's next for packets of this adjacency. */
static void
ipcomp_protect_adj_apply (adj_index_t ai, const ipcomp_protect_t *p)
{
  ipcomp_main_t *im = &ipcomp_main;
  vlib_main_t *vm = vlib_get_main ();
  ip_adjacency_t *adj = adj_get (ai);
  u32 node_index = ipcomp_protect_node_index (p);
  vlib_node_t *n = vlib_get_node (vm, adj->ia_node_index);
  u32 downstream = n->next_nodes[adj->rewrite_header.next_index];

  vec_validate_init_empty (im->tx_next_by_adj, ai, ~0);
  if (downstream == ipcomp4_compress_node.index || downstream == ipcomp6_compress_node.index)
    return; /* already ours */
  /* both compress nodes (and their -post twins) are siblings: one index */
  im->tx_next_by_adj[ai] = vlib_node_add_next (vm, ipcomp4_compress_node.index, downstream);
  adj_nbr_midchain_update_next_node (ai, node_index);
}

static void
ipcomp_protect_adj_restore (adj_index_t ai)
{
  ipcomp_main_t *im = &ipcomp_main;
  vlib_main_t *vm = vlib_get_main ();
  vlib_node_t *n;

  if (ai >= vec_len (im->tx_next_by_adj) || im->tx_next_by_adj[ai] == ~0)
    return;
  n = vlib_get_node (vm, ipcomp4_compress_node.index);
  adj_nbr_midchain_update_next_node (ai, n->next_nodes[im->tx_next_by_adj[ai]]);
  im->tx_next_by_adj[ai] = ~0;
}

static adj_walk_rc_t
ipcomp_protect_adj_add_walk (adj_index_t ai, void *arg)
{
  ipcomp_protect_t *p = arg;
  if (!adj_is_midchain (ai))
    return ADJ_WALK_RC_CONTINUE;
  if (!adj_delegate_get (adj_get (ai), ipcomp_adj_delegate_type))
    adj_delegate_add (adj_get (ai), ipcomp_adj_delegate_type, p - ipcomp_main.protects);
  ipcomp_protect_adj_apply (ai, p);
  return ADJ_WALK_RC_CONTINUE;
}

static adj_walk_rc_t
ipcomp_protect_adj_del_walk (adj_index_t ai, void *arg)
{
  if (adj_delegate_get (adj_get (ai), ipcomp_adj_delegate_type))
    adj_delegate_remove (ai, ipcomp_adj_delegate_type);
  ipcomp_protect_adj_restore (ai);
  return ADJ_WALK_RC_CONTINUE;
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
  fib_protocol_t proto;
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
      FOR_EACH_FIB_IP_PROTOCOL (proto)
	adj_nbr_walk (sw_if_index, proto, ipcomp_protect_adj_add_walk, p);
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
  fib_protocol_t proto;

  if (!p)
    return VNET_API_ERROR_NO_SUCH_ENTRY;

  ipcomp_event_control (IPCOMP_EVENT_TUNNEL_DEL, p->sa_out);
  FOR_EACH_FIB_IP_PROTOCOL (proto)
    adj_nbr_walk (sw_if_index, proto, ipcomp_protect_adj_del_walk, p);
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

static void
ipcomp_adj_delegate_adj_deleted (adj_delegate_t *ad)
{
  ipcomp_main_t *im = &ipcomp_main;
  if (ad->ad_adj_index < vec_len (im->tx_next_by_adj))
    im->tx_next_by_adj[ad->ad_adj_index] = ~0;
  adj_delegate_remove (ad->ad_adj_index, ipcomp_adj_delegate_type);
}

/* ipip rewrote the adjacency (which resets its next node): point it at the
 * compress node again */
static void
ipcomp_adj_delegate_adj_modified (adj_delegate_t *ad)
{
  ipcomp_main_t *im = &ipcomp_main;
  if (pool_is_free_index (im->protects, ad->ad_index))
    return;
  if (ad->ad_adj_index < vec_len (im->tx_next_by_adj))
    im->tx_next_by_adj[ad->ad_adj_index] = ~0;
  ipcomp_protect_adj_apply (ad->ad_adj_index, pool_elt_at_index (im->protects, ad->ad_index));
}

static void
ipcomp_adj_delegate_adj_created (adj_index_t ai)
{
  ip_adjacency_t *adj;
  ipcomp_protect_t *p;

  if (!adj_is_midchain (ai))
    return;
  adj = adj_get (ai);
  p = ipcomp_protect_get_by_sw_if_index (adj->rewrite_header.sw_if_index);
  if (p)
    ipcomp_protect_adj_add_walk (ai, p);
}

static u8 *
ipcomp_adj_delegate_format (const adj_delegate_t *ad, u8 *s)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_protect_t *p;

  if (pool_is_free_index (im->protects, ad->ad_index))
    return s;
  p = pool_elt_at_index (im->protects, ad->ad_index);
  return format (s, "ipcomp protect sa-out %u sa-in %u", ipcomp_sa_get (p->sa_out)->id,
		 ipcomp_sa_get (p->sa_in)->id);
}

const static adj_delegate_vft_t ipcomp_adj_delegate_vft = {
  .adv_adj_deleted = ipcomp_adj_delegate_adj_deleted,
  .adv_adj_created = ipcomp_adj_delegate_adj_created,
  .adv_adj_modified = ipcomp_adj_delegate_adj_modified,
  .adv_format = ipcomp_adj_delegate_format,
};

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

static clib_error_t *
ipcomp_protect_init (vlib_main_t *vm)
{
  ipcomp_adj_delegate_type = adj_delegate_register_new_type (&ipcomp_adj_delegate_vft);
  return 0;
}

VLIB_INIT_FUNCTION (ipcomp_protect_init);
