"""Reader, recorder and replayer of VPP's shared-memory statistics segment."""
