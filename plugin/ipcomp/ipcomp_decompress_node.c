/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_decompress_node.c: the receive side.
 *
 * ipcomp4-decompress / ipcomp6-decompress are registered with ip4-local /
 * ip6-local for IP protocol 108 (IPComp) only.  The buffer starts at the
 * outer IP header.  A packet of an SA that protects an ipip tunnel (sa-in)
 * leaves as the IP-in-IP packet the peer compressed (outer header with the
 * inner protocol) for ipip4-input / ipip6-input, which finds the tunnel,
 * counts and decapsulates it; a transport SA's packet re-enters ip4-input /
 * ip6-input with its original protocol.  With `ipcomp decompress-workers`
 * a tunnel SA's packet is handed to another thread instead, once its SA is
 * known (ipcomp4/6-decompress-handoff, ipcomp_handoff.c), and decompressed
 * there by the -handed twin.
 *
 * Every input is bounded: headers are checked against the buffer, the
 * inflated size against the SA's limit (compression bombs), and every drop
 * is counted under its reason; decompression failures also leave an event
 * with addresses and CPI in /net/ipcomp/events.
 */

#include <ipcomp/ipcomp.h>
#include <ipcomp/ipcomp_inlines.h>
#include <ipcomp/ipcomp_async.h>
#include <ipcomp/ipcomp_handoff.h>
#include <vnet/ipsec/ipsec.h>

/* The order is part of the event record format (reason field): append only */
#define foreach_ipcomp_decompress_error                                                            \
  _ (DECOMPRESSED, "decompressed", INFO, "decompressed")                                           \
  _ (TRUNCATED, "truncated", ERROR, "truncated IP or IPComp header")                               \
  _ (BAD_HEADER, "bad-header", ERROR, "malformed outer IP header")                                 \
  _ (FRAGMENT, "fragment", ERROR, "outer fragment")                                                \
  _ (UNKNOWN_CPI, "unknown-cpi", ERROR, "no SA for the CPI and addresses")                         \
  _ (NESTED, "nested", ERROR, "IPComp inside IPComp")                                              \
  _ (TOO_BIG, "too-big", ERROR, "decompressed size above the SA limit (bomb)")                     \
  _ (CORRUPT, "corrupt", ERROR, "corrupt deflate data")                                            \
  _ (TRUNCATED_DEFLATE, "truncated-deflate", ERROR, "truncated deflate data")                      \
  _ (BAD_INNER, "bad-inner", ERROR, "decompressed data is not the announced packet")               \
  _ (ENGINE, "engine", ERROR, "decompression engine failure")                                      \
  _ (NO_BUFFER, "no-buffer", ERROR, "out of buffers")                                              \
  _ (RESTORED_TOO_BIG, "restored-too-big", ERROR, "restored transport packet above 65535 bytes")   \
  _ (OFFLOAD_DROP, "offload-drop", ERROR, "offload unavailable, dropped by the policy")

typedef enum
{
#define _(sym, name, sev, str) IPCOMP_DECOMPRESS_ERROR_##sym,
  foreach_ipcomp_decompress_error
#undef _
    IPCOMP_DECOMPRESS_N_ERROR,
} ipcomp_decompress_error_t;

static vlib_error_desc_t ipcomp_decompress_error_counters[] = {
#define _(sym, n, sev, str) { .name = n, .desc = str, .severity = VL_COUNTER_SEVERITY_##sev },
  foreach_ipcomp_decompress_error
#undef _
};

typedef enum
{
  IPCOMP_DECOMPRESS_NEXT_DROP,
  IPCOMP_DECOMPRESS_NEXT_IP4_INPUT,
  IPCOMP_DECOMPRESS_NEXT_IP6_INPUT,
  IPCOMP_DECOMPRESS_NEXT_IPIP,
  IPCOMP_DECOMPRESS_NEXT_HANDOFF, /* ipcomp_handoff.c */
  IPCOMP_DECOMPRESS_N_NEXT,
} ipcomp_decompress_next_t;

typedef struct
{
  u32 sa_id;
  u32 in_len;
  u32 out_len;
  u16 cpi;
  u8 error;
  u8 protocol;
} ipcomp_decompress_trace_t;

static u8 *
format_ipcomp_decompress_trace (u8 *s, va_list *args)
{
  CLIB_UNUSED (vlib_main_t * vm) = va_arg (*args, vlib_main_t *);
  CLIB_UNUSED (vlib_node_t * node) = va_arg (*args, vlib_node_t *);
  ipcomp_decompress_trace_t *t = va_arg (*args, ipcomp_decompress_trace_t *);

  return format (s, "ipcomp: protocol %u sa %d cpi %u in %u out %u (%s)", t->protocol, t->sa_id,
		 t->cpi, t->in_len, t->out_len, ipcomp_decompress_error_counters[t->error].desc);
}

static_always_inline u32
ipcomp_codec_to_error (int rv)
{
  switch (rv)
    {
    case IPCOMP_CODEC_NO_SPACE:
      return IPCOMP_DECOMPRESS_ERROR_TOO_BIG;
    case IPCOMP_CODEC_CORRUPT:
      return IPCOMP_DECOMPRESS_ERROR_CORRUPT;
    case IPCOMP_CODEC_TRUNCATED:
      return IPCOMP_DECOMPRESS_ERROR_TRUNCATED_DEFLATE;
    default:
      return IPCOMP_DECOMPRESS_ERROR_ENGINE;
    }
}

static_always_inline uword
ipcomp_decompress_inline (vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame,
			  int is_ip6, int is_post, int is_handed)
{
  ipcomp_main_t *im = &ipcomp_main;
  u32 thread_index = vm->thread_index;
  ipcomp_per_thread_t *ptd = vec_elt_at_index (im->per_thread, thread_index);
  vlib_buffer_t *bufs[VLIB_FRAME_SIZE], **b = bufs;
  u16 nexts[VLIB_FRAME_SIZE], *next = nexts;
  u32 *from = vlib_frame_vector_args (frame);
  u32 n_left = frame->n_vectors;
  u32 counts[IPCOMP_DECOMPRESS_N_ERROR] = {};
  /* a -post or -handed twin counts under the original node */
  vlib_node_runtime_t *en = (is_post || is_handed) ?
			      vlib_node_get_runtime (vm, is_ip6 ? ipcomp6_decompress_node.index :
								  ipcomp4_decompress_node.index) :
			      node;
  u32 n_async = 0, sas[VLIB_FRAME_SIZE];

  vlib_get_buffers (vm, from, bufs, n_left);

  while (n_left > 0)
    {
      u32 error, chain_len, clen = 0, olen = 0, sa_index = ~0;
      ipcomp_sa_t *sa = 0;
      ipcomp_ip_info_t info = {};
      ipcomp_rx_key_t k;
      const u8 *src, *dst, *vin = 0;
      u8 *ip, nh = 0;
      u16 cpi = 0;
      uword *p;
      int rv;

      if (n_left > 2)
	{
	  vlib_prefetch_buffer_header (b[2], LOAD);
	  clib_prefetch_load (b[1]->data + b[1]->current_data);
	}
      /* queued behind its SA's ops: finished and counted by the pre pass */
      if (is_post && ipcomp_async_is_pass (b[0]))
	{
	  next[0] = ipcomp_async_result (b[0])->next;
	  goto done;
	}

      ip = vlib_buffer_get_current (b[0]);
      chain_len = vlib_buffer_length_in_chain (vm, b[0]);
      src = ip + (is_ip6 ? 8 : 12);
      dst = ip + (is_ip6 ? 24 : 16);

      rv =
	is_ip6 ? ipcomp_ip6_parse (ip, chain_len, &info) : ipcomp_ip4_parse (ip, chain_len, &info);
      if (PREDICT_FALSE (rv != IPCOMP_WIRE_OK))
	{
	  error = rv == IPCOMP_WIRE_FRAGMENT  ? IPCOMP_DECOMPRESS_ERROR_FRAGMENT :
		  rv == IPCOMP_WIRE_TRUNCATED ? IPCOMP_DECOMPRESS_ERROR_TRUNCATED :
						IPCOMP_DECOMPRESS_ERROR_BAD_HEADER;
	  /* addresses are only meaningful when the header was there */
	  if (chain_len < (is_ip6 ? IPCOMP_IP6_HDR_LEN : IPCOMP_IP4_HDR_LEN) ||
	      b[0]->current_length < (is_ip6 ? IPCOMP_IP6_HDR_LEN : IPCOMP_IP4_HDR_LEN))
	    goto drop_no_event;
	  goto drop;
	}

      clib_memset (&k, 0, sizeof (k));
      if (is_ip6)
	{
	  clib_memcpy (k.src.ip6.as_u8, src, 16);
	  clib_memcpy (k.dst.ip6.as_u8, dst, 16);
	}
      else
	{
	  /* ip46_address_t keeps IPv4 in its last 4 bytes */
	  clib_memcpy (k.src.ip4.as_u8, src, 4);
	  clib_memcpy (k.dst.ip4.as_u8, dst, 4);
	}
      k.fib_index = vnet_buffer (b[0])->ip.fib_index;

      if (PREDICT_FALSE (b[0]->current_length < info.hdr_len + IPCOMP_HEADER_LEN))
	{
	  error = IPCOMP_DECOMPRESS_ERROR_TRUNCATED;
	  goto drop;
	}
      rv = ipcomp_header_read (ip + info.hdr_len, info.packet_len - info.hdr_len, &nh, &cpi);
      if (PREDICT_FALSE (rv != IPCOMP_WIRE_OK))
	{
	  error = rv == IPCOMP_WIRE_TRUNCATED ? IPCOMP_DECOMPRESS_ERROR_TRUNCATED :
						IPCOMP_DECOMPRESS_ERROR_NESTED;
	  goto drop;
	}

      k.cpi = cpi;
      p = hash_get_mem (im->sa_index_by_rx_key, &k);
      if (PREDICT_FALSE (!p))
	{
	  error = IPCOMP_DECOMPRESS_ERROR_UNKNOWN_CPI;
	  goto drop;
	}
      sa_index = p[0];
      sa = ipcomp_sa_get (sa_index);

      /* decompress-workers: spread over workers (ipcomp_handoff.c) */
      if (!is_post && !is_handed && ipcomp_handoff_wanted (sa))
	{
	  next[0] = IPCOMP_DECOMPRESS_NEXT_HANDOFF;
	  goto done;
	}

      {
	ipcomp_engine_t *e = vec_elt_at_index (im->engines, sa->engine_index);
	const u8 *in;
	u64 t0, dt;

	clen = info.packet_len - info.hdr_len - IPCOMP_HEADER_LEN;
	in =
	  ipcomp_buffer_linear (vm, b[0], info.hdr_len + IPCOMP_HEADER_LEN, clen, ptd->scratch_in);
	if (PREDICT_FALSE (!in))
	  {
	    error = IPCOMP_DECOMPRESS_ERROR_TRUNCATED;
	    goto drop;
	  }
	if (PREDICT_FALSE (is_post || (e->flags & IPCOMP_ENGINE_F_ASYNC)))
	  {
	    rv = ipcomp_async_step (
	      vm, e, e->decompress_ctx_by_thread[thread_index], b[0], is_post, IPCOMP_OP_DECOMPRESS,
	      is_ip6 ? IPCOMP_ASYNC_KIND_DECOMPRESS6 : IPCOMP_ASYNC_KIND_DECOMPRESS4, sa_index,
	      info.hdr_len + IPCOMP_HEADER_LEN, in, clen, ptd->scratch_out, sa->max_decompressed,
	      &olen, &dt, 0);
	    if (rv == IPCOMP_CODEC_ASYNC_SUBMITTED)
	      {
		next[0] = IPCOMP_ASYNC_NEXT_PENDING;
		n_async++;
		goto done;
	      }
	    if (rv == IPCOMP_CODEC_ASYNC_DROP)
	      {
		error = IPCOMP_DECOMPRESS_ERROR_OFFLOAD_DROP;
		goto drop;
	      }
	  }
	else
	  {
	    t0 = clib_cpu_time_now ();
	    rv = e->ops[IPCOMP_OP_DECOMPRESS](e->decompress_ctx_by_thread[thread_index], in, clen,
					      ptd->scratch_out, sa->max_decompressed, &olen);
	    dt = clib_cpu_time_now () - t0;
	  }
	vin = in;
	vlib_increment_combined_counter (&im->engine_calls[IPCOMP_OP_DECOMPRESS], thread_index,
					 e->index, 1, clen);
	vlib_increment_simple_counter (&im->engine_clocks[IPCOMP_OP_DECOMPRESS], thread_index,
				       e->index, dt);
	ipcomp_hist_add (&e->clocks_hist[IPCOMP_OP_DECOMPRESS], thread_index, dt);
	if (PREDICT_FALSE (rv != IPCOMP_CODEC_OK))
	  {
	    error = ipcomp_codec_to_error (rv);
	    goto drop;
	  }
      }

      if ((sa->flags & IPCOMP_SA_F_TUNNEL) &&
	  PREDICT_FALSE (ipcomp_inner_check (nh, ptd->scratch_out, olen) != IPCOMP_WIRE_OK))
	{
	  error = IPCOMP_DECOMPRESS_ERROR_BAD_INNER;
	  /* a device may accept a truncated stream: software names it */
	  if (is_post &&
	      (rv = ipcomp_async_verify (b[0], vec_elt_at_index (im->engines, sa->engine_index),
					 thread_index, vin, clen, ptd->scratch_out,
					 sa->max_decompressed, &olen)) > 0)
	    error = ipcomp_codec_to_error (rv);
	  goto drop;
	}

      /* the outer header becomes the packet's header again (link padding
       * and anything after the IPComp data go) */
      if (PREDICT_FALSE (olen + (is_ip6 ? 0 : info.hdr_len) > IPCOMP_MAX_IP_PACKET))
	{
	  error = IPCOMP_DECOMPRESS_ERROR_RESTORED_TOO_BIG;
	  goto drop;
	}
      if (PREDICT_FALSE (
	    ipcomp_buffer_replace_tail (vm, b[0], info.hdr_len, ptd->scratch_out, olen)))
	{
	  error = IPCOMP_DECOMPRESS_ERROR_NO_BUFFER;
	  goto drop;
	}
      ip = vlib_buffer_get_current (b[0]);
      if (is_ip6)
	ipcomp_ip6_fixup (ip, olen, nh);
      else
	ipcomp_ip4_fixup (ip, info.hdr_len + olen, nh);
      /* ipip's input reads a header without options / extension headers;
       * anything else takes the long way through ip4-local */
      if ((sa->flags & IPCOMP_SA_F_TUNNEL) &&
	  info.hdr_len == (is_ip6 ? IPCOMP_IP6_HDR_LEN : IPCOMP_IP4_HDR_LEN))
	next[0] = IPCOMP_DECOMPRESS_NEXT_IPIP;
      else
	next[0] = is_ip6 ? IPCOMP_DECOMPRESS_NEXT_IP6_INPUT : IPCOMP_DECOMPRESS_NEXT_IP4_INPUT;

      vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_DECOMPRESSED_IN],
				       thread_index, sa_index, 1, clen + IPCOMP_HEADER_LEN);
      vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_DECOMPRESSED_OUT],
				       thread_index, sa_index, 1, olen);
      ipcomp_hist_add (&im->payload_hist[IPCOMP_OP_DECOMPRESS], thread_index, olen);
      error = IPCOMP_DECOMPRESS_ERROR_DECOMPRESSED;
      counts[error]++;
      goto trace;

    drop:
      if (sa)
	vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_RX_ERRORS],
					 thread_index, sa_index, 1, clen + IPCOMP_HEADER_LEN);
      ipcomp_event_packet (thread_index, IPCOMP_EVENT_DECOMPRESS_FAILURE, error, sa_index, is_ip6,
			   src, dst, cpi, chain_len, sa ? sa->engine_index : 0xff);
    drop_no_event:
      b[0]->error = en->errors[error];
      next[0] = IPCOMP_DECOMPRESS_NEXT_DROP;

    trace:
      if (PREDICT_FALSE (b[0]->flags & VLIB_BUFFER_IS_TRACED))
	{
	  ipcomp_decompress_trace_t *tr = vlib_add_trace (vm, node, b[0], sizeof (*tr));
	  tr->sa_id = sa ? sa->id : ~0;
	  tr->cpi = cpi;
	  tr->in_len = chain_len;
	  tr->out_len = olen;
	  tr->protocol = info.protocol;
	  tr->error = error;
	}
    done:
      sas[frame->n_vectors - n_left] = sa_index;
      b += 1;
      next += 1;
      n_left -= 1;
    }

  for (u32 i = 0; i < IPCOMP_DECOMPRESS_N_ERROR; i++)
    if (counts[i])
      vlib_node_increment_counter (vm, en->node_index, i, counts[i]);

  ipcomp_node_dispatch (vm, node,
			is_ip6 ? IPCOMP_ASYNC_KIND_DECOMPRESS6 : IPCOMP_ASYNC_KIND_DECOMPRESS4,
			from, nexts, is_post ? 0 : sas, frame->n_vectors, n_async);
  return frame->n_vectors;
}

VLIB_NODE_FN (ipcomp4_decompress_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_decompress_inline (vm, node, frame, 0, 0, 0);
}

VLIB_NODE_FN (ipcomp6_decompress_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_decompress_inline (vm, node, frame, 1, 0, 0);
}

VLIB_REGISTER_NODE (ipcomp4_decompress_node) = {
  .name = "ipcomp4-decompress",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_decompress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .n_errors = IPCOMP_DECOMPRESS_N_ERROR,
  .error_counters = ipcomp_decompress_error_counters,
  .n_next_nodes = IPCOMP_DECOMPRESS_N_NEXT,
  .next_nodes = {
    [IPCOMP_DECOMPRESS_NEXT_DROP] = "error-drop",
    [IPCOMP_DECOMPRESS_NEXT_IP4_INPUT] = "ip4-input",
    [IPCOMP_DECOMPRESS_NEXT_IP6_INPUT] = "ip6-input",
    [IPCOMP_DECOMPRESS_NEXT_IPIP] = "ipip4-input",
    [IPCOMP_DECOMPRESS_NEXT_HANDOFF] = "ipcomp4-decompress-handoff",
  },
};

VLIB_REGISTER_NODE (ipcomp6_decompress_node) = {
  .name = "ipcomp6-decompress",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_decompress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .n_errors = IPCOMP_DECOMPRESS_N_ERROR,
  .error_counters = ipcomp_decompress_error_counters,
  .n_next_nodes = IPCOMP_DECOMPRESS_N_NEXT,
  .next_nodes = {
    [IPCOMP_DECOMPRESS_NEXT_DROP] = "error-drop",
    [IPCOMP_DECOMPRESS_NEXT_IP4_INPUT] = "ip4-input",
    [IPCOMP_DECOMPRESS_NEXT_IP6_INPUT] = "ip6-input",
    [IPCOMP_DECOMPRESS_NEXT_IPIP] = "ipip6-input",
    [IPCOMP_DECOMPRESS_NEXT_HANDOFF] = "ipcomp6-decompress-handoff",
  },
};

/* -post twins (issue 4): finish packets an asynchronous engine completed or
 * refused; same next arcs, counters of the original node */
VLIB_NODE_FN (ipcomp4_decompress_post_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_decompress_inline (vm, node, frame, 0, 1, 0);
}

VLIB_NODE_FN (ipcomp6_decompress_post_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_decompress_inline (vm, node, frame, 1, 1, 0);
}

VLIB_REGISTER_NODE (ipcomp4_decompress_post_node) = {
  .name = "ipcomp4-decompress-post",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_decompress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .sibling_of = "ipcomp4-decompress",
};

VLIB_REGISTER_NODE (ipcomp6_decompress_post_node) = {
  .name = "ipcomp6-decompress-post",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_decompress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .sibling_of = "ipcomp6-decompress",
};

/* -handed twins (ipcomp_handoff.c): packets another thread's decompress
 * node handed to this worker through a frame queue; decompressed here, never
 * handed off again, counted under the original node */
VLIB_NODE_FN (ipcomp4_decompress_handed_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_decompress_inline (vm, node, frame, 0, 0, 1);
}

VLIB_NODE_FN (ipcomp6_decompress_handed_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_decompress_inline (vm, node, frame, 1, 0, 1);
}

VLIB_REGISTER_NODE (ipcomp4_decompress_handed_node) = {
  .name = "ipcomp4-decompress-handed",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_decompress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .sibling_of = "ipcomp4-decompress",
};

VLIB_REGISTER_NODE (ipcomp6_decompress_handed_node) = {
  .name = "ipcomp6-decompress-handed",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_decompress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .sibling_of = "ipcomp6-decompress",
};

/* ESP and IPComp on one tunnel (RFC 3173: compress, then encrypt): with
 * `ipsec tunnel protect` on a tunnel that also has `ipcomp protect`,
 * esp4/6-decrypt-tun hand over next header 108 (registered below) with the
 * outer header already stripped and the tunnel as the receive interface.
 * The tunnel's sa-in SA restores the inner packet, which goes to
 * ip4-input / ip6-input as ESP sends IP-in-IP.  Engines are called
 * synchronously here (an asynchronous engine's software fallback). */
VLIB_NODE_FN (ipcomp_esp_decompress_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  ipcomp_main_t *im = &ipcomp_main;
  u32 thread_index = vm->thread_index;
  ipcomp_per_thread_t *ptd = vec_elt_at_index (im->per_thread, thread_index);
  vlib_buffer_t *bufs[VLIB_FRAME_SIZE], **b = bufs;
  u16 nexts[VLIB_FRAME_SIZE], *next = nexts;
  u32 *from = vlib_frame_vector_args (frame);
  u32 n_left = frame->n_vectors;
  u32 counts[IPCOMP_DECOMPRESS_N_ERROR] = {};
  static const u8 no_addr[16];

  vlib_get_buffers (vm, from, bufs, n_left);

  while (n_left > 0)
    {
      u32 error, chain_len, clen = 0, olen = 0, sa_index = ~0;
      ipcomp_protect_t *p;
      ipcomp_sa_t *sa = 0;
      ipcomp_engine_t *e;
      const u8 *in;
      u8 nh = 0;
      u16 cpi = 0;
      u64 t0, dt;
      int rv;

      chain_len = vlib_buffer_length_in_chain (vm, b[0]);
      p = ipcomp_protect_get_by_sw_if_index (vnet_buffer (b[0])->sw_if_index[VLIB_RX]);
      if (PREDICT_FALSE (!p))
	{
	  error = IPCOMP_DECOMPRESS_ERROR_UNKNOWN_CPI;
	  goto drop;
	}
      sa_index = p->sa_in;
      sa = ipcomp_sa_get (sa_index);
      if (PREDICT_FALSE (b[0]->current_length < IPCOMP_HEADER_LEN))
	{
	  error = IPCOMP_DECOMPRESS_ERROR_TRUNCATED;
	  goto drop;
	}
      rv = ipcomp_header_read (vlib_buffer_get_current (b[0]), chain_len, &nh, &cpi);
      if (PREDICT_FALSE (rv != IPCOMP_WIRE_OK))
	{
	  error = rv == IPCOMP_WIRE_TRUNCATED ? IPCOMP_DECOMPRESS_ERROR_TRUNCATED :
						IPCOMP_DECOMPRESS_ERROR_NESTED;
	  goto drop;
	}
      if (PREDICT_FALSE (cpi != sa->cpi))
	{
	  error = IPCOMP_DECOMPRESS_ERROR_UNKNOWN_CPI;
	  goto drop;
	}

      e = vec_elt_at_index (im->engines, sa->engine_index);
      clen = chain_len - IPCOMP_HEADER_LEN;
      in = ipcomp_buffer_linear (vm, b[0], IPCOMP_HEADER_LEN, clen, ptd->scratch_in);
      t0 = clib_cpu_time_now ();
      rv = e->ops[IPCOMP_OP_DECOMPRESS](e->decompress_ctx_by_thread[thread_index], in, clen,
					ptd->scratch_out, sa->max_decompressed, &olen);
      dt = clib_cpu_time_now () - t0;
      vlib_increment_combined_counter (&im->engine_calls[IPCOMP_OP_DECOMPRESS], thread_index,
				       e->index, 1, clen);
      vlib_increment_simple_counter (&im->engine_clocks[IPCOMP_OP_DECOMPRESS], thread_index,
				     e->index, dt);
      ipcomp_hist_add (&e->clocks_hist[IPCOMP_OP_DECOMPRESS], thread_index, dt);
      if (PREDICT_FALSE (rv != IPCOMP_CODEC_OK))
	{
	  error = ipcomp_codec_to_error (rv);
	  goto drop;
	}
      if (PREDICT_FALSE (ipcomp_inner_check (nh, ptd->scratch_out, olen) != IPCOMP_WIRE_OK))
	{
	  error = IPCOMP_DECOMPRESS_ERROR_BAD_INNER;
	  goto drop;
	}
      if (PREDICT_FALSE (ipcomp_buffer_replace_tail (vm, b[0], 0, ptd->scratch_out, olen)))
	{
	  error = IPCOMP_DECOMPRESS_ERROR_NO_BUFFER;
	  goto drop;
	}
      next[0] =
	nh == IPCOMP_PROTO_IPIP ? IPCOMP_DECOMPRESS_NEXT_IP4_INPUT : IPCOMP_DECOMPRESS_NEXT_IP6_INPUT;
      vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_DECOMPRESSED_IN],
				       thread_index, sa_index, 1, clen + IPCOMP_HEADER_LEN);
      vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_DECOMPRESSED_OUT],
				       thread_index, sa_index, 1, olen);
      ipcomp_hist_add (&im->payload_hist[IPCOMP_OP_DECOMPRESS], thread_index, olen);
      error = IPCOMP_DECOMPRESS_ERROR_DECOMPRESSED;
      counts[error]++;
      goto trace;

    drop:
      if (sa)
	vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_RX_ERRORS],
					 thread_index, sa_index, 1, chain_len);
      ipcomp_event_packet (thread_index, IPCOMP_EVENT_DECOMPRESS_FAILURE, error, sa_index,
			   sa ? sa->is_ip6 : 0, no_addr, no_addr, cpi, chain_len,
			   sa ? sa->engine_index : 0xff);
      b[0]->error = node->errors[error];
      next[0] = IPCOMP_DECOMPRESS_NEXT_DROP;

    trace:
      if (PREDICT_FALSE (b[0]->flags & VLIB_BUFFER_IS_TRACED))
	{
	  ipcomp_decompress_trace_t *tr = vlib_add_trace (vm, node, b[0], sizeof (*tr));
	  tr->sa_id = sa ? sa->id : ~0;
	  tr->cpi = cpi;
	  tr->in_len = chain_len;
	  tr->out_len = olen;
	  tr->protocol = IPCOMP_IP_PROTOCOL;
	  tr->error = error;
	}
      b += 1;
      next += 1;
      n_left -= 1;
    }

  for (u32 i = 0; i < IPCOMP_DECOMPRESS_N_ERROR; i++)
    if (counts[i])
      vlib_node_increment_counter (vm, node->node_index, i, counts[i]);
  vlib_buffer_enqueue_to_next (vm, node, from, nexts, frame->n_vectors);
  return frame->n_vectors;
}

VLIB_REGISTER_NODE (ipcomp_esp_decompress_node) = {
  .name = "ipcomp-esp-decompress",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_decompress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .n_errors = IPCOMP_DECOMPRESS_N_ERROR,
  .error_counters = ipcomp_decompress_error_counters,
  .sibling_of = "ipcomp4-decompress",
};

static clib_error_t *
ipcomp_esp_init (vlib_main_t *vm)
{
  clib_error_t *err =
    ipsec_register_next_header (vm, IPCOMP_IP_PROTOCOL, "ipcomp-esp-decompress");
  if (err)
    {
      /* ESP + IPComp is then unavailable; everything else works */
      IPCOMP_LOG_ERR ("cannot take next header 108 after ESP: %U", format_clib_error, err);
      clib_error_free (err);
    }
  return 0;
}

VLIB_INIT_FUNCTION (ipcomp_esp_init) = {
  .runs_after = VLIB_INITS ("ipsec_init", "ipcomp_init"),
};
