"""Weiguang's benchmarks: figures as ratios against floors measured in the same run.

Run with ``bash scripts/bench`` (or ``python -m bench``). Each run seeds its
own databases, starts the real eventlet server (``bench/serve.py``, which is
``weiguang serve`` plus the bench-only floor endpoints of ``bench/floor.py``)
and measures push, pull, live and web figures next to the bare floors they
are held against. Nothing here runs in the test suite.
"""
