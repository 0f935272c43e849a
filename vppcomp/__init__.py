"""vppcomp: IPComp offload for FD.io VPP and the telemetry stack that watches it."""

__version__ = "0.1.0"
