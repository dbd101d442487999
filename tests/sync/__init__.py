"""Tests of the pure sync engine (``sync/``)."""
