"""Domain events: past-tense, versioned, frozen dataclasses carrying ids and codes only,
never personal values. Each context declares its own in ``<context>/events.py``."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar

_REGISTRY: dict[tuple[str, int], type[DomainEvent]] = {}


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    name: ClassVar[str]
    version: ClassVar[int]
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            key = (cls.name, cls.version)
            if key in _REGISTRY and _REGISTRY[key] is not cls:
                raise TypeError(f"event {key} declared twice")
            _REGISTRY[key] = cls

    def to_payload(self) -> dict[str, Any]:
        return {
            f.name: _encode(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name != "event_id"
        }


def _encode(value: object) -> object:
    if isinstance(value, uuid.UUID | date | datetime):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def event_type(name: str, version: int) -> type[DomainEvent]:
    try:
        return _REGISTRY[(name, version)]
    except KeyError:
        raise LookupError(f"unknown event {name} v{version}") from None


def from_payload(name: str, version: int, event_id: uuid.UUID, payload: dict[str, Any]) -> Any:
    """Rebuild an event from its outbox row, converting fields back to their types."""
    cls = event_type(name, version)
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, raw in payload.items():
        kind = str(hints.get(key, ""))
        if raw is None:
            kwargs[key] = None
        elif "UUID" in kind:
            kwargs[key] = uuid.UUID(raw)
        elif "datetime" in kind:
            kwargs[key] = datetime.fromisoformat(raw)
        elif "date" in kind:
            kwargs[key] = date.fromisoformat(raw)
        else:
            kwargs[key] = raw
    return cls(event_id=event_id, **kwargs)
