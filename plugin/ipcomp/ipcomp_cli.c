/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_cli.c: debug CLI.
 *
 *   create ipcomp tunnel src <addr> dst <addr> cpi <n> [instance <n>] [<sa options>]
 *   delete ipcomp tunnel <interface>
 *   ipcomp sa add local <addr> peer <addr> cpi <n> [id <n>] [<sa options>]
 *   ipcomp sa del id <n>
 *   ipcomp transport <interface> sa <id> [disable]
 *   show ipcomp [tunnel|sa|engines] [verbose]
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
      return "invalid window-bits (9..15) or not a transport SA";
    case VNET_API_ERROR_INVALID_VALUE_2:
      return "max-decompressed out of range (64..65535)";
    case VNET_API_ERROR_INVALID_VALUE_3:
      return "level not supported by the engine";
    case VNET_API_ERROR_NO_SUCH_FIB:
      return "no such table";
    case VNET_API_ERROR_NO_SUCH_ENTRY:
      return "no such engine, SA or tunnel";
    case VNET_API_ERROR_ADDRESS_IN_USE:
      return "an SA with these addresses and CPI exists";
    case VNET_API_ERROR_TUNNEL_EXIST:
      return "a tunnel between these addresses exists (or the SA belongs to a tunnel)";
    case VNET_API_ERROR_INSTANCE_IN_USE:
      return "instance or SA in use";
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
  if (unformat (i, "level %u", &v))
    {
      a->level = v > 254 ? 254 : v;
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
  a->is_ip6 = ip_addr_version (l) == AF_IP6;
  ip_address_to_46 (l, &a->local);
  ip_address_to_46 (p, &a->peer);
  a->cpi = cpi;
  return 0;
}

static clib_error_t *
create_ipcomp_tunnel_command_fn (vlib_main_t *vm, unformat_input_t *input, vlib_cli_command_t *cmd)
{
  unformat_input_t _line, *line = &_line;
  ip_address_t src = {}, dst = {};
  u32 cpi = ~0, instance = ~0, sw_if_index;
  ipcomp_sa_args_t a;
  clib_error_t *err = 0;
  int rv;

  ipcomp_sa_args_default (&a);
  if (!unformat_user (input, unformat_line_input, line))
    return clib_error_return (0, "expected: src <addr> dst <addr> cpi <n>");

  while (unformat_check_input (line) != UNFORMAT_END_OF_INPUT)
    {
      if (unformat (line, "src %U", unformat_ip_address, &src))
	;
      else if (unformat (line, "dst %U", unformat_ip_address, &dst))
	;
      else if (unformat (line, "cpi %u", &cpi))
	;
      else if (unformat (line, "instance %u", &instance))
	;
      else if (ipcomp_unformat_sa_option (line, &a))
	;
      else
	{
	  err = clib_error_return (0, "unknown input '%U'", format_unformat_error, line);
	  goto done;
	}
    }
  if (cpi == ~0)
    {
      err = clib_error_return (0, "cpi is required");
      goto done;
    }
  if ((err = ipcomp_parse_endpoints_check (&a, &src, &dst, cpi)))
    goto done;

  rv = ipcomp_tunnel_create (&a, instance, &sw_if_index);
  if (rv)
    err = clib_error_return (0, "%s (%d)", ipcomp_rv_str (rv), rv);
  else
    vlib_cli_output (vm, "%U", format_vnet_sw_if_index_name, vnet_get_main (), sw_if_index);

done:
  vec_free (a.engine);
  unformat_free (line);
  return err;
}

VLIB_CLI_COMMAND (create_ipcomp_tunnel_command, static) = {
  .path = "create ipcomp tunnel",
  .short_help = "create ipcomp tunnel src <addr> dst <addr> cpi <n> [instance <n>] "
		"[table-id <n>] [engine <name>] [level <n>] [window-bits <9..15>] "
		"[threshold <bytes>] [max-decompressed <bytes>] [id <n>]",
  .function = create_ipcomp_tunnel_command_fn,
};

static clib_error_t *
delete_ipcomp_tunnel_command_fn (vlib_main_t *vm, unformat_input_t *input, vlib_cli_command_t *cmd)
{
  u32 sw_if_index = ~0;
  int rv;

  if (!unformat (input, "%U", unformat_vnet_sw_interface, vnet_get_main (), &sw_if_index) &&
      !unformat (input, "sw_if_index %u", &sw_if_index))
    return clib_error_return (0, "interface required");
  rv = ipcomp_tunnel_delete (sw_if_index);
  if (rv)
    return clib_error_return (0, "%s (%d)", ipcomp_rv_str (rv), rv);
  return 0;
}

VLIB_CLI_COMMAND (delete_ipcomp_tunnel_command, static) = {
  .path = "delete ipcomp tunnel",
  .short_help = "delete ipcomp tunnel <interface>",
  .function = delete_ipcomp_tunnel_command_fn,
};

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
      rv = ipcomp_sa_add (&a, 0, &sa_index);
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
		"[engine <name>] [level <n>] [window-bits <9..15>] [threshold <bytes>] "
		"[max-decompressed <bytes>] | ipcomp sa del id <n>",
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
show_ipcomp_command_fn (vlib_main_t *vm, unformat_input_t *input, vlib_cli_command_t *cmd)
{
  ipcomp_main_t *im = &ipcomp_main;
  int show_tunnels = 0, show_sas = 0, show_engines = 0, verbose = 0;
  ipcomp_engine_t *e;
  ipcomp_tunnel_t *t;
  u32 sa_index;

  while (unformat_check_input (input) != UNFORMAT_END_OF_INPUT)
    {
      if (unformat (input, "tunnel"))
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
      vlib_cli_output (vm, "Tunnels: %u", pool_elts (im->tunnels));
      pool_foreach (t, im->tunnels)
	vlib_cli_output (vm, "%U", format_ipcomp_tunnel, t, 1);
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
  .short_help = "show ipcomp [tunnel|sa|engines]",
  .function = show_ipcomp_command_fn,
};
