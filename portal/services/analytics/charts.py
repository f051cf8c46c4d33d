"""The figures as SVG charts, and the text table beside each (the same rows).

Why pygal rather than matplotlib's SVG backend: pygal writes SVG natively as an element tree
(nothing is rasterised, labels stay text), is small and pure Python, and its output is text a
browser and WeasyPrint both draw as vectors; matplotlib would pull in numpy and a rendering
stack to produce the same few bar charts, and by default turns text into paths (fonttype),
which the PDF's text extraction and screen readers could no longer read.

Two of pygal's defaults are turned off: its JavaScript (`js=[]` drops the script it would load
from a CDN, and the inline configuration script it still writes is removed from the tree
before serialising, with the comments), so the charts need no script at all and the portal's
CSP stays strict. The font family names Noto Sans CJK SC first (Debian's fonts-noto-cjk, the
face the PDFs embed) so Chinese labels render, with the usual CJK faces of other systems after
it for a browser that lacks it.

Charts render from `Figures` and `Names` (the labels in one language, or two joined for the
bilingual PDF), never from model objects.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import pygal
from flask_babel import gettext as _
from pygal.style import Style

from portal.models.complaint import CHANNEL_LABELS
from portal.models.investigation import CATEGORY_LABELS, SEVERITY_LABELS
from portal.models.prevention import EXPECTATION_LABELS
from portal.models.resolution import REMEDY_KIND_LABELS
from portal.services.analytics import facts
from portal.services.analytics import prevention as prevention_figures
from portal.services.analytics.figures import Figures
from portal.services.analytics.filters import Catalogue

FONT = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
        '"Hiragino Sans GB", sans-serif')
STYLE = Style(font_family=FONT, background="white", plot_background="white",
              foreground="#1b2430", foreground_strong="#1b2430", foreground_subtle="#6b7280",
              colors=("#2f5d8a", "#c0392b", "#b9a44c", "#6b8f71", "#8e6c8a"),
              title_font_size=15, label_font_size=12, major_label_font_size=12,
              value_font_size=11, legend_font_size=12, no_data_font_size=18)
CHARTS = ("month", "channel", "category", "department", "severity", "root_cause",
          "timeliness", "spans", "satisfaction", "remedies", "prevention")
COUNTED = ("channel", "category", "department", "severity", "root_cause")
SCORES = (1, 2, 3, 4, 5)


@dataclass
class Names:
    """Labels for stored codes, chart titles and column headings, in the document's
    language(s). `codes[dimension][code]` -> label; unknown codes show as themselves."""

    codes: dict[str, Mapping[str, str]] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)
    words: Mapping[str, str] = field(default_factory=dict)  # series names, "no data", ...

    def of(self, dimension: str, code: str | None) -> str:
        if code in (None, ""):
            return self.words.get("none", "-")
        return str(self.codes.get(dimension, {}).get(code, code))


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    values: tuple


def names_for(catalogue: Catalogue, language: str) -> Names:
    """Labels in the current locale (`language` picks the catalogue's names: zh or en)."""
    english = language == "en"
    codes: dict[str, Mapping[str, str]] = {
        "channel": {str(k): str(v) for k, v in CHANNEL_LABELS.items()},
        "category": {str(k): str(v) for k, v in CATEGORY_LABELS.items()},
        "severity": {str(k): str(v) for k, v in SEVERITY_LABELS.items()},
        "remedy": {str(k): str(v) for k, v in REMEDY_KIND_LABELS.items()},
        "department": {str(i): en if english else zh for i, zh, en in catalogue.departments},
        "root_cause": {str(i): en if english else zh
                       for i, _code, zh, en in catalogue.causes},
        "timeliness": {"ack": _("Acknowledgement"), "response": _("First response")},
        "status": {facts.ON_TIME: _("On time"), facts.LATE: _("Late"),
                   facts.PENDING: _("Not due yet")},
        "spans": {"acknowledge": _("To acknowledge"), "decide": _("To decide"),
                  "close": _("To close")},
        "prevention": {
            prevention_figures.WITH_MATTER: _("About a matter"),
            prevention_figures.ANY: _("Its matter lacked a step"),
            **{f"missing_{item.value}": _("Not recorded: %(item)s", item=str(label))
               for item, label in EXPECTATION_LABELS.items()},
            "report_overdue": _("Progress report overdue"),
            "checklist_incomplete": _("Engagement checklist step not done"),
        },
    }
    titles = {
        "month": _("Complaints by month received"), "channel": _("By channel"),
        "category": _("By category"), "department": _("By department"),
        "severity": _("By severity"), "root_cause": _("By root cause"),
        "timeliness": _("Acknowledgement and first response on time"),
        "spans": _("Working days from receipt (median and 90th percentile)"),
        "satisfaction": _("Satisfaction (1 = very dissatisfied, 5 = very satisfied)"),
        "remedies": _("Remedies granted (current decisions)"),
        "prevention": _("What the matter lacked when the complaint arrived"),
    }
    words = {
        "complaints": _("Complaints"), "answers": _("Answers"), "median": _("Median"),
        "p90": _("90th percentile"), "granted": _("Granted"), "no_data": _("No complaints match."),
        "none": _("(none)"), "list_separator": "、" if not english else ", ",
    }
    return Names(codes=codes, titles=titles, words=words)


def joined(first: Names, second: Names, separator: str = " / ") -> Names:
    """Bilingual labels ("沟通 / Communication") for a document in both languages."""
    def pair(a: str, b: str) -> str:
        return a if a == b else f"{a}{separator}{b}"

    codes = {dimension: {code: pair(str(label), str(second.codes.get(dimension, {})
                                                        .get(code, label)))
                         for code, label in labels.items()}
             for dimension, labels in first.codes.items()}
    titles = {k: pair(v, second.titles.get(k, v)) for k, v in first.titles.items()}
    words = {k: pair(v, second.words.get(k, v)) if k != "list_separator" else v
             for k, v in first.words.items()}
    return Names(codes=codes, titles=titles, words=words)


def rows(figures: Figures, chart: str, names: Names) -> list[Row]:
    """The rows a chart draws and its table lists, in order."""
    if chart == "month":
        return [Row(month, month, (n,)) for month, n in figures.by_month()]
    if chart in COUNTED:
        counted = figures.by(chart)
        order = list(names.codes.get(chart, {}))  # the catalogue's order, then the rest
        keys = [k for k in order if k in counted] + sorted(k for k in counted if k not in order)
        return [Row(k, names.of(chart, k), (counted[k],)) for k in keys]
    if chart == "timeliness":
        return [Row(kind, names.of("timeliness", kind),
                    tuple(getattr(figures, kind).get(s, 0) for s in facts.TIMELINESS))
                for kind in ("ack", "response")]
    if chart == "spans":
        return [Row(metric, names.of("spans", metric),
                    (span.n, span.median, span.p90))
                for metric, span in figures.spans.items()]
    if chart == "satisfaction":
        return [Row(str(score), str(score), (figures.satisfaction.get(score, 0),))
                for score in SCORES]
    if chart == "remedies":
        order = list(names.codes.get("remedy", {}))
        kinds = sorted(figures.remedies, key=lambda k: (order.index(k) if k in order
                                                        else len(order), k))
        return [Row(k, names.of("remedy", k), (figures.remedies[k].count,
                                               figures.remedies[k].amount)) for k in kinds]
    if chart == "prevention":
        return [Row(step, names.of("prevention", step), (figures.prevention.get(step, 0),))
                for step in prevention_figures.STEPS]
    raise KeyError(chart)


def _chart(kind: Callable, names: Names, chart: str, **config) -> pygal.Graph:
    options = {"js": [], "style": STYLE, "width": 720, "height": 380, "show_legend": False,
               "print_values": True, "truncate_label": -1, "truncate_legend": -1,
               "no_data_text": names.words.get("no_data", "No data"),
               "title": names.titles.get(chart, chart), "margin": 12,
               "disable_xml_declaration": False}
    options.update(config)
    return kind(**options)


def wide_label_room(labels: list[str]) -> int:
    """pygal sizes the label column at 0.6 em a character; a Chinese character takes a whole
    em, so without this room the start of a Chinese label is cut off."""
    wide = max((sum(1 for ch in label if unicodedata.east_asian_width(ch) in "WF")
                for label in labels), default=0)
    return round(wide * 0.4 * STYLE.label_font_size)


def ticks(largest: int) -> list[int]:
    """Whole-number axis labels from 0 past `largest` (counts are never fractions)."""
    step = max(1, -(-largest // 8))
    return list(range(0, max(largest, 1) + step, step))


def _number(value: float | Decimal | None) -> float | None:
    return None if value is None else round(float(value), 1)


def build(figures: Figures, chart: str, names: Names) -> pygal.Graph:
    data = rows(figures, chart, names)
    words = names.words
    if chart == "month":
        graph = _chart(pygal.Bar, names, chart, x_label_rotation=-30 if len(data) > 8 else 0,
                       y_labels=ticks(max((r.values[0] for r in data), default=0)))
        graph.x_labels = [r.label for r in data]
        graph.add(words.get("complaints", "Complaints"), [r.values[0] for r in data])
    elif chart in COUNTED or chart in ("remedies", "prevention"):
        graph = _chart(pygal.HorizontalBar, names, chart,
                       height=max(200, 80 + 34 * len(data)),
                       margin_left=12 + wide_label_room([r.label for r in data]),
                       y_labels=ticks(max((r.values[0] for r in data), default=0)))
        drawn = list(reversed(data))  # pygal draws the first bar at the bottom
        graph.x_labels = [r.label for r in drawn]
        series = "granted" if chart == "remedies" else "complaints"
        graph.add(words.get(series, series), [r.values[0] for r in drawn])
    elif chart == "timeliness":
        graph = _chart(pygal.StackedBar, names, chart, show_legend=True, legend_at_bottom=True,
                       y_labels=ticks(max((sum(r.values) for r in data), default=0)))
        graph.x_labels = [r.label for r in data]
        for index, status in enumerate(facts.TIMELINESS):
            graph.add(names.of("status", status), [r.values[index] for r in data])
    elif chart == "spans":
        graph = _chart(pygal.Bar, names, chart, show_legend=True, legend_at_bottom=True)
        graph.x_labels = [r.label for r in data]
        graph.add(words.get("median", "Median"), [_number(r.values[1]) for r in data])
        graph.add(words.get("p90", "90th percentile"), [_number(r.values[2]) for r in data])
    elif chart == "satisfaction":
        graph = _chart(pygal.Bar, names, chart,
                       y_labels=ticks(max((r.values[0] for r in data), default=0)))
        graph.x_labels = [r.label for r in data]
        graph.add(words.get("answers", "Answers"), [r.values[0] for r in data])
    else:
        raise KeyError(chart)
    return graph


def svg(figures: Figures, chart: str, names: Names) -> bytes:
    """The chart as a standalone SVG document: no script, no comment."""
    tree = build(figures, chart, names).render_tree()
    for parent in tree.iter():
        for child in list(parent):
            if not isinstance(child.tag, str) or child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return b"<?xml version='1.0' encoding='utf-8'?>\n" + ET.tostring(tree, encoding="utf-8",
                                                                     xml_declaration=False)
