"""Domain errors: a stable dotted code (``<context>.<snake_case>``) plus a Japanese message
for staff. The API turns them into RFC 9457 problem details; never a stack trace."""

from __future__ import annotations

from enum import StrEnum


class DomainError(Exception):
    """A business rule refused the action. Nothing was changed."""

    http_status: int = 422

    def __init__(
        self, code: StrEnum, message: str, *, field: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        if status is not None:
            self.http_status = status


class CoreError(StrEnum):
    CONFLICT = "core.conflict"
    NOT_FOUND = "core.not_found"
    INVALID_INPUT = "core.invalid_input"
    PERMISSION_DENIED = "core.permission_denied"


class ConflictError(DomainError):
    """Someone else changed the same record first (optimistic locking)."""

    http_status = 409

    def __init__(
        self, message: str = "他の操作で更新されています。画面を開き直してください。"
    ) -> None:
        super().__init__(CoreError.CONFLICT, message)


class NotFoundError(DomainError):
    http_status = 404

    def __init__(self, message: str = "対象が見つかりません。") -> None:
        super().__init__(CoreError.NOT_FOUND, message)
