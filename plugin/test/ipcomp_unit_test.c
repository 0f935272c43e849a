/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * Unit tests of the plugin's pure packet and codec logic (ipcomp_wire.h,
 * codec_zlib.c, codec_isal.c).  Built and run without VPP:
 *
 *   cc -I../ipcomp ipcomp_unit_test.c ../ipcomp/codec_*.c -lz -lisal
 *
 * tests/test_plugin_unit.py compiles this (with and without sanitizers) and
 * runs it.  Output: one "ok"/"not ok" line per check, a summary, exit code 0
 * only when every check passed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcomp_wire.h"
#include "ipcomp_codec.h"

static int n_pass, n_fail;

#define CHECK(cond, ...)                                                                           \
  do                                                                                               \
    {                                                                                              \
      if (cond)                                                                                    \
	n_pass++;                                                                                  \
      else                                                                                         \
	{                                                                                          \
	  n_fail++;                                                                                \
	  printf ("not ok %s:%d: ", __FILE__, __LINE__);                                           \
	  printf (__VA_ARGS__);                                                                    \
	  printf ("\n");                                                                           \
	}                                                                                          \
    }                                                                                              \
  while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd (void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t) rng_state;
}

typedef enum
{
  KIND_TEXT,
  KIND_RANDOM,
  KIND_ZEROS,
  KIND_N,
} kind_t;

static const char *kind_names[] = { "text", "random", "zeros" };

static void
fill (uint8_t *p, uint32_t len, kind_t kind)
{
  static const char *words[] = {
    "GET ",	  "/index.html ", "HTTP/1.1\r\n", "Host: example.org\r\n",
    "the ",	  "quick ",	  "brown ",	  "fox ",
    "jumps ",	  "over ",	  "lazy ",	  "dog. ",
    "{\"key\": ", "\"value\"}, "
  };
  uint32_t i = 0;
  switch (kind)
    {
    case KIND_TEXT:
      while (i < len)
	{
	  const char *w = words[rnd () % (sizeof (words) / sizeof (words[0]))];
	  for (; *w && i < len; w++)
	    p[i++] = (uint8_t) *w;
	}
      break;
    case KIND_RANDOM:
      for (i = 0; i < len; i++)
	p[i] = (uint8_t) rnd ();
      break;
    default:
      memset (p, 0, len);
    }
}

/* ---- wire format ---- */

static void
test_header (void)
{
  uint8_t h[4], nh;
  uint16_t cpi;

  ipcomp_header_write (h, 4, 0x1234);
  CHECK (h[0] == 4 && h[1] == 0 && h[2] == 0x12 && h[3] == 0x34, "header bytes");
  CHECK (ipcomp_header_read (h, 4, &nh, &cpi) == IPCOMP_WIRE_OK && nh == 4 && cpi == 0x1234,
	 "header read");
  CHECK (ipcomp_header_read (h, 3, &nh, &cpi) == IPCOMP_WIRE_TRUNCATED, "header truncated");
  h[1] = 0xff; /* flags are ignored on receipt */
  CHECK (ipcomp_header_read (h, 4, &nh, &cpi) == IPCOMP_WIRE_OK, "flags ignored");
  ipcomp_header_write (h, IPCOMP_IP_PROTOCOL, 7);
  CHECK (ipcomp_header_read (h, 4, &nh, &cpi) == IPCOMP_WIRE_IPCOMP_IN_IPCOMP, "nested ipcomp");
}

static void
test_ip4 (void)
{
  /* A well-known header: checksum 0xb861 */
  uint8_t ref[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		      0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
  uint8_t ip[64];
  uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };
  ipcomp_ip_info_t info;

  CHECK (ipcomp_ip4_checksum (ref, 20) == 0xb861, "reference checksum %x",
	 ipcomp_ip4_checksum (ref, 20));
  CHECK (ipcomp_ip4_checksum_ok (ref, 20), "reference checksum ok");

  memcpy (ip, ref, 20);
  ipcomp_ip4_fixup (ip, 1000, IPCOMP_IP_PROTOCOL);
  CHECK (ipcomp_get_u16 (ip + 2) == 1000 && ip[9] == 108, "fixup fields");
  CHECK (ipcomp_ip4_checksum_ok (ip, 20), "fixup checksum");

  ipcomp_ip4_build (ip, src, dst, IPCOMP_IP_PROTOCOL, 64, 0, 77, 60);
  CHECK (ip[0] == 0x45 && ip[8] == 64 && ip[9] == 108 && !memcmp (ip + 12, src, 4) &&
	   !memcmp (ip + 16, dst, 4) && ipcomp_get_u16 (ip + 4) == 77,
	 "build fields");
  CHECK (ipcomp_ip4_checksum_ok (ip, 20), "build checksum");

  /* IHL with options */
  memset (ip, 0, sizeof (ip));
  ip[0] = 0x46;
  ipcomp_put_u16 (ip + 2, 40);
  ipcomp_ip4_fixup (ip, 40, 108);
  CHECK (ipcomp_ip4_checksum_ok (ip, 24), "options checksum");
  CHECK (ipcomp_ip4_parse (ip, 40, &info) == IPCOMP_WIRE_OK && info.hdr_len == 24 &&
	   info.packet_len == 40 && info.protocol == 108,
	 "parse options");

  ipcomp_ip4_build (ip, src, dst, 108, 64, 0, 1, 48);
  CHECK (ipcomp_ip4_parse (ip, 48, &info) == IPCOMP_WIRE_OK, "parse ok");
  CHECK (ipcomp_ip4_parse (ip, 60, &info) == IPCOMP_WIRE_OK && info.packet_len == 48,
	 "parse with padding");
  CHECK (ipcomp_ip4_parse (ip, 47, &info) == IPCOMP_WIRE_TRUNCATED, "parse short buffer");
  CHECK (ipcomp_ip4_parse (ip, 19, &info) == IPCOMP_WIRE_TRUNCATED, "parse tiny buffer");
  ip[0] = 0x44;
  CHECK (ipcomp_ip4_parse (ip, 48, &info) == IPCOMP_WIRE_BAD_HEADER, "parse IHL 4");
  ip[0] = 0x65;
  CHECK (ipcomp_ip4_parse (ip, 48, &info) == IPCOMP_WIRE_BAD_HEADER, "parse version 6");
  ip[0] = 0x45;
  ipcomp_put_u16 (ip + 2, 10);
  CHECK (ipcomp_ip4_parse (ip, 48, &info) == IPCOMP_WIRE_BAD_HEADER, "parse tlen < hlen");
  ipcomp_put_u16 (ip + 2, 48);
  ipcomp_put_u16 (ip + 6, 0x2000); /* MF */
  CHECK (ipcomp_ip4_parse (ip, 48, &info) == IPCOMP_WIRE_FRAGMENT, "parse MF");
  ipcomp_put_u16 (ip + 6, 0x0010); /* offset */
  CHECK (ipcomp_ip4_parse (ip, 48, &info) == IPCOMP_WIRE_FRAGMENT, "parse offset");
  ipcomp_put_u16 (ip + 6, 0x4000); /* DF alone is fine */
  CHECK (ipcomp_ip4_parse (ip, 48, &info) == IPCOMP_WIRE_OK, "parse DF");
}

static void
test_ip6 (void)
{
  uint8_t ip[128];
  uint8_t src[16] = { 0x20, 0x01, 0xd, 0xb8, [15] = 1 },
	  dst[16] = { 0x20, 0x01, 0xd, 0xb8, [15] = 2 };
  ipcomp_ip_info_t info;

  ipcomp_ip6_build (ip, src, dst, 108, 64, 0xb8, 20);
  CHECK (ip[0] == 0x6b && ip[1] == 0x80 && ip[6] == 108 && ip[7] == 64 &&
	   ipcomp_get_u16 (ip + 4) == 20,
	 "ip6 build");
  CHECK (ipcomp_ip6_parse (ip, 60, &info) == IPCOMP_WIRE_OK && info.hdr_len == 40 &&
	   info.packet_len == 60 && info.protocol == 108,
	 "ip6 parse");
  CHECK (ipcomp_ip6_parse (ip, 59, &info) == IPCOMP_WIRE_TRUNCATED, "ip6 truncated");
  CHECK (ipcomp_ip6_parse (ip, 39, &info) == IPCOMP_WIRE_TRUNCATED, "ip6 tiny");
  ipcomp_ip6_fixup (ip, 30, 44);
  CHECK (ipcomp_ip6_parse (ip, 70, &info) == IPCOMP_WIRE_FRAGMENT, "ip6 fragment");
  ip[0] = 0x45;
  CHECK (ipcomp_ip6_parse (ip, 70, &info) == IPCOMP_WIRE_BAD_HEADER, "ip6 version");
}

static void
test_inner (void)
{
  uint8_t p[100] = { 0 };
  uint8_t a[4] = { 1, 2, 3, 4 };
  ipcomp_ip4_build (p, a, a, 17, 64, 0, 0, 60);
  CHECK (ipcomp_inner_check (4, p, 60) == IPCOMP_WIRE_OK, "inner v4");
  CHECK (ipcomp_inner_check (4, p, 61) == IPCOMP_WIRE_BAD_INNER, "inner v4 length");
  CHECK (ipcomp_inner_check (41, p, 60) == IPCOMP_WIRE_BAD_INNER, "inner v4 as v6");
  CHECK (ipcomp_inner_check (17, p, 60) == IPCOMP_WIRE_BAD_INNER, "inner udp in tunnel");
  CHECK (ipcomp_inner_check (4, p, 10) == IPCOMP_WIRE_BAD_INNER, "inner short");
  ipcomp_ip6_build (p, p + 50, p + 50, 17, 64, 0, 20);
  CHECK (ipcomp_inner_check (41, p, 60) == IPCOMP_WIRE_OK, "inner v6");
  CHECK (ipcomp_inner_check (41, p, 59) == IPCOMP_WIRE_BAD_INNER, "inner v6 length");
}

static void
test_budget (void)
{
  CHECK (ipcomp_compress_budget (89, 90) == 0, "below threshold");
  CHECK (ipcomp_compress_budget (90, 90) == 85, "at threshold");
  CHECK (ipcomp_compress_budget (5, 0) == 0, "too small to win");
  CHECK (ipcomp_compress_budget (6, 0) == 1, "smallest budget");
}

/* ---- codecs ---- */

typedef struct
{
  const char *name;
  int max_level;
  void *(*ctx_new) (int level, int wbits, int for_compress);
  void (*ctx_free) (void *);
  int (*compress) (void *, const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
  int (*decompress) (void *, const uint8_t *, uint32_t, uint8_t *, uint32_t, uint32_t *);
} codec_t;

static codec_t codecs[] = {
  { "zlib", 9, (void *) ipcomp_zlib_ctx_new, (void *) ipcomp_zlib_ctx_free,
    (void *) ipcomp_zlib_compress, (void *) ipcomp_zlib_decompress },
  { "isal", IPCOMP_ISAL_LEVEL_MAX, (void *) ipcomp_isal_ctx_new, (void *) ipcomp_isal_ctx_free,
    (void *) ipcomp_isal_compress, (void *) ipcomp_isal_decompress },
};
#define N_CODECS 2

#define BIG (1 << 20)
static uint8_t in[BIG], cbuf[BIG + 1024], out[BIG];

static void
test_round_trips (void)
{
  static const uint32_t sizes[] = { 1, 2, 7, 64, 90, 100, 512, 1400, 1500, 4000, 9000, 65535 };
  int c, d, level, wbits, k;
  uint32_t s, clen, olen;

  for (c = 0; c < N_CODECS; c++)
    for (level = 0; level <= codecs[c].max_level; level++)
      for (wbits = 9; wbits <= 15; wbits += 3)
	{
	  void *cctx = codecs[c].ctx_new (level, wbits, 1);
	  void *dctx[N_CODECS];
	  CHECK (cctx != 0, "%s ctx level %d wbits %d", codecs[c].name, level, wbits);
	  if (!cctx)
	    continue;
	  for (d = 0; d < N_CODECS; d++)
	    dctx[d] = codecs[d].ctx_new (0, 15, 0);
	  for (k = 0; k < KIND_N; k++)
	    for (s = 0; s < sizeof (sizes) / sizeof (sizes[0]); s++)
	      {
		uint32_t len = sizes[s];
		int rv;
		fill (in, len, (kind_t) k);
		rv = codecs[c].compress (cctx, in, len, cbuf, sizeof (cbuf), &clen);
		CHECK (rv == IPCOMP_CODEC_OK, "%s L%d w%d %s %u compress rv %d", codecs[c].name,
		       level, wbits, kind_names[k], len, rv);
		if (rv)
		  continue;
		/* every decoder reads every encoder's output */
		for (d = 0; d < N_CODECS; d++)
		  {
		    olen = 0;
		    rv = codecs[d].decompress (dctx[d], cbuf, clen, out, 65535, &olen);
		    CHECK (rv == IPCOMP_CODEC_OK && olen == len && !memcmp (in, out, len),
			   "%s->%s L%d w%d %s %u: rv %d olen %u", codecs[c].name, codecs[d].name,
			   level, wbits, kind_names[k], len, rv, olen);
		    /* exact cap fits, one less is a bomb */
		    rv = codecs[d].decompress (dctx[d], cbuf, clen, out, len, &olen);
		    CHECK (rv == IPCOMP_CODEC_OK && olen == len, "%s exact cap %u rv %d",
			   codecs[d].name, len, rv);
		    rv = codecs[d].decompress (dctx[d], cbuf, clen, out, len - 1, &olen);
		    CHECK (rv == IPCOMP_CODEC_NO_SPACE, "%s cap-1 %u rv %d", codecs[d].name, len,
			   rv);
		  }
	      }
	  codecs[c].ctx_free (cctx);
	  for (d = 0; d < N_CODECS; d++)
	    codecs[d].ctx_free (dctx[d]);
	}
}

static void
test_policy (void)
{
  int c;
  uint32_t clen;
  for (c = 0; c < N_CODECS; c++)
    {
      void *ctx = codecs[c].ctx_new (1, 15, 1);
      uint32_t budget;
      int rv;
      /* random data does not shrink: the budget makes compress say so */
      fill (in, 1400, KIND_RANDOM);
      budget = ipcomp_compress_budget (1400, 90);
      rv = codecs[c].compress (ctx, in, 1400, cbuf, budget, &clen);
      CHECK (rv == IPCOMP_CODEC_NO_SPACE, "%s random incompressible rv %d", codecs[c].name, rv);
      fill (in, 1400, KIND_TEXT);
      rv = codecs[c].compress (ctx, in, 1400, cbuf, budget, &clen);
      CHECK (rv == IPCOMP_CODEC_OK && clen + IPCOMP_HEADER_LEN < 1400, "%s text shrinks",
	     codecs[c].name);
      codecs[c].ctx_free (ctx);
    }
}

static void
test_bomb_and_garbage (void)
{
  int c, d, i, n_ok = 0, n_bad[5] = { 0 }, n_disagree = 0;
  uint32_t clen, olen;

  /* 1 MiB of zeros compresses to ~1 KiB; decompressing it must stop at the cap */
  void *zc = ipcomp_zlib_ctx_new (9, 15, 1);
  memset (in, 0, BIG);
  CHECK (ipcomp_zlib_compress (zc, in, BIG, cbuf, sizeof (cbuf), &clen) == IPCOMP_CODEC_OK &&
	   clen < 2048,
	 "bomb built (%u bytes)", clen);
  for (d = 0; d < N_CODECS; d++)
    {
      void *dctx = codecs[d].ctx_new (0, 15, 0);
      int rv = codecs[d].decompress (dctx, cbuf, clen, out, 65535, &olen);
      CHECK (rv == IPCOMP_CODEC_NO_SPACE, "%s bomb rv %d", codecs[d].name, rv);
      /* truncated streams are refused */
      rv = codecs[d].decompress (dctx, cbuf, clen / 2, out, BIG, &olen);
      CHECK (rv == IPCOMP_CODEC_TRUNCATED, "%s truncated rv %d", codecs[d].name, rv);
      rv = codecs[d].decompress (dctx, cbuf, 0, out, BIG, &olen);
      CHECK (rv == IPCOMP_CODEC_TRUNCATED || rv == IPCOMP_CODEC_CORRUPT, "%s empty rv %d",
	     codecs[d].name, rv);
      /* block type 3 is invalid */
      {
	uint8_t bad[4] = { 0x07, 0, 0, 0 };
	rv = codecs[d].decompress (dctx, bad, 4, out, BIG, &olen);
	CHECK (rv == IPCOMP_CODEC_CORRUPT, "%s invalid block rv %d", codecs[d].name, rv);
      }
      codecs[d].ctx_free (dctx);
    }
  ipcomp_zlib_ctx_free (zc);

  /* random and mutated streams: no crash, no read or write outside the
   * buffers (run under ASan by the pytest driver), same verdict class */
  for (c = 0; c < N_CODECS; c++)
    {
      void *cctx = codecs[c].ctx_new (1, 15, 1);
      void *dz = ipcomp_zlib_ctx_new (0, 15, 0), *di = ipcomp_isal_ctx_new (0, 15, 0);
      for (i = 0; i < 20000; i++)
	{
	  uint32_t len = 1 + rnd () % 3000, m, j;
	  int rz, ri;
	  uint8_t *exact;
	  fill (in, len, (kind_t) (rnd () % KIND_N));
	  if (codecs[c].compress (cctx, in, len, cbuf, sizeof (cbuf), &clen))
	    continue;
	  m = rnd () % 4;
	  if (m == 0)
	    for (j = 0; j < clen; j++)
	      cbuf[j] = (uint8_t) rnd ();
	  else if (m == 1)
	    cbuf[rnd () % clen] ^= (uint8_t) (1 + rnd () % 255);
	  else if (m == 2)
	    clen = rnd () % clen;
	  else
	    for (j = 0; j < 1 + rnd () % 8; j++)
	      cbuf[rnd () % clen] = (uint8_t) rnd ();
	  /* exact-size heap copies so ASan sees any overread */
	  exact = malloc (clen ? clen : 1);
	  memcpy (exact, cbuf, clen);
	  uint32_t cap = 1 + rnd () % 9000;
	  uint8_t *o1 = malloc (cap), *o2 = malloc (cap);
	  uint32_t l1 = 0, l2 = 0;
	  rz = ipcomp_zlib_decompress (dz, exact, clen, o1, cap, &l1);
	  ri = ipcomp_isal_decompress (di, exact, clen, o2, cap, &l2);
	  if (rz == IPCOMP_CODEC_OK)
	    n_ok++;
	  n_bad[rz]++;
	  /* what both libraries accept decodes to the same bytes; ISA-L is more
	   * lenient than zlib on a few invalid streams (zlib says "invalid
	   * distance too far back" etc.), so only count disagreements */
	  if ((rz == IPCOMP_CODEC_OK) != (ri == IPCOMP_CODEC_OK))
	    n_disagree++;
	  CHECK (rz != IPCOMP_CODEC_OK || ri != IPCOMP_CODEC_OK ||
		   (l1 == l2 && !memcmp (o1, o2, l1)),
		 "fuzz %d mutation %d: zlib %d isal %d", i, m, rz, ri);
	  CHECK (rz != IPCOMP_CODEC_INTERNAL && ri != IPCOMP_CODEC_INTERNAL, "fuzz internal");
	  free (exact);
	  free (o1);
	  free (o2);
	}
      codecs[c].ctx_free (cctx);
      ipcomp_zlib_ctx_free (dz);
      ipcomp_isal_ctx_free (di);
    }
  printf ("# fuzz verdicts (zlib): ok %d no-space %d corrupt %d truncated %d; "
	  "zlib/isal disagree on %d\n",
	  n_ok, n_bad[1], n_bad[2], n_bad[3], n_disagree);
}

/* Bytes after the final deflate block (issue 10): every decoder refuses
 * them as corrupt, whatever encoder, level, size and trailing bytes (zeros
 * included: ISA-L reads ahead into its bit buffer). */
static void
test_trailing_input (void)
{
  int c, d, i;
  uint32_t clen, olen, n;

  for (c = 0; c < N_CODECS; c++)
    for (i = 0; i < 400; i++)
      {
	uint32_t len = 1 + rnd () % 3000, extra = 1 + rnd () % 16, j;
	void *cctx = codecs[c].ctx_new (rnd () % 2, 15, 1);
	fill (in, len, (kind_t) (rnd () % KIND_N));
	if (codecs[c].compress (cctx, in, len, cbuf, sizeof (cbuf) - 16, &clen))
	  {
	    codecs[c].ctx_free (cctx);
	    continue;
	  }
	for (d = 0; d < N_CODECS; d++)
	  {
	    void *dctx = codecs[d].ctx_new (0, 15, 0);
	    int rv = codecs[d].decompress (dctx, cbuf, clen, out, BIG, &olen);
	    CHECK (rv == IPCOMP_CODEC_OK && olen == len, "%s->%s exact stream", codecs[c].name,
		   codecs[d].name);
	    n = clen;
	    for (j = 0; j < extra; j++)
	      cbuf[n++] = (i & 1) ? 0 : (uint8_t) rnd ();
	    rv = codecs[d].decompress (dctx, cbuf, n, out, BIG, &olen);
	    CHECK (rv == IPCOMP_CODEC_CORRUPT, "%s->%s %u trailing bytes rv %d", codecs[c].name,
		   codecs[d].name, extra, rv);
	    codecs[d].ctx_free (dctx);
	  }
	codecs[c].ctx_free (cctx);
      }
}

/* Level 0 with a table learned from the sender's data: every output inflates
 * on both decoders, whatever the data (also data unlike the samples); text
 * codes smaller than with ISA-L's default table; until the first build the
 * output is exactly level 0's; a level-1 context has no learning scratch. */
static void
test_learned (void)
{
  static const uint32_t sizes[] = { 1, 7, 64, 512, 1400, 9000, 65535 };
  ipcomp_isal_ctx_t *c0 = ipcomp_isal_ctx_new (0, 15, 1), *c1 = ipcomp_isal_ctx_new (1, 15, 1);
  void *dz = ipcomp_zlib_ctx_new (0, 15, 0), *di = ipcomp_isal_ctx_new (0, 15, 0);
  ipcomp_isal_learn_t *l = ipcomp_isal_learn_new ();
  uint32_t s, clen, plain_len, olen, total_plain = 0, total_learned = 0;
  int k, i, rv;

  CHECK (c0 && c1 && dz && di && l, "contexts");
  if (!(c0 && c1 && dz && di && l))
    return;
  CHECK (ipcomp_isal_learn_sample (c1, l, in, 100) == IPCOMP_CODEC_INTERNAL, "level 1 sample");
  fill (in, 1400, KIND_TEXT);
  rv = ipcomp_isal_compress_learned (c0, l, in, 1400, cbuf, sizeof (cbuf), &clen);
  rv |= ipcomp_isal_compress (c0, in, 1400, out, sizeof (out), &plain_len);
  CHECK (rv == 0 && clen == plain_len && !memcmp (cbuf, out, clen), "unbuilt = level 0");

  for (i = 0; i < 4; i++)
    {
      fill (in, 1400, KIND_TEXT);
      CHECK (ipcomp_isal_learn_sample (c0, l, in, 1400) == IPCOMP_CODEC_OK, "sample");
    }
  CHECK (ipcomp_isal_learn_build (c0, l) == IPCOMP_CODEC_OK && ipcomp_isal_learn_builds (l) == 1,
	 "build");

  for (k = 0; k < KIND_N; k++)
    for (s = 0; s < sizeof (sizes) / sizeof (sizes[0]); s++)
      {
	uint32_t len = sizes[s];
	fill (in, len, (kind_t) k);
	rv = ipcomp_isal_compress_learned (c0, l, in, len, cbuf, sizeof (cbuf), &clen);
	CHECK (rv == IPCOMP_CODEC_OK, "learned %s %u rv %d", kind_names[k], len, rv);
	if (rv)
	  continue;
	rv = ipcomp_zlib_decompress (dz, cbuf, clen, out, 65535, &olen);
	CHECK (rv == 0 && olen == len && !memcmp (in, out, len), "learned %s %u -> zlib rv %d",
	       kind_names[k], len, rv);
	rv = ipcomp_isal_decompress (di, cbuf, clen, out, 65535, &olen);
	CHECK (rv == 0 && olen == len && !memcmp (in, out, len), "learned %s %u -> isal rv %d",
	       kind_names[k], len, rv);
	if (k == KIND_TEXT && len >= 512 &&
	    !ipcomp_isal_compress (c0, in, len, out, sizeof (out), &plain_len))
	  {
	    total_plain += plain_len;
	    total_learned += clen;
	  }
      }
  /* ~90% on this text (a 14-word vocabulary the default table already codes
   * well; 80-86% on the bench's text): the check is that learning pays */
  CHECK (total_learned * 20 < total_plain * 19, "learned text %u bytes vs default table %u",
	 total_learned, total_plain);
  ipcomp_isal_learn_free (l);
  ipcomp_isal_ctx_free (c0);
  ipcomp_isal_ctx_free (c1);
  ipcomp_isal_ctx_free (di);
  ipcomp_zlib_ctx_free (dz);
}

static void
test_bad_params (void)
{
  CHECK (ipcomp_zlib_ctx_new (10, 15, 1) == 0, "zlib level 10");
  CHECK (ipcomp_zlib_ctx_new (1, 8, 1) == 0, "zlib wbits 8");
  CHECK (ipcomp_isal_ctx_new (4, 15, 1) == 0, "isal level 4");
  CHECK (ipcomp_isal_ctx_new (1, 16, 1) == 0, "isal wbits 16");
}

int
main (void)
{
  test_header ();
  test_ip4 ();
  test_ip6 ();
  test_inner ();
  test_budget ();
  test_bad_params ();
  test_round_trips ();
  test_policy ();
  test_bomb_and_garbage ();
  test_trailing_input ();
  test_learned ();
  printf ("# %d passed, %d failed\n", n_pass, n_fail);
  return n_fail ? 1 : 0;
}
