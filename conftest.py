"""Root conftest: loads the resilience suite plugin (``pytest -m resilience --target lab``) and pytester
(which the plugin's own tests use).

The unit and lab tests under ``tests/`` are unaffected: experiments are collected only with
``-m resilience`` or ``--resilience`` (see :mod:`aftershock.pytest_plugin`).
"""

pytest_plugins = ["aftershock.pytest_plugin", "pytester"]
