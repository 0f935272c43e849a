"""The exporter's HTTP side: the FastAPI app, its JSON views and the
``vppcomp exporter`` command."""
