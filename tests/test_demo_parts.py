"""The demo's parts offline: the set-up and traffic scripts of the two ends
(deploy/vpp/, shared with the containers) carry the traffic mix they
promise, and the files the demo writes for the topology page and for
Prometheus are read back by their consumers."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
import yaml

from vppcomp.demo import ends, services
from vppcomp.demo.stack import write_inventory
from vppcomp.topology.inventory import HostSpec, load_inventory

THRESHOLD = 90  # the plugin's default SA threshold (plugin/README.md)


def streams(end: str) -> dict[str, str]:
    """Stream name -> its packet-generator command."""
    found = {}
    for command in ends.script_commands(f"{end}-traffic"):
        if match := re.match(r"packet-generator new \{ name (\S+) ", command):
            found[match[1]] = command
    return found


def payload(command: str) -> bytes:
    hexes = re.search(r"hex 0x([0-9a-f]+)", command)
    assert hexes is not None, command
    return bytes.fromhex(hexes[1])


def size(command: str) -> int:
    match = re.search(r"size (\d+)-(\d+)", command)
    assert match is not None and match[1] == match[2], command
    return int(match[1])


def test_set_up_fills_the_memif_socket_and_nothing_else(tmp_path: Path) -> None:
    for end in ends.ENDS:
        commands = ends.script_commands(end, MEMIF_SOCKET=str(tmp_path / "m.sock"))
        assert f"create memif socket id 1 filename {tmp_path / 'm.sock'}" in commands
        assert not any("$" in c or "#" in c for c in commands), commands
    with pytest.raises(KeyError):
        ends.script_commands("west")
    with pytest.raises(ValueError, match="no end"):
        ends.configure(None, "north", tmp_path)


def test_west_sends_the_promised_mix() -> None:
    west = streams("west")
    assert set(west) == {"compressible", "incompressible", "small", "malformed"}
    text = payload(west["compressible"])
    assert len(text) >= size(west["compressible"]) - 28  # fills the packet
    assert len(zlib.compress(text)) / len(text) < 0.3
    noise = payload(west["incompressible"])
    assert len(noise) >= size(west["incompressible"]) - 28
    assert len(zlib.compress(noise, 9)) > len(noise)  # deflate cannot shrink it
    assert size(west["small"]) - 28 < THRESHOLD
    assert set(streams("east")) == {"compressible"}


def test_malformed_ipcomp_targets_the_east_sa() -> None:
    command = streams("west")["malformed"]
    match = re.search(r"IPCOMP: (\S+) -> (\S+) hex", command)
    assert match is not None
    address, cpi = {}, {}
    for end in ends.ENDS:
        setup = " ".join(ends.script_commands(end, MEMIF_SOCKET="/x"))
        found = re.search(r"set interface ip address memif1/0 ([\d.]+)/", setup)
        assert found is not None, end
        address[end] = found[1]
        cpis = set(re.findall(r"\bcpi (\d+)", setup))
        assert len(cpis) == 1, (end, cpis)
        cpi[end] = int(cpis.pop())
    assert (match[1], match[2]) == (address["west"], address["east"])
    header = payload(command)
    assert header[0] == 4  # next header: IPv4 inside
    assert int.from_bytes(header[2:4], "big") == cpi["east"]  # the receiving SA's CPI
    with pytest.raises(zlib.error):
        zlib.decompressobj(-15).decompress(header[4:])


def test_inventory_round_trips(tmp_path: Path) -> None:
    hosts = [
        HostSpec("west", api_socket="/run/a/api.sock", stats_socket="/run/a/stats.sock",
                 api_dirs=("/x", "/y")),
        HostSpec("east", api_recording=str(tmp_path / "east.api.json"),
                 stats_socket='/tmp/"odd"/stats.sock'),
    ]  # fmt: skip
    path = tmp_path / "inventory.toml"
    write_inventory(path, hosts)
    assert load_inventory(path) == hosts


def test_prometheus_config_is_valid_with_the_rules(tmp_path: Path) -> None:
    rules = services.rule_files()
    text = services.prometheus_config({"west": "127.0.0.1:1", "east": "127.0.0.1:2"}, rules)
    config = yaml.safe_load(text)
    assert config["rule_files"] == [str(p) for p in rules]
    labels = [c["labels"]["end"] for c in config["scrape_configs"][0]["static_configs"]]
    assert labels == ["west", "east"]
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("no promtool (scripts/setup installs Debian's prometheus)")
    (tmp_path / "prometheus.yml").write_text(text)
    result = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
