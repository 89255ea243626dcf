"""Reverse sync: the extracted services' events keep the monolith's legacy tables current (``legacy-sync``)."""
