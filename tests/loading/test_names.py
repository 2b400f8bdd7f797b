"""``package.module:name``: one resolver for hooks and targets."""

from __future__ import annotations

import os

import pytest

from reloadmw.loading import names


def test_split_and_find():
    assert names.split(" os.path : join ") == ("os.path", ["join"])
    assert names.find("os.path:join") is os.path.join
    assert names.find("os", default="getcwd") is os.getcwd
    assert names.find("os:path.join") is os.path.join


@pytest.mark.parametrize("name", ["", ":x", "1os:x", "os:a-b", "os path:join", "os:.x"])
def test_a_malformed_name_is_a_value_error(name):
    with pytest.raises(ValueError, match=r"is not 'package\.module:name'"):
        names.split(name)


def test_a_module_alone_names_its_default():
    assert names.split("os:") == names.split("os") == ("os", [])


def test_a_missing_module_is_told_from_an_import_inside_it():
    with pytest.raises(ModuleNotFoundError) as info:
        names.find("no_such_package_here.views:app")
    assert names.names_missing_module(info.value, "no_such_package_here.views")
    inner = ModuleNotFoundError("No module named 'requests'", name="requests")
    assert not names.names_missing_module(inner, "mysite.views")
