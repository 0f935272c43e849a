/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp.c: plugin registration, main structure, startup configuration.
 *
 * startup.conf:
 *   ipcomp {
 *     default-engine <name>      # instead of the highest-priority engine
 *     decompress-queue-size <n>  # decompress-workers frame queues: ipcomp_handoff.c
 *     compressdev { ... }        # DPDK offload engine: engine_compressdev.c
 *   }
 */

#include <vnet/plugin/plugin.h>
#include <ipcomp/ipcomp.h>
#include <ipcomp/ipcomp_async.h>
#include <ipcomp/ipcomp_handoff.h>

ipcomp_main_t ipcomp_main;

VLIB_PLUGIN_REGISTER () = {
  .version = IPCOMP_PLUGIN_VERSION,
  .description = "IPComp: IP payload compression (RFC 3173, deflate)",
};

static u8 *ipcomp_default_engine_name;

static clib_error_t *
ipcomp_init (vlib_main_t *vm)
{
  ipcomp_main_t *im = &ipcomp_main;

  im->vlib_main = vm;
  im->vnet_main = vnet_get_main ();
  im->sa_index_by_id = hash_create (0, sizeof (uword));
  im->sa_index_by_rx_key = hash_create_mem (0, sizeof (ipcomp_rx_key_t), sizeof (uword));
  im->sa_index_by_tx_key = hash_create_mem (0, sizeof (ipcomp_tx_key_t), sizeof (uword));
  im->default_engine_index = ~0;
  im->events_ring_index = ~0;
  im->log_class = vlib_log_register_class ("ipcomp", 0);
  return 0;
}

VLIB_INIT_FUNCTION (ipcomp_init);

static clib_error_t *
ipcomp_config (vlib_main_t *vm, unformat_input_t *input)
{
  unformat_input_t sub;
  u32 handoff_queue_size = 0;

  while (unformat_check_input (input) != UNFORMAT_END_OF_INPUT)
    {
      if (unformat (input, "default-engine %s", &ipcomp_default_engine_name))
	;
      else if (unformat (input, "decompress-queue-size %u", &handoff_queue_size))
	;
      else if (unformat (input, "compressdev %U", unformat_vlib_cli_sub_input, &sub))
	{
	  clib_error_t *err = ipcomp_compressdev_config (vm, &sub);
	  unformat_free (&sub);
	  if (err)
	    return err;
	}
      else
	return clib_error_return (0, "unknown input '%U'", format_unformat_error, input);
    }
  return ipcomp_handoff_queues_init (vm, handoff_queue_size);
}

VLIB_CONFIG_FUNCTION (ipcomp_config, "ipcomp");

/* The number of threads is final here: per-thread state and the stats
 * segment entries. */
static clib_error_t *
ipcomp_main_loop_enter (vlib_main_t *vm)
{
  ipcomp_main_t *im = &ipcomp_main;
  u32 n_threads = vlib_get_n_threads (), i;
  u32 id_bits = n_threads > 1 ? max_log2 (n_threads) : 0;
  clib_error_t *err;

  vec_validate_aligned (im->per_thread, n_threads - 1, CLIB_CACHE_LINE_BYTES);
  for (i = 0; i < n_threads; i++)
    {
      ipcomp_per_thread_t *ptd = vec_elt_at_index (im->per_thread, i);
      ptd->scratch_in = clib_mem_alloc_aligned (IPCOMP_SCRATCH_SIZE, CLIB_CACHE_LINE_BYTES);
      ptd->scratch_out = clib_mem_alloc_aligned (IPCOMP_SCRATCH_SIZE, CLIB_CACHE_LINE_BYTES);
      ptd->ip4_id = 0;
      ptd->ip4_id_mask = 0xffff >> id_bits;
      ptd->ip4_id_base = id_bits ? (u16) (i << (16 - id_bits)) : 0;
    }

  if (ipcomp_default_engine_name)
    {
      vec_add1 (ipcomp_default_engine_name, 0);
      im->default_engine_index = ipcomp_engine_find ((char *) ipcomp_default_engine_name);
      if (im->default_engine_index == ~0)
	return clib_error_return (0, "ipcomp: unknown engine '%s'", ipcomp_default_engine_name);
    }

  if ((err = ipcomp_engines_threads_init (vm)))
    return err;
  return ipcomp_stats_init (vm);
}

VLIB_MAIN_LOOP_ENTER_FUNCTION (ipcomp_main_loop_enter);

/* Once a second: the per-engine average-clocks gauges */
static uword
ipcomp_stats_process (vlib_main_t *vm, vlib_node_runtime_t *rt, vlib_frame_t *f)
{
  while (1)
    {
      vlib_process_suspend (vm, 1.0);
      if (ipcomp_main.stats_ready)
	ipcomp_engines_update_gauges ();
    }
  return 0;
}

VLIB_REGISTER_NODE (ipcomp_stats_process_node) = {
  .function = ipcomp_stats_process,
  .type = VLIB_NODE_TYPE_PROCESS,
  .name = "ipcomp-stats-process",
};
