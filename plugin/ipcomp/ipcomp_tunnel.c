/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_tunnel.c: the ipcomp tunnel interface, modelled on VPP's ipip
 * tunnels.  Routes point at ipcompN; the adjacencies on it are midchains
 * without a rewrite whose next node is the interface's L3 output end node,
 * ipcomp4-compress or ipcomp6-compress (by outer family).  That node
 * compresses the inner packet, adds the outer header and sends it to the
 * outer table's lookup.  Received IPComp (and, for packets the peer sent
 * uncompressed, IP-in-IP) from the peer enters the graph as received on
 * ipcompN.
 */

#include <vnet/adj/adj_midchain.h>
#include <vnet/fib/fib_table.h>
#include <ipcomp/ipcomp.h>

u8 *
format_ipcomp_tunnel_name (u8 *s, va_list *args)
{
  u32 dev_instance = va_arg (*args, u32);
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_tunnel_t *t;

  if (pool_is_free_index (im->tunnels, dev_instance))
    return format (s, "ipcomp-deleted-%u", dev_instance);
  t = pool_elt_at_index (im->tunnels, dev_instance);
  return format (s, "ipcomp%u", t->instance);
}

static u8 *
format_ipcomp_device (u8 *s, va_list *args)
{
  u32 dev_instance = va_arg (*args, u32);
  CLIB_UNUSED (int verbose) = va_arg (*args, int);
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_tunnel_t *t;

  if (pool_is_free_index (im->tunnels, dev_instance))
    return s;
  t = pool_elt_at_index (im->tunnels, dev_instance);
  return format (s, "IPComp tunnel: sa %u", ipcomp_sa_get (t->sa_index)->id);
}

u8 *
format_ipcomp_tunnel (u8 *s, va_list *args)
{
  ipcomp_tunnel_t *t = va_arg (*args, ipcomp_tunnel_t *);
  int verbose = va_arg (*args, int);
  ipcomp_main_t *im = &ipcomp_main;

  return format (s, "%U (sw_if_index %u)\n  %U", format_vnet_sw_if_index_name, im->vnet_main,
		 t->sw_if_index, t->sw_if_index, format_ipcomp_sa, t->sa_index, verbose);
}

static clib_error_t *
ipcomp_tunnel_admin_up_down (vnet_main_t *vnm, u32 hw_if_index, u32 flags)
{
  vnet_hw_interface_set_flags (
    vnm, hw_if_index,
    (flags & VNET_SW_INTERFACE_FLAG_ADMIN_UP) ? VNET_HW_INTERFACE_FLAG_LINK_UP : 0);
  return 0;
}

static void
ipcomp_tunnel_update_adj (vnet_main_t *vnm, u32 sw_if_index, adj_index_t ai)
{
  /* No rewrite: the compress node builds the outer header itself, after
   * compressing.  The midchain's next node is the L3 output end node. */
  adj_nbr_midchain_update_rewrite (ai, NULL, NULL, ADJ_FLAG_NONE, NULL);
}

VNET_DEVICE_CLASS (ipcomp_device_class) = {
  .name = "IPComp tunnel",
  .format_device_name = format_ipcomp_tunnel_name,
  .format_device = format_ipcomp_device,
  .admin_up_down_function = ipcomp_tunnel_admin_up_down,
};

VNET_HW_INTERFACE_CLASS (ipcomp_hw_interface_class) = {
  .name = "IPComp",
  .update_adjacency = ipcomp_tunnel_update_adj,
  .flags = VNET_HW_INTERFACE_CLASS_FLAG_P2P,
};

void
ipcomp_protocols_register (u8 is_ip6, u8 with_ipip)
{
  if (is_ip6)
    {
      ip6_register_protocol (IPCOMP_IP_PROTOCOL, ipcomp6_decompress_node.index);
      if (with_ipip)
	{
	  /* uncompressed tunnel packets; others go on to ipip6-input */
	  ip6_register_protocol (IPCOMP_PROTO_IPIP, ipcomp6_decompress_node.index);
	  ip6_register_protocol (IPCOMP_PROTO_IPV6, ipcomp6_decompress_node.index);
	}
    }
  else
    {
      ip4_register_protocol (IPCOMP_IP_PROTOCOL, ipcomp4_decompress_node.index);
      if (with_ipip)
	{
	  ip4_register_protocol (IPCOMP_PROTO_IPIP, ipcomp4_decompress_node.index);
	  ip4_register_protocol (IPCOMP_PROTO_IPV6, ipcomp4_decompress_node.index);
	}
    }
}

int
ipcomp_tunnel_create (const ipcomp_sa_args_t *a, u32 instance, u32 *sw_if_indexp)
{
  ipcomp_main_t *im = &ipcomp_main;
  vnet_main_t *vnm = im->vnet_main;
  vnet_hw_interface_t *hi;
  ipcomp_tunnel_t *t;
  ipcomp_sa_t *sa;
  u32 t_idx, sa_index, hw_if_index, sw_if_index;
  int rv;

  if (instance != ~0 && instance < vec_len (im->tunnel_index_by_instance) &&
      im->tunnel_index_by_instance[instance] != ~0)
    return VNET_API_ERROR_INSTANCE_IN_USE;

  rv = ipcomp_sa_add (a, IPCOMP_SA_F_TUNNEL, &sa_index);
  if (rv)
    return rv;

  pool_get_zero (im->tunnels, t);
  t_idx = t - im->tunnels;
  if (instance == ~0)
    {
      /* the lowest free instance */
      for (instance = 0; instance < vec_len (im->tunnel_index_by_instance); instance++)
	if (im->tunnel_index_by_instance[instance] == ~0)
	  break;
    }
  vec_validate_init_empty (im->tunnel_index_by_instance, instance, ~0);
  im->tunnel_index_by_instance[instance] = t_idx;
  t->instance = instance;
  t->sa_index = sa_index;

  hw_if_index = vnet_register_interface (vnm, ipcomp_device_class.index, t_idx,
					 ipcomp_hw_interface_class.index, t_idx);
  hi = vnet_get_hw_interface (vnm, hw_if_index);
  sw_if_index = hi->sw_if_index;
  t->hw_if_index = hw_if_index;
  t->sw_if_index = sw_if_index;

  sa = ipcomp_sa_get (sa_index);
  sa->tunnel_index = t_idx;
  sa->sw_if_index = sw_if_index;

  vec_validate_init_empty (im->tunnel_index_by_sw_if_index, sw_if_index, ~0);
  im->tunnel_index_by_sw_if_index[sw_if_index] = t_idx;

  hi->frame_overhead = (a->is_ip6 ? IPCOMP_IP6_HDR_LEN : IPCOMP_IP4_HDR_LEN) + IPCOMP_HEADER_LEN;
  hi->min_frame_size = hi->frame_overhead + 64;
  /* Inner MTU: the packet is compressed before the outer header; an outer
   * packet bigger than the path MTU is fragmented by the outer ip4-rewrite
   * (no DF on the outer header), as VPP's ipip does. */
  vnet_sw_interface_set_mtu (vnm, sw_if_index, 9000);
  vnet_set_interface_l3_output_node (im->vlib_main, sw_if_index,
				     (u8 *) (a->is_ip6 ? "ipcomp6-compress" : "ipcomp4-compress"));

  ipcomp_protocols_register (a->is_ip6, 1);
  ipcomp_stats_sa_added (sa_index); /* refresh the tunnel gauge */
  ipcomp_event_control (IPCOMP_EVENT_TUNNEL_ADD, sa_index);

  if (sw_if_indexp)
    *sw_if_indexp = sw_if_index;
  return 0;
}

int
ipcomp_tunnel_delete (u32 sw_if_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  vnet_main_t *vnm = im->vnet_main;
  ipcomp_tunnel_t *t = ipcomp_tunnel_get_by_sw_if_index (sw_if_index);
  ipcomp_sa_t *sa;
  u32 sa_index;

  if (!t)
    return VNET_API_ERROR_NO_SUCH_ENTRY;

  sa_index = t->sa_index;
  ipcomp_event_control (IPCOMP_EVENT_TUNNEL_DEL, sa_index);

  vnet_sw_interface_set_flags (vnm, sw_if_index, 0 /* down */);
  vnet_reset_interface_l3_output_node (im->vlib_main, sw_if_index);
  im->tunnel_index_by_sw_if_index[sw_if_index] = ~0;
  vnet_delete_hw_interface (vnm, t->hw_if_index);
  im->tunnel_index_by_instance[t->instance] = ~0;
  pool_put (im->tunnels, t);

  sa = ipcomp_sa_get (sa_index);
  sa->tunnel_index = ~0; /* lets ipcomp_sa_del remove it */
  ipcomp_sa_del (sa_index);
  vlib_stats_set_gauge (im->gauge_n_tunnels, pool_elts (im->tunnels));
  return 0;
}
