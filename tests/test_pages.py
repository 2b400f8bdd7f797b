"""reloadmw's own responses: who sees details, escaping, and content negotiation."""

from __future__ import annotations

import pytest
from webtest import TestApp

from reloadmw import pages
from reloadmw.pages import Problem

HOSTILE = Problem("/srv/<app>/views.py", 3, "invalid syntax", "x = <script>alert(1)</script>")


def problem_app(environ, start_response):
    return pages.syntax_error([HOSTILE], environ, start_response)


@pytest.mark.parametrize(
    ("environ", "local"),
    [
        ({"REMOTE_ADDR": "127.0.0.1"}, True),
        ({"REMOTE_ADDR": "127.8.9.10"}, True),
        ({"REMOTE_ADDR": "::1"}, True),
        ({"REMOTE_ADDR": "10.0.0.2"}, False),
        ({"REMOTE_ADDR": "192.168.1.9"}, False),
        ({"REMOTE_ADDR": ""}, False),
        ({}, False),
        ({"REMOTE_ADDR": "localhost"}, False),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, False),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1, 203.0.113.9"}, False),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}, True),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=192.0.2.60;proto=http"}, False),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": 'for="[::1]:4711"'}, True),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=unknown"}, False),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "198.51.100.7"}, False),
        ({"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}, False),
    ],
)
def test_is_local(environ, local):
    assert pages.is_local(environ) is local


def test_local_client_gets_the_details_escaped_as_html():
    response = TestApp(problem_app).get(
        "/", headers={"Accept": "text/html"}, extra_environ={"REMOTE_ADDR": "127.0.0.1"},
        status=500,
    )  # fmt: skip
    assert response.content_type == "text/html"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>" not in response.text
    assert "/srv/&lt;app&gt;/views.py, line 3: invalid syntax" in response.text
    assert response.headers["Cache-Control"] == "no-store"


def test_local_client_without_html_gets_text():
    response = TestApp(problem_app).get(
        "/", headers={"Accept": "*/*"}, extra_environ={"REMOTE_ADDR": "::1"}, status=500
    )
    assert response.content_type == "text/plain"
    assert "x = <script>alert(1)</script>" in response.text


@pytest.mark.parametrize(
    "extra",
    [
        {"REMOTE_ADDR": "192.0.2.1"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
    ],
)
def test_other_clients_get_a_plain_503(extra):
    response = TestApp(problem_app).get("/", extra_environ=extra, status=503)
    assert "views.py" not in response.text
    assert "syntax" not in response.text.lower()


def test_import_error_page():
    def app(environ, start_response):
        return pages.import_error("Traceback: /srv/app.py <boom>", environ, start_response)

    local = TestApp(app).get(
        "/", headers={"Accept": "text/html"}, extra_environ={"REMOTE_ADDR": "127.0.0.1"},
        status=500,
    )  # fmt: skip
    assert "/srv/app.py &lt;boom&gt;" in local.text
    remote = TestApp(app).get("/", extra_environ={"REMOTE_ADDR": "192.0.2.1"}, status=500)
    assert "app.py" not in remote.text


def test_retry_page_reloads_itself():
    response = TestApp(pages.retry).get("/", headers={"Accept": "text/html"}, status=503)
    assert response.headers["Retry-After"] == "1"
    assert '<meta http-equiv="refresh" content="1">' in response.text
    head = TestApp(pages.retry).head("/", status=503)
    assert head.body == b""
