"""Reports of a run folder for people and CI: ``report.html``, ``report.md``, ``junit.xml``, the run history
and its trend page.

Modules: :mod:`aftershock.reports.model` (the run folder, loaded), :mod:`aftershock.reports.series` (downsampled
series),
:mod:`aftershock.reports.svg` and :mod:`aftershock.reports.charts` (inline SVG), :mod:`aftershock.reports.html`,
:mod:`aftershock.reports.markdown`,
:mod:`aftershock.reports.junit`, :mod:`aftershock.reports.history` (SQLite store, regression flags),
:mod:`aftershock.reports.trend`,
:mod:`aftershock.reports.write` (all of them at once).

Example::

    from aftershock.reports import write_reports
    paths = write_reports(run_dir)            # report.html, report.md, junit.xml; recorded in the history
"""

from aftershock.reports.write import ReportPaths, write_reports

__all__ = ["ReportPaths", "write_reports"]
