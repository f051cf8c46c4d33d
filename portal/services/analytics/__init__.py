"""Analytics (issue 11): the figures partners read on /analytics, their charts, the exports
and the quarterly report.

- `sql`: what SQLite and PostgreSQL spell differently (local day and month, JSON lists);
- `calendar_table`: the working-day table spans are counted with;
- `facts`: what is known about each complaint, as SQL (department, acknowledgement, ...);
- `filters`: the period, department and severity asked for, and the complaints list's facets;
- `figures`: the figures, in one aggregate statement;
- `charts`: the figures drawn as SVG (pygal);
- `exports`: the rows behind the figures as CSV and XLSX;
- `quarterly`: the quarterly report as a bilingual PDF.
"""
