/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_inlines.h: buffer helpers shared by the data-path nodes.
 */

#ifndef included_ipcomp_inlines_h
#define included_ipcomp_inlines_h

#include <vlib/vlib.h>
#include <ipcomp/ipcomp.h>

/* Contiguous view of 'len' bytes at 'offset' from b's current data: the
 * buffer itself when they are in the first buffer, else a copy in 'scratch'.
 * Returns 0 when the chain is shorter than offset + len. */
static_always_inline const u8 *
ipcomp_buffer_linear (vlib_main_t *vm, vlib_buffer_t *b, u32 offset, u32 len, u8 *scratch)
{
  vlib_buffer_t *c = b;
  u32 skip = offset, left = len;
  u8 *d = scratch;

  if (PREDICT_TRUE (offset + len <= b->current_length))
    return vlib_buffer_get_current (b) + offset;

  while (1)
    {
      u32 avail = c->current_length;
      if (skip >= avail)
	skip -= avail;
      else
	{
	  u32 n = clib_min (avail - skip, left);
	  clib_memcpy_fast (d, vlib_buffer_get_current (c) + skip, n);
	  d += n;
	  left -= n;
	  skip = 0;
	}
      if (!left)
	return scratch;
      if (!(c->flags & VLIB_BUFFER_NEXT_PRESENT))
	return 0;
      c = vlib_get_buffer (vm, c->next_buffer);
    }
}

/* Replace everything from 'offset' (within the first buffer) to the end of
 * the chain by 'len' bytes of 'src' (which must not point into the chain).
 * Frees the old tail and, for long data, chains freshly allocated buffers.
 * Returns 0, or -1 when out of buffers (the packet must then be dropped). */
static_always_inline int
ipcomp_buffer_replace_tail (vlib_main_t *vm, vlib_buffer_t *b, u32 offset, const u8 *src, u32 len)
{
  u32 data_size = vlib_buffer_get_default_data_size (vm);
  i32 start = b->current_data + (i32) offset;
  u32 room0 = data_size - start, n0, left, n_bufs, n_got, i;
  u32 bis[IPCOMP_SCRATCH_SIZE / 512 + 2];
  vlib_buffer_t *prev;

  ASSERT (offset <= b->current_length);

  if (b->flags & VLIB_BUFFER_NEXT_PRESENT)
    {
      vlib_buffer_free_one (vm, b->next_buffer);
      b->flags &= ~VLIB_BUFFER_NEXT_PRESENT;
    }
  b->total_length_not_including_first_buffer = 0;
  b->flags |= VLIB_BUFFER_TOTAL_LENGTH_VALID;

  n0 = clib_min (len, room0);
  clib_memcpy_fast (b->data + start, src, n0);
  b->current_length = offset + n0;
  left = len - n0;
  if (PREDICT_TRUE (left == 0))
    return 0;

  n_bufs = (left + data_size - 1) / data_size;
  if (PREDICT_FALSE (n_bufs > ARRAY_LEN (bis)))
    return -1;
  n_got = vlib_buffer_alloc (vm, bis, n_bufs);
  if (PREDICT_FALSE (n_got != n_bufs))
    {
      if (n_got)
	vlib_buffer_free (vm, bis, n_got);
      return -1;
    }

  src += n0;
  prev = b;
  for (i = 0; i < n_bufs; i++)
    {
      vlib_buffer_t *nb = vlib_get_buffer (vm, bis[i]);
      u32 n = clib_min (left, data_size);
      nb->current_data = 0;
      nb->current_length = n;
      nb->flags = 0;
      clib_memcpy_fast (nb->data, src, n);
      src += n;
      left -= n;
      prev->next_buffer = bis[i];
      prev->flags |= VLIB_BUFFER_NEXT_PRESENT;
      b->total_length_not_including_first_buffer += n;
      prev = nb;
    }
  return 0;
}

#endif /* included_ipcomp_inlines_h */
