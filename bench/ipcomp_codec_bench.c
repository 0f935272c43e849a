/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_codec_bench.c: the raw engines in a tight loop, on the same
 * payloads the VPP nodes are measured with (bench/ipcomp_bench.py writes
 * them).  Same codec code as the plugin (plugin/ipcomp/codec_*.c), one
 * context reused for every call, exactly as the plugin's per-thread contexts.
 *
 *   ipcomp_codec_bench <engine> <level> <window-bits> <iterations> <payload-file>
 *
 * Prints one line: clocks per compress call, per decompress call (TSC),
 * ns per call and the compressed/original ratio.
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

int
main (int argc, char **argv)
{
  static uint8_t in[70000], comp[70000], out[70000];
  void *cctx, *dctx;
  int (*compress) (void *, const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
  int (*decompress) (void *, const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
  uint32_t len, clen = 0, olen = 0, i, iters;
  uint64_t t0, t1, t2;
  double w0, w1, w2;
  int level, wbits, rv, is_zlib;
  FILE *f;

  if (argc != 6)
    {
      fprintf (stderr, "usage: %s zlib|isal level window-bits iterations payload-file\n", argv[0]);
      return 2;
    }
  is_zlib = !strcmp (argv[1], "zlib");
  level = atoi (argv[2]);
  wbits = atoi (argv[3]);
  iters = atoi (argv[4]);
  f = fopen (argv[5], "rb");
  if (!f)
    return 2;
  len = fread (in, 1, sizeof (in), f);
  fclose (f);

  if (is_zlib)
    {
      cctx = ipcomp_zlib_ctx_new (level, wbits, 1);
      dctx = ipcomp_zlib_ctx_new (0, 15, 0);
      compress = (void *) ipcomp_zlib_compress;
      decompress = (void *) ipcomp_zlib_decompress;
    }
  else
    {
      cctx = ipcomp_isal_ctx_new (level, wbits, 1);
      dctx = ipcomp_isal_ctx_new (0, 15, 0);
      compress = (void *) ipcomp_isal_compress;
      decompress = (void *) ipcomp_isal_decompress;
    }
  if (!cctx || !dctx)
    return 3;

  /* the plugin's budget: IPComp header + data must be smaller */
  uint32_t budget = len > 5 ? len - 5 : 0;
  rv = compress (cctx, in, len, comp, budget, &clen);
  int incompressible = rv != IPCOMP_CODEC_OK;
  if (incompressible)
    {
      /* measure decompression on the unbounded output instead */
      compress (cctx, in, len, comp, sizeof (comp), &clen);
    }

  w0 = now ();
  t0 = __rdtsc ();
  for (i = 0; i < iters; i++)
    compress (cctx, in, len, comp, budget, &olen);
  t1 = __rdtsc ();
  w1 = now ();
  if (incompressible)
    compress (cctx, in, len, comp, sizeof (comp), &clen);
  for (i = 0; i < iters; i++)
    {
      rv = decompress (dctx, comp, clen, out, 65535, &olen);
      if (rv || olen != len)
	return 4;
    }
  t2 = __rdtsc ();
  w2 = now ();

  printf ("engine=%s level=%d wbits=%d len=%u clen=%u incompressible=%d "
	  "compress_clocks=%.0f decompress_clocks=%.0f compress_ns=%.0f decompress_ns=%.0f "
	  "ratio=%.3f\n",
	  argv[1], level, wbits, len, clen, incompressible, (double) (t1 - t0) / iters,
	  (double) (t2 - t1) / iters, (w1 - w0) * 1e9 / iters, (w2 - w1) * 1e9 / iters,
	  (double) clen / len);
  return 0;
}
