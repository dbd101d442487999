"""Cooperation helpers of ``server/green.py`` that run unpatched too."""

from __future__ import annotations

import gc

import pytest

from server.green import collector_paused


def test_collector_paused_pauses_the_collector_for_the_block_only():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collector_paused_resumes_after_a_failure():
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError
    assert gc.isenabled()


def test_collector_paused_leaves_a_collector_paused_elsewhere_paused():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
