"""Fixtures: the load tests' stand-in shop and process helpers."""

from tests.loadtests.conftest import make_shop, procs, shop  # noqa: F401  (fixtures)
