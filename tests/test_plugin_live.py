"""Live tests of the ipcomp plugin in real VPPs (skipped without VPP).

Topology (two VPPs, joined by replaying what A sends into B):

  pg0 --inner--> [A] ipip0 ==compressed==> pg1  -> capture
                                                |  replay (dst MAC -> broadcast)
  capture <- pg1 <--inner-- ipip0 [B] <== pg0 <--

ipip0 is VPP's own ipip tunnel with ``ipcomp protect`` (one SA, index 0).

The wire format is checked independently of the plugin (scapy-free header
parsing + Python's zlib raw inflate, wbits=-15), the round trip byte for byte,
and the stats-segment counters exactly against what the capture shows.
"""

from __future__ import annotations

import ipaddress
import random
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from ipcomp_traffic import (
    BCAST,
    CPI,
    INNER_NET,
    OUTER,
    SIZES,
    THRESHOLD,
    TRANSPORT,
    check_wire,
    ether,
    forwarded,
    fuzz_packets,
    inner_frames,
    inner_packet,
    ip4_packet,
    ip6_packet,
    make_traffic,
    outer_frames,
    parse_ip,
    payload,
    raw_inflate,
    setup_a,
    setup_b,
    tunnel_sw_if_index,
    udp,
    udp6,
)
from plugin_vpp import (
    DECOMPRESS_ERRORS,
    EVENT_FORMAT,
    assert_send_counters,
    cli_ok,
    cli_script,
    engine_attempts,
    error_counter,
    interface_packets,
    ipcomp_plugin,  # noqa: F401 - fixture
    pg_replay,
    pg_through,
    protected_tunnel,
    read_events,
    sa_counter,
    start_ipcomp_vpp,
    stats_client,
)
from waiting import wait_for

from vppcomp.demo.plugin_build import PLUGIN_SRC, PluginBuild

pytestmark = pytest.mark.live


@pytest.fixture
def vpp_pair(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> tuple[Any, Any]:
    a = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    b = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    return a, b


@pytest.mark.parametrize(
    "outer,inner,engine",
    [(4, 4, "isal"), (4, 4, "zlib"), (4, 6, "isal"), (6, 4, "zlib"), (6, 6, "isal")],
)
def test_tunnel_wire_round_trip_counters(
    vpp_pair: tuple[Any, Any], outer: int, inner: int, engine: str
) -> None:
    a, b = vpp_pair
    setup_a(a, outer, engine)
    setup_b(b, outer, engine)
    inners = make_traffic(inner)
    ethertype = 0x0800 if inner == 4 else 0x86DD
    frames = [ether(BCAST, ethertype, p) for p in inners]

    got = pg_replay(a, "inner", frames, "pg0", capture={"pg1": len(frames) + 8})["pg1"]
    got = outer_frames(got, outer, OUTER[outer][0])  # drop VPP's own ND/RA
    assert a.alive()
    assert len(got) == len(frames), a.cli("show errors")

    expect = check_wire(inners, got, outer, inner)
    local = OUTER[outer][0]
    addr = ipaddress.ip_address
    # all below the threshold bypass; text/zeros from 100 bytes on compress
    assert expect["bypass"][0] == sum(1 for p in inners if len(p) < THRESHOLD)
    assert expect["compressed"][0] >= 2 * (len(SIZES) - 1)
    assert expect["incompressible"][0] >= len(SIZES) - 2  # random, 512 bytes and up

    # --- counters in the stats segment match the capture exactly ---
    stats = stats_client(a)
    try:
        assert_send_counters(stats, outer, expect, len(frames))
        engine_calls = stats["/net/ipcomp/engine/calls/compress"]
        eng_index = 0 if engine == "zlib" else 1
        attempts = engine_attempts(stats, expect)
        assert sum(row[eng_index][0] for row in engine_calls) == attempts
        assert stats[f"/net/ipcomp/engine/{engine}/compress-clocks"].sum() == attempts
        assert stats[f"/net/ipcomp/engine/{engine}/sas"] == 1
        events = read_events(stats)
        assert [e["type"] for e in events][:2] == ["sa-add", "protect-add"]
        assert events[0]["cpi"] == CPI and events[0]["src"].startswith(addr(local).packed)
    finally:
        stats.disconnect()

    # --- and the same through this project's own stats-segment reader ---
    from vppcomp.statseg.client import StatsClient

    with StatsClient(str(a.stats_socket)) as client:
        snap = client.snapshot(ring_records=True)
    assert [int(x) for x in snap.total("/net/ipcomp/sa/compressed-in")[0]] == expect["compressed"][
        :2
    ]
    assert int(snap.total("/net/ipcomp/sa/compressed-out")[0][1]) == expect["compressed"][2]
    assert snap["/net/ipcomp/sas"] == 1 and snap["/net/ipcomp/tunnels"] == 1
    ring = snap["/net/ipcomp/events"]
    assert ring.entry_size == 64 and ring.schema_version == 2
    records = [EVENT_FORMAT.unpack(r) for t in ring.threads for r in t.records]
    assert [r[1] for r in records[:2]] == [1, 5]

    # --- round trip through B ---
    replay = [BCAST + f[6:] for f in got]
    out = pg_replay(b, "outer", replay, "pg0", capture={"pg1": len(replay) + 8})["pg1"]
    out = inner_frames(out, inner)  # VPP's own ARP/ND/RA are captured too
    assert b.alive()
    assert len(out) == len(inners), b.cli("show errors")
    # within a frame ipip's own packets (uncompressed) and the decompressed
    # ones take different nodes to ipip4-input: compare as multisets
    assert sorted(f[14:] for f in out) == sorted(forwarded(p, 2) for p in inners)
    stats = stats_client(b)
    try:
        assert sa_counter(stats, "decompressed-in", 0) == (
            expect["compressed"][0],
            expect["compressed"][2],
        )
        assert sa_counter(stats, "decompressed-out", 0) == tuple(expect["compressed"][:2])
        # ipip's own input took every packet, decompressed or not, on ipip0
        rx = stats["/if/rx"]
        ipip0 = tunnel_sw_if_index(b)
        assert sum(row[ipip0]["packets"] for row in rx) == len(inners)
        assert sa_counter(stats, "rx-errors", 0) == (0, 0)
        assert (
            error_counter(stats, f"ipcomp{outer}-decompress", "decompressed")
            == (expect["compressed"][0])
        )
    finally:
        stats.disconnect()


# --- fuzz: random and mutated IPComp packets at the decompressor --------


@pytest.mark.parametrize("outer,engine", [(4, "zlib"), (6, "isal")])
def test_fuzz_100k(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
    outer: int,
    engine: str,
) -> None:
    """100,000 random/mutated IPComp packets from the tunnel peer: VPP stays
    up, every packet is counted once under the reason Python's zlib predicts
    (exactly for the zlib engine; ISA-L accepts a few streams zlib calls
    corrupt, so there the split may move by a handful)."""
    n = 100_000
    limit = 65535
    a = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    setup_a(a, outer, engine)
    frames, expected = fuzz_packets(n, seed=7 + outer, limit=limit, outer=outer)
    pg_replay(a, "fuzz", frames, "pg1", timeout=600)
    assert a.alive(), a.log_tail()
    stats = stats_client(a)
    node = f"ipcomp{outer}-decompress"
    try:
        got = {e: error_counter(stats, node, e) for e in DECOMPRESS_ERRORS}
        seen = sum(got.values())
        assert seen == n, (got, a.cli("show errors"))
        for verdict, count in expected.items():
            if engine == "zlib":
                assert got[verdict] == count, (verdict, got, expected)
            else:
                assert abs(got[verdict] - count) <= max(50, count // 200), (verdict, got, expected)
        print("fuzz verdicts:", {k: v for k, v in got.items() if v})
        drops = n - got["decompressed"]
        assert (
            sa_counter(stats, "rx-errors", 0)[0]
            == drops - got["unknown-cpi"] - got["nested"] - got["truncated"]
        )
        events = [e for e in read_events(stats) if e["type"] == "decompress-failure"]
        assert events, "no decompress-failure events"
        alen = 4 if outer == 4 else 16
        for e in events[-50:]:
            assert e["src"][:alen] == ipaddress.ip_address(OUTER[outer][1]).packed
            assert e["dst"][:alen] == ipaddress.ip_address(OUTER[outer][0]).packed
            assert e["is_ip6"] == (outer == 6)
            assert DECOMPRESS_ERRORS[e["reason"]] != "decompressed"
    finally:
        stats.disconnect()
    # still alive and answering after the storm
    assert a.alive() and "Protected tunnels: 1" in a.cli("show ipcomp")


# --- transport mode ------------------------------------------------------


@pytest.mark.parametrize("af", [4, 6])
def test_transport_mode(vpp_pair: tuple[Any, Any], af: int) -> None:
    a, b = vpp_pair
    local, peer, plen, other_src = TRANSPORT[af]
    ip_pkt = ip4_packet if af == 4 else ip6_packet
    hdr = 20 if af == 4 else 40
    cli_script(
        a,
        f"""
        create packet-generator interface pg0
        create packet-generator interface pg1
        set interface ip address pg0 10.0.0.1/24
        set interface ip address pg0 2001:db8::1/64
        set interface ip address pg1 {local}/{plen}
        set interface state pg0 up
        set interface state pg1 up
        ip neighbor pg1 {peer} 02:00:00:00:00:02
        ipcomp sa add id 9 local {local} peer {peer} cpi 9 engine isal
        ipcomp transport pg1 sa 9
        """,
    )
    cli_script(
        b,
        f"""
        create packet-generator interface pg0
        set interface ip address pg0 {peer}/{plen}
        set interface state pg0 up
        ipcomp sa add id 9 local {peer} peer {local} cpi 9 engine zlib
        """,
    )
    rng = random.Random(3)
    sent = []
    for i, (size, kind) in enumerate(
        [(60, "text"), (600, "text"), (1400, "zeros"), (800, "random")]
    ):
        data = payload(kind, size, rng)
        # from A's own address (as if A originated it) to B; other sources pass
        if af == 4:
            sent.append(ip4_packet(local, peer, 17, udp(2000 + i, 9, data), ident=i))
        else:
            sent.append(ip6_packet(local, peer, 17, udp6(local, peer, 2000 + i, 9, data)))
    other = ip_pkt(other_src, peer, 17, udp(3000, 9, bytes(500)))
    ethertype = 0x0800 if af == 4 else 0x86DD
    got = pg_replay(
        a, "t", [ether(BCAST, ethertype, p) for p in [*sent, other]], "pg0", {"pg1": len(sent) + 9}
    )
    frames = [f for f in got["pg1"] if f[12:14] == struct.pack("!H", ethertype)]
    frames = [f for f in frames if parse_ip(f)[1] in (17, 108)]  # not ND/RA
    assert len(frames) == len(sent) + 1
    assert frames[-1][14:] == forwarded(other, 1)  # not from the SA's local address
    frames = frames[:-1]
    n_comp = comp_in = comp_out = 0
    for orig, frame in zip(sent, frames, strict=True):
        ver, proto, src, dst, body = parse_ip(frame)
        a0, a1 = (12, 16) if af == 4 else (8, 24)
        assert ver == af and src == orig[a0:a1] and dst == orig[a1 : 2 * a1 - a0]
        if proto == 108:
            nh, flags, cpi = struct.unpack("!BBH", body[:4])
            assert (nh, flags, cpi) == (17, 0, 9)
            assert raw_inflate(body[4:]) == orig[hdr:]
            n_comp += 1
            comp_in += len(orig) - hdr
            comp_out += len(body)
        else:
            assert proto == 17 and body == orig[hdr:]
    assert n_comp == 2  # 60 bytes: below threshold; random: incompressible
    stats = stats_client(a)
    try:
        assert sa_counter(stats, "compressed-in", 0) == (n_comp, comp_in)
        assert sa_counter(stats, "compressed-out", 0) == (n_comp, comp_out)
        assert sa_counter(stats, "bypass", 0) == (1, 68)  # UDP header + 60
        assert sa_counter(stats, "incompressible", 0) == (1, 808)
    finally:
        stats.disconnect()

    # B restores the original packets and delivers them locally
    b.cli("trace add pg-input 20")
    pg_replay(b, "t", [BCAST + f[6:] for f in frames], "pg0")
    stats = stats_client(b)
    try:
        assert sa_counter(stats, "decompressed-in", 0) == (n_comp, comp_out), (
            b.cli("show errors"),
            b.cli("show trace"),
        )
        assert sa_counter(stats, "decompressed-out", 0) == (n_comp, comp_in)
        assert sa_counter(stats, "rx-errors", 0) == (0, 0)
    finally:
        stats.disconnect()
    trace = b.cli("show trace")
    assert f"ipcomp{af}-decompress" in trace and f"ip{af}-udp-lookup" in trace, trace[-3000:]


# --- binary API ----------------------------------------------------------


def test_api(vpp_factory: Callable[..., Any], ipcomp_plugin: PluginBuild) -> None:  # noqa: F811
    v = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    cli_script(
        v,
        """
        create packet-generator interface pg1
        set interface ip address pg1 192.168.1.1/24
        set interface ip address pg1 2001:db8:1::1/64
        set interface state pg1 up
        """,
    )
    api = v.api().api
    engines = {e.name: e for e in api.ipcomp_engine_dump()}
    assert set(engines) == {"zlib", "isal"}
    assert engines["isal"].is_default and engines["isal"].priority > engines["zlib"].priority
    assert engines["zlib"].max_level == 9 and engines["isal"].max_level == 3

    params = {
        "sa_id": 42,
        "cpi": 7,
        "local": "192.168.1.1",
        "peer": "192.168.1.2",
        "table_id": 0,
        "engine": "zlib",
        "level": 6,
        "window_bits": 12,
        "threshold": 100,
        "max_decompressed": 20000,
    }
    r = api.ipcomp_sa_add(sa=params)
    assert r.retval == 0 and r.sa_id == 42 and r.sa_index == 0
    # same endpoints and CPI again: refused
    assert api.ipcomp_sa_add(sa=dict(params, sa_id=43)).retval != 0
    # level beyond the engine's range: refused
    assert api.ipcomp_sa_add(sa=dict(params, sa_id=44, level=7, engine="isal")).retval != 0
    # RFC 3173 section 3.3: CPI 0 and the reserved range 64..255 are refused
    for cpi in (0, 64, 200, 255):
        assert api.ipcomp_sa_add(sa=dict(params, sa_id=45, cpi=cpi)).retval != 0, cpi
    assert "reserved" in v.cli("ipcomp sa add local 192.168.1.1 peer 192.168.1.7 cpi 100")
    r6 = api.ipcomp_sa_add(
        sa={"cpi": 700, "local": "2001:db8:1::1", "peer": "2001:db8:1::2", "engine": ""}
    )
    assert r6.retval == 0

    ipip = api.ipip_add_tunnel(
        tunnel={
            "instance": 5,
            "src": "192.168.1.1",
            "dst": "192.168.1.2",
            "table_id": 0,
            "flags": 0,
            "mode": 0,
            "dscp": 0,
        }
    )
    assert ipip.retval == 0
    tunnel_if = ipip.sw_if_index
    ipip6 = api.ipip_add_tunnel(
        tunnel={"instance": 6, "src": "2001:db8:1::1", "dst": "2001:db8:1::2", "table_id": 0}
    )
    assert ipip6.retval == 0
    # an SA whose endpoints are not the tunnel's, and a non-ipip interface: refused
    assert api.ipcomp_protect_update(sw_if_index=tunnel_if, sa_out=r6.sa_id, sa_in=42).retval != 0
    pg1 = next(i for i in api.sw_interface_dump() if i.interface_name == "pg1").sw_if_index
    assert api.ipcomp_protect_update(sw_if_index=pg1, sa_out=42, sa_in=42).retval != 0
    assert api.ipcomp_protect_update(sw_if_index=tunnel_if, sa_out=42, sa_in=42).retval == 0
    assert (
        api.ipcomp_protect_update(
            sw_if_index=ipip6.sw_if_index, sa_out=r6.sa_id, sa_in=r6.sa_id
        ).retval
        == 0
    )
    (t,) = api.ipcomp_protect_dump(sw_if_index=tunnel_if)
    assert (t.sa_out, t.sa_in, t.sa_out_index, t.sa_in_index) == (42, 42, 0, 0)
    assert len(api.ipcomp_protect_dump()) == 2
    features = v.cli("show interface features ipip5")
    assert features.count("ipcomp4-compress") == 2  # ip4-output and ip6-output arcs

    (d,) = api.ipcomp_sa_dump(sa_id=42)
    assert d.sa.cpi == 7 and str(d.sa.local) == "192.168.1.1" and str(d.sa.peer) == "192.168.1.2"
    assert d.sa.engine == "zlib" and d.sa.level == 6 and d.sa.window_bits == 12
    assert d.sa.threshold == 100 and d.sa.max_decompressed == 20000
    (d6,) = api.ipcomp_sa_dump(sa_id=r6.sa_id)
    assert d6.sa.engine == "isal" and d6.sa.threshold == 90 and d6.sa.max_decompressed == 65535

    s = api.ipcomp_sa_add(
        sa={
            "sa_id": 100,
            "cpi": 9,
            "local": "192.168.1.1",
            "peer": "192.168.1.3",
            "engine": "isal",
            "level": 0,
        }
    )
    assert s.retval == 0 and s.sa_id == 100
    assert api.ipcomp_transport_enable_disable(sa_id=100, sw_if_index=pg1, enable=True).retval == 0
    sas = {x.sa.sa_id: x for x in api.ipcomp_sa_dump()}
    assert set(sas) == {42, 100, r6.sa_id}
    assert sas[100].transport_enabled and not sas[100].is_tunnel and sas[100].sw_if_index == pg1
    assert sas[42].is_tunnel and sas[42].sw_if_index == tunnel_if
    assert "ipcomp4-transport-compress" in v.cli("show interface features pg1")
    # a protecting SA and an enabled transport SA cannot be deleted
    assert api.ipcomp_sa_del(sa_id=42).retval != 0
    assert api.ipcomp_sa_del(sa_id=100).retval != 0
    # a protecting SA cannot be enabled for transport mode
    assert api.ipcomp_transport_enable_disable(sa_id=42, sw_if_index=pg1, enable=True).retval != 0
    assert api.ipcomp_transport_enable_disable(sa_id=100, sw_if_index=pg1, enable=False).retval == 0
    assert api.ipcomp_sa_del(sa_id=100).retval == 0
    assert api.ipcomp_protect_del(sw_if_index=tunnel_if).retval == 0
    assert "ipcomp4-compress" not in v.cli("show interface features ipip5")
    assert api.ipcomp_protect_del(sw_if_index=tunnel_if).retval != 0
    # deleting the ipip tunnel removes its protection
    assert api.ipip_del_tunnel(sw_if_index=ipip6.sw_if_index).retval == 0
    assert api.ipcomp_protect_dump() == []
    assert api.ipcomp_sa_del(sa_id=42).retval == 0
    assert api.ipcomp_sa_del(sa_id=r6.sa_id).retval == 0
    assert api.ipcomp_sa_dump() == []

    stats = stats_client(v)
    try:
        kinds = [e["type"] for e in read_events(stats)]
        assert kinds.count("sa-add") == 3 and kinds.count("sa-del") == 3
        assert kinds.count("protect-add") == 2 and kinds.count("protect-del") == 2
        assert stats["/net/ipcomp/sas"] == 0 and stats["/net/ipcomp/tunnels"] == 0
        assert stats["/net/ipcomp/engine/zlib/sas"] == 0
    finally:
        stats.disconnect()


# --- two VPPs joined by memif: the tunnel end to end ---------------------


def test_tunnel_over_memif(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    sock = tmp_path_factory.mktemp("memif") / "memif.sock"
    a = start_ipcomp_vpp(vpp_factory, ipcomp_plugin, extra_plugins=("memif", "ping"))
    b = start_ipcomp_vpp(vpp_factory, ipcomp_plugin, extra_plugins=("memif", "ping"))
    for v, role, local, peer in (
        (a, "master", "192.168.1.1", "192.168.1.2"),
        (b, "slave", "192.168.1.2", "192.168.1.1"),
    ):
        cli_script(
            v,
            f"""
            create memif socket id 1 filename {sock}
            create interface memif id 0 socket-id 1 {role} buffer-size 2048
            set interface ip address memif1/0 {local}/24
            set interface mtu packet 9216 memif1/0
            set interface state memif1/0 up
            create packet-generator interface pg0
            set interface ip address pg0 {"10.0.0.1" if v is a else "10.1.0.1"}/24
            set interface state pg0 up
            {protected_tunnel(local, peer, CPI)}
            set interface unnumbered ipip0 use pg0
            """,
        )
    cli_ok(a, f"ip route add {INNER_NET[4]} via ipip0")
    cli_ok(b, "ip neighbor pg0 10.1.0.2 02:00:00:00:00:03")
    cli_ok(b, f"ip route add {INNER_NET[4]} via 10.1.0.2 pg0")
    wait_for(
        lambda: a.cli("show memif memif1/0"),
        lambda show: "up" in show.lower() and "connected" in show,
        "the memif link between the two VPPs to connect",
    )
    # ARP between the tunnel endpoints first
    wait_for(
        lambda: a.cli("ping 192.168.1.2 repeat 2 interval 0.1"),
        lambda out: " 0% packet loss" in out,
        "a ping over the memif link without loss",
    )

    inners = make_traffic(4, seed=11)
    frames = [ether(BCAST, 0x0800, p) for p in inners]
    b_frames: dict[str, list[bytes]] = {}
    out = b.workdir / "memif-pg0-out.pcap"
    cli_ok(b, f"packet-generator capture pg0 pcap {out} count {len(frames) + 8}")
    pg_replay(a, "inner", frames, "pg0")
    # A is done with them; B, another process, receives them over memif
    wait_for(
        lambda: interface_packets(b, "pg0"),
        lambda sent: sent >= len(inners),
        f"B to send the {len(inners)} restored packets on pg0",
    )
    time.sleep(0.3)  # a moment for a stray extra frame (a duplicate) to be captured too
    b.cli("packet-generator capture pg0 disable")
    from scapy.utils import rdpcap

    b_frames["pg0"] = [bytes(p) for p in rdpcap(str(out))] if out.exists() else []
    b_frames["pg0"] = inner_frames(b_frames["pg0"], 4)
    got = b_frames["pg0"]
    assert len(got) == len(inners), (
        a.cli("show errors") + b.cli("show errors") + b.cli("show memif") + b.cli("show int")
    )
    # memif keeps order on one queue; B's receive may reorder within a
    # frame (ipip's own packets and decompressed ones take different nodes)
    assert sorted(f[14:] for f in got) == sorted(forwarded(p, 2) for p in inners)
    sa = stats_client(a)
    sb = stats_client(b)
    try:
        c_in = sa_counter(sa, "compressed-in", 0)
        c_out = sa_counter(sa, "compressed-out", 0)
        assert c_in[0] > 0
        assert sa_counter(sb, "decompressed-in", 0) == c_out
        assert sa_counter(sb, "decompressed-out", 0) == c_in
        plain = sum(sa_counter(sa, n, 0)[0] for n in ("bypass", "incompressible", "backoff"))
        assert c_in[0] + plain == len(inners)
    finally:
        sa.disconnect()
        sb.disconnect()


# --- the documented stats names are the real ones ------------------------


def test_stats_names_match_readme(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    """Every /net/ipcomp name in plugin/README.md exists in a running VPP with
    the documented type, and VPP has no /net/ipcomp name the README omits."""
    import re

    readme = (PLUGIN_SRC / "README.md").read_text()
    documented = set()
    for name in re.findall(r"`(/net/ipcomp/[^`\s*]+)`", readme):
        for engine in ("zlib", "isal"):
            documented.add(name.replace("<name>", engine))
    v = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    cli_script(
        v,
        f"""
        create packet-generator interface pg1
        set interface ip address pg1 192.168.1.1/24
        {protected_tunnel("192.168.1.1", "192.168.1.2", 1)}
        """,
    )
    stats = stats_client(v)
    try:
        live = set(stats.ls(["^/net/ipcomp/"]))
        assert live == documented, (sorted(live - documented), sorted(documented - live))
        types = {n: stats.directory[n].type for n in live}
    finally:
        stats.disconnect()
    # 2 simple, 3 combined, 4 name, 7 histogram, 8 ring, 9 gauge (vlib/stats/shared.h)
    assert types["/net/ipcomp/sa/compressed-in"] == 3
    assert types["/net/ipcomp/engine/clocks/compress"] == 2
    assert types["/net/ipcomp/engine/isal/compress-clocks"] == 7
    assert types["/net/ipcomp/hist/compress-in-bytes"] == 7
    assert types["/net/ipcomp/events"] == 8
    assert types["/net/ipcomp/engine/zlib/sas"] == 9
    assert types["/net/ipcomp/sa/names"] == 4
    assert types["/net/ipcomp/engine/names"] == 4
    assert types["/net/ipcomp/events-suppressed"] == 2


def test_counter_names_follow_one_spelling_rule(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    """One spelling rule for every name the plugin publishes (plugin/README.md,
    "Stats segment"): lower-case words joined by ``-``.  That covers the
    components of every ``/net/ipcomp/`` name, the plugin's node error
    counters ``/err/ipcomp*/<name>`` and the event ring's type and reason
    names (which are those counters' names), so a reason reads the same in
    a counter path, an event and an exporter label."""
    import re

    from vppcomp.statseg.client import StatsClient
    from vppcomp.statseg.events import EventSchema

    word = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
    v = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    with StatsClient(str(v.stats_socket)) as client:
        snap = client.snapshot()
    names = [n for n in snap if n.startswith(("/net/ipcomp/", "/err/ipcomp"))]
    errors = [n for n in names if n.startswith("/err/")]
    assert len(errors) > 40, errors  # every node of the plugin registered its errors
    bad = []
    for name in names:
        bad += [name for part in name.split("/")[3:] if not word.match(part)]
    ring = snap["/net/ipcomp/events"]
    schema = EventSchema.parse(ring.schema, ring.schema_version, ring.entry_size)
    type_names = schema.field("type").names.values()
    bad += [f"event type {t}" for t in type_names if not word.match(t)]
    for event_type, reasons in schema.reasons.items():
        bad += [f"reason {event_type} {r}" for r in reasons.values() if not word.match(r)]
    assert not bad, sorted(set(bad))
    # the decompress reasons are the decompress node's counters, by name
    reasons = set(schema.reasons["decompress-failure"].values())
    counters = {n.rsplit("/", 1)[1] for n in errors if n.startswith("/err/ipcomp4-decompress/")}
    assert reasons <= counters, sorted(reasons - counters)


# --- outer MTU: fragmentation of the outer packet, reassembly at the peer --


def test_outer_fragmentation(vpp_pair: tuple[Any, Any]) -> None:
    """With a 1500-byte path MTU, big outer packets (compressed or not) leave
    A as IPv4 fragments (no DF on the outer header, like ipip); B reassembles
    them for local delivery and restores every inner packet."""
    a, b = vpp_pair
    setup_a(a, 4, "isal")
    setup_b(b, 4, "isal")
    cli_ok(a, "set interface mtu packet 1500 pg1")
    # VPP reassembles at most 5 fragments per packet by default; 9000 bytes need 7
    api = b.api().api
    cur = api.ip_reassembly_get(is_ip6=False, type=0)
    rv = api.ip_reassembly_set(
        timeout_ms=cur.timeout_ms,
        max_reassemblies=cur.max_reassemblies,
        max_reassembly_length=16,
        expire_walk_interval_ms=cur.expire_walk_interval_ms,
        is_ip6=False,
        type=0,
    )
    assert rv.retval == 0
    inners = make_traffic(4, seed=21)
    frames = [ether(BCAST, 0x0800, p) for p in inners]
    got = pg_replay(a, "inner", frames, "pg0", capture={"pg1": 4 * len(frames)})["pg1"]
    got = [f for f in got if f[12:14] == b"\x08\x00" and f[26:30] == bytes([192, 168, 1, 1])]
    assert all(len(f) - 14 <= 1500 for f in got)
    frags = [f for f in got if struct.unpack("!H", f[20:22])[0] & 0x3FFF]
    assert frags, "expected outer fragments"
    out = pg_replay(b, "outer", [BCAST + f[6:] for f in got], "pg0", {"pg1": len(inners) + 8})
    restored = inner_frames(out["pg1"], 4)
    assert sorted(f[14:] for f in restored) == sorted(forwarded(p, 2) for p in inners), b.cli(
        "show errors"
    )


# --- a worker thread: per-thread contexts, counters and event rings -------


def test_tunnel_with_worker(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    """A with one worker (the packet generator and the ipcomp nodes run on
    it), B without: same wire checks, counters land on thread 1 and sum up,
    per-thread contexts exist for both threads, decompress failures go to the
    worker's event ring."""
    a = start_ipcomp_vpp(vpp_factory, ipcomp_plugin, startup_extra="cpu { workers 1 }")
    b = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    setup_a(a, 4, "isal")
    setup_b(b, 4, "isal")
    inners = make_traffic(4, seed=31)
    frames = [ether(BCAST, 0x0800, p) for p in inners]
    # the packet generator and the ipcomp nodes run on the worker
    got = pg_through(a, "inner", frames)
    got = outer_frames(got, 4, OUTER[4][0])
    expect = check_wire(inners, got, 4, 4)
    # regression: outer IPv4 identifications of compressed packets come from
    # the sending thread's own range (2 threads: worker 1 owns 0x8000-0xffff);
    # they used to start at thread << 12 and overlap after 4096 packets
    ids = [struct.unpack("!H", f[18:20])[0] for f in got if f[23] == 108]
    assert ids and all(i >= 0x8000 for i in ids), ids
    assert len(set(ids)) == len(ids)
    # B's reply direction is not needed; a few bad packets at A from the peer
    bad = [
        ether(
            BCAST,
            0x0800,
            ip4_packet(OUTER[4][1], OUTER[4][0], 108, struct.pack("!BBH", 4, 0, CPI) + junk),
        )
        for junk in (b"\xff" * 40, b"", b"\x07\x00\x00")
    ]
    pg_replay(a, "bad", bad, "pg1")
    stats = stats_client(a)
    try:
        rows = stats["/net/ipcomp/sa/compressed-in"]
        assert len(rows) == 2
        assert tuple(rows[0][0]) == (0, 0)  # nothing on the main thread
        assert tuple(rows[1][0]) == tuple(expect["compressed"][:2])
        assert sa_counter(stats, "rx-errors", 0)[0] == len(bad)
        events = [e for e in read_events(stats) if e["type"] == "decompress-failure"]
        assert len(events) == len(bad) and all(e["thread"] == 1 for e in events)
        assert [e["type"] for e in read_events(stats) if e["thread"] == 0][:2] == [
            "sa-add",
            "protect-add",
        ]
    finally:
        stats.disconnect()
    # one compress context per thread for the SA's profile, one decompress
    # context per thread per engine
    assert "isal         prio 100 sync levels 0..3 (default 1) sas 1 contexts 4" in a.cli(
        "show ipcomp engines"
    )
    out = pg_replay(b, "outer", [BCAST + f[6:] for f in got], "pg0", {"pg1": len(got) + 8})
    restored = inner_frames(out["pg1"], 4)
    assert sorted(f[14:] for f in restored) == sorted(forwarded(p, 2) for p in inners)


# --- life cycle: delete and re-create under traffic ------------------------


def test_tunnel_delete_recreate(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    """Deleting a protected ipip tunnel that routes still point at, sending
    into the void, re-creating it, many SA add/delete cycles: VPP stays up,
    the counters of a reused SA index start from zero."""
    a = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    setup_a(a, 4, "isal")
    frames = [ether(BCAST, 0x0800, p) for p in make_traffic(4, seed=41)]
    pg_replay(a, "s1", frames, "pg0")
    cli_ok(a, "delete ipip tunnel sw_if_index " + str(tunnel_sw_if_index(a)))
    assert "ipip0" not in a.cli("show interface")
    assert "Protected tunnels: 0" in a.cli("show ipcomp protect")
    pg_replay(a, "s2", frames, "pg0")  # the route's path is gone: dropped
    assert a.alive()
    cli_ok(a, "ipcomp sa del id 0")
    for i in range(50):
        cli_ok(
            a, f"ipcomp sa add id {100 + i} local 192.168.1.1 peer 192.168.1.{3 + i} cpi {300 + i}"
        )
    for i in range(50):
        cli_ok(a, f"ipcomp sa del id {100 + i}")
    cli_script(
        a,
        f"""
        {protected_tunnel("192.168.1.1", "192.168.1.2", CPI, "engine zlib")}
        set interface unnumbered ipip0 use pg0
        ip route del {INNER_NET[4]} via ipip0
        ip route add {INNER_NET[4]} via ipip0
        """,
    )
    got = pg_replay(a, "s3", frames, "pg0", capture={"pg1": len(frames) + 8})["pg1"]
    got = outer_frames(got, 4, OUTER[4][0])
    expect = check_wire(make_traffic(4, seed=41), got, 4, 4)
    stats = stats_client(a)
    try:
        sa_index = int(a.cli("show ipcomp sa").split("[")[1].split("]")[0])
        assert sa_counter(stats, "compressed-in", sa_index) == tuple(expect["compressed"][:2])
        assert stats["/net/ipcomp/sas"] == 1
        kinds = [e["type"] for e in read_events(stats)]
        assert kinds.count("sa-add") == 52 and kinds.count("sa-del") == 51
        assert kinds.count("protect-add") == 2 and kinds.count("protect-del") == 1
    finally:
        stats.disconnect()


# --- any standard deflater's output decompresses ---------------------------


@pytest.mark.parametrize("engine", ["isal", "zlib"])
def test_decompress_foreign_deflate(vpp_pair: tuple[Any, Any], engine: str) -> None:
    """IPComp packets built by Python's zlib at every level (0 = stored blocks,
    fixed and dynamic Huffman), windows 9..15, several sync-flushed blocks,
    sent to B: the restored inner packets equal the originals byte for byte."""
    _, b = vpp_pair
    setup_b(b, 4, engine)
    rng = random.Random(51)
    inners, frames = [], []
    local, peer, _ = OUTER[4]
    for level in range(10):
        for wbits in (9, 12, 15):
            for strategy in (zlib.Z_DEFAULT_STRATEGY, zlib.Z_FIXED, zlib.Z_HUFFMAN_ONLY):
                kind = rng.choice(["text", "zeros", "text"])
                inner = inner_packet(4, rng.choice([200, 1400, 3000]), kind, len(inners), rng)
                c = zlib.compressobj(level, zlib.DEFLATED, -wbits, 8, strategy)
                if rng.random() < 0.3:  # several blocks
                    half = len(inner) // 2
                    data = c.compress(inner[:half]) + c.flush(zlib.Z_SYNC_FLUSH)
                    data += c.compress(inner[half:]) + c.flush()
                else:
                    data = c.compress(inner) + c.flush()
                ipcomp = struct.pack("!BBH", 4, 0, CPI) + data
                frames.append(ether(BCAST, 0x0800, ip4_packet(local, peer, 108, ipcomp)))
                inners.append(inner)
    out = pg_replay(b, "foreign", frames, "pg0", {"pg1": len(frames) + 8})["pg1"]
    restored = inner_frames(out, 4)
    assert [f[14:] for f in restored] == [forwarded(p, 1) for p in inners], b.cli("show errors")
    stats = stats_client(b)
    try:
        assert error_counter(stats, "ipcomp4-decompress", "decompressed") == len(frames)
    finally:
        stats.disconnect()


# --- per-SA decompression limit and the engine gauges ----------------------


def test_decompress_limit_and_gauges(vpp_pair: tuple[Any, Any]) -> None:
    """An SA's max-decompressed bounds what it inflates (the rest is counted as
    too-big, with an event naming the addresses and CPI); the per-engine
    average-clocks gauges follow the traffic within a second or two."""
    _, b = vpp_pair
    peer, local, plen = OUTER[4]
    cli_script(
        b,
        f"""
        create packet-generator interface pg0
        create packet-generator interface pg1
        set interface ip address pg0 {local}/{plen}
        set interface ip address pg1 10.1.0.1/24
        set interface state pg0 up
        set interface state pg1 up
        ip neighbor pg1 10.1.0.2 02:00:00:00:00:03
        {protected_tunnel(local, peer, CPI, "engine zlib max-decompressed 1000")}
        set interface unnumbered ipip0 use pg0
        ip route add {INNER_NET[4]} via 10.1.0.2 pg1
        """,
    )
    rng = random.Random(61)
    inners = [
        inner_packet(4, size, "text", i, rng) for i, size in enumerate([900, 1000, 1001, 1400])
    ]
    frames = []
    for p in inners:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        ipcomp = struct.pack("!BBH", 4, 0, CPI) + c.compress(p) + c.flush()
        frames.append(ether(BCAST, 0x0800, ip4_packet(peer, local, 108, ipcomp)))
    out = pg_replay(b, "limit", frames, "pg0", {"pg1": 8})["pg1"]
    assert [f[14:] for f in inner_frames(out, 4)] == [forwarded(p, 1) for p in inners[:2]]
    stats = stats_client(b)
    try:
        # the gauges are refreshed once a second, by a process a loaded
        # machine may run late
        gauges = ("decompress-clocks-avg", "sas", "context-bytes")
        wait_for(
            lambda: {g: stats[f"/net/ipcomp/engine/zlib/{g}"] for g in gauges},
            lambda seen: seen["decompress-clocks-avg"] > 0 and seen["context-bytes"] > 0,
            "the zlib engine's gauges to follow the traffic",
        )
        assert error_counter(stats, "ipcomp4-decompress", "too-big") == 2
        assert error_counter(stats, "ipcomp4-decompress", "decompressed") == 2
        assert sa_counter(stats, "rx-errors", 0)[0] == 2
        failures = [e for e in read_events(stats) if e["type"] == "decompress-failure"]
        assert len(failures) == 2
        for e in failures:
            assert DECOMPRESS_ERRORS[e["reason"]] == "too-big"
            assert e["cpi"] == CPI and e["sa_id"] == 0 and e["engine_index"] == 0
            assert e["src"][:4] == ipaddress.ip_address(peer).packed
            assert e["dst"][:4] == ipaddress.ip_address(local).packed
            assert e["length"] > 20 and e["timestamp_ns"] > 1.7e18
        assert stats["/net/ipcomp/engine/zlib/decompress-clocks-avg"] > 0
        assert stats["/net/ipcomp/engine/zlib/sas"] == 1
        assert stats["/net/ipcomp/engine/zlib/context-bytes"] > 0
        hist = stats["/net/ipcomp/hist/decompress-out-bytes"]
        assert hist.sum() == 2 and hist.min_exp == 5
    finally:
        stats.disconnect()


# --- data plane v2 (issue 10): regressions ---------------------------------


def test_ipip_tunnel_created_after_protect_keeps_uncompressed(vpp_pair: tuple[Any, Any]) -> None:
    """Regression: an ipip tunnel created after the ipcomp one used to take IP
    protocols 4/41 back, so every uncompressed packet of the ipcomp tunnel
    (below threshold, incompressible) was dropped by ipip as no_tunnel.  Now
    the protected tunnel is ipip's own and another ipip tunnel changes
    nothing: every packet A sends arrives behind B."""
    a, b = vpp_pair
    setup_a(a, 4, "isal")
    setup_b(b, 4, "isal")
    cli_script(
        b,
        """
        create ipip tunnel src 192.168.1.2 dst 192.168.1.9 instance 7
        set interface state ipip7 up
        """,
    )
    inners = make_traffic(4, seed=71)
    frames = [ether(BCAST, 0x0800, p) for p in inners]
    got = pg_replay(a, "inner", frames, "pg0", capture={"pg1": len(frames) + 8})["pg1"]
    got = outer_frames(got, 4, OUTER[4][0])
    expect = check_wire(inners, got, 4, 4)
    assert expect["bypass"][0] > 0 and expect["incompressible"][0] > 0
    out = pg_replay(b, "outer", [BCAST + f[6:] for f in got], "pg0", {"pg1": len(got) + 8})
    restored = inner_frames(out["pg1"], 4)
    assert sorted(f[14:] for f in restored) == sorted(forwarded(p, 2) for p in inners), b.cli(
        "show errors"
    )
    stats = stats_client(b)
    try:
        assert error_counter(stats, "ipip4-input", "no_tunnel") == 0
    finally:
        stats.disconnect()


def test_ipv6_outer_too_big_is_fragmented_not_lost(vpp_pair: tuple[Any, Any]) -> None:
    """Regression: over an IPv6 outer header, an outer packet above the path
    MTU was answered with an ICMPv6 Packet Too Big to this host (the packet
    was not marked locally originated) and vanished.  Now ip6-rewrite
    fragments it like any packet this host sends, and B restores it."""
    a, b = vpp_pair
    setup_a(a, 6, "isal")
    setup_b(b, 6, "isal")
    cli_ok(a, "set interface mtu packet 1500 pg1")
    rng = random.Random(81)
    inners = [inner_packet(4, 1480, "text", 10 + i, rng) for i in range(2)]  # fits compressed
    inners += [inner_packet(4, 1480, "random", i, rng) for i in range(4)]  # incompressible
    frames = [ether(BCAST, 0x0800, p) for p in inners]
    got = pg_replay(a, "big", frames, "pg0", capture={"pg1": 4 * len(frames)})["pg1"]
    src = ipaddress.ip_address(OUTER[6][0]).packed
    got = [f for f in got if f[12:14] == b"\x86\xdd" and f[22:38] == src]
    assert all(len(f) - 14 <= 1500 for f in got)
    frags = [f for f in got if f[20] == 44]
    assert len(frags) == 2 * 4, (len(got), a.cli("show errors"))
    stats = stats_client(a)
    try:
        assert error_counter(stats, "ip6-icmp-error", "too_big") == 0
    finally:
        stats.disconnect()
    out = pg_replay(b, "outer", [BCAST + f[6:] for f in got], "pg0", {"pg1": len(inners) + 8})
    restored = inner_frames(out["pg1"], 4)
    assert sorted(f[14:] for f in restored) == sorted(forwarded(p, 2) for p in inners), b.cli(
        "show errors"
    )


def test_length_from_inner_header_padding_and_long_chain(vpp_pair: tuple[Any, Any]) -> None:
    """Regression: the compress node took the length from the buffer chain, so
    link padding was compressed with the packet (and the peer dropped it as
    bad-inner), and a chain over 64 KiB was copied into the 65,791-byte
    scratch before any check.  Now the inner header's length counts, bounded
    by the chain before anything is copied: the compressed data inflates to
    exactly the inner packet and B delivers it."""
    a, b = vpp_pair
    setup_a(a, 4, "isal")
    setup_b(b, 4, "isal")
    rng = random.Random(91)
    inners = [inner_packet(4, n, "text", i, rng) for i, n in enumerate([100, 400, 1000, 1000])]
    tails = [bytes(20), bytes(100), bytes(70_000), rng.randbytes(30)]
    frames = [ether(BCAST, 0x0800, p + t) for p, t in zip(inners, tails, strict=True)]
    got = pg_replay(a, "pad", frames, "pg0", capture={"pg1": len(frames) + 8})["pg1"]
    got = outer_frames(got, 4, OUTER[4][0])
    assert a.alive()
    assert len(got) == len(inners), a.cli("show errors")
    for sent, frame in zip(inners, got, strict=True):
        _, proto, _, _, body = parse_ip(frame)
        assert proto == 108
        assert raw_inflate(body[4:]) == forwarded(sent, 1)
    out = pg_replay(b, "outer", [BCAST + f[6:] for f in got], "pg0", {"pg1": len(got) + 8})
    restored = inner_frames(out["pg1"], 4)
    assert sorted(f[14:] for f in restored) == sorted(forwarded(p, 2) for p in inners), b.cli(
        "show errors"
    )


def test_transport_vrf_and_enable_disable(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    """Regressions: the transport send lookup ignored the table, so an SA in
    table 1 never matched (not-for-sa); enable/disable did not remember the
    interface (disable elsewhere left the feature on, a second enable leaked
    a reference, and the SA could then be deleted under the feature)."""
    a = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    local, peer = "192.168.1.1", "192.168.1.2"
    cli_script(
        a,
        f"""
        ip table add 1
        create packet-generator interface pg0
        create packet-generator interface pg1
        set interface ip table pg0 1
        set interface ip table pg1 1
        set interface ip address pg0 10.0.0.1/24
        set interface ip address pg1 {local}/24
        set interface state pg0 up
        set interface state pg1 up
        ip neighbor pg1 {peer} 02:00:00:00:00:02
        ipcomp sa add id 9 local {local} peer {peer} cpi 9 table-id 1
        ipcomp transport pg1 sa 9
        ipcomp transport pg1 sa 9
        """,
    )
    assert "in use" in a.cli("ipcomp transport pg0 sa 9")
    assert "no such" in a.cli("ipcomp transport pg0 sa 9 disable")
    assert "ipcomp4-transport-compress" in a.cli("show interface features pg1")
    assert "in use" in a.cli("ipcomp sa del id 9")

    rng = random.Random(5)
    sent = ip4_packet(local, peer, 17, udp(2000, 9, payload("text", 600, rng)))
    got = pg_replay(a, "t", [ether(BCAST, 0x0800, sent)], "pg0", {"pg1": 4})["pg1"]
    frames = [f for f in got if f[12:14] == b"\x08\x00" and parse_ip(f)[1] in (17, 108)]
    assert len(frames) == 1, a.cli("show errors")
    _, proto, _, _, body = parse_ip(frames[0])
    assert proto == 108 and raw_inflate(body[4:]) == sent[20:]

    cli_ok(a, "ipcomp transport pg1 sa 9 disable")  # one disable undoes it
    assert "ipcomp4-transport-compress" not in a.cli("show interface features pg1")
    cli_ok(a, "ipcomp sa del id 9")


ESP_KEY = "4a506a794f574265564551694d653768"


def test_esp_and_ipcomp_on_one_tunnel(vpp_pair: tuple[Any, Any]) -> None:
    """RFC 3173: compress, then encrypt.  ``ipsec tunnel protect`` (ESP,
    transport-mode SAs) and ``ipcomp protect`` on the same ipip tunnel: A's
    packets leave as ESP only, compressible ones smaller than their inner
    packet; B decrypts, hands next header 108 to ipcomp-esp-decompress and
    restores every inner packet."""
    a, b = vpp_pair
    setup_a(a, 4, "isal")
    setup_b(b, 4, "isal")
    for v, out_sa, in_sa in ((a, 10, 20), (b, 20, 10)):
        cli_script(
            v,
            f"""
            ipsec sa add 10 spi 1000 esp crypto-alg aes-gcm-128 crypto-key {ESP_KEY}
            ipsec sa add 20 spi 2000 esp crypto-alg aes-gcm-128 crypto-key {ESP_KEY}
            ipsec tunnel protect ipip0 sa-out {out_sa} sa-in {in_sa}
            """,
        )
    inners = make_traffic(4, seed=101)
    frames = [ether(BCAST, 0x0800, p) for p in inners]
    got = pg_replay(a, "inner", frames, "pg0", capture={"pg1": len(frames) + 8})["pg1"]
    src = ipaddress.ip_address(OUTER[4][0]).packed
    got = [f for f in got if f[12:14] == b"\x08\x00" and f[26:30] == src]
    assert len(got) == len(inners), a.cli("show errors")
    assert all(f[23] == 50 for f in got), "every packet leaves as ESP"
    text_1400 = [i for i, p in enumerate(inners) if len(p) == 1400]
    assert any(len(got[i]) - 14 < 1400 for i in text_1400), "compressed before ESP"
    sa = stats_client(a)
    try:
        compressed = sa_counter(sa, "compressed-in", 0)[0]
        assert compressed > 0
    finally:
        sa.disconnect()

    out = pg_replay(b, "outer", [BCAST + f[6:] for f in got], "pg0", {"pg1": len(got) + 8})
    restored = inner_frames(out["pg1"], 4)
    assert sorted(f[14:] for f in restored) == sorted(forwarded(p, 2) for p in inners), b.cli(
        "show errors"
    )
    sb = stats_client(b)
    try:
        assert error_counter(sb, "ipcomp-esp-decompress", "decompressed") == compressed
        assert sa_counter(sb, "decompressed-in", 0)[0] == compressed
        assert sa_counter(sb, "rx-errors", 0) == (0, 0)
    finally:
        sb.disconnect()


def test_transport_feature_order_before_ipsec_and_gso(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    """Regression: the transport feature declared no order against
    ipsec4-output-feature and gso-ip4 (RFC 3173: compress before IPsec; GSO
    must segment the TCP packet, not an IPComp one).  Enabled in either
    order, it runs first on ip4-output."""
    a = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    cli_script(
        a,
        """
        create packet-generator interface pg1
        set interface ip address pg1 192.168.1.1/24
        set interface state pg1 up
        ipsec spd add 1
        set interface ipsec spd pg1 1
        set interface feature gso pg1 enable
        ipcomp sa add id 9 local 192.168.1.1 peer 192.168.1.2 cpi 9
        ipcomp transport pg1 sa 9
        """,
    )
    features = a.cli("show interface features pg1")
    arc = features.split("ip4-output:")[1].split(":")[0]
    order = [line.strip() for line in arc.splitlines() if line.strip()]
    assert "ipcomp4-transport-compress" in order, features
    first = order.index("ipcomp4-transport-compress")
    for later in ("gso-ip4", "ipsec4-output-feature"):
        assert later in order and order.index(later) > first, order


def test_packet_events_rate_limited(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    """Regression: every dropped packet wrote an event, so a flood of bad
    packets evicted the SA lifecycle records from the ring.  Now at most 100
    data-path events per second per thread are written, the rest counted in
    /net/ipcomp/events-suppressed, and the node counters count them all."""
    a = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    setup_a(a, 4, "isal")
    bad = [
        ether(
            BCAST,
            0x0800,
            ip4_packet(
                OUTER[4][1],
                OUTER[4][0],
                108,
                struct.pack("!BBH", 4, 0, CPI) + b"\xff" * 40,
                ident=i,
            ),
        )
        for i in range(300)
    ]
    pg_replay(a, "bad", bad, "pg1")
    stats = stats_client(a)
    try:
        assert error_counter(stats, "ipcomp4-decompress", "corrupt") == 300
        failures = [e for e in read_events(stats) if e["type"] == "decompress-failure"]
        # at most 100 a second: per window, not in all (the stream may span two)
        windows = event_windows(failures)
        assert failures and all(n <= 100 for n in windows), windows
        suppressed = sum(int(row[0]) for row in stats["/net/ipcomp/events-suppressed"])
        assert len(failures) + suppressed == 300
        kinds = [e["type"] for e in read_events(stats)]
        assert kinds[:2] == ["sa-add", "protect-add"]
    finally:
        stats.disconnect()


def event_windows(events: list[dict[str, Any]]) -> list[int]:
    """How many of ``events`` fall in each rate-limit window: a window opens
    with the first event 1 s or more after the previous window opened (an
    event that opens one is always written).  The 300 packets of a stream
    normally arrive within one; a loaded machine may stretch them over two."""
    windows: list[int] = []
    opened = -1e18
    for stamp in sorted(e["timestamp_ns"] for e in events):
        if stamp - opened >= 1e9:
            opened = stamp
            windows.append(0)
        windows[-1] += 1
    return windows


def test_adaptive_backoff(vpp_pair: tuple[Any, Any]) -> None:
    """RFC 3173 section 2.2: an SA that keeps seeing incompressible data (4 in
    a row) backs off (skips the engine for 1, 3, 7 ... packets), counts what it skipped,
    probes again and compresses once the data compresses; with no-backoff
    every packet goes to the engine."""
    a, _ = vpp_pair
    setup_a(a, 4, "isal")
    rng = random.Random(111)
    randoms = [inner_packet(4, 1400, "random", i, rng) for i in range(200)]
    texts = [inner_packet(4, 1400, "text", 1000 + i, rng) for i in range(1100)]
    frames = [ether(BCAST, 0x0800, p) for p in randoms + texts]
    got = pg_replay(a, "mix", frames, "pg0", capture={"pg1": len(frames) + 8})["pg1"]
    assert len(outer_frames(got, 4, OUTER[4][0])) == len(frames)
    stats = stats_client(a)
    try:
        tried = sa_counter(stats, "incompressible", 0)[0]
        skipped = sa_counter(stats, "backoff", 0)[0]
        compressed = sa_counter(stats, "compressed-in", 0)[0]
        # 200 random: tries at packets 1-4, 6, 10, 18, 34, 66, 130; the rest skipped
        assert tried == 10 and tried + skipped + compressed == len(frames), (tried, skipped)
        assert error_counter(stats, "ipcomp4-compress", "backoff") == skipped
        # the last back-off (up to 127 more) ends, then every text packet compresses
        assert compressed >= len(texts) - 127
    finally:
        stats.disconnect()
    cli_script(
        a,
        f"""
        ipcomp protect ipip0 del
        ipcomp sa del id 0
        ipcomp sa add local {OUTER[4][0]} peer {OUTER[4][1]} cpi {CPI} id 0 no-backoff
        ipcomp protect ipip0 sa-out 0 sa-in 0
        """,
    )
    assert "backoff off" in a.cli("show ipcomp sa")
    pg_replay(a, "random", [ether(BCAST, 0x0800, p) for p in randoms], "pg0")
    stats = stats_client(a)
    try:
        assert sa_counter(stats, "incompressible", 0)[0] == len(randoms)
        assert sa_counter(stats, "backoff", 0) == (0, 0)
    finally:
        stats.disconnect()


def test_level_auto_chooses_by_size(vpp_pair: tuple[Any, Any]) -> None:
    """``level auto``: payloads below 4096 bytes take the engine's fast level
    (ISA-L 0), larger ones its default (ISA-L 1); the bytes on the wire are
    exactly those of an SA with that fixed level."""
    a, _ = vpp_pair
    setup_a(a, 4, "isal")
    rng = random.Random(121)
    small, large = inner_packet(4, 1400, "text", 1, rng), inner_packet(4, 9000, "text", 2, rng)
    frames = [ether(BCAST, 0x0800, p) for p in (small, large)]

    def wire(options: str) -> list[bytes]:
        cli_script(
            a,
            f"""
            ipcomp protect ipip0 del
            ipcomp sa del id 0
            ipcomp sa add local {OUTER[4][0]} peer {OUTER[4][1]} cpi {CPI} id 0 {options}
            ipcomp protect ipip0 sa-out 0 sa-in 0
            """,
        )
        got = pg_replay(a, options.replace(" ", ""), frames, "pg0", capture={"pg1": 4})["pg1"]
        bodies = [parse_ip(f)[4] for f in outer_frames(got, 4, OUTER[4][0])]
        assert [raw_inflate(b[4:]) for b in bodies] == [forwarded(p, 1) for p in (small, large)]
        return bodies

    auto = wire("engine isal level auto")
    assert "level auto" in a.cli("show ipcomp sa")
    (d,) = a.api().api.ipcomp_sa_dump(sa_id=0)
    assert d.sa.level == 254
    engines = a.cli("show ipcomp engines")
    assert "sas 1 contexts 3" in engines  # two compress profiles
    level0 = wire("engine isal level 0")
    level1 = wire("engine isal level 1")
    assert auto[0] == level0[0] and auto[0] != level1[0]
    assert auto[1] == level1[1] and auto[1] != level0[1]


@pytest.mark.parametrize("workers", [0, 1])
def test_level_auto_learns_from_the_sa(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
    workers: int,
) -> None:
    """``level auto`` with ISA-L adapts to what the SA has sent: below 4096
    bytes it codes with ISA-L's default table until 4 packets were sampled,
    then with tables learned from the SA's own packets (the same packet then
    leaves smaller); when the SA's data changes so that it no longer
    compresses, the table is learned again and fits the new data.
    ``show ipcomp sa`` says which coding each thread uses and why, and
    Python's zlib and a peer VPP (ISA-L) inflate every packet the SA sent.
    With a worker the
    state is the worker's (the main thread sends nothing and learns
    nothing)."""
    a = start_ipcomp_vpp(
        vpp_factory, ipcomp_plugin, startup_extra=f"cpu {{ workers {workers} }}" if workers else ""
    )
    setup_a(a, 4, "isal")
    cli_script(
        a,
        f"""
        ipcomp protect ipip0 del
        ipcomp sa del id 0
        ipcomp sa add local {OUTER[4][0]} peer {OUTER[4][1]} cpi {CPI} id 0 engine isal level auto
        ipcomp protect ipip0 sa-out 0 sa-in 0
        """,
    )
    rng = random.Random(131)
    runs = 0
    wire: list[bytes] = []  # every frame the SA sent
    originals: list[bytes] = []

    def send(packets: list[bytes]) -> list[int]:
        """Send through the SA; returns the deflate length of each packet
        (its inner length + 1 when it left uncompressed).  Python's zlib
        inflates every compressed one to the original."""
        nonlocal runs
        runs += 1
        frames = [ether(BCAST, 0x0800, p) for p in packets]
        got = pg_replay(a, f"run{runs}", frames, "pg0", capture={"pg1": len(frames) + 8})["pg1"]
        frames_out = outer_frames(got, 4, OUTER[4][0])
        outers = [parse_ip(f) for f in frames_out]
        assert len(outers) == len(packets)
        wire.extend(frames_out)
        originals.extend(packets)
        lengths = []
        for (_, proto, _, _, body), p in zip(outers, packets, strict=True):
            if proto == 108:
                assert raw_inflate(body[4:]) == forwarded(p, 1)
                lengths.append(len(body) - 4)
            else:
                assert proto == 4 and body == forwarded(p, 1)
                lengths.append(len(p) + 1)
        return lengths

    def digits(seq: int) -> bytes:
        """A packet of comma-separated numbers: symbols text rarely has."""
        data = b",".join(str(rng.randrange(10**6)).encode() for _ in range(300))[:1372]
        return ip4_packet("10.0.0.2", "172.16.0.9", 17, udp(2000 + seq, 9, data), ident=seq)

    text_probe, digit_probe = inner_packet(4, 1400, "text", 1, rng), digits(1)
    (default_text,) = send([text_probe])
    show = a.cli("show ipcomp sa")
    assert f"thread {workers}: default tables, learning (1 of 4 packets sampled)" in show, show
    if workers:
        assert "thread 0: default tables, learning (0 of 4 packets sampled)" in show

    send([inner_packet(4, 1400, "text", 2 + i, rng) for i in range(3)])
    show = a.cli("show ipcomp sa")
    assert f"thread {workers}: learned tables, built 1 times from 4 sampled packets" in show, show
    assert "codes with tables learned from this SA's packets" in show
    learned_text, text_table_digits = send([text_probe, digit_probe])
    # a table learned from 4 text packets fits text better than ISA-L's
    # generic default table (what level 0 and the first packet used)
    assert learned_text < 0.9 * default_text, (learned_text, default_text)

    # the SA now sends numbers, which the text table cannot code smaller:
    # after 4 such packets in a row it is dropped, and a table learned from
    # the next 4 (back-off probes) codes them smaller
    assert text_table_digits == len(digit_probe) + 1, "sent uncompressed"
    send([digits(2 + i) for i in range(64)])
    show = a.cli("show ipcomp sa")
    assert "learned tables, built 2 times" in show and "relearned 1 times" in show, show
    learned_digits = send([digit_probe])[0]
    assert learned_digits < 0.8 * len(digit_probe), (learned_digits, len(digit_probe))

    # the peer's ISA-L inflate restores all of them (sorted: compressed and
    # uncompressed packets of one frame reach ipip by different nodes)
    b = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    setup_b(b, 4, "isal")
    out = pg_replay(b, "outer", [BCAST + f[6:] for f in wire], "pg0", {"pg1": len(wire) + 8})
    restored = sorted(f[14:] for f in inner_frames(out["pg1"], 4))
    assert restored == sorted(forwarded(p, 2) for p in originals), b.cli("show errors")
