"""FastAPI dependencies of the routes: the request's one database session and the caller.

``get_db`` opens one session per request (FastAPI caches it within the request, so the
principal's lookup in :func:`bettercare.app.security.current_principal` and the route
share it); ``get_caller`` is the principal with the peer address and request line, as the
services take it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from bettercare.app.db import get_db
from bettercare.app.security import client_ip, current_principal
from bettercare.domain.access import Principal
from bettercare.services.access import Caller

__all__ = ["Acting", "Db", "get_caller", "get_db"]


def get_caller(request: Request, principal: Principal = Depends(current_principal)) -> Caller:
    """The acting principal, the peer address and ``METHOD path`` of this request."""
    return Caller(principal, client_ip(request), f"{request.method} {request.url.path}")


#: The request's session, as a route parameter type (``db: Db``).
Db = Annotated[Session, Depends(get_db)]
#: The acting principal with the request's origin (``caller: Acting``).
Acting = Annotated[Caller, Depends(get_caller)]
