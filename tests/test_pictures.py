"""The docs' pictures of the error pages come from what the browser shows (tests/pictures.py)."""

from __future__ import annotations

import pytest

from tests import pictures, support

pytestmark = [pytest.mark.linux, pytest.mark.server]


def test_the_pictures_show_the_error_pages(tmp_path):
    said = pictures.take(tmp_path, support.free_port())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(pictures.EDITS)
    for name, (_line, shown) in pictures.EDITS.items():
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG"), name
        assert shown in said[name] and "hello.py" in said[name], said[name]
    assert 'MESSAGE = "Hello from reloadmw!' in said["syntax-error.png"]
    assert "greetings" in said["import-error.png"]
