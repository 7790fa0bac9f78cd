"""Root conftest: pytester, which the resilience plugin's own tests use.

The resilience suite plugin (``pytest -m resilience --target lab``) loads through its ``pytest11`` entry point
(:mod:`aftershock.pytest_plugin`). The unit and lab tests under ``tests/`` are unaffected: experiments are
collected only with ``-m resilience`` or ``--resilience``.
"""

pytest_plugins = ["pytester"]
