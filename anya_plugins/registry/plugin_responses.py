"""The JSON answers of the devpi plugin's tweens and views, in devpi's own shape.

devpi answers errors as ``{"message": ...}``; a refused upload also carries the message in
the reason phrase, because that is what twine and pip print.
"""

from __future__ import annotations

import json
from typing import Any

from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.errors import AnyaError

JSON = "application/json"


def json_response(document: object, *, status: int = 200, content_type: str = JSON) -> Response:
    return Response(
        body=json.dumps(document), status=status, content_type=content_type, charset="utf-8"
    )


def message_response(status: int, message: str) -> Response:
    """An error answer: ``{"message": message}``."""
    return json_response({"message": message}, status=status)


def refusal_response(refusal: AnyaError) -> Response:
    """400 whose reason phrase carries the message (and hint)."""
    message = refusal.message if not refusal.hint else f"{refusal.message} ({refusal.hint})"
    reason = message.replace("\r", " ").replace("\n", " ")
    body = json.dumps({"message": message}) + "\n"
    return Response(body=body, status=f"400 {reason}", content_type=JSON, charset="utf-8")


def json_body(request: Any) -> dict[str, Any] | None:
    """The request's JSON object; None when the body is not JSON or not an object."""
    try:
        body = request.json_body
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
