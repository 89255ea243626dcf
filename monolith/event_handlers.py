"""Who in the monolith handles which event (EVENTS["HANDLERS"]). Routing to these queues: event_rules.yaml, and for
``legacy-sync`` the services' own rules files (they send their events there)."""

_SYNC = "monolith.legacy_sync.handlers."

HANDLERS = {
    "reporting": {
        "order.confirmed": ["monolith.reporting.handlers.on_order_confirmed"],
        "order.cancelled": ["monolith.reporting.handlers.on_order_cancelled"],
    },
    # Reverse sync: the inventory, payment and shipment services' events kept in the legacy tables.
    "legacy-sync": {
        "stock.adjusted": [_SYNC + "on_stock_adjusted"],
        "stock.reserved": [_SYNC + "on_reservation_changed"],
        "stock.released": [_SYNC + "on_reservation_changed"],
        "stock.consumed": [_SYNC + "on_reservation_changed"],
        "payment.authorized": [_SYNC + "on_payment_changed"],
        "payment.captured": [_SYNC + "on_payment_changed"],
        "payment.voided": [_SYNC + "on_payment_changed"],
        "payment.refunded": [_SYNC + "on_payment_changed"],
        "shipment.created": [_SYNC + "on_shipment_changed"],
        "shipment.dispatched": [_SYNC + "on_shipment_dispatched"],
        "shipment.delivered": [_SYNC + "on_shipment_changed"],
        "shipment.cancelled": [_SYNC + "on_shipment_changed"],
    },
}
