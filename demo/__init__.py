"""The local lab: VPP processes, the plugin build, and the whole stack of ``scripts/demo``."""
