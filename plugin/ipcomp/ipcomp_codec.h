/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_codec.h: raw DEFLATE (RFC 1951, as RFC 2394 uses it) through zlib
 * and ISA-L igzip.
 *
 * Pure C, no VPP headers: the plugin's engines wrap these functions, and the
 * unit tests in plugin/test/ link them without VPP.  A context is created
 * once (per thread, per level/window) and reused for every packet: the
 * per-packet calls never allocate.
 */

#ifndef included_ipcomp_codec_h
#define included_ipcomp_codec_h

#include <stdint.h>

typedef enum
{
  IPCOMP_CODEC_OK = 0,
  /* compress: the output would not be smaller than out_cap allows;
   * decompress: the output exceeds out_cap (compression bomb) */
  IPCOMP_CODEC_NO_SPACE = 1,
  /* decompress: invalid deflate stream, or bytes after its final block */
  IPCOMP_CODEC_CORRUPT = 2,
  /* decompress: input ended before the final block */
  IPCOMP_CODEC_TRUNCATED = 3,
  /* library failure that is not the data's fault */
  IPCOMP_CODEC_INTERNAL = 4,
} ipcomp_codec_status_t;

#define IPCOMP_CODEC_WBITS_MIN 9
#define IPCOMP_CODEC_WBITS_MAX 15

/* zlib */
typedef struct ipcomp_zlib_ctx_ ipcomp_zlib_ctx_t;

ipcomp_zlib_ctx_t *ipcomp_zlib_ctx_new (int level, int window_bits, int for_compress);
void ipcomp_zlib_ctx_free (ipcomp_zlib_ctx_t *ctx);
int ipcomp_zlib_compress (ipcomp_zlib_ctx_t *ctx, const uint8_t *in, uint32_t in_len, uint8_t *out,
			  uint32_t out_cap, uint32_t *out_len);
int ipcomp_zlib_decompress (ipcomp_zlib_ctx_t *ctx, const uint8_t *in, uint32_t in_len,
			    uint8_t *out, uint32_t out_cap, uint32_t *out_len);
uint32_t ipcomp_zlib_ctx_size (const ipcomp_zlib_ctx_t *ctx);

/* ISA-L igzip */
typedef struct ipcomp_isal_ctx_ ipcomp_isal_ctx_t;

#define IPCOMP_ISAL_LEVEL_MAX 3

ipcomp_isal_ctx_t *ipcomp_isal_ctx_new (int level, int window_bits, int for_compress);
void ipcomp_isal_ctx_free (ipcomp_isal_ctx_t *ctx);
int ipcomp_isal_compress (ipcomp_isal_ctx_t *ctx, const uint8_t *in, uint32_t in_len, uint8_t *out,
			  uint32_t out_cap, uint32_t *out_len);
int ipcomp_isal_decompress (ipcomp_isal_ctx_t *ctx, const uint8_t *in, uint32_t in_len,
			    uint8_t *out, uint32_t out_cap, uint32_t *out_len);
uint32_t ipcomp_isal_ctx_size (const ipcomp_isal_ctx_t *ctx);

/* Learned coding for level 0 (see codec_isal.c): symbol counts of one
 * sender's sampled packets and a Huffman table built from them.  One per
 * sender and thread; sample and build take the thread's level-0 compress
 * context (its scratch) and return an ipcomp_codec_status_t.  Until the
 * first build, compress_learned codes exactly as ipcomp_isal_compress. */
typedef struct ipcomp_isal_learn_ ipcomp_isal_learn_t;

ipcomp_isal_learn_t *ipcomp_isal_learn_new (void);
void ipcomp_isal_learn_free (ipcomp_isal_learn_t *l);
uint32_t ipcomp_isal_learn_size (void);
/* builds since new or forget; forget: back to no counts and no table */
uint32_t ipcomp_isal_learn_builds (const ipcomp_isal_learn_t *l);
void ipcomp_isal_learn_forget (ipcomp_isal_learn_t *l);
/* add the symbols level 0 would code for in (about one level-0 call) */
int ipcomp_isal_learn_sample (ipcomp_isal_ctx_t *ctx, ipcomp_isal_learn_t *l, const uint8_t *in,
			      uint32_t in_len);
/* build the table from the counts so far (~50k clocks), then halve them */
int ipcomp_isal_learn_build (ipcomp_isal_ctx_t *ctx, ipcomp_isal_learn_t *l);
int ipcomp_isal_compress_learned (ipcomp_isal_ctx_t *ctx, ipcomp_isal_learn_t *l, const uint8_t *in,
				  uint32_t in_len, uint8_t *out, uint32_t out_cap,
				  uint32_t *out_len);

#endif /* included_ipcomp_codec_h */
