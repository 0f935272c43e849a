/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * engine_isal.c: the "isal" engine (ISA-L igzip raw deflate, levels 0..3).
 * Preferred over zlib: same output format, several times faster.
 */

#include <ipcomp/ipcomp.h>

static void *
ipcomp_isal_engine_ctx_new (u32 thread_index, ipcomp_op_type_t op, u8 level, u8 window_bits)
{
  return ipcomp_isal_ctx_new (level, window_bits, op == IPCOMP_OP_COMPRESS);
}

static void
ipcomp_isal_engine_ctx_free (void *ctx)
{
  ipcomp_isal_ctx_free (ctx);
}

static u32
ipcomp_isal_engine_ctx_size (void *ctx)
{
  return ipcomp_isal_ctx_size (ctx);
}

static int
ipcomp_isal_engine_compress (void *ctx, const u8 *in, u32 in_len, u8 *out, u32 out_cap,
			     u32 *out_len)
{
  return ipcomp_isal_compress (ctx, in, in_len, out, out_cap, out_len);
}

static int
ipcomp_isal_engine_decompress (void *ctx, const u8 *in, u32 in_len, u8 *out, u32 out_cap,
			       u32 *out_len)
{
  return ipcomp_isal_decompress (ctx, in, in_len, out, out_cap, out_len);
}

/* level auto: level 0 with Huffman tables learned from the SA's packets */
static void *
ipcomp_isal_engine_learn_new (void)
{
  return ipcomp_isal_learn_new ();
}

static void
ipcomp_isal_engine_learn_free (void *l)
{
  ipcomp_isal_learn_free (l);
}

static void
ipcomp_isal_engine_learn_forget (void *l)
{
  ipcomp_isal_learn_forget (l);
}

static int
ipcomp_isal_engine_learn_sample (void *ctx, void *l, const u8 *in, u32 len)
{
  return ipcomp_isal_learn_sample (ctx, l, in, len);
}

static int
ipcomp_isal_engine_learn_build (void *ctx, void *l)
{
  return ipcomp_isal_learn_build (ctx, l);
}

static int
ipcomp_isal_engine_compress_learned (void *ctx, void *l, const u8 *in, u32 in_len, u8 *out,
				     u32 out_cap, u32 *out_len)
{
  return ipcomp_isal_compress_learned (ctx, l, in, in_len, out, out_cap, out_len);
}

static clib_error_t *
ipcomp_isal_engine_init (vlib_main_t *vm)
{
  ipcomp_engine_t reg = {
    .name = "isal",
    .desc = "ISA-L igzip raw deflate",
    .priority = 100,
    .flags = IPCOMP_ENGINE_F_SYNC,
    .max_level = IPCOMP_ISAL_LEVEL_MAX,
    .default_level = 1,
    .fast_level = 0,
    .ctx_new = ipcomp_isal_engine_ctx_new,
    .ctx_free = ipcomp_isal_engine_ctx_free,
    .ctx_size = ipcomp_isal_engine_ctx_size,
    .ops[IPCOMP_OP_COMPRESS] = ipcomp_isal_engine_compress,
    .ops[IPCOMP_OP_DECOMPRESS] = ipcomp_isal_engine_decompress,
    .learn = {
      .new = ipcomp_isal_engine_learn_new,
      .free = ipcomp_isal_engine_learn_free,
      .size = ipcomp_isal_learn_size,
      .forget = ipcomp_isal_engine_learn_forget,
      .sample = ipcomp_isal_engine_learn_sample,
      .build = ipcomp_isal_engine_learn_build,
      .compress = ipcomp_isal_engine_compress_learned,
    },
  };
  ipcomp_engine_register (&reg);
  return 0;
}

/* after zlib: engine indexes are stable (zlib 0, isal 1) */
VLIB_INIT_FUNCTION (ipcomp_isal_engine_init) = {
  .runs_after = VLIB_INITS ("ipcomp_init", "ipcomp_zlib_engine_init"),
};
