"""Which successor answers once a change is found: one per way, chosen from the hook."""

from __future__ import annotations

import ctypes
import logging

import pytest

from reloadmw import Options, hooks
from reloadmw.check import Check, State
from reloadmw.collect import Entry
from reloadmw.successor import Successor
from reloadmw.successor.choose import choose
from reloadmw.successor.fresh import Fresh
from reloadmw.successor.handover import HandOver
from reloadmw.successor.replay import Replay
from reloadmw.successor.retry import Retry


class Forwarding(hooks.Hook):
    """reloadmw serve's kind: the new process answers, to which this one forwards."""

    successor = "new"

    def __call__(self, changed):
        pass

    def forward(self, environ, start_response):
        start_response("200 OK", [])
        return [b"from the new process"]


class Siblings(hooks.Hook):
    """gunicorn's kind: a fresh interpreter answers while the workers are replaced."""

    successor = "fresh"

    def __call__(self, changed):
        pass

    def asked(self):
        return ctypes.c_int64(0)


def chosen(hook, **values):
    return choose(
        hook, lambda changed, environ: None, options=Options.build(values),
        check=Check(None, 1.0, True), environ={}, entry=Entry("app", "/srv/app.py", True),
        ordinal=0, old=lambda environ, start_response: [], built_ns=1,
        reload_required=lambda resource: False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("hook", "values", "kind", "then"),
    [
        (Forwarding(), {}, HandOver, State.HANDED_OVER),
        (Siblings(), {}, Fresh, State.HANDED_OVER),
        (hooks.ModWsgi(), {}, Replay, State.RESTARTING),
        (hooks.Exit(), {}, Successor, State.RESTARTING),
        (Siblings(), {"on_change": "retry"}, Retry, State.RESTARTING),
        (Forwarding(), {"on_change": "retry"}, Retry, State.HANDED_OVER),
    ],
)
def test_each_way_has_its_successor(hook, values, kind, then):
    successor = chosen(hook, **values)
    assert type(successor) is kind and successor.then is then


def test_where_the_old_code_answers_it_is_said_once(caplog):
    with caplog.at_level(logging.INFO, logger="reloadmw"):
        chosen(hooks.Exit())
    assert caplog.text.count("the request that finds a change is answered by the old code") == 1


def test_a_retry_page_under_serve_hands_over_what_comes_after():
    successor = chosen(Forwarding(), on_change="retry")
    seen = []
    body = successor.answer({}, lambda status, headers: seen.append(status), [])
    assert (seen, list(body)) == (["200 OK"], [b"from the new process"])
    assert successor.checks_first({"REQUEST_METHOD": "GET"})
    assert not successor.checks_first({"REQUEST_METHOD": "POST"})
