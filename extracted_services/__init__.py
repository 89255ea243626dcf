"""Extracted inventory, payment and shipment services: built in the extracted-services issue."""
