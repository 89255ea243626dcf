"""Who in the monolith handles which event (EVENTS["HANDLERS"]). Routing to these queues: event_rules.yaml."""

HANDLERS = {
    "reporting": {
        "order.confirmed": ["monolith.reporting.handlers.on_order_confirmed"],
        "order.cancelled": ["monolith.reporting.handlers.on_order_cancelled"],
    },
}
