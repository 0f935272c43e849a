/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * engine_zlib.c: the "zlib" engine (raw deflate, levels 0..9).
 */

#include <zlib.h>
#include <ipcomp/ipcomp.h>

static void *
ipcomp_zlib_engine_ctx_new (u32 thread_index, ipcomp_op_type_t op, u8 level, u8 window_bits)
{
  return ipcomp_zlib_ctx_new (level, window_bits, op == IPCOMP_OP_COMPRESS);
}

static void
ipcomp_zlib_engine_ctx_free (void *ctx)
{
  ipcomp_zlib_ctx_free (ctx);
}

static u32
ipcomp_zlib_engine_ctx_size (void *ctx)
{
  return ipcomp_zlib_ctx_size (ctx);
}

static int
ipcomp_zlib_engine_compress (void *ctx, const u8 *in, u32 in_len, u8 *out, u32 out_cap,
			     u32 *out_len)
{
  return ipcomp_zlib_compress (ctx, in, in_len, out, out_cap, out_len);
}

static int
ipcomp_zlib_engine_decompress (void *ctx, const u8 *in, u32 in_len, u8 *out, u32 out_cap,
			       u32 *out_len)
{
  return ipcomp_zlib_decompress (ctx, in, in_len, out, out_cap, out_len);
}

static clib_error_t *
ipcomp_zlib_engine_init (vlib_main_t *vm)
{
  ipcomp_engine_t reg = {
    .name = "zlib",
    .desc = "zlib " ZLIB_VERSION " raw deflate",
    .priority = 50,
    .flags = IPCOMP_ENGINE_F_SYNC,
    .max_level = 9,
    .default_level = 1,
    .fast_level = 1, /* zlib's level 0 stores */
    .ctx_new = ipcomp_zlib_engine_ctx_new,
    .ctx_free = ipcomp_zlib_engine_ctx_free,
    .ctx_size = ipcomp_zlib_engine_ctx_size,
    .ops[IPCOMP_OP_COMPRESS] = ipcomp_zlib_engine_compress,
    .ops[IPCOMP_OP_DECOMPRESS] = ipcomp_zlib_engine_decompress,
  };
  ipcomp_engine_register (&reg);
  return 0;
}

VLIB_INIT_FUNCTION (ipcomp_zlib_engine_init) = {
  .runs_after = VLIB_INITS ("ipcomp_init"),
};
