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
  };
  ipcomp_engine_register (&reg);
  return 0;
}

/* after zlib: engine indexes are stable (zlib 0, isal 1) */
VLIB_INIT_FUNCTION (ipcomp_isal_engine_init) = {
  .runs_after = VLIB_INITS ("ipcomp_init", "ipcomp_zlib_engine_init"),
};
