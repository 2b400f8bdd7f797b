"""reloadmw.live.inject: which responses take the live-reload tag, and how the rest pass."""

from __future__ import annotations

import sys

import pytest
from webtest import TestApp

from reloadmw.live import inject

TAG = b'<script data-reloadmw="1.2."></script>'
PAGE = b"<html><body><h1>hi</h1></BODY></html>"


def html_app(body=PAGE, status="200 OK", headers=(), content_type="text/html; charset=utf-8"):
    def app(environ, start_response):
        start_response(status, [("Content-Type", content_type), *headers])
        return [body]

    return app


def tagged(app, tag=TAG):
    """``app`` behind add_tag, as a WSGI application."""
    return lambda environ, start_response: inject.add_tag(
        environ, start_response, app, lambda headers: tag
    )


def test_a_page_gets_the_tag_before_its_last_body_end_tag_and_a_right_content_length():
    length = ("Content-Length", str(len(PAGE)))
    response = TestApp(tagged(html_app(headers=[length]))).get("/")
    assert response.body == b"<html><body><h1>hi</h1>" + TAG + b"</BODY></html>"
    assert response.headers["Content-Length"] == str(len(response.body))
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_a_page_without_a_body_end_tag_gets_it_at_the_end():
    response = TestApp(tagged(html_app(b"<p>fragment of a page"))).get("/")
    assert response.body == b"<p>fragment of a page" + TAG


@pytest.mark.parametrize(
    ("status", "headers", "content_type"),
    [
        ("200 OK", [], "text/plain"),
        ("200 OK", [], "application/json"),
        ("200 OK", [("Content-Encoding", "gzip")], "text/html"),
        ("200 OK", [("Content-Disposition", "attachment; filename=a.html")], "text/html"),
        ("200 OK", [], "text/html; charset=utf-16"),
        ("206 Partial Content", [("Content-Range", "bytes 0-9/99")], "text/html"),
    ],
)
def test_other_responses_pass_as_the_application_made_them(status, headers, content_type):
    body = PAGE

    def app(environ, start_response):
        start_response(status, [("Content-Type", content_type), *headers])
        return result

    result = [body]
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    assert inject.add_tag(environ, lambda *a: None, app, lambda h: TAG) is result


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
def test_responses_without_a_body_pass(status):
    result: list[bytes] = []

    def app(environ, start_response):
        start_response(status, [("Content-Type", "text/html")])
        return result

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    assert inject.add_tag(environ, lambda *a: None, app, lambda h: TAG) is result


def test_head_requests_and_fetched_fragments_pass():
    app = TestApp(tagged(html_app()))
    assert TAG not in app.head("/").body
    assert app.get("/", headers={"Sec-Fetch-Dest": "empty"}).body == PAGE
    assert app.get("/", headers={"Sec-Fetch-Dest": "iframe"}).body.count(TAG) == 1


def test_a_body_with_a_tag_already_gets_no_second():
    response = TestApp(tagged(html_app(b"<body>" + TAG + b"</body>"))).get("/")
    assert response.body.count(b"data-reloadmw=") == 1


def test_a_body_longer_than_the_limit_passes_whole(monkeypatch):
    monkeypatch.setattr(inject, "LIMIT", 10)
    pieces = [b"<body>", b"0123456789", b"abc", b"</body>"]

    def app(environ, start_response):
        length = ("Content-Length", str(sum(map(len, pieces))))
        start_response("200 OK", [("Content-Type", "text/html"), length])
        return iter(pieces)

    response = TestApp(tagged(app)).get("/")
    assert response.body == b"".join(pieces)


def test_a_stream_goes_as_it_comes_and_the_tag_follows_it():
    read = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html"), ("ETag", '"v1"')])
        for piece in (b"<body>", b"...", b"</body></html>"):
            read.append(piece)
            yield piece

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    sent = []
    result = inject.add_tag(environ, lambda s, h, e=None: sent.append(h), app, lambda h: TAG)
    assert sent == [[("Content-Type", "text/html")]]  # the ETag named another body
    iterator = iter(result)
    assert next(iterator) == b"<body>"
    assert read == [b"<body>"]  # nothing read ahead: it streams
    assert b"".join(iterator) == b"...</body></html>" + TAG


def test_a_stream_that_has_a_tag_gets_no_second():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html")])
        yield b"<body>" + TAG[:20]
        yield TAG[20:] + b"</body>"

    assert TestApp(tagged(app)).get("/").body.count(b"data-reloadmw=") == 1


def test_a_tagged_body_loses_its_etag_and_last_modified():
    headers = [("ETag", '"abc"'), ("Last-Modified", "Mon, 30 Nov 2026 10:00:00 GMT")]
    response = TestApp(tagged(html_app(headers=headers))).get("/")
    assert "ETag" not in response.headers
    assert "Last-Modified" not in response.headers


def test_post_answers_and_redirects_pass():
    app = TestApp(tagged(html_app()))
    assert app.post("/").body == PAGE
    moved = TestApp(tagged(html_app(status="302 Found", headers=[("Location", "/x")])))
    assert moved.get("/").body == PAGE


def test_a_body_written_through_write_passes_as_written():
    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/html")])
        write(b"<body>written")
        return [b"</body>"]

    def generator(environ, start_response):  # writes after a piece was read: order kept
        write = start_response("200 OK", [("Content-Type", "text/html")])
        yield b"A"
        write(b"B")
        yield b"C"

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    for application, expected in ((app, b"<body>written</body>"), (generator, b"ABC" + TAG)):
        wire: list[bytes] = []  # what the server sends, in order
        send = wire.append
        result = inject.add_tag(environ, lambda *a, send=send: send, application, lambda h: TAG)
        wire.extend(result)
        assert b"".join(wire) == expected


def test_an_application_that_starts_its_response_late_is_served():
    def app(environ, start_response):  # a generator: start_response runs at the first next()
        start_response("200 OK", [("Content-Type", "text/html")])
        yield b"<body>late"
        yield b"</body>"

    assert TestApp(tagged(app)).get("/").body == b"<body>late</body>" + TAG

    def plain(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"<body>a"
        yield b"b</body>"

    assert TestApp(tagged(plain)).get("/").body == b"<body>ab</body>"


def test_an_error_page_started_with_exc_info_replaces_the_held_headers():
    def page_then_error(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html")])
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            start_response("500 Oops", [("Content-Type", "text/html")], sys.exc_info())
        return [b"<body>oops</body>"]

    response = TestApp(tagged(page_then_error)).get("/", status=500)
    assert response.body == b"<body>oops" + TAG + b"</body>"


def test_close_runs_once_when_the_server_closes_the_response():
    events = []

    class Body:
        def __iter__(self):
            events.append("iterated")
            return iter([PAGE])

        def close(self):
            events.append("closed")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html")])
        return Body()

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    result = inject.add_tag(environ, lambda *a: None, app, lambda h: TAG)
    assert events == ["iterated"]  # read, but not closed before the server is done
    assert TAG in b"".join(result)
    result.close()
    assert events == ["iterated", "closed"]


def test_an_application_error_while_reading_reaches_the_server_then_close_runs():
    events = []

    class Body:
        def __iter__(self):
            yield b"<body>"
            raise ValueError("the application's own")

        def close(self):
            events.append("closed")

    def app(environ, start_response):
        length = ("Content-Length", "99")
        start_response("200 OK", [("Content-Type", "text/html"), length])
        return Body()

    result = inject.add_tag({"REQUEST_METHOD": "GET"}, lambda *a: None, app, lambda h: TAG)
    assert events == []
    with pytest.raises(ValueError, match="the application's own"):
        list(result)
    result.close()
    assert events == ["closed"]


def test_a_fault_in_making_the_tag_sends_the_page_as_it_was(caplog):
    def broken(headers):
        raise RuntimeError("a bug here")

    app = lambda environ, start_response: inject.add_tag(  # noqa: E731
        environ, start_response, html_app(), broken
    )
    assert TestApp(app).get("/").body == PAGE
    assert "could not make the live-reload tag" in caplog.text


def test_no_tag_when_the_maker_says_none():
    assert TestApp(tagged(html_app(), tag=None)).get("/").body == PAGE


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<body><script>var s = '</body>';</script></body>", b"';</script>" + TAG + b"</body>"),
        (b"<p>no end<script>document.write('</body>')", b"')" + TAG),
        (b"<p><!-- </body> -->", b"-->" + TAG),
    ],
)
def test_a_body_end_tag_inside_a_script_or_comment_is_text(body, expected):
    assert inject.insert(body, TAG).endswith(expected)


@pytest.mark.parametrize("charset", ["utf-16", "utf16", "UTF-32LE", "x-unknown"])
def test_charsets_that_are_not_ascii_compatible_pass(charset):
    assert not inject.is_page("200 OK", [("Content-Type", f"text/html; charset={charset}")])
    assert inject.is_page("200 OK", [("Content-Type", 'text/html; charset="ISO-8859-1"')])
