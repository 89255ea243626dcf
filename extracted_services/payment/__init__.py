"""The payment service: authorise, capture, void and refund payments, extracted from ``monolith.payments``."""
