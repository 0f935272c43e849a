"""Make the demo's replay recording from the live set-up (``vppcomp demo --record DIR``).

Starts the two live ends exactly as the demo does, lets the traffic run,
then saves, per end, what the replay needs:

* ``<end>.api.json``: every binary-API answer the diagrams asked for (the
  node graph of west, the interfaces, SAs and tunnels of both), in
  :class:`vppcomp.topology.api_source.RecordingSource` form;
* ``<end>.vppstats``: the stats segment sampled every second for ``seconds``
  (``vppcomp.statseg.recording``), both ends at the same time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from vppcomp.demo.stack import DemoConfig, DemoError, Stack, recording_files
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.recording import record
from vppcomp.topology.api_source import RecordingSource
from vppcomp.topology.graph_collect import collect_graph
from vppcomp.topology.graph_view import GraphFilter
from vppcomp.topology.inventory import HostSpec
from vppcomp.topology.node_rates import sample_pair
from vppcomp.topology.tunnel_readers import read_host

SOURCE = "vppcomp demo --record: two VPPs with the ipcomp plugin over memif, pg traffic"


def record_stats(spec: HostSpec, out: Path, seconds: float) -> None:
    """Sample ``spec``'s stats segment into its recording file in ``out``."""
    with StatsClient(str(spec.stats_socket)) as client:
        record(
            client,
            recording_files(out, spec.name)[0],
            interval=1.0,
            duration=seconds,
            source=f"{SOURCE}: {spec.name}",
        )


def record_demo(
    out: Path, seconds: float, say: Callable[[str], None], stopping: threading.Event
) -> None:
    """Record the live demo into ``out``; raises DemoError without a VPP, and
    Interrupted (leaving ``out`` incomplete) once ``stopping`` is set."""
    stack = Stack(DemoConfig(mode="live"), say, stopping)
    try:
        prefix = stack.choose_mode()
        if prefix is None:
            raise DemoError("recording needs a VPP (VPP_PREFIX, /opt/vpp, vpp on PATH)")
        hosts = stack.start_live_ends(prefix)
        out.mkdir(parents=True, exist_ok=True)
        for index, spec in enumerate(hosts):
            recorder = RecordingSource(spec.api_source())
            with StatsClient(str(spec.stats_socket)) as client:
                pair = sample_pair(client, 2.0)
            if index == 0:
                collect_graph(recorder, pair, GraphFilter())
            read_host(recorder, pair)
            recorder.save(recording_files(out, spec.name)[1])
            say(f"{spec.name}: {len(recorder.calls)} API answers recorded")
        say(f"recording both stats segments for {seconds:.0f} s")
        # daemons: an interrupted recording is not waited for
        threads = [
            threading.Thread(target=record_stats, args=(spec, out, seconds), daemon=True)
            for spec in hosts
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                stack.step()
                thread.join(0.5)
        for spec in hosts:
            for path in recording_files(out, spec.name):
                say(f"{path}: {path.stat().st_size} bytes")
    finally:
        stack.stop()
