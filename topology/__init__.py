"""Graphviz diagrams of VPP's packet graph and of the tunnels between hosts."""
