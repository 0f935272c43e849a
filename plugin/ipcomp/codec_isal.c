/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * codec_isal.c: raw DEFLATE through ISA-L igzip's stateless calls.
 *
 * The context owns the stream, the inflate state and the level buffer (the
 * hash tables of levels 1..3), allocated once.  The level buffer size follows
 * the window: a smaller buffer means a smaller hash table to reset per packet,
 * which is what dominates the cost of small payloads.
 *
 * Learned coding (level auto): level 0 codes with a fixed Huffman table
 * (ISA-L's default, trained on a generic corpus); level 1 builds one per
 * packet from that packet's symbols, ~6k clocks whatever the size.  An
 * ipcomp_isal_learn_t holds symbol counts sampled from one sender's packets
 * and a table built from them, so level 0 codes with a table fitted to that
 * sender's data at level 0's cost; the caller decides when to sample and
 * when to rebuild.
 */

#include <stdlib.h>
#include <string.h>
#include <isa-l/igzip_lib.h>

#include "ipcomp_codec.h"

struct ipcomp_isal_ctx_
{
  struct isal_zstream zs;
  struct inflate_state is;
  /* level 0 compress: scratch for ipcomp_isal_learn_sample (its hash table
   * is ISA-L's working space) */
  struct isal_huff_histogram *hist;
  uint8_t *level_buf;
  uint32_t level_buf_size;
  int for_compress;
  int level;
  int window_bits;
};

static uint32_t
ipcomp_isal_level_buf_size (int level, int window_bits)
{
  switch (level)
    {
    case 0:
      return ISAL_DEF_LVL0_DEFAULT;
    case 1:
      return window_bits <= 10 ? ISAL_DEF_LVL1_MIN :
	     window_bits <= 12 ? ISAL_DEF_LVL1_SMALL :
	     window_bits <= 14 ? ISAL_DEF_LVL1_MEDIUM :
				 ISAL_DEF_LVL1_LARGE;
    case 2:
      return window_bits <= 10 ? ISAL_DEF_LVL2_MIN :
	     window_bits <= 12 ? ISAL_DEF_LVL2_SMALL :
	     window_bits <= 14 ? ISAL_DEF_LVL2_MEDIUM :
				 ISAL_DEF_LVL2_LARGE;
    default:
      return window_bits <= 10 ? ISAL_DEF_LVL3_MIN :
	     window_bits <= 12 ? ISAL_DEF_LVL3_SMALL :
	     window_bits <= 14 ? ISAL_DEF_LVL3_MEDIUM :
				 ISAL_DEF_LVL3_LARGE;
    }
}

ipcomp_isal_ctx_t *
ipcomp_isal_ctx_new (int level, int window_bits, int for_compress)
{
  ipcomp_isal_ctx_t *ctx;

  if (level < 0 || level > IPCOMP_ISAL_LEVEL_MAX)
    return 0;
  if (window_bits < IPCOMP_CODEC_WBITS_MIN || window_bits > IPCOMP_CODEC_WBITS_MAX)
    return 0;

  ctx = calloc (1, sizeof (*ctx));
  if (!ctx)
    return 0;
  ctx->for_compress = for_compress;
  ctx->level = level;
  ctx->window_bits = window_bits;

  if (for_compress && (ctx->level_buf_size = ipcomp_isal_level_buf_size (level, window_bits)))
    {
      /* level 0 needs none (ISAL_DEF_LVL0_DEFAULT is 0) */
      ctx->level_buf = aligned_alloc (64, (ctx->level_buf_size + 63) & ~63u);
      if (!ctx->level_buf)
	{
	  free (ctx);
	  return 0;
	}
      /* ISA-L's stateless levels 1..3 read hash entries of the level buffer
       * they have not written (a candidate match is checked against the
       * input, so any value is safe): zeroed, the output depends only on
       * the packets compressed before, not on what the heap held */
      memset (ctx->level_buf, 0, ctx->level_buf_size);
    }
  if (for_compress && level == 0 && !(ctx->hist = malloc (sizeof (*ctx->hist))))
    {
      free (ctx);
      return 0;
    }
  return ctx;
}

void
ipcomp_isal_ctx_free (ipcomp_isal_ctx_t *ctx)
{
  if (!ctx)
    return;
  free (ctx->level_buf);
  free (ctx->hist);
  free (ctx);
}

uint32_t
ipcomp_isal_ctx_size (const ipcomp_isal_ctx_t *ctx)
{
  return ctx ? sizeof (*ctx) + ctx->level_buf_size + (ctx->hist ? sizeof (*ctx->hist) : 0) : 0;
}

static int
ipcomp_isal_deflate (ipcomp_isal_ctx_t *ctx, struct isal_hufftables *tables, const uint8_t *in,
		     uint32_t in_len, uint8_t *out, uint32_t out_cap, uint32_t *out_len)
{
  struct isal_zstream *zs = &ctx->zs;
  int rv;

  isal_deflate_stateless_init (zs);
  if (tables)
    isal_deflate_set_hufftables (zs, tables, IGZIP_HUFFTABLE_CUSTOM);
  zs->level = ctx->level;
  zs->level_buf = ctx->level_buf;
  zs->level_buf_size = ctx->level_buf_size;
  zs->hist_bits = ctx->window_bits;
  zs->gzip_flag = IGZIP_DEFLATE;
  zs->end_of_stream = 1;
  zs->flush = NO_FLUSH;
  zs->next_in = (uint8_t *) in;
  zs->avail_in = in_len;
  zs->next_out = out;
  zs->avail_out = out_cap;

  rv = isal_deflate_stateless (zs);
  if (rv == COMP_OK)
    {
      *out_len = zs->total_out;
      return IPCOMP_CODEC_OK;
    }
  if (rv == STATELESS_OVERFLOW)
    return IPCOMP_CODEC_NO_SPACE;
  return IPCOMP_CODEC_INTERNAL;
}

int
ipcomp_isal_compress (ipcomp_isal_ctx_t *ctx, const uint8_t *in, uint32_t in_len, uint8_t *out,
		      uint32_t out_cap, uint32_t *out_len)
{
  return ipcomp_isal_deflate (ctx, 0, in, in_len, out, out_cap, out_len);
}

struct ipcomp_isal_learn_
{
  struct isal_hufftables tables; /* valid once n_builds > 0 */
  uint32_t lit_len[ISAL_DEF_LIT_LEN_SYMBOLS];
  uint32_t dist[ISAL_DEF_DIST_SYMBOLS];
  uint32_t n_builds;
};

ipcomp_isal_learn_t *
ipcomp_isal_learn_new (void)
{
  return calloc (1, sizeof (ipcomp_isal_learn_t));
}

void
ipcomp_isal_learn_free (ipcomp_isal_learn_t *l)
{
  free (l);
}

uint32_t
ipcomp_isal_learn_size (void)
{
  return sizeof (ipcomp_isal_learn_t);
}

void
ipcomp_isal_learn_forget (ipcomp_isal_learn_t *l)
{
  memset (l, 0, sizeof (*l));
}

uint32_t
ipcomp_isal_learn_builds (const ipcomp_isal_learn_t *l)
{
  return l->n_builds;
}

int
ipcomp_isal_learn_sample (ipcomp_isal_ctx_t *ctx, ipcomp_isal_learn_t *l, const uint8_t *in,
			  uint32_t in_len)
{
  struct isal_huff_histogram *h = ctx->hist;
  uint32_t i;

  if (!h)
    return IPCOMP_CODEC_INTERNAL;
  memset (h->lit_len_histogram, 0, sizeof (h->lit_len_histogram));
  memset (h->dist_histogram, 0, sizeof (h->dist_histogram));
  isal_update_histogram ((uint8_t *) in, in_len, h);
  for (i = 0; i < ISAL_DEF_LIT_LEN_SYMBOLS; i++)
    l->lit_len[i] += h->lit_len_histogram[i];
  for (i = 0; i < ISAL_DEF_DIST_SYMBOLS; i++)
    l->dist[i] += h->dist_histogram[i];
  return IPCOMP_CODEC_OK;
}

/* floors of learned counts, as shifts of the total: literals, match
 * lengths (their codes carry up to 5 extra bits), distances */
#define IPCOMP_ISAL_LIT_FLOOR  9
#define IPCOMP_ISAL_LEN_FLOOR  6
#define IPCOMP_ISAL_DIST_FLOOR 6

int
ipcomp_isal_learn_build (ipcomp_isal_ctx_t *ctx, ipcomp_isal_learn_t *l)
{
  struct isal_huff_histogram *h = ctx->hist;
  uint64_t lit_total = 0, dist_total = 0;
  uint32_t i;

  if (!h)
    return IPCOMP_CODEC_INTERNAL;
  for (i = 0; i < ISAL_DEF_LIT_LEN_SYMBOLS; i++)
    lit_total += l->lit_len[i];
  for (i = 0; i < ISAL_DEF_DIST_SYMBOLS; i++)
    dist_total += l->dist[i];
  /* Every symbol gets a code (isal_create_hufftables, not the _subset
   * variant), so any input can still be coded.  Rare symbols are counted at
   * least at a floor: without it their codes are 13-15 bits long, and
   * ISA-L's inflate (the peer's) spends ~60k clocks per packet on its
   * long-code table (quadratic in the number of such codes); with it ~9k,
   * for 1-4% more bytes.  Halving the counts lets recent data outweigh
   * old. */
  for (i = 0; i < ISAL_DEF_LIT_LEN_SYMBOLS; i++)
    {
      uint64_t floor = lit_total >> (i < 256 ? IPCOMP_ISAL_LIT_FLOOR : IPCOMP_ISAL_LEN_FLOOR);
      h->lit_len_histogram[i] = l->lit_len[i] > floor ? l->lit_len[i] : floor;
      l->lit_len[i] >>= 1;
    }
  for (i = 0; i < ISAL_DEF_DIST_SYMBOLS; i++)
    {
      uint64_t floor = dist_total >> IPCOMP_ISAL_DIST_FLOOR;
      h->dist_histogram[i] = l->dist[i] > floor ? l->dist[i] : floor;
      l->dist[i] >>= 1;
    }
  if (isal_create_hufftables (&l->tables, h))
    return IPCOMP_CODEC_INTERNAL;
  l->n_builds++;
  return IPCOMP_CODEC_OK;
}

int
ipcomp_isal_compress_learned (ipcomp_isal_ctx_t *ctx, ipcomp_isal_learn_t *l, const uint8_t *in,
			      uint32_t in_len, uint8_t *out, uint32_t out_cap, uint32_t *out_len)
{
  return ipcomp_isal_deflate (ctx, (ctx->level == 0 && l->n_builds) ? &l->tables : 0, in, in_len,
			      out, out_cap, out_len);
}

int
ipcomp_isal_decompress (ipcomp_isal_ctx_t *ctx, const uint8_t *in, uint32_t in_len, uint8_t *out,
			uint32_t out_cap, uint32_t *out_len)
{
  struct inflate_state *is = &ctx->is;
  int rv;

  isal_inflate_init (is);
  is->crc_flag = ISAL_DEFLATE;
  is->next_in = (uint8_t *) in;
  is->avail_in = in_len;
  is->next_out = out;
  is->avail_out = out_cap;

  rv = isal_inflate_stateless (is);
  switch (rv)
    {
    case ISAL_DECOMP_OK:
      /* bytes after the final block are not part of any deflate stream:
       * unread input, or whole bytes ISA-L read ahead into its bit buffer
       * (fewer than 8 bits there are the last byte's padding) */
      if (is->avail_in || is->read_in_length >= 8)
	return IPCOMP_CODEC_CORRUPT;
      *out_len = is->total_out;
      return IPCOMP_CODEC_OK;
    case ISAL_OUT_OVERFLOW:
      return IPCOMP_CODEC_NO_SPACE;
    case ISAL_END_INPUT:
      return IPCOMP_CODEC_TRUNCATED;
    case ISAL_INVALID_BLOCK:
    case ISAL_INVALID_SYMBOL:
    case ISAL_INVALID_LOOKBACK:
      return IPCOMP_CODEC_CORRUPT;
    default:
      return IPCOMP_CODEC_INTERNAL;
    }
}
