"""The shipper's throughput, side by side in one run, against a real OpenSearch.

* ``ring -> bulk``: event records in a replayed segment (2 threads, rings of
  4096), read by the shipper (decode by the ring's schema, ECS documents,
  ids), spooled (SQLite, one transaction per read) and flushed with
  ``streaming_bulk`` into a real single-node OpenSearch 2.19 started from the
  Maven jars of tests/opensearch. Reported: documents per second (wall) and
  the shipper's own CPU seconds per 1,000 documents (the measuring process
  only; the cluster is another process), and how that CPU splits between
  read+spool and the bulk requests.
* ``spool``: 1,000,000 event documents written in batches of 10,000 and
  read back and acknowledged in batches of 1,000 (the replay after an outage).

``--baseline REV`` measures the shipper of git revision ``REV`` too, in the
same run against the same node, for a before/after table: REV's packages are
laid out (by REV's ``package-dir`` in pyproject.toml) in a temporary
directory that comes first on the child's ``PYTHONPATH``. Every measurement
runs in a child process of its own (this file with ``--child``); the rounds
alternate the two trees, and the table gives the median per tree.

Goals (issue 11): >= 20,000 documents/s on one core for the shipper side;
spool write + replay of 1 million documents in under a minute.

Usage: python bench/shipper_bench.py [--events 200000] [--spool-docs 1000000]
       [--baseline REV] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from opensearch_fixture import OpenSearchNode
from shipper_helpers import base_snapshot, record, with_ring

from vppcomp.exporter.shipper import backends
from vppcomp.exporter.shipper.documents import Observer
from vppcomp.exporter.shipper.runner import Shipper, ShipperConfig
from vppcomp.exporter.shipper.spool import Spool
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.replay import SegmentServer
from vppcomp.statseg.writer import SegmentWriter

RING = 4096
THREADS = 2


def records(start: int, n: int) -> list[bytes]:
    return [
        record(
            timestamp_ns=1_800_000_000_000_000_000 + i,
            type="decompress-failure",
            reason=8,
            sa_index=0,
            sa_id=0,
            length=1400,
            src="192.168.1.2",
            dst="192.168.1.1",
        )
        for i in range(start, start + n)
    ]


REPO = Path(__file__).parents[1]


def ring_to_bulk(url: str, work: Path, total: int, namespace: str) -> dict[str, float]:
    base = base_snapshot()
    # a full ring reads as ring_size - 1 records (the reader leaves the slot
    # VPP may be writing); record contents do not matter for the cost
    per_read = RING - 1
    pool = records(0, per_read)
    snap = with_ring(base, [(RING, pool)] * THREADS, RING)
    server = SegmentServer(work / "stats.sock", 2 * SegmentWriter.required_size(snap))
    with server:
        settings = backends.Settings(url=url)
        shipper = Shipper(
            StatsClient(str(work / "stats.sock")),
            Spool(work / "bench.sqlite", 1 << 34),
            lambda: backends.connect(settings),
            Observer("bench-host"),
            ShipperConfig(namespace=namespace, interval=3600.0, batch_size=2000),
        )
        server.publish(with_ring(base, [(0, [])] * THREADS, RING))
        shipper.read()
        shipper.flush(budget=60)  # templates, data streams: not measured
        read_cpu = flush_cpu = 0.0
        sequence = 0
        started, cpu0 = time.perf_counter(), time.process_time()
        while sequence * THREADS < total:
            sequence += per_read
            server.publish(with_ring(base, [(sequence, pool)] * THREADS, RING))
            c = time.process_time()
            shipper.read()
            read_cpu += time.process_time() - c
            c = time.process_time()
            while not shipper.flush(budget=60):
                shipper._retry_at = 0
            flush_cpu += time.process_time() - c
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        shipped = sum(shipper.stats.shipped.values())
        assert shipper.stats.ring_overruns == 0 and shipper.spool.count == 0
    return {
        "documents": shipped,
        "docs_per_s": shipped / wall,
        "cpu_s_per_1000": 1000 * cpu / shipped,
        "read_spool_cpu_per_1000": 1000 * read_cpu / shipped,
        "bulk_cpu_per_1000": 1000 * flush_cpu / shipped,
        "docs_per_cpu_s": shipped / cpu,
    }


def spool_cycle(work: Path, n: int) -> dict[str, float]:
    from vppcomp.exporter.shipper.documents import EVENT, Document

    body = {
        "@timestamp": "2027-01-15T08:00:00.000Z",
        "event": {"action": "decompress-failure", "sequence": 0},
        "source": {"ip": "192.168.1.2"},
        "message": "x" * 120,
    }
    batch = [Document(EVENT, "logs-vpp.ipcomp-bench", f"id-{i:08d}", body) for i in range(10_000)]
    spool = Spool(work / "cycle.sqlite", 1 << 34)
    started = time.perf_counter()
    for _ in range(n // len(batch)):
        spool.put(batch)
    written = time.perf_counter() - started
    replayed = 0
    while True:
        docs = spool.peek(1000)
        if not docs:
            break
        spool.ack([d.seq for d in docs])
        replayed += len(docs)
    total = time.perf_counter() - started
    spool.close()
    return {
        "documents": replayed,
        "write_s": written,
        "replay_s": total - written,
        "total_s": total,
    }


def lay_out(rev: str, into: Path) -> Path:
    """The ``vppcomp`` packages of git revision ``rev`` under ``into``, laid
    out as that revision's pyproject installs them; returns the import root."""
    pyproject = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:pyproject.toml"],
        check=True,
        capture_output=True,
    ).stdout
    mapping = tomllib.loads(pyproject.decode())["tool"]["setuptools"]["package-dir"]
    tree = into / "tree"
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, *sorted(set(mapping.values()))],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    root = into / "root"
    for package, folder in sorted(mapping.items()):  # parents before children
        target = root.joinpath(*package.split("."))
        target.parent.mkdir(parents=True, exist_ok=True)
        (tree / folder).rename(target)
    return root


def child(what: str, url: str, events: int, spool_docs: int, namespace: str) -> dict[str, Any]:
    import vppcomp.exporter.shipper

    with tempfile.TemporaryDirectory() as tmp:
        if what == "ring":
            result: dict[str, Any] = ring_to_bulk(url, Path(tmp), events, namespace)
        else:
            result = spool_cycle(Path(tmp), spool_docs)
    result["shipper"] = str(Path(vppcomp.exporter.shipper.__file__).parent)
    return result


def run_child(
    root: Path | None, what: str, url: str, args: argparse.Namespace, namespace: str
) -> dict[str, Any]:
    env = dict(os.environ)
    if root is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    command = [sys.executable, __file__, "--child", what, "--url", url, "--namespace", namespace,
               "--events", str(args.events), "--spool-docs", str(args.spool_docs)]  # fmt: skip
    answer = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    result = dict(json.loads(answer.stdout.splitlines()[-1]))
    expected = root if root is not None else REPO
    assert result["shipper"].startswith(str(expected)), f"measured {result['shipper']}"
    return result


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--spool-docs", type=int, default=1_000_000)
    parser.add_argument("--baseline", metavar="REV", help="also measure git revision REV")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=("ring", "spool"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--namespace", default="bench", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, args.events, args.spool_docs, args.namespace)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        trees: dict[str, Path | None] = {"this tree": None}
        if args.baseline:
            trees = {args.baseline: lay_out(args.baseline, work / "baseline"), **trees}
        node = OpenSearchNode(work / "opensearch", heap="1g").start()
        ring: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        spool: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        try:
            for n in range(args.rounds):
                for k, (name, root) in enumerate(trees.items()):
                    namespace = f"bench-{k}-{n}"
                    ring[name].append(run_child(root, "ring", node.url, args, namespace))
            for name, root in trees.items():
                spool[name].append(run_child(root, "spool", node.url, args, "unused"))
        finally:
            node.stop()
    names = list(trees)
    rows = [
        ("ring -> bulk: documents per round", "documents", "{:.0f}", ""),
        ("ring -> bulk: documents/s (wall; OpenSearch on the same 2 cores)", "docs_per_s",
         "{:,.0f}", ""),
        ("shipper: documents per CPU second (one core)", "docs_per_cpu_s", "{:,.0f}", ">= 20,000"),
        ("shipper: CPU s per 1,000 documents", "cpu_s_per_1000", "{:.4f}", "<= 0.05"),
        ("  of which read, decode, documents, spool", "read_spool_cpu_per_1000", "{:.4f}", ""),
        ("  of which bulk (serialise, send, parse answers, ack)", "bulk_cpu_per_1000",
         "{:.4f}", ""),
    ]  # fmt: skip
    print(f"| measure | {' | '.join(names)} | goal |")
    print(f"|---|{'---|' * len(names)}---|")
    for label, key, form, goal in rows:
        values = " | ".join(form.format(median(ring[name], key)) for name in names)
        print(f"| {label} | {values} | {goal} |")
    docs = f"{args.spool_docs:,}"
    for label, key, goal in (
        (f"spool: write {docs} documents", "write_s", ""),
        ("spool: replay (peek + ack)", "replay_s", ""),
        ("spool: write + replay", "total_s", "< 60 s"),
    ):
        values = " | ".join(f"{median(spool[name], key):.1f} s" for name in names)
        print(f"| {label} | {values} | {goal} |")
    print(f"\n{args.rounds} rounds of ring -> bulk per tree (medians), one spool cycle per tree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
