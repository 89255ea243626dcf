"""The endpoints of a Django URLconf in the proxy's route syntax, and which of them a proxy config leaves out.

>>> for endpoint in endpoints():
...     print(endpoint.path, endpoint.methods, endpoint.view, endpoint.app)
/api/inventory/stock/<str:sku>/ ('GET',) monolith.inventory.views.StockView inventory
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import DEFAULT_CONVERTERS
from django.urls.resolvers import RegexPattern, RoutePattern

from strangler_proxy.model import Group
from strangler_proxy.routing import compile_path

__all__ = ["SKIPPED_VIEW_MODULES", "Endpoint", "endpoints", "resolve_group", "uncovered"]

# Views that never move to a service: the admin, static files, and API schema/docs pages.
SKIPPED_VIEW_MODULES = (
    "django.contrib.admin",
    "django.contrib.admindocs",
    "django.contrib.staticfiles",
    "django.views.static",
    "drf_spectacular",
    "drf_yasg",
    "rest_framework.schemas",
)
_FRAMEWORK_MODULES = ("django.", "rest_framework.")


@dataclass(frozen=True)
class Endpoint:
    path: str  # the proxy pattern; the Django regex (from the root) when ``note`` says it cannot be converted
    methods: tuple[str, ...]  # upper case; empty = any (function views)
    view: str  # dotted name of the view
    app: str | None  # label of the installed app holding the view's module
    note: str = ""  # why the path is not a proxy pattern

    @property
    def convertible(self) -> bool:
        return not self.note


def endpoints(urlconf: str | None = None) -> list[Endpoint]:
    """Every endpoint of the URLconf (includes followed), in URLconf order, minus SKIPPED_VIEW_MODULES."""
    found: list[Endpoint] = []
    _walk(get_resolver(urlconf).url_patterns, (), found)
    return found


def _walk(patterns: Sequence[URLPattern | URLResolver], prefix: tuple[Any, ...], found: list[Endpoint]) -> None:
    for entry in patterns:
        parts = (*prefix, entry.pattern)
        if isinstance(entry, URLResolver):
            if "admin" not in (entry.namespace, entry.app_name):
                _walk(entry.url_patterns, parts, found)
            continue
        view = _view_of(entry.callback)
        module = getattr(view, "__module__", "") or ""
        if module.startswith(SKIPPED_VIEW_MODULES):
            continue
        path, note = _proxy_path(parts)
        app = apps.get_containing_app_config(module)
        found.append(
            Endpoint(
                path=path,
                methods=_methods(entry.callback),
                view=f"{module}.{getattr(view, '__qualname__', repr(view))}",
                app=app.label if app else None,
                note=note,
            )
        )


def _view_of(callback: Callable[..., Any]) -> Any:
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback


def _proxy_path(parts: Iterable[Any]) -> tuple[str, str]:
    builtin = {type(converter) for converter in DEFAULT_CONVERTERS.values()}
    texts: list[str] = []
    note = ""
    for pattern in parts:
        if isinstance(pattern, RoutePattern):
            texts.append(str(pattern))
            if any(type(converter) not in builtin for converter in pattern.converters.values()):
                note = "custom path converter: write its route by hand"
        elif isinstance(pattern, RegexPattern):
            texts.append(str(pattern).removeprefix("^"))
            note = "regex pattern (re_path): write its route by hand"
        else:
            texts.append(str(pattern))
            note = f"{type(pattern).__name__}: write its route by hand"
    path = "/" + "".join(texts)
    if not note:
        try:
            compile_path(path)
        except ValueError as exc:
            note = str(exc)
    return path, note


def _methods(callback: Callable[..., Any]) -> tuple[str, ...]:
    """DRF viewsets: their actions; class-based views: the handlers the class implements (HEAD is implied by GET,
    and the OPTIONS every Django/DRF view inherits is left out); function views: any method."""
    actions: Mapping[str, str] | None = getattr(callback, "actions", None)
    if actions:
        return tuple(method.upper() for method in actions if method not in ("head", "options"))
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:
        return ()
    methods: list[str] = []
    for name in getattr(view_class, "http_method_names", ()):
        handler = getattr(view_class, name, None)
        if handler is None or (name == "head" and hasattr(view_class, "get")):
            continue
        if name == "options" and (getattr(handler, "__module__", "") or "").startswith(_FRAMEWORK_MODULES):
            continue
        methods.append(name.upper())
    return tuple(methods)


def resolve_group(app: str | None, groups: Iterable[str]) -> str | None:
    """The group an app's endpoints belong to: the app label, or its singular ("payments" → group "payment")
    when that is the group the config has. Without a config (``groups`` empty) the app label itself."""
    if app is None:
        return None
    names = set(groups)
    if not names:
        return app
    for candidate in (app, app.removesuffix("s")):
        if candidate in names:
            return candidate
    return None


def uncovered(found: Iterable[Endpoint], groups: Mapping[str, Group]) -> list[tuple[Endpoint, str]]:
    """(endpoint, group) for each endpoint whose group is in the config but has no route covering it: a route
    without header conditions that matches the endpoint's path and every one of its methods (an endpoint taking
    any method needs a route without methods). Endpoints that are not proxy patterns are not checked."""
    missing: list[tuple[Endpoint, str]] = []
    for endpoint in found:
        name = resolve_group(endpoint.app, groups)
        if name is None or not endpoint.convertible:
            continue
        sample = compile_path(endpoint.path).example()
        if not any(
            _covers(route_path, methods, sample, endpoint.methods) for route_path, methods in _routes(groups[name])
        ):
            missing.append((endpoint, name))
    return missing


def _routes(group: Group) -> list[tuple[str, tuple[str, ...]]]:
    return [(route.path, route.methods) for route in group.routes if not route.headers]


def _covers(route_path: str, route_methods: tuple[str, ...], sample: str, methods: tuple[str, ...]) -> bool:
    if compile_path(route_path).match(sample) is None:
        return False
    if not route_methods:
        return True
    return bool(methods) and set(methods) <= set(route_methods)
