"""Routing proxy (shadow, canary, cut-over): built in the strangler-proxy issue."""
