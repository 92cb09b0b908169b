"""Every public service and query is declared with a permission (or as open before
login), and every declared action has an access test (issue: Privacy core, item 5;
controls.md AUTHZ-01). Fails closed: a new function without a declaration fails here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import machi
from machi.privacy.access import Declared

TESTS = Path(__file__).resolve().parent.parent


def _public_actions() -> dict[str, object]:
    found: dict[str, object] = {}
    for mod in pkgutil.walk_packages(machi.__path__, "machi."):
        if not re.search(r"\.(services|queries)$", mod.name):
            continue
        module = importlib.import_module(mod.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            found[f"{mod.name}.{name}"] = fn
    return found


def test_every_public_service_and_query_is_declared() -> None:
    undeclared = [
        name
        for name, fn in _public_actions().items()
        if not isinstance(getattr(fn, "__machi_action__", None), Declared)
    ]
    assert undeclared == [], f"declare with @authorised(...) or @open_action: {undeclared}"


def test_every_authorised_action_has_an_access_test() -> None:
    """An access test names the action in a call to support.assert_access."""
    text = "\n".join(p.read_text("utf-8") for p in TESTS.rglob("test_*.py"))
    missing = [
        decl.action
        for fn in _public_actions().values()
        if (decl := fn.__machi_action__).permission is not None  # type: ignore[attr-defined]
        and f'"{decl.action}"' not in text
    ]
    assert missing == [], f"no assert_access test for: {missing}"
