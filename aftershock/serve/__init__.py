"""The web console (``aftershock serve``): live run views, game-day control and stakeholder scorecards.

Modules: :mod:`~aftershock.serve.live` (a run folder followed incrementally), :mod:`~aftershock.serve.traffic`
(its timeline tallied per second and per request name), :mod:`~aftershock.serve.hub` (one channel per view,
shared by every browser), :mod:`~aftershock.serve.runview` / :mod:`~aftershock.serve.dayview` (server-rendered
panels), :mod:`~aftershock.serve.gameday` (the console's operator and the day's thread),
:mod:`~aftershock.serve.scorecard`, :mod:`~aftershock.serve.safety` (redaction, tokens), :mod:`~aftershock.serve.app`
(routes, token and CSRF checks) and :mod:`~aftershock.serve.server` (bind and run).
"""
