"""What team leads read, in one place: the dashboard's counts and tables (``counts``), how often clocks were
kept (``compliance``, from the daily roll-ups every change keeps: ``rollups``), the spreadsheets (``exports``)
and the compliance trend as an SVG chart (``chart``). The page is ``issues.views.dashboard``; its template tags
``issues.templatetags.reporting``."""
