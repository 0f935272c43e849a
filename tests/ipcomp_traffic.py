"""Traffic for the ipcomp plugin's live tests and benches: inner packets,
Ethernet frames, the two-VPP set-up (A compresses into pg1, B restores behind
pg1), wire checks with Python's zlib, fuzz packets with predicted verdicts.

Independent of the plugin: headers are built and parsed here by hand and
deflate is Python's zlib (raw, wbits=-15).
"""

from __future__ import annotations

import ipaddress
import random
import struct
import zlib
from typing import Any

from plugin_vpp import cli_script, protected_tunnel

CPI = 0x1234
THRESHOLD = 90
BCAST = b"\xff" * 6
SRC_MAC = bytes.fromhex("020000000001")
OUTER = {
    4: ("192.168.1.1", "192.168.1.2", 24),
    6: ("2001:db8:1::1", "2001:db8:1::2", 64),
}
INNER_SRC = {4: "10.0.0.2", 6: "2001:db8::2"}
INNER_NET = {4: "172.16.0.0/16", 6: "2001:db8:ff::/48"}
SIZES = [64, 100, 512, 1400, 4000, 9000]
KINDS = ["text", "random", "zeros"]
WORDS = [
    b"GET ",
    b"/index.html ",
    b"HTTP/1.1\r\n",
    b"Host: example.org\r\n",
    b"the ",
    b"quick ",
    b"brown ",
    b"fox ",
    b'{"key": ',
    b'"value"}, ',
    b"lazy ",
    b"dog. ",
]


# --- packet building and parsing (independent of the plugin) ---------------


def ip4_checksum(hdr: bytes) -> int:
    s = sum(struct.unpack(f"!{len(hdr) // 2}H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def payload(kind: str, n: int, rng: random.Random) -> bytes:
    if kind == "random":
        return rng.randbytes(n)
    if kind == "zeros":
        return bytes(n)
    out = bytearray()
    while len(out) < n:
        out += rng.choice(WORDS)
    return bytes(out[:n])


def udp(sport: int, dport: int, data: bytes) -> bytes:
    # checksum 0: valid for IPv4; for IPv6 the tests never deliver locally
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def ip4_packet(src: str, dst: str, proto: int, body: bytes, ttl: int = 64, ident: int = 1) -> bytes:
    hdr = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(body),
        ident,
        0,
        ttl,
        proto,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    hdr = hdr[:10] + struct.pack("!H", ip4_checksum(hdr)) + hdr[12:]
    return hdr + body


def ip6_packet(src: str, dst: str, nh: int, body: bytes, hlim: int = 64) -> bytes:
    return (
        struct.pack(
            "!IHBB16s16s",
            0x60000000,
            len(body),
            nh,
            hlim,
            ipaddress.IPv6Address(src).packed,
            ipaddress.IPv6Address(dst).packed,
        )
        + body
    )


def inner_packet(af: int, size: int, kind: str, seq: int, rng: random.Random) -> bytes:
    """An inner IP/UDP packet of exactly ``size`` bytes."""
    if af == 4:
        dst = str(ipaddress.IPv4Address("172.16.0.0") + 1 + seq % 1000)
        data = payload(kind, size - 28, rng)
        return ip4_packet(INNER_SRC[4], dst, 17, udp(1000 + seq, 9, data), ident=seq)
    dst = str(ipaddress.IPv6Address("2001:db8:ff::") + 1 + seq % 1000)
    data = payload(kind, size - 48, rng)
    return ip6_packet(INNER_SRC[6], dst, 17, udp(1000 + seq, 9, data))


def ether(dst: bytes, ethertype: int, body: bytes) -> bytes:
    return dst + SRC_MAC + struct.pack("!H", ethertype) + body


def forwarded(inner: bytes, hops: int) -> bytes:
    """``inner`` as it looks after ``hops`` IP forwarding decisions."""
    b = bytearray(inner)
    if b[0] >> 4 == 4:
        b[8] -= hops
        b[10:12] = b"\0\0"
        b[10:12] = struct.pack("!H", ip4_checksum(bytes(b[:20])))
    else:
        b[7] -= hops
    return bytes(b)


def parse_ip(frame: bytes) -> tuple[int, int, bytes, bytes, bytes]:
    """(version, protocol, src, dst, payload) of an Ethernet/IP frame; checks
    the lengths and the IPv4 header checksum."""
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800:
        ihl = (ip[0] & 0xF) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        assert ip4_checksum(ip[:ihl]) == 0, "outer IPv4 checksum"
        assert struct.unpack("!H", ip[6:8])[0] & 0x3FFF == 0, "unexpected fragment"
        return 4, ip[9], ip[12:16], ip[16:20], ip[ihl:total]
    assert ethertype == 0x86DD
    plen = struct.unpack("!H", ip[4:6])[0]
    return 6, ip[6], ip[8:24], ip[24:40], ip[40 : 40 + plen]


def inner_frames(frames: list[bytes], af: int) -> list[bytes]:
    """The frames carrying test traffic (inner source address), in order."""
    src = ipaddress.ip_address(INNER_SRC[af]).packed
    if af == 4:
        return [f for f in frames if f[12:14] == b"\x08\x00" and f[26:30] == src]
    return [f for f in frames if f[12:14] == b"\x86\xdd" and f[22:38] == src]


def outer_frames(frames: list[bytes], af: int, src_addr: str) -> list[bytes]:
    """The frames from the tunnel's local address with protocol 108/4/41."""
    src = ipaddress.ip_address(src_addr).packed
    if af == 4:
        return [
            f
            for f in frames
            if f[12:14] == b"\x08\x00" and f[26:30] == src and f[23] in (4, 41, 108)
        ]
    return [
        f for f in frames if f[12:14] == b"\x86\xdd" and f[22:38] == src and f[20] in (4, 41, 108)
    ]


def raw_inflate(data: bytes) -> bytes:
    d = zlib.decompressobj(wbits=-15)
    out = d.decompress(data) + d.flush()
    assert d.eof and not d.unused_data, "deflate stream must end exactly"
    return out


# --- VPP set-up ---------------------------------------------------------


def setup_a(vpp: Any, outer: int, engine: str, level: int | None = None) -> None:
    local, peer, plen = OUTER[outer]
    lvl = f" level {level}" if level is not None else ""
    cli_script(
        vpp,
        f"""
        create packet-generator interface pg0
        create packet-generator interface pg1
        set interface ip address pg0 10.0.0.1/24
        set interface ip address pg0 2001:db8::1/64
        set interface ip address pg1 {local}/{plen}
        set interface mtu packet 9216 pg1
        set interface state pg0 up
        set interface state pg1 up
        ip neighbor pg1 {peer} 02:00:00:00:00:02
        {protected_tunnel(local, peer, CPI, f"engine {engine}{lvl}")}
        set interface unnumbered ipip0 use pg0
        ip route add {INNER_NET[4]} via ipip0
        ip route add {INNER_NET[6]} via ipip0
        """,
    )


def setup_b(vpp: Any, outer: int, engine: str) -> None:
    peer, local, plen = OUTER[outer]
    cli_script(
        vpp,
        f"""
        create packet-generator interface pg0
        create packet-generator interface pg1
        set interface ip address pg0 {local}/{plen}
        set interface mtu packet 9216 pg0
        set interface ip address pg1 10.1.0.1/24
        set interface ip address pg1 2001:db8:2::1/64
        set interface state pg0 up
        set interface state pg1 up
        ip neighbor pg1 10.1.0.2 02:00:00:00:00:03
        ip neighbor pg1 2001:db8:2::2 02:00:00:00:00:03
        {protected_tunnel(local, peer, CPI, f"engine {engine}")}
        set interface unnumbered ipip0 use pg0
        enable ip6 interface ipip0
        ip route add {INNER_NET[4]} via 10.1.0.2 pg1
        ip route add {INNER_NET[6]} via 2001:db8:2::2 pg1
        """,
    )


def make_traffic(inner_af: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    packets = []
    seq = 0
    min_size = 48 if inner_af == 6 else 28
    for size in [min_size, 60, THRESHOLD - 1, THRESHOLD]:  # tiny, around the threshold
        packets.append(inner_packet(inner_af, size, "text", seq, rng))
        seq += 1
    for kind in KINDS:
        for size in SIZES:
            packets.append(inner_packet(inner_af, size, kind, seq, rng))
            seq += 1
    return packets


def tunnel_sw_if_index(vpp: Any, name: str = "ipip0") -> int:
    """The sw_if_index of an interface by name."""
    api = vpp.api().api
    return next(i for i in api.sw_interface_dump() if i.interface_name == name).sw_if_index


def check_wire(inners: list[bytes], got: list[bytes], outer: int, inner: int) -> dict:
    """Check every captured outer packet against the inner one sent, with
    Python's zlib; returns the per-class sums the counters must show."""
    assert len(got) == len(inners)
    local, peer, _ = OUTER[outer]
    addr = ipaddress.ip_address
    expect = {"compressed": [0, 0, 0], "bypass": [0, 0], "incompressible": [0, 0]}
    for sent, frame in zip(inners, got, strict=True):
        ver, proto, src, dst, body = parse_ip(frame)
        assert ver == outer and src == addr(local).packed and dst == addr(peer).packed
        want = forwarded(sent, 1)
        if proto == 108:
            nh, flags, cpi = struct.unpack("!BBH", body[:4])
            assert (nh, flags, cpi) == (4 if inner == 4 else 41, 0, CPI)
            assert raw_inflate(body[4:]) == want
            assert len(body) < len(sent)
            expect["compressed"][0] += 1
            expect["compressed"][1] += len(sent)
            expect["compressed"][2] += len(body)
        else:
            assert proto == (4 if inner == 4 else 41)
            assert body == want
            key = "bypass" if len(sent) < THRESHOLD else "incompressible"
            expect[key][0] += 1
            expect[key][1] += len(sent)
    return expect


# --- fuzz: random and mutated IPComp packets at the decompressor --------


def fuzz_packets(
    n: int, seed: int, limit: int, outer: int = 4
) -> tuple[list[bytes], dict[str, int]]:
    """``n`` IPComp packets from the tunnel peer (192.168.1.2 -> .1), most of
    them broken in some way, and the verdict the plugin must reach for each
    (predicted with Python's zlib, like the plugin's zlib engine)."""
    rng = random.Random(seed)
    local, peer, _ = OUTER[outer]
    expected: dict[str, int] = {}
    frames = []
    seeds = [
        inner_packet(4, s, k, i, rng)
        for i, (s, k) in enumerate([(100, "text"), (600, "zeros"), (1400, "text"), (300, "random")])
    ]
    good = []
    for p in seeds:
        c = zlib.compressobj(rng.choice([0, 1, 6, 9]), zlib.DEFLATED, -15)
        good.append((p, c.compress(p) + c.flush()))
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb_data = bomb.compress(bytes(200_000)) + bomb.flush()

    for i in range(n):
        cpi = CPI if rng.random() < 0.9 else rng.randrange(0, 65536)
        nh = 4 if rng.random() < 0.9 else rng.choice([0, 41, 6, 17, 108])
        _inner, data = rng.choice(good)
        m = rng.randrange(9)
        if m == 0:
            body = rng.randbytes(rng.randrange(0, 5000))  # also chained buffers
        elif m == 1:
            b = bytearray(data)
            for _ in range(rng.randrange(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            body = bytes(b)
        elif m == 2:
            body = data[: rng.randrange(len(data))]
        elif m == 3:
            body = bomb_data
        elif m == 4:
            body = data + rng.randbytes(rng.randrange(1, 16))
        elif m == 5:
            body = data  # valid (unless nh/cpi are off)
        elif m == 6:
            # valid deflate of something that is not the announced packet
            junk = rng.randbytes(rng.randrange(1, 300))
            c = zlib.compressobj(1, zlib.DEFLATED, -15)
            body = c.compress(junk) + c.flush()
        elif m == 7:
            body = b""
        else:
            b = bytearray(data)
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            body = bytes(b)
        hdr_cut = rng.random() < 0.01
        ipcomp = struct.pack("!BBH", nh, rng.choice([0, 0, 0, 0xFF]), cpi) + body
        if hdr_cut:
            ipcomp = ipcomp[: rng.randrange(4)]
        if outer == 4:
            frames.append(
                ether(BCAST, 0x0800, ip4_packet(peer, local, 108, ipcomp, ident=i & 0xFFFF))
            )
        else:
            frames.append(ether(BCAST, 0x86DD, ip6_packet(peer, local, 108, ipcomp)))
        verdict = predict(ipcomp, nh, cpi, limit, hdr_cut)
        expected[verdict] = expected.get(verdict, 0) + 1
    return frames, expected


def predict(ipcomp: bytes, nh: int, cpi: int, limit: int, hdr_cut: bool) -> str:
    if len(ipcomp) < 4:
        return "truncated"
    if nh == 108:
        return "nested"
    if cpi != CPI:
        return "unknown-cpi"
    d = zlib.decompressobj(wbits=-15)
    try:
        out = d.decompress(ipcomp[4:], limit + 1)
    except zlib.error:
        return "corrupt"
    if len(out) > limit:
        return "too-big"
    if not d.eof:
        return "truncated-deflate"
    if d.unused_data:
        return "corrupt"  # bytes after the final block (both engines refuse them)
    if nh == 4:
        ok = (
            len(out) >= 20
            and out[0] >> 4 == 4
            and (out[0] & 0xF) >= 5
            and (struct.unpack("!H", out[2:4])[0] == len(out))
        )
    elif nh == 41:
        ok = (
            len(out) >= 40
            and out[0] >> 4 == 6
            and struct.unpack("!H", out[4:6])[0] + 40 == len(out)
        )
    else:
        ok = False
    return "decompressed" if ok else "bad-inner"


TRANSPORT = {
    4: ("192.168.1.1", "192.168.1.2", 24, "10.0.0.2"),
    6: ("2001:db8:1::1", "2001:db8:1::2", 64, "2001:db8::2"),
}


def udp6(src: str, dst: str, sport: int, dport: int, data: bytes) -> bytes:
    """UDP with a valid IPv6 checksum (required for local delivery)."""
    length = 8 + len(data)
    pseudo = (
        ipaddress.IPv6Address(src).packed
        + ipaddress.IPv6Address(dst).packed
        + struct.pack("!IxxxB", length, 17)
    )
    seg = struct.pack("!HHHH", sport, dport, length, 0) + data
    blob = pseudo + seg + (b"\0" if len(seg) % 2 else b"")
    c = sum(struct.unpack(f"!{len(blob) // 2}H", blob))
    while c >> 16:
        c = (c & 0xFFFF) + (c >> 16)
    c = ~c & 0xFFFF or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def compressed_frames(outer: int, inners: list[bytes], level: int = 1) -> list[bytes]:
    """Ethernet frames (broadcast) from the tunnel peer of ``setup_b``'s VPP,
    each carrying one of ``inners`` (IPv4) as IPComp (next header 4, CPI)
    deflated by Python's zlib at ``level``: what the peer's ipip tunnel with
    ipcomp protect sends."""
    peer, local, _ = OUTER[outer]
    frames = []
    for i, inner in enumerate(inners):
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        ipcomp = struct.pack("!BBH", 4, 0, CPI) + c.compress(inner) + c.flush()
        if outer == 4:
            frames.append(
                ether(BCAST, 0x0800, ip4_packet(peer, local, 108, ipcomp, ident=i & 0xFFFF))
            )
        else:
            frames.append(ether(BCAST, 0x86DD, ip6_packet(peer, local, 108, ipcomp)))
    return frames


def inner_sequence(frame: bytes) -> int:
    """The ``seq`` of an IPv4 ``inner_packet`` in an Ethernet frame (its UDP
    source port is 1000 + seq)."""
    ihl = (frame[14] & 0xF) * 4
    return int(struct.unpack("!H", frame[14 + ihl : 16 + ihl])[0]) - 1000


def reorder(seqs: list[int]) -> tuple[int, int]:
    """How far ``seqs`` (sequence numbers in arrival order) are from sorted:
    (packets that arrived after one with a higher number, the largest
    distance between a packet's arrival position and its place in order)."""
    late, highest = 0, -1
    for s in seqs:
        if s < highest:
            late += 1
        highest = max(highest, s)
    rank = {s: i for i, s in enumerate(sorted(seqs))}
    return late, max((abs(i - rank[s]) for i, s in enumerate(seqs)), default=0)
