"""One database session per request: the principal's lookup, the route and the page share it."""

from __future__ import annotations

import pytest

PAGES = ["/", "/plans/rutland-2014", "/plans/rutland-2014/schemes/0", "/api/plans"]


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_in_page_opens_one_session(app, client, login, path) -> None:
    login("editor")
    client.get(path)  # the HWB names of the page header are cached after the first view
    factory = app.state.sessions
    opened = []

    def counting():  # type: ignore[no-untyped-def]
        opened.append(1)
        return factory()

    app.state.sessions = counting
    try:
        r = client.get(path)
    finally:
        app.state.sessions = factory
    assert r.status_code == 200
    assert len(opened) == 1
