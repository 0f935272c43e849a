/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_cli.c: debug CLI.
 *
 *   ipcomp sa add local <addr> peer <addr> cpi <n> [id <n>] [<sa options>]
 *   ipcomp sa del id <n>
 *   ipcomp protect <ipip-interface> sa-out <id> sa-in <id> | del
 *   ipcomp transport <interface> sa <id> [disable]
 *   show ipcomp [protect|sa|engines] [verbose]
 *
 * <sa options>: table-id <n> engine <name> level <n> window-bits <9..15>
 *               threshold <bytes> max-decompressed <bytes>
 */

#include <ipcomp/ipcomp.h>

static const char *
ipcomp_rv_str (int rv)
{
  switch (rv)
    {
    case VNET_API_ERROR_ENTRY_ALREADY_EXISTS:
      return "SA id already in use";
    case VNET_API_ERROR_INVALID_SRC_ADDRESS:
      return "local and peer addresses are required";
    case VNET_API_ERROR_INVALID_VALUE:
      return "invalid window-bits (9..15) or the SA protects a tunnel";
    case VNET_API_ERROR_INVALID_VALUE_2:
      return "max-decompressed out of range (64..65535), or the SA's addresses or table "
	     "are not the tunnel's";
    case VNET_API_ERROR_INVALID_VALUE_3:
      return "level not supported by the engine";
    case VNET_API_ERROR_INVALID_VALUE_4:
      return "cpi 0 and 64..255 are reserved (RFC 3173 section 3.3)";
    case VNET_API_ERROR_INVALID_SW_IF_INDEX:
      return "not an ipip tunnel";
    case VNET_API_ERROR_INVALID_INTERFACE:
      return "only point-to-point ipip tunnels can be protected";
    case VNET_API_ERROR_NO_SUCH_FIB:
      return "no such table";
    case VNET_API_ERROR_NO_SUCH_ENTRY:
      return "no such engine, SA or tunnel";
    case VNET_API_ERROR_ADDRESS_IN_USE:
      return "an SA with these addresses and CPI exists";
    case VNET_API_ERROR_TUNNEL_EXIST:
      return "the SA protects a tunnel: remove the protection first";
    case VNET_API_ERROR_INSTANCE_IN_USE:
      return "the SA is in use (transport mode on an interface, or another tunnel)";
    case VNET_API_ERROR_FEATURE_DISABLED:
      return "ipcomp is not initialised yet";
    case VNET_API_ERROR_INIT_FAILED:
      return "engine could not create its contexts";
    default:
      return "error";
    }
}

/* Parse one SA option; returns 1 when it consumed something */
static int
ipcomp_unformat_sa_option (unformat_input_t *i, ipcomp_sa_args_t *a)
{
  u32 v;
  if (unformat (i, "table-id %u", &a->table_id))
    return 1;
  if (unformat (i, "engine %s", &a->engine))
    {
      vec_add1 (a->engine, 0);
      return 1;
    }
  if (unformat (i, "level auto"))
    {
      a->level = IPCOMP_LEVEL_AUTO;
      return 1;
    }
  if (unformat (i, "level %u", &v))
    {
      a->level = v > 253 ? 253 : v;
      return 1;
    }
  if (unformat (i, "window-bits %u", &v))
    {
      a->window_bits = v > 255 ? 255 : v;
      return 1;
    }
  if (unformat (i, "threshold %u", &a->threshold))
    return 1;
  if (unformat (i, "max-decompressed %u", &a->max_decompressed))
    return 1;
  if (unformat (i, "id %u", &a->id))
    return 1;
  if (unformat (i, "no-backoff"))
    {
      a->no_backoff = 1;
      return 1;
    }
  return 0;
}

static clib_error_t *
ipcomp_parse_endpoints_check (ipcomp_sa_args_t *a, ip_address_t *l, ip_address_t *p, u32 cpi)
{
  if (ip_address_is_zero (l) || ip_address_is_zero (p))
    return clib_error_return (0, "both endpoints are required");
  if (ip_addr_version (l) != ip_addr_version (p))
    return clib_error_return (0, "endpoints of different address families");
  if (cpi > 0xffff)
    return clib_error_return (0, "cpi is 16 bits");
  if (!ipcomp_cpi_is_valid (cpi))
    return clib_error_return (0, "cpi %u is reserved (RFC 3173 section 3.3: not 0, not 64..255)",
			      cpi);
  a->is_ip6 = ip_addr_version (l) == AF_IP6;
  ip_address_to_46 (l, &a->local);
  ip_address_to_46 (p, &a->peer);
  a->cpi = cpi;
  return 0;
}

static clib_error_t *
ipcomp_sa_command_fn (vlib_main_t *vm, unformat_input_t *input, vlib_cli_command_t *cmd)
{
  unformat_input_t _line, *line = &_line;
  ip_address_t local = {}, peer = {};
  u32 cpi = ~0, sa_index;
  int is_add = -1, rv;
  ipcomp_sa_args_t a;
  clib_error_t *err = 0;

  ipcomp_sa_args_default (&a);
  if (!unformat_user (input, unformat_line_input, line))
    return clib_error_return (0, "expected: add|del ...");

  while (unformat_check_input (line) != UNFORMAT_END_OF_INPUT)
    {
      if (unformat (line, "add"))
	is_add = 1;
      else if (unformat (line, "del"))
	is_add = 0;
      else if (unformat (line, "local %U", unformat_ip_address, &local))
	;
      else if (unformat (line, "peer %U", unformat_ip_address, &peer))
	;
      else if (unformat (line, "cpi %u", &cpi))
	;
      else if (ipcomp_unformat_sa_option (line, &a))
	;
      else
	{
	  err = clib_error_return (0, "unknown input '%U'", format_unformat_error, line);
	  goto done;
	}
    }

  if (is_add == 1)
    {
      if (cpi == ~0)
	{
	  err = clib_error_return (0, "cpi is required");
	  goto done;
	}
      if ((err = ipcomp_parse_endpoints_check (&a, &local, &peer, cpi)))
	goto done;
      rv = ipcomp_sa_add (&a, &sa_index);
      if (rv)
	err = clib_error_return (0, "%s (%d)", ipcomp_rv_str (rv), rv);
      else
	vlib_cli_output (vm, "sa %u", ipcomp_sa_get (sa_index)->id);
    }
  else if (is_add == 0)
    {
      sa_index = ipcomp_sa_find_by_id (a.id);
      rv = sa_index == ~0 ? VNET_API_ERROR_NO_SUCH_ENTRY : ipcomp_sa_del (sa_index);
      if (rv)
	err = clib_error_return (0, "%s (%d)", ipcomp_rv_str (rv), rv);
    }
  else
    err = clib_error_return (0, "add or del?");

done:
  vec_free (a.engine);
  unformat_free (line);
  return err;
}

VLIB_CLI_COMMAND (ipcomp_sa_command, static) = {
  .path = "ipcomp sa",
  .short_help = "ipcomp sa add local <addr> peer <addr> cpi <n> [id <n>] [table-id <n>] "
		"[engine <name>] [level <n>|auto] [window-bits <9..15>] [threshold <bytes>] "
		"[max-decompressed <bytes>] [no-backoff] | ipcomp sa del id <n>",
  .function = ipcomp_sa_command_fn,
};

static clib_error_t *
ipcomp_transport_command_fn (vlib_main_t *vm, unformat_input_t *input, vlib_cli_command_t *cmd)
{
  u32 sw_if_index = ~0, id = ~0, sa_index;
  int enable = 1, rv;

  while (unformat_check_input (input) != UNFORMAT_END_OF_INPUT)
    {
      if (unformat (input, "sa %u", &id))
	;
      else if (unformat (input, "disable"))
	enable = 0;
      else if (unformat (input, "%U", unformat_vnet_sw_interface, vnet_get_main (), &sw_if_index))
	;
      else
	return clib_error_return (0, "unknown input '%U'", format_unformat_error, input);
    }
  sa_index = ipcomp_sa_find_by_id (id);
  if (sa_index == ~0 || sw_if_index == ~0)
    return clib_error_return (0, "interface and existing sa required");
  rv = ipcomp_sa_transport_enable_disable (sa_index, sw_if_index, enable);
  if (rv)
    return clib_error_return (0, "%s (%d)", ipcomp_rv_str (rv), rv);
  return 0;
}

VLIB_CLI_COMMAND (ipcomp_transport_command, static) = {
  .path = "ipcomp transport",
  .short_help = "ipcomp transport <interface> sa <id> [disable]",
  .function = ipcomp_transport_command_fn,
};

static clib_error_t *
ipcomp_protect_command_fn (vlib_main_t *vm, unformat_input_t *input, vlib_cli_command_t *cmd)
{
  u32 sw_if_index = ~0, out_id = ~0, in_id = ~0;
  int is_del = 0, rv;

  while (unformat_check_input (input) != UNFORMAT_END_OF_INPUT)
    {
      if (unformat (input, "sa-out %u", &out_id))
	;
      else if (unformat (input, "sa-in %u", &in_id))
	;
      else if (unformat (input, "del"))
	is_del = 1;
      else if (unformat (input, "%U", unformat_vnet_sw_interface, vnet_get_main (), &sw_if_index))
	;
      else
	return clib_error_return (0, "unknown input '%U'", format_unformat_error, input);
    }
  if (sw_if_index == ~0)
    return clib_error_return (0, "an ipip tunnel interface is required");
  if (is_del)
    rv = ipcomp_protect_del (sw_if_index);
  else
    {
      if (out_id == ~0 || in_id == ~0)
	return clib_error_return (0, "sa-out <id> and sa-in <id> are required");
      rv = ipcomp_protect_add (sw_if_index, ipcomp_sa_find_by_id (out_id),
			       ipcomp_sa_find_by_id (in_id));
    }
  if (rv)
    return clib_error_return (0, "%s (%d)", ipcomp_rv_str (rv), rv);
  return 0;
}

VLIB_CLI_COMMAND (ipcomp_protect_command, static) = {
  .path = "ipcomp protect",
  .short_help = "ipcomp protect <ipip-interface> sa-out <id> sa-in <id> | "
		"ipcomp protect <ipip-interface> del",
  .function = ipcomp_protect_command_fn,
};

static clib_error_t *
show_ipcomp_command_fn (vlib_main_t *vm, unformat_input_t *input, vlib_cli_command_t *cmd)
{
  ipcomp_main_t *im = &ipcomp_main;
  int show_tunnels = 0, show_sas = 0, show_engines = 0, verbose = 0;
  ipcomp_engine_t *e;
  ipcomp_protect_t *p;
  u32 sa_index;

  while (unformat_check_input (input) != UNFORMAT_END_OF_INPUT)
    {
      if (unformat (input, "protect"))
	show_tunnels = 1;
      else if (unformat (input, "sa"))
	show_sas = 1;
      else if (unformat (input, "engines"))
	show_engines = 1;
      else if (unformat (input, "verbose"))
	verbose = 1;
      else
	return clib_error_return (0, "unknown input '%U'", format_unformat_error, input);
    }
  if (!show_tunnels && !show_sas && !show_engines)
    show_tunnels = show_sas = show_engines = 1;

  if (show_tunnels)
    {
      vlib_cli_output (vm, "Protected tunnels: %u", pool_elts (im->protects));
      pool_foreach (p, im->protects)
	vlib_cli_output (vm, "%U", format_ipcomp_protect, p, 0);
    }
  if (show_sas)
    {
      vlib_cli_output (vm, "SAs: %u", pool_elts (im->sas));
      pool_foreach_index (sa_index, im->sas)
	vlib_cli_output (vm, "%U", format_ipcomp_sa, sa_index, 1);
    }
  if (show_engines)
    {
      vlib_cli_output (vm, "Engines (best first by priority):");
      vec_foreach (e, im->engines)
	vlib_cli_output (vm, "  %U%s", format_ipcomp_engine, e,
			 e->index == ipcomp_engine_best () ? "\n    (default)" : "");
    }
  (void) verbose;
  return 0;
}

VLIB_CLI_COMMAND (show_ipcomp_command, static) = {
  .path = "show ipcomp",
  .short_help = "show ipcomp [protect|sa|engines]",
  .function = show_ipcomp_command_fn,
};
