/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_stats.c: the plugin's entries in the stats segment.  Every name
 * here is frozen (README.md lists them with types and units).
 */

#include <time.h>
#include <ipcomp/ipcomp.h>
#include <ipcomp/ipcomp_async.h>

#define IPCOMP_SIZE_HIST_MIN_EXP 5  /* first bin: < 64 bytes */
#define IPCOMP_SIZE_HIST_N_BINS	 12 /* last bin: >= 65536 bytes */

/* The schema stored with the ring (the exporter may print it) */
/* The schema stored with the ring: the record's fields, one a line as
 * "offset type name (comment)", then the reason codes as
 * "reason <event type> <code> <name>" lines, so readers name reasons without
 * hard-coding them.  Keep the reason lines in step with the node error
 * lists (ipcomp_decompress_node.c, ipcomp_compress_node.c) and
 * ipcomp_fallback_reason_t. */
static const char ipcomp_event_schema[] =
  "ipcomp-event v2: 64-byte little-endian records\n"
  "0 u64 timestamp_ns (CLOCK_REALTIME)\n"
  "8 u16 type (1 sa-add, 2 sa-del, 3 engine-failure, 4 decompress-failure, 5 protect-add, "
  "6 protect-del, 7 device-failure, 8 device-recovery, 9 engine-switch)\n"
  "10 u16 reason (by type: the reason lines below; device-failure: rte_comp_op_status; "
  "0 otherwise)\n"
  "12 u32 sa_index (~0 if none)\n"
  "16 u32 sa_id (~0 if none)\n"
  "20 u16 cpi\n"
  "22 u8 is_ip6\n"
  "23 u8 engine_index (0xff if none)\n"
  "24 u32 sw_if_index (~0 if none)\n"
  "28 u32 length (packet bytes, 0 for control events)\n"
  "32 u8[16] src address (IPv4 in the first 4 bytes)\n"
  "48 u8[16] dst address (IPv4 in the first 4 bytes)\n"
  "reason decompress-failure 1 truncated\n"
  "reason decompress-failure 2 bad-header\n"
  "reason decompress-failure 3 fragment\n"
  "reason decompress-failure 4 unknown-cpi\n"
  "reason decompress-failure 5 nested\n"
  "reason decompress-failure 6 too-big\n"
  "reason decompress-failure 7 corrupt\n"
  "reason decompress-failure 8 truncated-deflate\n"
  "reason decompress-failure 9 bad-inner\n"
  "reason decompress-failure 10 engine\n"
  "reason decompress-failure 11 no-buffer\n"
  "reason decompress-failure 12 restored-too-big\n"
  "reason decompress-failure 13 offload-drop\n"
  "reason engine-failure 8 engine\n"
  "reason engine-switch 0 device\n"
  "reason engine-switch 1 queue-full\n"
  "reason engine-switch 2 device-error\n"
  "reason engine-switch 3 no-device\n"
  "reason engine-switch 4 too-big\n"
  "reason device-failure 256 timeout\n";

static char *ipcomp_sa_counter_names[] = {
#define _(sym, name, desc) "/net/ipcomp/sa/" name,
  foreach_ipcomp_sa_counter
#undef _
};

clib_error_t *
ipcomp_stats_init (vlib_main_t *vm)
{
  ipcomp_main_t *im = &ipcomp_main;
  u32 n_threads = vlib_get_n_threads ();
  vlib_stats_ring_config_t rc = {
    .entry_size = sizeof (ipcomp_event_t),
    .ring_size = IPCOMP_EVENT_RING_SIZE,
    .n_threads = n_threads,
    .schema_size = sizeof (ipcomp_event_schema) - 1,
    .schema_version = IPCOMP_EVENT_SCHEMA_VERS,
  };
  u32 i, op;

  for (i = 0; i < IPCOMP_SA_N_COUNTERS; i++)
    {
      im->sa_counters[i].name = ipcomp_sa_counter_names[i] + strlen ("/net/ipcomp/");
      im->sa_counters[i].stat_segment_name = ipcomp_sa_counter_names[i];
      vlib_validate_combined_counter (&im->sa_counters[i], 0);
      vlib_zero_combined_counter (&im->sa_counters[i], 0);
    }

  im->engine_calls[IPCOMP_OP_COMPRESS].name = "engine-compress-calls";
  im->engine_calls[IPCOMP_OP_COMPRESS].stat_segment_name = "/net/ipcomp/engine/calls/compress";
  im->engine_calls[IPCOMP_OP_DECOMPRESS].name = "engine-decompress-calls";
  im->engine_calls[IPCOMP_OP_DECOMPRESS].stat_segment_name = "/net/ipcomp/engine/calls/decompress";
  im->engine_clocks[IPCOMP_OP_COMPRESS].name = "engine-compress-clocks";
  im->engine_clocks[IPCOMP_OP_COMPRESS].stat_segment_name = "/net/ipcomp/engine/clocks/compress";
  im->engine_clocks[IPCOMP_OP_DECOMPRESS].name = "engine-decompress-clocks";
  im->engine_clocks[IPCOMP_OP_DECOMPRESS].stat_segment_name =
    "/net/ipcomp/engine/clocks/decompress";
  for (op = 0; op < IPCOMP_N_OPS; op++)
    {
      u32 last = vec_len (im->engines) ? vec_len (im->engines) - 1 : 0;
      vlib_validate_combined_counter (&im->engine_calls[op], last);
      vlib_validate_simple_counter (&im->engine_clocks[op], last);
      for (i = 0; i <= last; i++)
	{
	  vlib_zero_combined_counter (&im->engine_calls[op], i);
	  vlib_zero_simple_counter (&im->engine_clocks[op], i);
	}
    }

  im->payload_hist[IPCOMP_OP_COMPRESS].stat_segment_name = "/net/ipcomp/hist/compress-in-bytes";
  im->payload_hist[IPCOMP_OP_DECOMPRESS].stat_segment_name =
    "/net/ipcomp/hist/decompress-out-bytes";
  for (op = 0; op < IPCOMP_N_OPS; op++)
    {
      im->payload_hist[op].min_exp = IPCOMP_SIZE_HIST_MIN_EXP;
      vlib_validate_log2_histogram (&im->payload_hist[op], IPCOMP_SIZE_HIST_N_BINS);
    }

  im->events_suppressed.name = "events-suppressed";
  im->events_suppressed.stat_segment_name = "/net/ipcomp/events-suppressed";
  vlib_validate_simple_counter (&im->events_suppressed, 0);
  vlib_zero_simple_counter (&im->events_suppressed, 0);

  im->sa_names = vlib_stats_add_string_vector ("/net/ipcomp/sa/names");
  im->gauge_n_sas = vlib_stats_add_gauge ("/net/ipcomp/sas");
  im->gauge_n_tunnels = vlib_stats_add_gauge ("/net/ipcomp/tunnels");
  vlib_stats_set_gauge (im->gauge_n_sas, 0);
  vlib_stats_set_gauge (im->gauge_n_tunnels, 0);

  im->events_ring_index =
    vlib_stats_add_ring_buffer (&rc, ipcomp_event_schema, "/net/ipcomp/events");
  if (im->events_ring_index == CLIB_U32_MAX)
    return clib_error_return (0, "ipcomp: cannot add /net/ipcomp/events");

  im->stats_ready = 1;
  return 0;
}

/* New SA index: counters zeroed, name published */
void
ipcomp_stats_sa_added (u32 sa_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_sa_t *sa = ipcomp_sa_get (sa_index);
  u32 i;

  for (i = 0; i < IPCOMP_SA_N_COUNTERS; i++)
    {
      vlib_validate_combined_counter (&im->sa_counters[i], sa_index);
      vlib_zero_combined_counter (&im->sa_counters[i], sa_index);
    }
  vlib_stats_set_string_vector (&im->sa_names, sa_index, "%u", sa->id);
  ipcomp_async_sa_added (sa_index);
  vlib_stats_set_gauge (im->gauge_n_sas, pool_elts (im->sas));
}

static_always_inline u64
ipcomp_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (u64) ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void
ipcomp_event_put_addr (u8 *dst, const ip46_address_t *a, u8 is_ip6)
{
  clib_memset (dst, 0, 16);
  if (is_ip6)
    clib_memcpy (dst, a->ip6.as_u8, 16);
  else
    clib_memcpy (dst, a->ip4.as_u8, 4);
}

/* Control-plane events: main thread only, ring of thread 0 */
void
ipcomp_event_control (ipcomp_event_type_t type, u32 sa_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_sa_t *sa = ipcomp_sa_get (sa_index);
  ipcomp_event_t *ev;

  if (!im->stats_ready)
    return;
  ev = vlib_stats_ring_reserve_slot (im->events_ring_index, 0);
  if (ev)
    {
      clib_memset (ev, 0, sizeof (*ev));
      ev->timestamp_ns = ipcomp_now_ns ();
      ev->type = type;
      ev->sa_index = sa_index;
      ev->sa_id = sa->id;
      ev->cpi = sa->cpi;
      ev->is_ip6 = sa->is_ip6;
      ev->engine_index = sa->engine_index;
      ev->sw_if_index = sa->sw_if_index;
      /* from this host's point of view: src = local, dst = peer */
      ipcomp_event_put_addr (ev->src, &sa->local, sa->is_ip6);
      ipcomp_event_put_addr (ev->dst, &sa->peer, sa->is_ip6);
      vlib_stats_ring_commit_slot (im->events_ring_index, 0);
    }
}

/* Data-path events: the calling thread's own ring, no lock.  At most
 * IPCOMP_EVENT_RATE per second per thread, so a flood of bad packets does
 * not push the SA lifecycle records out of the ring; the rest are counted
 * in /net/ipcomp/events-suppressed (the node counters count every packet). */
void
ipcomp_event_packet (u32 thread_index, ipcomp_event_type_t type, u16 reason, u32 sa_index,
		     u8 is_ip6, const u8 *src, const u8 *dst, u16 cpi, u32 length, u8 engine_index)
{
  ipcomp_main_t *im = &ipcomp_main;
  ipcomp_per_thread_t *ptd;
  ipcomp_event_t *ev;
  f64 now;

  if (PREDICT_FALSE (!im->stats_ready))
    return;
  ptd = vec_elt_at_index (im->per_thread, thread_index);
  now = vlib_time_now (vlib_get_main_by_index (thread_index));
  if (now - ptd->event_window_start >= 1.0)
    {
      ptd->event_window_start = now;
      ptd->events_in_window = 0;
    }
  if (ptd->events_in_window >= IPCOMP_EVENT_RATE)
    {
      vlib_increment_simple_counter (&im->events_suppressed, thread_index, 0, 1);
      return;
    }
  ptd->events_in_window++;
  ev = vlib_stats_ring_reserve_slot (im->events_ring_index, thread_index);
  if (!ev)
    return;
  clib_memset (ev, 0, sizeof (*ev));
  ev->timestamp_ns = ipcomp_now_ns ();
  ev->type = type;
  ev->reason = reason;
  ev->sa_index = sa_index;
  ev->sa_id = sa_index != ~0 ? ipcomp_sa_get (sa_index)->id : ~0;
  ev->cpi = cpi;
  ev->is_ip6 = is_ip6;
  ev->engine_index = engine_index;
  ev->sw_if_index = sa_index != ~0 ? ipcomp_sa_get (sa_index)->sw_if_index : ~0;
  ev->length = length;
  clib_memcpy (ev->src, src, is_ip6 ? 16 : 4);
  clib_memcpy (ev->dst, dst, is_ip6 ? 16 : 4);
  vlib_stats_ring_commit_slot (im->events_ring_index, thread_index);
}

u8 *
format_ipcomp_event (u8 *s, va_list *args)
{
  ipcomp_event_t *ev = va_arg (*args, ipcomp_event_t *);
  static const char *types[] = {
    "?",	  "sa-add",	"sa-del",	  "engine-failure",  "decompress-failure",
    "protect-add", "protect-del", "device-failure", "device-recovery", "engine-switch"
  };
  ip46_address_t src = {}, dst = {};
  if (ev->is_ip6)
    {
      clib_memcpy (src.ip6.as_u8, ev->src, 16);
      clib_memcpy (dst.ip6.as_u8, ev->dst, 16);
    }
  else
    {
      clib_memcpy (src.ip4.as_u8, ev->src, 4);
      clib_memcpy (dst.ip4.as_u8, ev->dst, 4);
    }
  return format (s, "%s reason %u sa %d cpi %u %U -> %U len %u",
		 ev->type < ARRAY_LEN (types) ? types[ev->type] : "?", ev->reason, ev->sa_id,
		 ev->cpi, format_ip46_address, &src, IP46_TYPE_ANY, format_ip46_address, &dst,
		 IP46_TYPE_ANY, ev->length);
}
