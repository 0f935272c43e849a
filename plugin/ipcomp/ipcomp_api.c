/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_api.c: binary API handlers (ipcomp.api).
 */

#include <vlibapi/api.h>
#include <vlibmemory/api.h>
#include <vnet/ip/ip_types_api.h>
#include <vnet/format_fns.h>
#include <ipcomp/ipcomp.h>
#include <ipcomp/ipcomp_handoff.h>

#include <ipcomp/ipcomp.api_enum.h>
#include <ipcomp/ipcomp.api_types.h>

#define REPLY_MSG_ID_BASE ipcomp_main.msg_id_base
#include <vlibapi/api_helper_macros.h>

static int
ipcomp_sa_params_decode (const vl_api_ipcomp_sa_params_t *in, ipcomp_sa_args_t *a, u8 *engine)
{
  ip46_type_t t1, t2;

  ipcomp_sa_args_default (a);
  a->id = ntohl (in->sa_id);
  a->cpi = ntohs (in->cpi);
  t1 = ip_address_decode (&in->local, &a->local);
  t2 = ip_address_decode (&in->peer, &a->peer);
  if (t1 != t2)
    return VNET_API_ERROR_INVALID_ADDRESS_FAMILY;
  a->is_ip6 = t1 == IP46_TYPE_IP6;
  a->table_id = ntohl (in->table_id);
  clib_memcpy (engine, in->engine, sizeof (in->engine));
  engine[sizeof (in->engine)] = 0;
  a->engine = engine[0] ? (char *) engine : 0;
  a->level = in->level;
  if (in->window_bits)
    a->window_bits = in->window_bits;
  if (ntohl (in->threshold) != ~0)
    a->threshold = ntohl (in->threshold);
  if (in->max_decompressed)
    a->max_decompressed = ntohl (in->max_decompressed);
  a->no_backoff = in->no_backoff;
  return 0;
}

static void
ipcomp_sa_params_encode (u32 sa_index, vl_api_ipcomp_sa_params_t *out)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_sa_t *sa = ipcomp_sa_get (sa_index);
  ipcomp_engine_t *e = vec_elt_at_index (im->engines, sa->engine_index);
  ip46_type_t t = sa->is_ip6 ? IP46_TYPE_IP6 : IP46_TYPE_IP4;

  out->sa_id = htonl (sa->id);
  out->cpi = htons (sa->cpi);
  ip_address_encode (&sa->local, t, &out->local);
  ip_address_encode (&sa->peer, t, &out->peer);
  out->table_id = htonl (sa->table_id);
  strncpy ((char *) out->engine, e->name, sizeof (out->engine) - 1);
  out->level = sa->level_auto ? IPCOMP_LEVEL_AUTO : sa->level;
  out->window_bits = sa->window_bits;
  out->threshold = htonl (sa->threshold);
  out->max_decompressed = htonl (sa->max_decompressed);
  out->no_backoff = !sa->backoff;
}

static void
vl_api_ipcomp_protect_update_t_handler (vl_api_ipcomp_protect_update_t *mp)
{
  vl_api_ipcomp_protect_update_reply_t *rmp;
  int rv = ipcomp_protect_add (ntohl (mp->sw_if_index), ipcomp_sa_find_by_id (ntohl (mp->sa_out)),
			       ipcomp_sa_find_by_id (ntohl (mp->sa_in)));
  REPLY_MACRO (VL_API_IPCOMP_PROTECT_UPDATE_REPLY);
}

static void
vl_api_ipcomp_protect_del_t_handler (vl_api_ipcomp_protect_del_t *mp)
{
  vl_api_ipcomp_protect_del_reply_t *rmp;
  int rv = ipcomp_protect_del (ntohl (mp->sw_if_index));
  REPLY_MACRO (VL_API_IPCOMP_PROTECT_DEL_REPLY);
}

static void
ipcomp_send_protect_details (ipcomp_protect_t *p, vl_api_registration_t *reg, u32 context)
{
  vl_api_ipcomp_protect_details_t *rmp = vl_msg_api_alloc_zero (sizeof (*rmp));
  rmp->_vl_msg_id = htons (VL_API_IPCOMP_PROTECT_DETAILS + ipcomp_main.msg_id_base);
  rmp->context = context;
  rmp->sw_if_index = htonl (p->sw_if_index);
  rmp->sa_out = htonl (ipcomp_sa_get (p->sa_out)->id);
  rmp->sa_in = htonl (ipcomp_sa_get (p->sa_in)->id);
  rmp->sa_out_index = htonl (p->sa_out);
  rmp->sa_in_index = htonl (p->sa_in);
  vl_api_send_msg (reg, (u8 *) rmp);
}

static void
vl_api_ipcomp_protect_dump_t_handler (vl_api_ipcomp_protect_dump_t *mp)
{
  ipcomp_main_t *im = &ipcomp_main;
  vl_api_registration_t *reg = vl_api_client_index_to_registration (mp->client_index);
  u32 sw_if_index = ntohl (mp->sw_if_index);
  ipcomp_protect_t *p;

  if (!reg)
    return;
  if (sw_if_index != ~0)
    {
      p = ipcomp_protect_get_by_sw_if_index (sw_if_index);
      if (p)
	ipcomp_send_protect_details (p, reg, mp->context);
      return;
    }
  pool_foreach (p, im->protects)
    ipcomp_send_protect_details (p, reg, mp->context);
}

static void
vl_api_ipcomp_sa_add_t_handler (vl_api_ipcomp_sa_add_t *mp)
{
  vl_api_ipcomp_sa_add_reply_t *rmp;
  u32 sa_index = ~0, sa_id = ~0;
  u8 engine[33];
  ipcomp_sa_args_t a;
  int rv;

  rv = ipcomp_sa_params_decode (&mp->sa, &a, engine);
  if (!rv)
    rv = ipcomp_sa_add (&a, &sa_index);
  if (!rv)
    sa_id = ipcomp_sa_get (sa_index)->id;

  REPLY_MACRO2 (VL_API_IPCOMP_SA_ADD_REPLY, ({
		  rmp->sa_id = htonl (sa_id);
		  rmp->sa_index = htonl (sa_index);
		}));
}

static void
vl_api_ipcomp_sa_del_t_handler (vl_api_ipcomp_sa_del_t *mp)
{
  vl_api_ipcomp_sa_del_reply_t *rmp;
  u32 sa_index = ipcomp_sa_find_by_id (ntohl (mp->sa_id));
  int rv = sa_index == ~0 ? VNET_API_ERROR_NO_SUCH_ENTRY : ipcomp_sa_del (sa_index);
  REPLY_MACRO (VL_API_IPCOMP_SA_DEL_REPLY);
}

static void
ipcomp_send_sa_details (u32 sa_index, vl_api_registration_t *reg, u32 context)
{
  ipcomp_sa_t *sa = ipcomp_sa_get (sa_index);
  vl_api_ipcomp_sa_details_t *rmp = vl_msg_api_alloc_zero (sizeof (*rmp));
  rmp->_vl_msg_id = htons (VL_API_IPCOMP_SA_DETAILS + ipcomp_main.msg_id_base);
  rmp->context = context;
  rmp->sa_index = htonl (sa_index);
  ipcomp_sa_params_encode (sa_index, &rmp->sa);
  rmp->is_tunnel = (sa->flags & IPCOMP_SA_F_TUNNEL) != 0;
  rmp->transport_enabled = (sa->flags & IPCOMP_SA_F_TRANSPORT_ENABLED) != 0;
  rmp->sw_if_index =
    htonl ((sa->flags & IPCOMP_SA_F_TUNNEL) ? sa->sw_if_index : sa->transport_sw_if_index);
  vl_api_send_msg (reg, (u8 *) rmp);
}

static void
vl_api_ipcomp_sa_dump_t_handler (vl_api_ipcomp_sa_dump_t *mp)
{
  ipcomp_main_t *im = &ipcomp_main;
  vl_api_registration_t *reg = vl_api_client_index_to_registration (mp->client_index);
  u32 id = ntohl (mp->sa_id), sa_index;

  if (!reg)
    return;
  if (id != ~0)
    {
      sa_index = ipcomp_sa_find_by_id (id);
      if (sa_index != ~0)
	ipcomp_send_sa_details (sa_index, reg, mp->context);
      return;
    }
  pool_foreach_index (sa_index, im->sas)
    ipcomp_send_sa_details (sa_index, reg, mp->context);
}

static void
vl_api_ipcomp_transport_enable_disable_t_handler (vl_api_ipcomp_transport_enable_disable_t *mp)
{
  vl_api_ipcomp_transport_enable_disable_reply_t *rmp;
  u32 sa_index = ipcomp_sa_find_by_id (ntohl (mp->sa_id));
  int rv = sa_index == ~0 ?
	     VNET_API_ERROR_NO_SUCH_ENTRY :
	     ipcomp_sa_transport_enable_disable (sa_index, ntohl (mp->sw_if_index), mp->enable);
  REPLY_MACRO (VL_API_IPCOMP_TRANSPORT_ENABLE_DISABLE_REPLY);
}

static void
vl_api_ipcomp_engine_dump_t_handler (vl_api_ipcomp_engine_dump_t *mp)
{
  ipcomp_main_t *im = &ipcomp_main;
  vl_api_registration_t *reg = vl_api_client_index_to_registration (mp->client_index);
  ipcomp_engine_t *e;

  if (!reg)
    return;
  vec_foreach (e, im->engines)
    {
      vl_api_ipcomp_engine_details_t *rmp = vl_msg_api_alloc_zero (sizeof (*rmp));
      rmp->_vl_msg_id = htons (VL_API_IPCOMP_ENGINE_DETAILS + im->msg_id_base);
      rmp->context = mp->context;
      rmp->engine_index = htonl (e->index);
      strncpy ((char *) rmp->name, e->name, sizeof (rmp->name) - 1);
      strncpy ((char *) rmp->desc, e->desc, sizeof (rmp->desc) - 1);
      rmp->priority = htonl (e->priority);
      rmp->is_async = (e->flags & IPCOMP_ENGINE_F_ASYNC) != 0;
      rmp->is_default = e->index == ipcomp_engine_best ();
      rmp->max_level = e->max_level;
      rmp->default_level = e->default_level;
      rmp->n_sas = htonl (e->n_sas);
      vl_api_send_msg (reg, (u8 *) rmp);
    }
}

/* decompress-workers (ipcomp_handoff.c) */
static void
vl_api_ipcomp_decompress_workers_set_t_handler (vl_api_ipcomp_decompress_workers_set_t *mp)
{
  vl_api_ipcomp_decompress_workers_set_reply_t *rmp;
  u32 n = ntohl (mp->n_workers), *workers = 0;
  int rv = VNET_API_ERROR_INVALID_WORKER;

  /* more entries than workers cannot be a list without repeats */
  if (n > vlib_num_workers ())
    goto reply;
  for (u32 i = 0; i < n; i++)
    vec_add1 (workers, ntohl (mp->workers[i]));
  rv = ipcomp_handoff_set (workers, mp->main_thread, ntohl (mp->batch));
reply:
  vec_free (workers);
  REPLY_MACRO (VL_API_IPCOMP_DECOMPRESS_WORKERS_SET_REPLY);
}

static void
vl_api_ipcomp_decompress_workers_get_t_handler (vl_api_ipcomp_decompress_workers_get_t *mp)
{
  ipcomp_handoff_main_t *hm = &ipcomp_handoff_main;
  vl_api_ipcomp_decompress_workers_get_reply_t *rmp;
  u32 n = vec_len (hm->thread_indices), n_workers = n;
  int rv = 0;

  /* the main thread, when listed, is last */
  if (n && hm->thread_indices[n - 1] == 0)
    n_workers--;
  REPLY_MACRO3 (VL_API_IPCOMP_DECOMPRESS_WORKERS_GET_REPLY, n_workers * sizeof (u32), ({
		  rmp->batch = htonl (hm->batch);
		  rmp->queue_size = htonl (hm->queue_size);
		  rmp->main_thread = n_workers < n;
		  rmp->n_workers = htonl (n_workers);
		  for (u32 i = 0; i < n_workers; i++)
		    rmp->workers[i] = htonl (vlib_get_worker_index (hm->thread_indices[i]));
		}));
}

#include <ipcomp/ipcomp.api.c>

static clib_error_t *
ipcomp_api_init (vlib_main_t *vm)
{
  ipcomp_main.msg_id_base = setup_message_id_table ();
  return 0;
}

VLIB_INIT_FUNCTION (ipcomp_api_init) = {
  .runs_after = VLIB_INITS ("ipcomp_init"),
};
