"""reloadmw.live.csp: what a page's Content-Security-Policy lets the live-reload tag do."""

from __future__ import annotations

import pytest

from reloadmw.live.csp import permission

ORIGIN = "http://127.0.0.1:8000"
PREFIX = "/__reloadmw__/"


def policy(*values: str) -> list[tuple[str, str]]:
    return [("Content-Security-Policy", value) for value in values]


@pytest.mark.parametrize(
    "headers",
    [
        [],
        policy("script-src 'self'"),
        policy("default-src 'self'"),
        policy("default-src *"),
        policy("script-src http:; connect-src http://127.0.0.1:8000"),
        policy("script-src 127.0.0.1:*; connect-src 'self'"),
        policy("img-src 'none'"),
        [("Content-Security-Policy-Report-Only", "default-src 'none'")],
    ],
)
def test_policies_that_let_the_script_load_from_the_page_origin(headers):
    assert permission(headers, ORIGIN, PREFIX).allowed
    assert permission(headers, ORIGIN, PREFIX).nonce is None


def test_a_nonce_policy_gives_the_tag_its_nonce():
    headers = policy("script-src 'nonce-AbC+/=' 'strict-dynamic'; connect-src 'self'")
    assert permission(headers, ORIGIN, PREFIX).nonce == "AbC+/="
    # 'strict-dynamic' ignores 'self': the nonce is needed even beside it
    both = policy("script-src 'self' 'nonce-xyz' 'strict-dynamic'")
    assert permission(both, ORIGIN, PREFIX).nonce == "xyz"


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        (policy("default-src 'none'"), "connect-src"),
        (policy("script-src 'sha256-abc'"), "neither the page's origin nor a nonce"),
        (policy("script-src https://cdn.example"), "neither the page's origin nor a nonce"),
        (policy("script-src 'self'; connect-src https://api.example"), "connect-src"),
        (policy("script-src 'nonce-a'", "script-src 'nonce-b'"), "different nonces"),
        (policy("sandbox allow-scripts"), "sandboxes"),
    ],
)
def test_policies_that_keep_the_tag_out_say_why(headers, why):
    said = permission(headers, ORIGIN, PREFIX)
    assert not said.allowed
    assert why in said.why


def test_several_policies_in_one_header_all_count():
    assert not permission(policy("script-src 'self', script-src 'none'"), ORIGIN, PREFIX).allowed


def test_a_source_with_a_path_allows_what_is_under_it():
    under = policy("script-src http://127.0.0.1:8000/__reloadmw__/; connect-src 'self'")
    assert permission(under, ORIGIN, PREFIX).allowed
    elsewhere = policy("script-src http://127.0.0.1:8000/static/; connect-src 'self'")
    assert not permission(elsewhere, ORIGIN, PREFIX).allowed
    exact = policy("script-src 'self'; connect-src http://127.0.0.1:8000/api")
    assert not permission(exact, ORIGIN, PREFIX).allowed
