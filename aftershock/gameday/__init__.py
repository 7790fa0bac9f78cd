"""Chaos days: a guided game day over a plan of experiments, with a live dashboard and an abort key.

Modules: :mod:`~aftershock.gameday.plan` (``PLAN.yaml``, validated), :mod:`~aftershock.gameday.overrides`
(per-step objectives), :mod:`~aftershock.gameday.snapshot` (reading a live run folder),
:mod:`~aftershock.gameday.dashboard` (rendering it; ``aftershock watch``), :mod:`~aftershock.gameday.operator`
(go / skip / stop), :mod:`~aftershock.gameday.child` (the step's ``aftershock run`` and the abort),
:mod:`~aftershock.gameday.record` (``gameday.json``), :mod:`~aftershock.gameday.runner` (the day, step by step),
:mod:`~aftershock.gameday.report` (``gameday.html`` / ``gameday.md``).
"""
