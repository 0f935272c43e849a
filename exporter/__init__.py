"""The exporter: Prometheus collectors over stats-segment snapshots, and the web app."""
