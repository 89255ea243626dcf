"""Settings for the worker of tests/e2e/test_worker_faults.py: the monolith's, with a handler table holding a
poison pill and a short attempt limit."""

from monolith.settings import *  # noqa: F403
from monolith.settings import EVENTS

EVENTS = {**EVENTS, "HANDLERS": "tests.e2e.poison_handlers.HANDLERS", "MAX_ATTEMPTS": 2}
