"""Inventory's use cases over a unit of work and a repository port; reads in ``queries``."""
