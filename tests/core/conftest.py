"""Fixtures: the shared run fixtures (a run folder, a target file, the configuration, a fake driver)."""

from tests.runfixtures import _isolated_home, configuration, driver, lab_home, run, target_file  # noqa: F401  (fixtures)
