/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * codec_zlib.c: raw DEFLATE through zlib.  One z_stream per context, set up
 * once; every packet only pays deflateReset/inflateReset.
 */

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ipcomp_codec.h"

struct ipcomp_zlib_ctx_
{
  z_stream zs;
  int for_compress;
  int level;
  int window_bits;
  int mem_level;
};

static int
ipcomp_zlib_mem_level (int window_bits)
{
  /* The hash table (2 << (mem_level + 7) bytes) is cleared for every packet:
   * scale it with the window so small windows are cheap per call. */
  int m = window_bits - 7;
  if (m < 1)
    m = 1;
  if (m > 8)
    m = 8;
  return m;
}

ipcomp_zlib_ctx_t *
ipcomp_zlib_ctx_new (int level, int window_bits, int for_compress)
{
  ipcomp_zlib_ctx_t *ctx;
  int rv;

  if (level < 0 || level > 9)
    return 0;
  if (window_bits < IPCOMP_CODEC_WBITS_MIN || window_bits > IPCOMP_CODEC_WBITS_MAX)
    return 0;

  ctx = calloc (1, sizeof (*ctx));
  if (!ctx)
    return 0;
  ctx->for_compress = for_compress;
  ctx->level = level;
  ctx->window_bits = window_bits;
  ctx->mem_level = ipcomp_zlib_mem_level (window_bits);

  if (for_compress)
    rv =
      deflateInit2 (&ctx->zs, level, Z_DEFLATED, -window_bits, ctx->mem_level, Z_DEFAULT_STRATEGY);
  else
    /* inflate always accepts the largest window: any sender's output works */
    rv = inflateInit2 (&ctx->zs, -15);

  if (rv != Z_OK)
    {
      free (ctx);
      return 0;
    }
  if (!for_compress)
    {
      /* zlib allocates the inflate window on first need: do it now, on the
       * main thread, with a non-final stored block, not in the data path */
      static const uint8_t stored[] = { 0x00, 0x01, 0x00, 0xfe, 0xff, 'x' };
      uint8_t out[4];
      ctx->zs.next_in = (Bytef *) stored;
      ctx->zs.avail_in = sizeof (stored);
      ctx->zs.next_out = out;
      ctx->zs.avail_out = sizeof (out);
      inflate (&ctx->zs, Z_NO_FLUSH);
      inflateReset (&ctx->zs);
    }
  return ctx;
}

void
ipcomp_zlib_ctx_free (ipcomp_zlib_ctx_t *ctx)
{
  if (!ctx)
    return;
  if (ctx->for_compress)
    deflateEnd (&ctx->zs);
  else
    inflateEnd (&ctx->zs);
  free (ctx);
}

uint32_t
ipcomp_zlib_ctx_size (const ipcomp_zlib_ctx_t *ctx)
{
  /* zlib's documented memory use (zconf.h) */
  if (!ctx)
    return 0;
  if (ctx->for_compress)
    return sizeof (*ctx) + (1u << (ctx->window_bits + 2)) + (1u << (ctx->mem_level + 9));
  return sizeof (*ctx) + (1u << 15) + 7168;
}

int
ipcomp_zlib_compress (ipcomp_zlib_ctx_t *ctx, const uint8_t *in, uint32_t in_len, uint8_t *out,
		      uint32_t out_cap, uint32_t *out_len)
{
  z_stream *zs = &ctx->zs;
  int rv;

  if (deflateReset (zs) != Z_OK)
    return IPCOMP_CODEC_INTERNAL;

  zs->next_in = (Bytef *) in;
  zs->avail_in = in_len;
  zs->next_out = out;
  zs->avail_out = out_cap;

  rv = deflate (zs, Z_FINISH);
  if (rv == Z_STREAM_END)
    {
      *out_len = out_cap - zs->avail_out;
      return IPCOMP_CODEC_OK;
    }
  if (rv == Z_OK || rv == Z_BUF_ERROR)
    return IPCOMP_CODEC_NO_SPACE;
  return IPCOMP_CODEC_INTERNAL;
}

int
ipcomp_zlib_decompress (ipcomp_zlib_ctx_t *ctx, const uint8_t *in, uint32_t in_len, uint8_t *out,
			uint32_t out_cap, uint32_t *out_len)
{
  z_stream *zs = &ctx->zs;
  int rv;

  if (inflateReset (zs) != Z_OK)
    return IPCOMP_CODEC_INTERNAL;

  zs->next_in = (Bytef *) in;
  zs->avail_in = in_len;
  zs->next_out = out;
  zs->avail_out = out_cap;

  rv = inflate (zs, Z_FINISH);
  switch (rv)
    {
    case Z_STREAM_END:
      /* bytes after the final block are not part of any deflate stream */
      if (zs->avail_in)
	return IPCOMP_CODEC_CORRUPT;
      *out_len = out_cap - zs->avail_out;
      return IPCOMP_CODEC_OK;
    case Z_DATA_ERROR:
    case Z_NEED_DICT:
      return IPCOMP_CODEC_CORRUPT;
    case Z_OK:
    case Z_BUF_ERROR:
      if (zs->avail_out == 0)
	return IPCOMP_CODEC_NO_SPACE;
      return IPCOMP_CODEC_TRUNCATED;
    default:
      return IPCOMP_CODEC_INTERNAL;
    }
}
