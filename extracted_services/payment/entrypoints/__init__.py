"""How the outside reaches the payment service: the HTTP API, the replica's event handlers, commands."""
