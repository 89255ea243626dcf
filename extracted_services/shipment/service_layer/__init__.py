"""The shipment use cases over a unit of work (``unit_of_work``)."""
