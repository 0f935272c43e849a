/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_compress_node.c: the send side.
 *
 *  ipcomp4-compress / ipcomp6-compress: output features (ip4-output and
 *    ip6-output arcs) of an ipip tunnel with ipcomp protection, by outer
 *    family (ipcomp_protect.c); they run after ipip's midchain rewrite.  Compresses the whole inner packet behind
 *    ipip's outer header and inserts the IPComp header; packets below the
 *    SA's threshold, packets that do not shrink, IPComp packets and GSO
 *    packets go out as the plain IP-in-IP ipip built (RFC 3173 2.2).
 *
 *  ipcomp4-transport-compress / ipcomp6-transport-compress: output features
 *    (ip4-output / ip6-output) for transport mode: compress the IP payload
 *    of packets to an SA's peer in place.
 */

#include <ipcomp/ipcomp.h>
#include <vnet/feature/feature.h>
#include <vnet/udp/udp_packet.h>
#include <vnet/tcp/tcp_packet.h>
#include <vnet/interface_output.h>
#include <ipcomp/ipcomp_inlines.h>
#include <ipcomp/ipcomp_async.h>

#define foreach_ipcomp_compress_error                                                              \
  _ (COMPRESSED, "compressed", INFO, "compressed")                                                 \
  _ (BYPASS, "bypass", INFO, "below threshold, sent uncompressed")                                 \
  _ (INCOMPRESSIBLE, "incompressible", INFO, "not smaller, sent uncompressed")                     \
  _ (NESTED, "nested", INFO, "IPComp payload, sent uncompressed")                                  \
  _ (NOT_FOR_SA, "not-for-sa", INFO, "transport: no SA for the source and destination, passed")    \
  _ (FRAGMENT, "fragment", INFO, "transport: fragment or extension header, passed uncompressed")   \
  _ (NO_TUNNEL, "no-tunnel", ERROR, "no ipcomp protection on the interface or adjacency")          \
  _ (BAD_INNER, "bad-inner", ERROR, "not an IPv4 or IPv6 packet")                                  \
  _ (ENGINE, "engine", ERROR, "compression engine failure")                                        \
  _ (NO_BUFFER, "no-buffer", ERROR, "out of buffers")                                              \
  _ (TOO_BIG, "too-big", INFO,                                                                     \
    "inner packet above 65535 bytes with outer header, sent uncompressed")                         \
  _ (GSO, "gso", INFO, "GSO packet, sent uncompressed (segmented later)")                          \
  _ (OFFLOAD_DROP, "offload-drop", ERROR, "offload unavailable, dropped by the policy")            \
  _ (BACKOFF, "backoff", INFO, "adaptive back-off: sent uncompressed without trying")

typedef enum
{
#define _(sym, name, sev, str) IPCOMP_COMPRESS_ERROR_##sym,
  foreach_ipcomp_compress_error
#undef _
    IPCOMP_COMPRESS_N_ERROR,
} ipcomp_compress_error_t;

/* not a counter: the packet went to an asynchronous engine */
#define IPCOMP_COMPRESS_ASYNC IPCOMP_COMPRESS_N_ERROR

static vlib_error_desc_t ipcomp_compress_error_counters[] = {
#define _(sym, n, sev, str) { .name = n, .desc = str, .severity = VL_COUNTER_SEVERITY_##sev },
  foreach_ipcomp_compress_error
#undef _
};

typedef enum
{
  IPCOMP_COMPRESS_NEXT_DROP,
  IPCOMP_COMPRESS_N_NEXT,
} ipcomp_compress_next_t;

typedef struct
{
  u32 sa_index;
  u32 in_len;
  u32 out_len;
  u16 cpi;
  u8 error;
  u8 compressed;
} ipcomp_compress_trace_t;

static u8 *
format_ipcomp_compress_trace (u8 *s, va_list *args)
{
  CLIB_UNUSED (vlib_main_t * vm) = va_arg (*args, vlib_main_t *);
  CLIB_UNUSED (vlib_node_t * node) = va_arg (*args, vlib_node_t *);
  ipcomp_compress_trace_t *t = va_arg (*args, ipcomp_compress_trace_t *);

  return format (s, "ipcomp: sa %d cpi %u %s in %u out %u (%s)", t->sa_index, t->cpi,
		 t->compressed ? "compressed" : "uncompressed", t->in_len, t->out_len,
		 ipcomp_compress_error_counters[t->error].desc);
}

/* Record a compress node's verdict on a traced buffer */
static_always_inline void
ipcomp_compress_trace (vlib_main_t *vm, vlib_node_runtime_t *node, vlib_buffer_t *b,
		       const ipcomp_sa_t *sa, u32 in_len, u32 out_len, u32 error)
{
  ipcomp_compress_trace_t *tr = vlib_add_trace (vm, node, b, sizeof (*tr));
  tr->sa_index = sa ? sa->id : ~0;
  tr->cpi = sa ? sa->cpi : 0;
  tr->in_len = in_len;
  tr->out_len = out_len;
  tr->error = error;
  tr->compressed = error == IPCOMP_COMPRESS_ERROR_COMPRESSED;
}

/* Level auto with an engine that learns (ipcomp.h): sample the packet when
 * due, (re)build the SA's table after enough samples, code with the table */
static_always_inline int
ipcomp_compress_learned (ipcomp_engine_t *e, void *ctx, ipcomp_sa_thread_t *st, const u8 *in,
			 u32 len, u8 *out, u32 out_cap, u32 *out_len)
{
  if (PREDICT_FALSE (st->learn_countdown == 0))
    {
      if (e->learn.sample (ctx, st->learn, in, len) == IPCOMP_CODEC_OK)
	{
	  st->learn_sampled++;
	  st->learn_samples++;
	}
      if (st->learn_samples >=
	  (st->learn_valid ? IPCOMP_AUTO_BUILD_EVERY : IPCOMP_AUTO_FIRST_BUILD))
	{
	  if (e->learn.build (ctx, st->learn) == IPCOMP_CODEC_OK)
	    {
	      st->learn_builds++;
	      st->learn_valid = 1;
	    }
	  st->learn_samples = 0;
	}
      st->learn_countdown = st->learn_valid ? IPCOMP_AUTO_SAMPLE_EVERY : 1;
    }
  st->learn_countdown--;
  return e->learn.compress (ctx, st->learn, in, len, out, out_cap, out_len);
}

/* A learned coding's packet did not compress: after too many in a row the
 * table is dropped and learned again from the next packets */
static_always_inline void
ipcomp_compress_learned_miss (ipcomp_engine_t *e, ipcomp_sa_thread_t *st)
{
  if (++st->learn_misses < (IPCOMP_AUTO_MISSES << st->learn_miss_exp))
    return;
  e->learn.forget (st->learn);
  st->learn_valid = 0;
  st->learn_samples = st->learn_countdown = st->learn_misses = 0;
  st->learn_forgets++;
  if (st->learn_miss_exp < IPCOMP_AUTO_MISSES_MAX_EXP)
    st->learn_miss_exp++;
}

/* Compress 'len' bytes of payload that start 'offset' bytes into the buffer
 * and, when that pays, replace them with IPComp header + deflate data.
 * Returns the verdict as a node error code; *out_len is the new payload
 * length. */
static_always_inline u32
ipcomp_compress_payload (vlib_main_t *vm, vlib_buffer_t *b, u32 offset, u32 len, u8 next_header,
			 ipcomp_sa_t *sa, u32 sa_index, u32 thread_index, ipcomp_per_thread_t *ptd,
			 u32 *out_len, int is_post, ipcomp_async_kind_t kind, u16 post_next)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_engine_t *e = vec_elt_at_index (im->engines, sa->engine_index);
  void *ctx =
    pool_elt_at_index (im->profiles, ipcomp_sa_profile (sa, len))->ctx_by_thread[thread_index];
  u32 budget, clen = 0;
  ipcomp_sa_thread_t *st;
  const u8 *in;
  u64 t0, dt;
  int rv, learned = 0;

  *out_len = len;
  if (!is_post)
    ipcomp_hist_add (&im->payload_hist[IPCOMP_OP_COMPRESS], thread_index, len);

  budget = ipcomp_compress_budget (len, sa->threshold);
  if (!budget)
    {
      vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_BYPASS], thread_index,
				       sa_index, 1, len);
      return IPCOMP_COMPRESS_ERROR_BYPASS;
    }

  st = vec_elt_at_index (ptd->sa_state, sa_index);
  if (!is_post && st->skip)
    {
      /* backing off: this SA's recent data did not compress */
      st->skip--;
      vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_BACKOFF], thread_index,
				       sa_index, 1, len);
      return IPCOMP_COMPRESS_ERROR_BACKOFF;
    }

  in = ipcomp_buffer_linear (vm, b, offset, len, ptd->scratch_in);
  if (PREDICT_FALSE (!in))
    return IPCOMP_COMPRESS_ERROR_BAD_INNER;

  if (PREDICT_FALSE (is_post || (e->flags & IPCOMP_ENGINE_F_ASYNC)))
    {
      rv = ipcomp_async_step (vm, e, ctx, b, is_post, IPCOMP_OP_COMPRESS, kind, sa_index, offset,
			      in, len, ptd->scratch_out + IPCOMP_HEADER_LEN, budget, &clen, &dt,
			      post_next);
      if (rv == IPCOMP_CODEC_ASYNC_SUBMITTED)
	return IPCOMP_COMPRESS_ASYNC;
      if (rv == IPCOMP_CODEC_ASYNC_DROP)
	return IPCOMP_COMPRESS_ERROR_OFFLOAD_DROP;
    }
  else
    {
      u8 *out = ptd->scratch_out + IPCOMP_HEADER_LEN;
      t0 = clib_cpu_time_now ();
      if ((learned = st->learn && len < IPCOMP_AUTO_SPLIT))
	rv = ipcomp_compress_learned (e, ctx, st, in, len, out, budget, &clen);
      else
	rv = e->ops[IPCOMP_OP_COMPRESS](ctx, in, len, out, budget, &clen);
      dt = clib_cpu_time_now () - t0;
    }
  vlib_increment_combined_counter (&im->engine_calls[IPCOMP_OP_COMPRESS], thread_index, e->index, 1,
				   len);
  vlib_increment_simple_counter (&im->engine_clocks[IPCOMP_OP_COMPRESS], thread_index, e->index,
				 dt);
  ipcomp_hist_add (&e->clocks_hist[IPCOMP_OP_COMPRESS], thread_index, dt);

  if (rv == IPCOMP_CODEC_NO_SPACE)
    {
      vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_INCOMPRESSIBLE],
				       thread_index, sa_index, 1, len);
      if (learned)
	ipcomp_compress_learned_miss (e, st);
      if (sa->backoff && ++st->fails >= IPCOMP_BACKOFF_AFTER)
	{
	  st->fails = IPCOMP_BACKOFF_AFTER;
	  if (st->exp < IPCOMP_BACKOFF_MAX_EXP)
	    st->exp++;
	  st->skip = (1 << st->exp) - 1;
	}
      return IPCOMP_COMPRESS_ERROR_INCOMPRESSIBLE;
    }
  if (rv == IPCOMP_CODEC_OK)
    st->exp = st->fails = st->learn_misses = st->learn_miss_exp = 0;
  if (PREDICT_FALSE (rv != IPCOMP_CODEC_OK))
    return IPCOMP_COMPRESS_ERROR_ENGINE;

  ipcomp_header_write (ptd->scratch_out, next_header, sa->cpi);
  if (PREDICT_FALSE (
	ipcomp_buffer_replace_tail (vm, b, offset, ptd->scratch_out, clen + IPCOMP_HEADER_LEN)))
    return IPCOMP_COMPRESS_ERROR_NO_BUFFER;

  *out_len = clen + IPCOMP_HEADER_LEN;
  vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_COMPRESSED_IN], thread_index,
				   sa_index, 1, len);
  vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_COMPRESSED_OUT], thread_index,
				   sa_index, 1, *out_len);
  return IPCOMP_COMPRESS_ERROR_COMPRESSED;
}

static_always_inline void
ipcomp_compress_failed (u32 thread_index, u32 error, ipcomp_sa_t *sa, u32 sa_index, u32 len)
{
  ipcomp_main_t *im = &ipcomp_main;
  u8 src[16] = {}, dst[16] = {};

  vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_TX_ERRORS], thread_index,
				   sa_index, 1, len);
  if (error != IPCOMP_COMPRESS_ERROR_ENGINE)
    return;
  if (sa->is_ip6)
    {
      clib_memcpy (src, sa->local.ip6.as_u8, 16);
      clib_memcpy (dst, sa->peer.ip6.as_u8, 16);
    }
  else
    {
      clib_memcpy (src, sa->local.ip4.as_u8, 4);
      clib_memcpy (dst, sa->peer.ip4.as_u8, 4);
    }
  ipcomp_event_packet (thread_index, IPCOMP_EVENT_ENGINE_FAILURE, error, sa_index, sa->is_ip6, src,
		       dst, sa->cpi, len, sa->engine_index);
}

/* Tunnel mode: the next node of a protected ipip tunnel's midchain
 * adjacencies.  The buffer starts at the outer header ipip wrote; the inner
 * packet follows it. */
static_always_inline uword
ipcomp_compress_inline (vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame, int is_ip6,
			int is_post)
{
  ipcomp_main_t *im = &ipcomp_main;
  u32 thread_index = vm->thread_index;
  ipcomp_per_thread_t *ptd = vec_elt_at_index (im->per_thread, thread_index);
  vlib_buffer_t *bufs[VLIB_FRAME_SIZE], **b = bufs;
  u16 nexts[VLIB_FRAME_SIZE], *next = nexts;
  u32 *from = vlib_frame_vector_args (frame);
  u32 n_left = frame->n_vectors;
  u32 counts[IPCOMP_COMPRESS_N_ERROR] = {};
  u32 last_sw_if_index = ~0, sa_index = ~0;
  ipcomp_sa_t *sa = 0;
  /* a -post twin counts under the original node */
  vlib_node_runtime_t *en = is_post ?
			      vlib_node_get_runtime (vm, is_ip6 ? ipcomp6_compress_node.index :
								  ipcomp4_compress_node.index) :
			      node;
  u32 n_async = 0, sas[VLIB_FRAME_SIZE];

  vlib_get_buffers (vm, from, bufs, n_left);

  while (n_left > 0)
    {
      u32 sw_if_index, next32, chain_len, olen, len = 0, payload_len, error;
      u8 *outer, *inner, nh, proto;

      if (n_left > 2)
	vlib_prefetch_buffer_header (b[2], LOAD);
      if (n_left > 1)
	{
	  /* all of the next packet's first buffer, which the engine will read
	   * (it reads this one meanwhile: the loads have time to land) */
	  u8 *d = vlib_buffer_get_current (b[1]);
	  for (u32 o = 0; o < b[1]->current_length; o += CLIB_CACHE_LINE_BYTES)
	    clib_prefetch_load (d + o);
	}

      /* the arc's next step: further features, then ipip's tunnel-output
       * (or esp-encrypt-tun with ipsec tunnel protection); the pre pass of
       * an asynchronous engine took it already */
      if (is_post)
	next32 = ipcomp_async_result (b[0])->next;
      else
	vnet_feature_next (&next32, b[0]);
      next[0] = next32;
      /* queued behind its SA's ops: finished and counted by the pre pass */
      if (is_post && ipcomp_async_is_pass (b[0]))
	goto done;

      sw_if_index = vnet_buffer (b[0])->sw_if_index[VLIB_TX];
      if (PREDICT_FALSE (sw_if_index != last_sw_if_index))
	{
	  ipcomp_protect_t *p = ipcomp_protect_get_by_sw_if_index (sw_if_index);
	  if (PREDICT_FALSE (!p))
	    {
	      error = IPCOMP_COMPRESS_ERROR_NO_TUNNEL;
	      goto drop;
	    }
	  sa_index = p->sa_out;
	  sa = ipcomp_sa_get (sa_index);
	  last_sw_if_index = sw_if_index;
	}

      if (is_ip6)
	/* the outer packet is this host's own: an IPv6 outer packet above the
	 * path MTU is fragmented by ip6-rewrite, not answered with a Packet
	 * Too Big to ourselves (RFC 2473 section 7.1) */
	b[0]->flags |= VNET_BUFFER_F_LOCALLY_ORIGINATED;

      outer = vlib_buffer_get_current (b[0]);
      olen = is_ip6 ? IPCOMP_IP6_HDR_LEN : (outer[0] & 0xf) * 4;
      chain_len = vlib_buffer_length_in_chain (vm, b[0]);
      inner = outer + olen;
      /* the inner packet's own length (no link padding), bounded by the
       * chain before anything is copied */
      if (PREDICT_FALSE (b[0]->current_length < olen + IPCOMP_IP6_HDR_LEN &&
			 b[0]->current_length < olen + IPCOMP_IP4_HDR_LEN))
	goto bad_inner;
      if ((inner[0] >> 4) == 4 && b[0]->current_length >= olen + IPCOMP_IP4_HDR_LEN)
	{
	  nh = IPCOMP_PROTO_IPIP;
	  proto = inner[9];
	  len = ipcomp_get_u16 (inner + 2);
	}
      else if ((inner[0] >> 4) == 6 && b[0]->current_length >= olen + IPCOMP_IP6_HDR_LEN)
	{
	  nh = IPCOMP_PROTO_IPV6;
	  proto = inner[6];
	  len = IPCOMP_IP6_HDR_LEN + ipcomp_get_u16 (inner + 4);
	}
      else
	goto bad_inner;
      if (PREDICT_FALSE (len > chain_len - olen || len < IPCOMP_IP4_HDR_LEN))
	goto bad_inner;

      if (PREDICT_FALSE (len + (is_ip6 ? 0 : olen) > IPCOMP_MAX_IP_PACKET))
	{
	  /* beyond what IPComp can carry (and the scratch holds): ipip's */
	  error = IPCOMP_COMPRESS_ERROR_TOO_BIG;
	  vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_BYPASS], thread_index,
					   sa_index, 1, len);
	  goto pass;
	}
      if (PREDICT_FALSE (b[0]->flags & VNET_BUFFER_F_GSO))
	{
	  /* segmented later by the gso node as ipip: sent uncompressed */
	  error = IPCOMP_COMPRESS_ERROR_GSO;
	  vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_BYPASS], thread_index,
					   sa_index, 1, len);
	  goto pass;
	}
      if (PREDICT_FALSE (proto == IPCOMP_IP_PROTOCOL))
	{
	  /* never compress IPComp again */
	  error = IPCOMP_COMPRESS_ERROR_NESTED;
	  vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_BYPASS], thread_index,
					   sa_index, 1, len);
	  goto pass;
	}
      if (PREDICT_FALSE (len < sa->threshold))
	{
	  /* the cheap exit: no engine, no copy (RFC 3173 section 2.2) */
	  if (!is_post)
	    ipcomp_hist_add (&im->payload_hist[IPCOMP_OP_COMPRESS], thread_index, len);
	  error = IPCOMP_COMPRESS_ERROR_BYPASS;
	  vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_BYPASS], thread_index,
					   sa_index, 1, len);
	  goto pass;
	}

      /* inner checksums still to be computed must be final before the
       * payload is compressed; the outer checksum is ours from here on */
      if (PREDICT_FALSE (b[0]->flags & VNET_BUFFER_F_OFFLOAD))
	vnet_calc_checksums_inline (vm, b[0], nh == IPCOMP_PROTO_IPIP, nh == IPCOMP_PROTO_IPV6);

      error = ipcomp_compress_payload (
	vm, b[0], olen, len, nh, sa, sa_index, thread_index, ptd, &payload_len, is_post,
	is_ip6 ? IPCOMP_ASYNC_KIND_COMPRESS6 : IPCOMP_ASYNC_KIND_COMPRESS4, next[0]);
      if (error == IPCOMP_COMPRESS_ASYNC)
	{
	  next[0] = IPCOMP_ASYNC_NEXT_PENDING;
	  n_async++;
	  goto done;
	}
      if (error == IPCOMP_COMPRESS_ERROR_COMPRESSED)
	{
	  outer = vlib_buffer_get_current (b[0]);
	  if (is_ip6)
	    ipcomp_ip6_fixup (outer, payload_len, IPCOMP_IP_PROTOCOL);
	  else
	    {
	      /* a fresh identification per packet, from this thread's range */
	      ipcomp_put_u16 (outer + 4, ipcomp_ip4_id_next (ptd));
	      ipcomp_ip4_fixup (outer, olen + payload_len, IPCOMP_IP_PROTOCOL);
	    }
	}
      else if (error != IPCOMP_COMPRESS_ERROR_BYPASS &&
	       error != IPCOMP_COMPRESS_ERROR_INCOMPRESSIBLE && error != IPCOMP_COMPRESS_ERROR_BACKOFF)
	goto drop_sa;
      /* else uncompressed: the bytes ipip built go out unchanged */

    pass:
      counts[error]++;
      goto trace;

    bad_inner:
      error = IPCOMP_COMPRESS_ERROR_BAD_INNER;
    drop_sa:
      ipcomp_compress_failed (thread_index, error, sa, sa_index, len);
    drop:
      b[0]->error = en->errors[error];
      next[0] = IPCOMP_COMPRESS_NEXT_DROP;

    trace:
      if (PREDICT_FALSE (b[0]->flags & VLIB_BUFFER_IS_TRACED))
	ipcomp_compress_trace (
	  vm, node, b[0], sa, len,
	  next[0] == IPCOMP_COMPRESS_NEXT_DROP ? 0 : vlib_buffer_length_in_chain (vm, b[0]), error);
    done:
      sas[frame->n_vectors - n_left] = sa_index;
      b += 1;
      next += 1;
      n_left -= 1;
    }

  for (u32 i = 0; i < IPCOMP_COMPRESS_N_ERROR; i++)
    if (counts[i] && ipcomp_compress_error_counters[i].severity == VL_COUNTER_SEVERITY_INFO)
      vlib_node_increment_counter (vm, en->node_index, i, counts[i]);

  ipcomp_node_dispatch (vm, node,
			is_ip6 ? IPCOMP_ASYNC_KIND_COMPRESS6 : IPCOMP_ASYNC_KIND_COMPRESS4, from,
			nexts, is_post ? 0 : sas, frame->n_vectors, n_async);
  return frame->n_vectors;
}

VLIB_NODE_FN (ipcomp4_compress_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_compress_inline (vm, node, frame, 0, 0);
}

VLIB_NODE_FN (ipcomp6_compress_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_compress_inline (vm, node, frame, 1, 0);
}

VLIB_REGISTER_NODE (ipcomp4_compress_node) = {
  .name = "ipcomp4-compress",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_compress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .n_errors = IPCOMP_COMPRESS_N_ERROR,
  .error_counters = ipcomp_compress_error_counters,
  .n_next_nodes = IPCOMP_COMPRESS_N_NEXT,
  .next_nodes = {
    [IPCOMP_COMPRESS_NEXT_DROP] = "error-drop",
  },
};

VLIB_REGISTER_NODE (ipcomp6_compress_node) = {
  .name = "ipcomp6-compress",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_compress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .n_errors = IPCOMP_COMPRESS_N_ERROR,
  .error_counters = ipcomp_compress_error_counters,
  .n_next_nodes = IPCOMP_COMPRESS_N_NEXT,
  .next_nodes = {
    [IPCOMP_COMPRESS_NEXT_DROP] = "error-drop",
  },
};

/* Tunnel mode: output features of a protected ipip interface, on the arc
 * of the inner family (ipcomp_protect.c enables them by outer family) */
VNET_FEATURE_INIT (ipcomp4_compress_ip4_feat, static) = {
  .arc_name = "ip4-output",
  .node_name = "ipcomp4-compress",
  .runs_before = VNET_FEATURES ("interface-output"),
};

VNET_FEATURE_INIT (ipcomp4_compress_ip6_feat, static) = {
  .arc_name = "ip6-output",
  .node_name = "ipcomp4-compress",
  .runs_before = VNET_FEATURES ("interface-output"),
};

VNET_FEATURE_INIT (ipcomp6_compress_ip4_feat, static) = {
  .arc_name = "ip4-output",
  .node_name = "ipcomp6-compress",
  .runs_before = VNET_FEATURES ("interface-output"),
};

VNET_FEATURE_INIT (ipcomp6_compress_ip6_feat, static) = {
  .arc_name = "ip6-output",
  .node_name = "ipcomp6-compress",
  .runs_before = VNET_FEATURES ("interface-output"),
};

/* Transport mode: an output feature; the buffer starts at the L2 rewrite */
static_always_inline uword
ipcomp_transport_compress_inline (vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame,
				  int is_ip6, int is_post)
{
  ipcomp_main_t *im = &ipcomp_main;
  u32 thread_index = vm->thread_index;
  ipcomp_per_thread_t *ptd = vec_elt_at_index (im->per_thread, thread_index);
  vlib_buffer_t *bufs[VLIB_FRAME_SIZE], **b = bufs;
  u16 nexts[VLIB_FRAME_SIZE], *next = nexts;
  u32 *from = vlib_frame_vector_args (frame);
  u32 n_left = frame->n_vectors;
  u32 counts[IPCOMP_COMPRESS_N_ERROR] = {};
  vlib_node_runtime_t *en =
    is_post ? vlib_node_get_runtime (vm, is_ip6 ? ipcomp6_transport_compress_node.index :
						  ipcomp4_transport_compress_node.index) :
	      node;
  u32 n_async = 0, sas[VLIB_FRAME_SIZE];

  vlib_get_buffers (vm, from, bufs, n_left);

  while (n_left > 0)
    {
      u32 next32, rw, hlen, len = 0, payload_len, error, sa_index = ~0;
      ipcomp_sa_t *sa = 0;
      ipcomp_tx_key_t k;
      uword *p;
      u8 *ip, proto;

      /* the pre pass already took this packet's step on the arc */
      if (is_post)
	next32 = ipcomp_async_result (b[0])->next;
      else
	vnet_feature_next (&next32, b[0]);
      next[0] = next32;
      if (is_post && ipcomp_async_is_pass (b[0]))
	goto done;

      rw = vnet_buffer (b[0])->ip.save_rewrite_length;
      ip = vlib_buffer_get_current (b[0]) + rw;
      clib_memset (&k, 0, sizeof (k));
      k.is_ip6 = is_ip6;
      if (is_ip6)
	{
	  clib_memcpy (k.peer.ip6.as_u8, ip + 24, 16);
	  hlen = IPCOMP_IP6_HDR_LEN;
	  proto = ip[6];
	  len = ipcomp_get_u16 (ip + 4);
	}
      else
	{
	  clib_memcpy (k.peer.ip4.as_u8, ip + 16, 4);
	  hlen = (ip[0] & 0xf) * 4;
	  proto = ip[9];
	  len = ipcomp_get_u16 (ip + 2);
	  len = len > hlen ? len - hlen : 0;
	}

      k.sw_if_index = vnet_buffer (b[0])->sw_if_index[VLIB_TX];
      p = hash_get_mem (im->sa_index_by_tx_key, &k);
      if (!p)
	{
	  error = IPCOMP_COMPRESS_ERROR_NOT_FOR_SA;
	  goto next;
	}
      /* transport SAs are between two hosts: this one must be the source */
      if (is_ip6 ? memcmp (ip + 8, ipcomp_sa_get (p[0])->local.ip6.as_u8, 16) :
		   memcmp (ip + 12, ipcomp_sa_get (p[0])->local.ip4.as_u8, 4))
	{
	  error = IPCOMP_COMPRESS_ERROR_NOT_FOR_SA;
	  goto next;
	}
      sa_index = p[0];
      sa = ipcomp_sa_get (sa_index);

      if (proto == IPCOMP_IP_PROTOCOL)
	{
	  error = IPCOMP_COMPRESS_ERROR_NESTED;
	  vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_BYPASS], thread_index,
					   sa_index, 1, len);
	  goto next;
	}
      if ((is_ip6 && (proto == 0 || proto == 43 || proto == 44 || proto == 60 || proto == 50 ||
		      proto == 51)) ||
	  (!is_ip6 && (ipcomp_get_u16 (ip + 6) & 0x3fff)) || rw + hlen > b[0]->current_length ||
	  rw + hlen + len > vlib_buffer_length_in_chain (vm, b[0]))
	{
	  error = IPCOMP_COMPRESS_ERROR_FRAGMENT;
	  vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_BYPASS], thread_index,
					   sa_index, 1, len);
	  goto next;
	}

      if (PREDICT_FALSE (b[0]->flags & VNET_BUFFER_F_GSO))
	{
	  /* the gso node segments it as TCP later: it must stay TCP */
	  error = IPCOMP_COMPRESS_ERROR_GSO;
	  vlib_increment_combined_counter (&im->sa_counters[IPCOMP_SA_COUNTER_BYPASS], thread_index,
					   sa_index, 1, len);
	  goto next;
	}
      if (PREDICT_FALSE (b[0]->flags & VNET_BUFFER_F_OFFLOAD))
	vnet_calc_checksums_inline (vm, b[0], !is_ip6, is_ip6);
      error = ipcomp_compress_payload (
	vm, b[0], rw + hlen, len, proto, sa, sa_index, thread_index, ptd, &payload_len, is_post,
	is_ip6 ? IPCOMP_ASYNC_KIND_TCOMPRESS6 : IPCOMP_ASYNC_KIND_TCOMPRESS4, next32);
      if (error == IPCOMP_COMPRESS_ASYNC)
	{
	  next[0] = IPCOMP_ASYNC_NEXT_PENDING;
	  n_async++;
	  goto done;
	}
      if (error == IPCOMP_COMPRESS_ERROR_COMPRESSED)
	{
	  ip = vlib_buffer_get_current (b[0]) + rw;
	  if (is_ip6)
	    ipcomp_ip6_fixup (ip, payload_len, IPCOMP_IP_PROTOCOL);
	  else
	    ipcomp_ip4_fixup (ip, hlen + payload_len, IPCOMP_IP_PROTOCOL);
	}
      else if (error != IPCOMP_COMPRESS_ERROR_BYPASS &&
	       error != IPCOMP_COMPRESS_ERROR_INCOMPRESSIBLE && error != IPCOMP_COMPRESS_ERROR_BACKOFF)
	{
	  ipcomp_compress_failed (thread_index, error, sa, sa_index, len);
	  b[0]->error = en->errors[error];
	  next[0] = IPCOMP_COMPRESS_NEXT_DROP;
	  goto trace;
	}

    next:
      counts[error]++;
    trace:
      if (PREDICT_FALSE (b[0]->flags & VLIB_BUFFER_IS_TRACED))
	ipcomp_compress_trace (vm, node, b[0], sa, len, vlib_buffer_length_in_chain (vm, b[0]),
			       error);
    done:
      sas[frame->n_vectors - n_left] = sa_index;
      b += 1;
      next += 1;
      n_left -= 1;
    }

  for (u32 i = 0; i < IPCOMP_COMPRESS_N_ERROR; i++)
    if (counts[i] && ipcomp_compress_error_counters[i].severity == VL_COUNTER_SEVERITY_INFO)
      vlib_node_increment_counter (vm, en->node_index, i, counts[i]);

  ipcomp_node_dispatch (vm, node,
			is_ip6 ? IPCOMP_ASYNC_KIND_TCOMPRESS6 : IPCOMP_ASYNC_KIND_TCOMPRESS4, from,
			nexts, is_post ? 0 : sas, frame->n_vectors, n_async);
  return frame->n_vectors;
}

VLIB_NODE_FN (ipcomp4_transport_compress_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_transport_compress_inline (vm, node, frame, 0, 0);
}

VLIB_NODE_FN (ipcomp6_transport_compress_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_transport_compress_inline (vm, node, frame, 1, 0);
}

VLIB_REGISTER_NODE (ipcomp4_transport_compress_node) = {
  .name = "ipcomp4-transport-compress",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_compress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .n_errors = IPCOMP_COMPRESS_N_ERROR,
  .error_counters = ipcomp_compress_error_counters,
  .n_next_nodes = 1,
  .next_nodes = {
    [IPCOMP_COMPRESS_NEXT_DROP] = "error-drop",
  },
};

VLIB_REGISTER_NODE (ipcomp6_transport_compress_node) = {
  .name = "ipcomp6-transport-compress",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_compress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .n_errors = IPCOMP_COMPRESS_N_ERROR,
  .error_counters = ipcomp_compress_error_counters,
  .n_next_nodes = 1,
  .next_nodes = {
    [IPCOMP_COMPRESS_NEXT_DROP] = "error-drop",
  },
};

/* RFC 3173: compression before IPsec; and before GSO segmentation, which
 * must see the TCP packet the node passes uncompressed */
VNET_FEATURE_INIT (ipcomp4_transport_compress_feat, static) = {
  .arc_name = "ip4-output",
  .node_name = "ipcomp4-transport-compress",
  .runs_before = VNET_FEATURES ("ipsec4-output-feature", "gso-ip4", "interface-output"),
};

VNET_FEATURE_INIT (ipcomp6_transport_compress_feat, static) = {
  .arc_name = "ip6-output",
  .node_name = "ipcomp6-transport-compress",
  .runs_before = VNET_FEATURES ("ipsec6-output-feature", "gso-ip6", "interface-output"),
};

/* -post twins (issue 4): finish packets an asynchronous engine completed or
 * refused; same next arcs, counters of the original node */
VLIB_NODE_FN (ipcomp4_compress_post_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_compress_inline (vm, node, frame, 0, 1);
}

VLIB_NODE_FN (ipcomp6_compress_post_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_compress_inline (vm, node, frame, 1, 1);
}

VLIB_NODE_FN (ipcomp4_transport_compress_post_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_transport_compress_inline (vm, node, frame, 0, 1);
}

VLIB_NODE_FN (ipcomp6_transport_compress_post_node)
(vlib_main_t *vm, vlib_node_runtime_t *node, vlib_frame_t *frame)
{
  return ipcomp_transport_compress_inline (vm, node, frame, 1, 1);
}

VLIB_REGISTER_NODE (ipcomp4_compress_post_node) = {
  .name = "ipcomp4-compress-post",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_compress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .sibling_of = "ipcomp4-compress",
};

VLIB_REGISTER_NODE (ipcomp6_compress_post_node) = {
  .name = "ipcomp6-compress-post",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_compress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .sibling_of = "ipcomp6-compress",
};

VLIB_REGISTER_NODE (ipcomp4_transport_compress_post_node) = {
  .name = "ipcomp4-transport-compress-post",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_compress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .sibling_of = "ipcomp4-transport-compress",
};

VLIB_REGISTER_NODE (ipcomp6_transport_compress_post_node) = {
  .name = "ipcomp6-transport-compress-post",
  .vector_size = sizeof (u32),
  .format_trace = format_ipcomp_compress_trace,
  .type = VLIB_NODE_TYPE_INTERNAL,
  .sibling_of = "ipcomp6-transport-compress",
};
