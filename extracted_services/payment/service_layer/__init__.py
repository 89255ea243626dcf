"""The payment use cases over a unit of work (``unit_of_work``) and the gateway port."""
