"""Management commands, found here by Django; the code behind them is in ``extracted_services.common``."""
