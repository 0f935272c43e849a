/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_codec_bench.c: the raw engines in a tight loop, on the same
 * payloads the VPP nodes are measured with (bench/ipcomp_bench.py writes
 * them).  Same codec code as the plugin (plugin/ipcomp/codec_*.c), one
 * context reused for every call, exactly as the plugin's per-thread contexts.
 *
 *   ipcomp_codec_bench <engine> <level> <window-bits> <iterations> <payload-file> [learned]
 *
 * "learned" (isal level 0): code with Huffman tables learned from the
 * payload itself (ipcomp_isal_learn_*), what level auto does for an SA that
 * keeps sending that kind of packet.  Warm: one untimed round of
 * <iterations> calls, then one timed round.
 *
 * Prints one line: the settings, clocks per compress call, per decompress
 * call (TSC), ns per call and the compressed/original ratio.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "ipcomp_codec.h"

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef int (*codec_fn_t) (void *, const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);

static ipcomp_isal_learn_t *learned;

static int
isal_compress_learned (void *ctx, const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap,
		       uint32_t *olen)
{
  return ipcomp_isal_compress_learned (ctx, learned, in, len, out, cap, olen);
}

/* One untimed round of iters calls (warm-up), then one timed round: clocks
 * and ns per call; 0 if a call failed.  The caller (ipcomp_bench.py) takes
 * the best of as many runs as it takes of the node. */
static int
time_calls (codec_fn_t fn, void *ctx, const uint8_t *in, uint32_t len, uint8_t *out,
	    uint32_t cap, uint32_t iters, uint32_t expect_len, double *clocks, double *ns)
{
  uint32_t olen = 0, i, r;
  double w0 = 0;
  uint64_t t0 = 0;
  for (r = 0; r < 2; r++)
    {
      w0 = now ();
      t0 = __rdtsc ();
      for (i = 0; i < iters; i++)
	{
	  int rv = fn (ctx, in, len, out, cap, &olen);
	  if (expect_len && (rv || olen != expect_len))
	    return 0;
	}
    }
  *clocks = (double) (__rdtsc () - t0) / iters;
  *ns = (now () - w0) * 1e9 / iters;
  return 1;
}

int
main (int argc, char **argv)
{
  static uint8_t in[70000], comp[70000], out[70000];
  void *cctx, *dctx;
  codec_fn_t compress, decompress;
  uint32_t len, clen = 0, iters;
  double cc, cn, dc, dn;
  int level, wbits, rv, is_zlib, use_learned;
  FILE *f;

  if (argc != 6 && !(argc == 7 && !strcmp (argv[6], "learned")))
    {
      fprintf (stderr, "usage: %s zlib|isal level window-bits iterations payload-file [learned]\n",
	       argv[0]);
      return 2;
    }
  is_zlib = !strcmp (argv[1], "zlib");
  level = atoi (argv[2]);
  wbits = atoi (argv[3]);
  iters = atoi (argv[4]);
  use_learned = argc == 7;
  f = fopen (argv[5], "rb");
  if (!f)
    return 2;
  len = fread (in, 1, sizeof (in), f);
  fclose (f);

  if (is_zlib)
    {
      if (use_learned)
	return 2;
      cctx = ipcomp_zlib_ctx_new (level, wbits, 1);
      dctx = ipcomp_zlib_ctx_new (0, 15, 0);
      compress = (codec_fn_t) ipcomp_zlib_compress;
      decompress = (codec_fn_t) ipcomp_zlib_decompress;
    }
  else
    {
      cctx = ipcomp_isal_ctx_new (level, wbits, 1);
      dctx = ipcomp_isal_ctx_new (0, 15, 0);
      compress = (codec_fn_t) ipcomp_isal_compress;
      decompress = (codec_fn_t) ipcomp_isal_decompress;
      if (use_learned && cctx)
	{
	  /* as level auto after its first build: 4 samples of this payload */
	  learned = ipcomp_isal_learn_new ();
	  for (int i = 0; i < 4; i++)
	    if (!learned || ipcomp_isal_learn_sample (cctx, learned, in, len))
	      return 3;
	  if (ipcomp_isal_learn_build (cctx, learned))
	    return 3;
	  compress = isal_compress_learned;
	}
    }
  if (!cctx || !dctx)
    return 3;

  /* the plugin's budget: IPComp header + data must be smaller */
  uint32_t budget = len > 5 ? len - 5 : 0;
  rv = compress (cctx, in, len, comp, budget, &clen);
  int incompressible = rv != IPCOMP_CODEC_OK;
  if (!time_calls (compress, cctx, in, len, comp, budget, iters, 0, &cc, &cn))
    return 4;
  /* incompressible: measure decompression on the unbounded output */
  if (incompressible)
    compress (cctx, in, len, comp, sizeof (comp), &clen);
  if (!time_calls (decompress, dctx, comp, clen, out, 65535, iters, len, &dc, &dn))
    return 4;

  printf ("engine=%s level=%d wbits=%d coding=%s len=%u clen=%u incompressible=%d "
	  "compress_clocks=%.0f decompress_clocks=%.0f compress_ns=%.0f decompress_ns=%.0f "
	  "ratio=%.3f\n",
	  argv[1], level, wbits, use_learned ? "learned" : "default", len, clen, incompressible, cc,
	  dc, cn, dn, (double) clen / len);
  return 0;
}
