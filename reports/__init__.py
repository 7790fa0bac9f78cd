"""Reports of a run folder for people and CI: ``report.html``, ``report.md``, ``junit.xml``, the run history
and its trend page.

Modules: :mod:`reports.model` (the run folder, loaded), :mod:`reports.series` (downsampled series),
:mod:`reports.svg` and :mod:`reports.charts` (inline SVG), :mod:`reports.html`, :mod:`reports.markdown`,
:mod:`reports.junit`, :mod:`reports.history` (SQLite store, regression flags), :mod:`reports.trend`,
:mod:`reports.write` (all of them at once).

Example::

    from reports import write_reports
    paths = write_reports(run_dir)            # report.html, report.md, junit.xml; recorded in the history
"""

from reports.write import ReportPaths, write_reports

__all__ = ["ReportPaths", "write_reports"]
