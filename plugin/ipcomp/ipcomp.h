/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp.h: IP payload compression (RFC 3173, DEFLATE per RFC 2394) for VPP.
 */

#ifndef included_ipcomp_h
#define included_ipcomp_h

#include <vnet/vnet.h>
#include <vnet/ip/ip.h>
#include <vnet/ip/ip_types.h>
#include <vlib/stats/stats.h>

#include <ipcomp/ipcomp_wire.h>
#include <ipcomp/engine.h>

#define IPCOMP_PLUGIN_VERSION "0.2.0"

#define IPCOMP_DEFAULT_THRESHOLD	90 /* bytes, as Linux uses */
#define IPCOMP_DEFAULT_MAX_DECOMPRESSED IPCOMP_MAX_IP_PACKET
#define IPCOMP_DEFAULT_WINDOW_BITS	15
#define IPCOMP_DEFAULT_TTL		64
#define IPCOMP_LEVEL_DEFAULT		0xff /* the engine's default */
#define IPCOMP_LEVEL_AUTO		0xfe /* by packet size: see ipcomp_sa_profile */
/* Level auto.  Payloads below IPCOMP_AUTO_SPLIT bytes take the engine's
 * fast level, the rest its default level (ISA-L: level 0 vs 1; level 1
 * builds Huffman tables per call, ~6k clocks whatever the size, which only
 * large packets repay).  With an engine that can learn (ipcomp_engine_learn_t,
 * ISA-L), the fast level codes with a table learned from what the SA itself
 * sends, per thread: every packet is sampled until IPCOMP_AUTO_FIRST_BUILD
 * samples, then the first table is built; from then on one packet in
 * IPCOMP_AUTO_SAMPLE_EVERY is sampled and the table rebuilt every
 * IPCOMP_AUTO_BUILD_EVERY samples (older samples weigh half at each build),
 * so the table follows the SA's data at a few percent of level 0's cost.
 * When the data changes so much that IPCOMP_AUTO_MISSES packets in a row
 * do not compress, the table is forgotten and learned again from the next
 * packets (the limit doubles while no packet compresses in between, up to
 * IPCOMP_AUTO_MISSES << IPCOMP_AUTO_MISSES_MAX_EXP, so data that never
 * compresses rarely pays for relearning). */
#define IPCOMP_AUTO_SPLIT	     4096
#define IPCOMP_AUTO_FIRST_BUILD	     4
#define IPCOMP_AUTO_SAMPLE_EVERY     128
#define IPCOMP_AUTO_BUILD_EVERY	     16
#define IPCOMP_AUTO_MISSES	     4
#define IPCOMP_AUTO_MISSES_MAX_EXP   8
#define IPCOMP_SCRATCH_SIZE		(IPCOMP_MAX_IP_PACKET + 256)

/* Per-SA combined counters: [thread][sa_index], packets and bytes.
 * Names are frozen: see README.md. */
#define foreach_ipcomp_sa_counter                                                                  \
  _ (COMPRESSED_IN, "compressed-in", "compressed packets, uncompressed payload bytes")             \
  _ (COMPRESSED_OUT, "compressed-out", "compressed packets, IPComp header + deflate bytes")        \
  _ (BYPASS, "bypass", "sent uncompressed: below threshold, payload bytes")                        \
  _ (INCOMPRESSIBLE, "incompressible", "sent uncompressed: not smaller, payload bytes")            \
  _ (DECOMPRESSED_IN, "decompressed-in", "decompressed packets, IPComp header + deflate bytes")    \
  _ (DECOMPRESSED_OUT, "decompressed-out", "decompressed packets, restored payload bytes")         \
  _ (RX_ERRORS, "rx-errors", "received for this SA and dropped, IPComp header + data bytes")       \
  _ (TX_ERRORS, "tx-errors", "dropped on the send side, payload bytes")                           \
  _ (BACKOFF, "backoff", "sent uncompressed by the adaptive back-off, payload bytes")

typedef enum
{
#define _(sym, name, desc) IPCOMP_SA_COUNTER_##sym,
  foreach_ipcomp_sa_counter
#undef _
    IPCOMP_SA_N_COUNTERS,
} ipcomp_sa_counter_t;

typedef enum
{
  IPCOMP_SA_F_TUNNEL = (1 << 0), /* attached to an ipcomp protect */
  IPCOMP_SA_F_TRANSPORT_ENABLED = (1 << 1),
} ipcomp_sa_flags_t;

typedef struct
{
  /* key */
  u32 id;
  u16 cpi;
  u8 is_ip6;
  u8 flags;
  ip46_address_t local;
  ip46_address_t peer;
  u32 fib_index;
  u32 table_id;

  /* policy */
  u32 threshold;
  u32 max_decompressed;
  u8 engine_index;
  u8 level;
  u8 window_bits;
  u8 ttl;
  u8 backoff; /* adaptive back-off on incompressible data (default on) */
  u8 level_auto;
  u32 profile_index;	   /* the SA's level (level auto: the large packets') */
  u32 small_profile_index; /* level auto: the small packets' (fast level) */

  /* tunnel mode: the protection and the ipip tunnel it is attached to */
  u32 tunnel_index;
  u32 sw_if_index;

  /* transport mode: the interface it is enabled on, ~0 */
  u32 transport_sw_if_index;
} ipcomp_sa_t;

/* IPComp protection of one point-to-point ipip tunnel (ipcomp_protect.c) */
typedef struct
{
  u32 sw_if_index; /* the ipip tunnel */
  u32 sa_out;	   /* SA index: compresses what the tunnel sends */
  u32 sa_in;	   /* SA index: decompresses what the peer sends */
  u8 is_ip6;	   /* outer family */
} ipcomp_protect_t;

/* Receive lookup key: who sent it to whom, in which table, with which CPI */
typedef struct
{
  ip46_address_t src;
  ip46_address_t dst;
  u32 fib_index;
  u32 cpi;
} ipcomp_rx_key_t;

/* Transport send lookup key: the peer behind the interface the SA is
 * enabled on (so the interface's table is the SA's) */
typedef struct
{
  ip46_address_t peer;
  u32 sw_if_index;
  u32 is_ip6;
} ipcomp_tx_key_t;

/* RFC 3173 section 3.3: CPI 1..63 are the well-known (IANA) values, 64..255
 * are reserved for future use, 256..61439 negotiated, 61440..65535 private;
 * 0 is not a CPI.  Refused: 0, 64..255 and anything above 16 bits. */
static_always_inline int
ipcomp_cpi_is_valid (u32 cpi)
{
  return cpi != 0 && (cpi < 64 || cpi > 255) && cpi <= 0xffff;
}

/* Adaptive back-off (RFC 3173 section 2.2), per SA and thread: after
 * IPCOMP_BACKOFF_AFTER incompressible packets in a row the SA skips
 * compression for 2^exp - 1 packets (exp grows by one per failed probe, up
 * to IPCOMP_BACKOFF_MAX_EXP), then probes again; a packet that compresses
 * resets both.  A mix of compressible and incompressible data rarely
 * backs off; a stream of incompressible data soon costs (almost) nothing. */
#define IPCOMP_BACKOFF_AFTER   4
#define IPCOMP_BACKOFF_MAX_EXP 10
typedef struct
{
  u16 skip; /* packets still to send uncompressed without trying */
  u8 exp;
  u8 fails; /* incompressible in a row, up to IPCOMP_BACKOFF_AFTER */
  /* level auto with a learning engine (learn 0 otherwise): the engine's
   * state, packets until the next sample, samples since the last build,
   * whether a table is in use, incompressible packets in a row and the
   * exponent of their limit */
  void *learn;
  u16 learn_countdown;
  u16 learn_samples;
  u8 learn_valid;
  u8 learn_miss_exp;
  u16 learn_misses;
  u32 learn_builds;  /* tables built so far */
  u32 learn_forgets; /* tables dropped for not fitting the data */
  u64 learn_sampled; /* packets sampled so far */
} ipcomp_sa_thread_t;

typedef struct
{
  CLIB_CACHE_LINE_ALIGN_MARK (cacheline0);
  ipcomp_sa_thread_t *sa_state; /* [sa_index] */
  u8 *scratch_in;
  u8 *scratch_out;
  u16 ip4_id;	   /* counter */
  u16 ip4_id_base; /* this thread's range of outer IPv4 identifications */
  u16 ip4_id_mask;
  /* data-path event rate limit */
  f64 event_window_start;
  u32 events_in_window;
} ipcomp_per_thread_t;

/* The next outer IPv4 identification: threads draw from disjoint ranges
 * (the top bits are the thread index), so two workers never send the same
 * id at once to one peer. */
static_always_inline u16
ipcomp_ip4_id_next (ipcomp_per_thread_t *ptd)
{
  return ptd->ip4_id_base | (ptd->ip4_id++ & ptd->ip4_id_mask);
}

/* Event ring record: see README.md, "Event ring" (64 bytes, little endian) */
typedef enum
{
  IPCOMP_EVENT_SA_ADD = 1,
  IPCOMP_EVENT_SA_DEL = 2,
  IPCOMP_EVENT_ENGINE_FAILURE = 3,
  IPCOMP_EVENT_DECOMPRESS_FAILURE = 4,
  IPCOMP_EVENT_TUNNEL_ADD = 5, /* ipcomp protect added to an ipip tunnel */
  IPCOMP_EVENT_TUNNEL_DEL = 6, /* and removed */
  /* offload (issue 4): engine_index is the engine packets go to */
  IPCOMP_EVENT_DEVICE_FAILURE = 7,
  IPCOMP_EVENT_DEVICE_RECOVERY = 8,
  IPCOMP_EVENT_ENGINE_SWITCH = 9,
} ipcomp_event_type_t;

typedef struct
{
  u64 timestamp_ns; /* CLOCK_REALTIME, ns since the epoch */
  u16 type;	    /* ipcomp_event_type_t */
  u16 reason;	    /* node error code for failures, 0 otherwise */
  u32 sa_index;	    /* ~0 when no SA matched */
  u32 sa_id;	    /* ~0 when no SA matched */
  u16 cpi;
  u8 is_ip6;
  u8 engine_index; /* 0xff when not applicable */
  u32 sw_if_index; /* tunnel interface, ~0 when none */
  u32 length;	   /* packet bytes involved, 0 for control events */
  u8 src[16];	   /* IPv4 in the first 4 bytes */
  u8 dst[16];
} __clib_packed ipcomp_event_t;

STATIC_ASSERT (sizeof (ipcomp_event_t) == 64, "event record is 64 bytes");

#define IPCOMP_EVENT_RING_SIZE	 4096
#define IPCOMP_EVENT_SCHEMA_VERS 2
#define IPCOMP_EVENT_RATE	 100 /* data-path events per second per thread */

typedef struct
{
  u16 msg_id_base;

  ipcomp_sa_t *sas;
  ipcomp_protect_t *protects;
  uword *sa_index_by_id;
  uword *sa_index_by_rx_key;
  uword *sa_index_by_tx_key;
  u32 *protect_index_by_sw_if_index;

  ipcomp_engine_t *engines;
  ipcomp_profile_t *profiles;

  ipcomp_per_thread_t *per_thread;

  /* stats segment */
  vlib_combined_counter_main_t sa_counters[IPCOMP_SA_N_COUNTERS];
  vlib_combined_counter_main_t engine_calls[IPCOMP_N_OPS];
  vlib_simple_counter_main_t engine_clocks[IPCOMP_N_OPS];
  vlib_log2_histogram_main_t payload_hist[IPCOMP_N_OPS];
  vlib_simple_counter_main_t events_suppressed; /* [thread][0] */
  vlib_stats_string_vector_t sa_names;
  vlib_stats_string_vector_t engine_names; /* /net/ipcomp/engine/names [engine_index] */
  u32 events_ring_index;
  u32 gauge_n_sas;
  u32 gauge_n_tunnels;
  u8 stats_ready;

  u32 default_engine_index; /* ~0: best by priority */

  vlib_main_t *vlib_main;
  vnet_main_t *vnet_main;
  vlib_log_class_t log_class;
} ipcomp_main_t;

extern ipcomp_main_t ipcomp_main;
extern vlib_node_registration_t ipcomp4_compress_node;
extern vlib_node_registration_t ipcomp6_compress_node;
extern vlib_node_registration_t ipcomp4_decompress_node;
extern vlib_node_registration_t ipcomp6_decompress_node;
extern vlib_node_registration_t ipcomp4_transport_compress_node;
extern vlib_node_registration_t ipcomp6_transport_compress_node;

#define IPCOMP_LOG_NOTICE(...) vlib_log_notice (ipcomp_main.log_class, __VA_ARGS__)
#define IPCOMP_LOG_ERR(...)    vlib_log_err (ipcomp_main.log_class, __VA_ARGS__)

/* SA arguments shared by CLI and API */
typedef struct
{
  u32 id;
  u16 cpi;
  ip46_address_t local;
  ip46_address_t peer;
  u8 is_ip6;
  u32 table_id;
  char *engine; /* 0: best */
  u8 level;	/* IPCOMP_LEVEL_DEFAULT: engine default */
  u8 window_bits;
  u32 threshold;
  u32 max_decompressed;
  u8 no_backoff;
} ipcomp_sa_args_t;

void ipcomp_sa_args_default (ipcomp_sa_args_t *a);

/* ipcomp_sa.c */
int ipcomp_sa_add (const ipcomp_sa_args_t *a, u32 *sa_indexp);
int ipcomp_sa_del (u32 sa_index);
u32 ipcomp_sa_find_by_id (u32 id);
int ipcomp_sa_transport_enable_disable (u32 sa_index, u32 sw_if_index, int enable);

static_always_inline ipcomp_sa_t *
ipcomp_sa_get (u32 sa_index)
{
  return pool_elt_at_index (ipcomp_main.sas, sa_index);
}

/* The profile (engine, level, window) that compresses a payload of len */
static_always_inline u32
ipcomp_sa_profile (const ipcomp_sa_t *sa, u32 len)
{
  return (sa->level_auto && len < IPCOMP_AUTO_SPLIT) ? sa->small_profile_index :
						       sa->profile_index;
}

/* ipcomp_protect.c */
int ipcomp_protect_add (u32 sw_if_index, u32 sa_out, u32 sa_in);
int ipcomp_protect_del (u32 sw_if_index);
ipcomp_protect_t *ipcomp_protect_get_by_sw_if_index (u32 sw_if_index);

/* ipcomp_stats.c */
clib_error_t *ipcomp_stats_init (vlib_main_t *vm);
void ipcomp_stats_sa_added (u32 sa_index);
void ipcomp_event_control (ipcomp_event_type_t type, u32 sa_index);
void ipcomp_event_packet (u32 thread_index, ipcomp_event_type_t type, u16 reason, u32 sa_index,
			  u8 is_ip6, const u8 *src, const u8 *dst, u16 cpi, u32 length,
			  u8 engine_index);

/* Log2 bin of a value; VPP's own helper can index past the last bin, so
 * the plugin clamps here. */
static_always_inline void
ipcomp_hist_add (vlib_log2_histogram_main_t *hm, u32 thread_index, u64 value)
{
  u64 *bins = hm->bins[thread_index];
  u32 n_bins = vec_len (bins) - 1; /* bins[0] holds min_exp */
  int bin = value ? (int) min_log2 (value) - (int) hm->min_exp : 0;
  if (bin < 0)
    bin = 0;
  if (bin >= (int) n_bins)
    bin = n_bins - 1;
  bins[bin + 1] += 1;
}

/* format */
format_function_t format_ipcomp_sa;
format_function_t format_ipcomp_protect;
format_function_t format_ipcomp_event;

#endif /* included_ipcomp_h */
