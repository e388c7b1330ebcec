"""Benchmarks reuse the test personas and storage isolation."""

from tests.conftest import *  # noqa: F403
