"""Integrations of the proxy toolkit with the frameworks it sits in front of."""
