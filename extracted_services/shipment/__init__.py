"""The shipment service: create, dispatch, deliver and cancel shipments, extracted from ``monolith.shipments``."""
