"""The shipper's throughput, side by side in one run, against a real OpenSearch.

* ``ring -> bulk``: event records in a replayed segment (2 threads, rings of
  4096), read by the shipper (decode by the ring's schema, ECS documents,
  ids), spooled (SQLite, one transaction per read) and flushed with
  ``streaming_bulk`` into a real single-node OpenSearch 2.19 started from the
  Maven jars of tests/opensearch. Reported: documents per second (wall) and
  the shipper's own CPU seconds per 1,000 documents (this process only; the
  cluster is another process), and how that CPU splits between read+spool
  and the bulk requests.
* ``spool``: 1,000,000 event documents written in batches of 10,000 and
  read back and acknowledged in batches of 1,000 (the replay after an outage).

Goals (issue 11): >= 20,000 documents/s on one core for the shipper side;
spool write + replay of 1 million documents in under a minute.

Usage: python bench/shipper_bench.py [--events 200000] [--spool-docs 1000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

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


def ring_to_bulk(node: OpenSearchNode, work: Path, total: int) -> dict[str, float]:
    base = base_snapshot()
    # a full ring reads as ring_size - 1 records (the reader leaves the slot
    # VPP may be writing); record contents do not matter for the cost
    per_read = RING - 1
    pool = records(0, per_read)
    snap = with_ring(base, [(RING, pool)] * THREADS, RING)
    server = SegmentServer(work / "stats.sock", 2 * SegmentWriter.required_size(snap))
    with server:
        settings = backends.Settings(url=node.url)
        shipper = Shipper(
            StatsClient(str(work / "stats.sock")),
            Spool(work / "bench.sqlite", 1 << 34),
            lambda: backends.connect(settings),
            Observer("bench-host"),
            ShipperConfig(namespace="bench", interval=3600.0, batch_size=2000),
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--spool-docs", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        spool = spool_cycle(work, args.spool_docs)
        node = OpenSearchNode(work / "opensearch", heap="1g").start()
        try:
            ring = ring_to_bulk(node, work, args.events)
        finally:
            node.stop()
    rows = [
        ("ring -> bulk: documents", f"{ring['documents']:.0f}", ""),
        ("ring -> bulk: documents/s (wall; OpenSearch on the same 2 cores)",
         f"{ring['docs_per_s']:,.0f}", ">= 20,000"),
        ("shipper: documents per CPU second (one core)", f"{ring['docs_per_cpu_s']:,.0f}",
         ">= 20,000"),
        ("shipper: CPU s per 1,000 documents", f"{ring['cpu_s_per_1000']:.4f}", "<= 0.05"),
        ("  of which read, decode, documents, spool", f"{ring['read_spool_cpu_per_1000']:.4f}", ""),
        ("  of which bulk (serialise, send, parse answers, ack)",
         f"{ring['bulk_cpu_per_1000']:.4f}", ""),
        (f"spool: write {spool['documents']:,.0f} documents", f"{spool['write_s']:.1f} s", ""),
        ("spool: replay (peek + ack)", f"{spool['replay_s']:.1f} s", ""),
        ("spool: write + replay", f"{spool['total_s']:.1f} s", "< 60 s"),
    ]  # fmt: skip
    print("| measure | value | goal |")
    print("|---|---|---|")
    for name, value, goal in rows:
        print(f"| {name} | {value} | {goal} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
