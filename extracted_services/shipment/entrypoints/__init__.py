"""How the outside reaches the shipment service: the HTTP API, the replica's event handlers, commands."""
