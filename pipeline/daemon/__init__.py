"""The scheduler daemon: when runs happen, each run in its own process, health and status."""
