"""How a table is shown: one number per cell, as a paper prints it, and the same table as CSV,
Markdown, LaTeX (booktabs) and HTML.

:func:`display` turns a :class:`~benchmark.report.evidence_table.Table` into :class:`Shown` cells: the number
(differences signed, missing as "–"), its 95 % interval in small type, and, on hover in the HTML
(the ``title`` of the cell), what a paper's cell would not hold: the other split of a table with
valid and test columns (the test split is the one shown) and the spread between seeds. A ``seeds``
column counts the seeds where a row has several, and a dagger marks the rows that had not
converged. :func:`numbers` gives the CSV, where every number keeps its ``_lo``, ``_hi`` and
``_seed_sd`` columns and both splits.
"""

from __future__ import annotations

import html as html_text
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.report.evidence_table import STALLED, STALLED_NOTE, Table

SHOWN_SPLIT, OTHER_SPLIT = "test", "valid"  # of tables with valid and test columns
EPOCH = "epoch time (s)"
ERROR = "error (px)"
ACCELERATION = "acceleration (1e-3 S/frame²)"
KEPT = "PCK@0.1 / Test"  # the generalisation table's share of the test accuracy a shift keeps
RATIO, NOISE = "prediction / annotation", "annotator noise"
DIFFERENCE = "a - b"
FORMATS = {EPOCH: ".1f", ERROR: ".2f", "files": ".0f", ACCELERATION: ".2f", RATIO: ".2f", NOISE: ".0%", KEPT: ".0%",
           "videos": ".0f", DIFFERENCE: "+.3f"}  # every other number: ".3f"
EXPLANATION = ("Each of our numbers carries its 95 % interval [low, high] in small type: a video bootstrap (2000 "
               "resamples of the split's videos, seeded; docs/EVIDENCE.md), since frames of one video are not "
               "independent. Tables with valid and test columns show the test split; hovering over a number "
               "shows the valid split and, where a setting was trained with several seeds (a 'seeds' column says "
               "how many), the standard deviation between them: the number is their mean and the interval "
               "resamples the same videos for every seed. A difference to the published value carries our "
               f"interval shifted by it. {STALLED_NOTE} The CSV files hold every number with _lo, _hi and "
               "_seed_sd columns, both splits.")


NUMBER = re.compile(r"[+-]?[\d.]+%?|–|")  # a displayed number, or none


@dataclass(frozen=True)
class Shown:
    """One displayed cell: the number, its interval (small type), and what hovering shows."""

    value: str
    interval: str = ""
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.value} {self.interval}".strip()


def _number(value, spec: str) -> str:
    if isinstance(value, str):
        return value
    return "–" if value is None or not np.isfinite(value) else format(value, spec)


def _spec(column, signed: bool) -> str:
    parts = column if isinstance(column, tuple) else (column,)
    spec = next((FORMATS[p] for p in reversed(parts) if p in FORMATS), ".3f")  # innermost wins
    return ("+" if signed and not spec.startswith("+") else "") + spec


def _aligned(frame: pd.DataFrame | None, data: pd.DataFrame) -> np.ndarray:
    return np.full(data.shape, np.nan) if frame is None else frame.to_numpy(float)


def _shown(value, spec: str, low: float, high: float, spread: float, other: str = "") -> Shown:
    interval = f"[{low:{spec}}, {high:{spec}}]" if np.isfinite(low) and np.isfinite(high) else ""
    details = [other] if other else []
    if np.isfinite(spread):
        details.append(f"seeds ±{spread:{spec.lstrip('+')}} (SD)")
    return Shown(_number(value, spec), interval if _number(value, spec) != "–" else "", "; ".join(details))


def _split_columns(data: pd.DataFrame) -> bool:
    return isinstance(data.columns, pd.MultiIndex) and set(data.columns.get_level_values(-1)) <= {
        SHOWN_SPLIT, OTHER_SPLIT, ""} and SHOWN_SPLIT in set(data.columns.get_level_values(-1))


def display(table: Table) -> pd.DataFrame:
    """The table as :class:`Shown` cells (module docstring)."""
    data = table.data
    signed = (data.index.get_level_values("source") == "difference" if "source" in data.index.names
              else np.zeros(len(data), dtype=bool))
    low, high, spread = (_aligned(f, data) for f in (table.low, table.high, table.spread))
    position = {column: j for j, column in enumerate(data.columns)}
    split = _split_columns(data)
    cells = {}
    for column, j in position.items():
        if split and column[-1] == OTHER_SPLIT:
            continue
        other = (*column[:-1], OTHER_SPLIT) if split and column[-1] == SHOWN_SPLIT else None
        shown = []
        for i, s in enumerate(signed):
            spec = _spec(column, s)
            hover = ""
            if other in position:
                k = position[other]
                hover = f"valid {str(_shown(data.iat[i, k], spec, low[i, k], high[i, k], np.nan))}"
            shown.append(_shown(data.iat[i, j], spec, low[i, j], high[i, j], spread[i, j], hover))
        cells[column[:-1] if split and column[-1] in (SHOWN_SPLIT, "") else column] = shown
    frame = pd.DataFrame(cells, index=data.index)
    if split:
        frame.columns = [c[0] if isinstance(c, tuple) and len(c) == 1 else c for c in frame.columns]
    if table.seeds is not None and (table.seeds > 1).any():
        key = ("seeds", "") if frame.columns.nlevels > 1 else "seeds"
        frame[key] = [Shown(str(n) if n else "") for n in table.seeds]
    if table.stalled is not None and table.stalled.any():
        keys = [_mark(key) if flag else key for key, flag in zip(frame.index, table.stalled)]
        frame.index = (pd.MultiIndex.from_tuples(keys, names=data.index.names) if data.index.nlevels > 1
                       else pd.Index(keys, name=data.index.name))
    return frame


def _mark(key):
    """A row label with the not-converged dagger on its last part."""
    return (*key[:-1], f"{key[-1]} {STALLED}") if isinstance(key, tuple) else f"{key} {STALLED}"


def numbers(table: Table) -> pd.DataFrame:
    """The table as the CSV holds it: each number followed by its interval (``_lo``, ``_hi``) and the SD
    between seeds (``_seed_sd``) where it has them; ``seeds`` and ``not_converged`` per row."""
    columns = {}
    for j, column in enumerate(table.data.columns):
        name = " ".join(str(p) for p in column if p != "") if isinstance(column, tuple) else str(column)
        columns[name] = table.data[column].to_numpy()
        for suffix, frame in (("_lo", table.low), ("_hi", table.high), ("_seed_sd", table.spread)):
            values = _aligned(frame, table.data)[:, j]
            if np.isfinite(values).any():
                columns[name + suffix] = values
    out = pd.DataFrame(columns, index=table.data.index)
    if table.seeds is not None:
        out["seeds"] = table.seeds.to_numpy()
    if table.stalled is not None:
        out["not_converged"] = table.stalled.to_numpy()
    return out


def _flat(column) -> str:
    return " ".join(str(p) for p in column if p != "") if isinstance(column, tuple) else str(column)


def row_labels(frame: pd.DataFrame) -> list[list[str]]:
    """Each row's labels; a label equal to the one above (with the same labels before it) is left
    blank, grouping rows as the publication does."""
    keys = [k if isinstance(k, tuple) else (k,) for k in frame.index]
    return [["" if key[:i + 1] == above[:i + 1] else str(value) for i, value in enumerate(key)]
            for key, above in zip(keys, [()] + keys[:-1])]


def _label_names(frame: pd.DataFrame) -> list[str]:
    return [name or "" for name in frame.index.names]


def markdown_rows(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a displayed table for a pipe table (``|`` escaped)."""
    escape = lambda cell: str(cell).replace("|", r"\|")
    header = _label_names(frame) + [_flat(c) for c in frame.columns]
    rows = [labels + [str(c) for c in cells] for labels, cells in zip(row_labels(frame), frame.itertuples(index=False))]
    return [escape(h) for h in header], [[escape(c) for c in row] for row in rows]


def _latex_escape(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                          ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"),
                          ("^", r"\textasciicircum{}"), ("±", r"$\pm$"), ("†", r"\textsuperscript{\dag}")):
        text = text.replace(char, escaped)
    return text


def latex(frame: pd.DataFrame, title: str) -> str:
    """A booktabs ``tabular`` ready to ``\\input`` (needs ``\\usepackage{booktabs}``): numbers with
    their intervals in ``\\scriptsize``."""
    def cell(shown: Shown) -> str:
        interval = f" {{\\scriptsize {_latex_escape(shown.interval)}}}" if shown.interval else ""
        return _latex_escape(shown.value) + interval

    levels = frame.index.nlevels
    header = [" & ".join([_latex_escape(n) for n in _label_names(frame)]
                         + [_latex_escape(_flat(c)) for c in frame.columns]) + r" \\"]
    body = [" & ".join([_latex_escape(label) for label in labels] + [cell(c) for c in cells]) + r" \\"
            for labels, cells in zip(row_labels(frame), frame.itertuples(index=False))]
    spec = "l" * levels + "r" * frame.shape[1]
    lines = [rf"\begin{{tabular}}{{{spec}}}", r"\toprule", *header, r"\midrule", *body, r"\bottomrule", r"\end{tabular}"]
    return f"% {title}: generated by `python -m benchmark report`; needs \\usepackage{{booktabs}}\n" + "\n".join(lines) + "\n"


def _header_rows(frame: pd.DataFrame) -> list[str]:
    """The ``<tr>`` of the column header, one per column level, equal neighbours spanned."""
    columns = [c if isinstance(c, tuple) else (c,) for c in frame.columns]
    levels = max(len(c) for c in columns) if columns else 1
    rows = []
    for level in range(levels):
        cells = [f'<th rowspan="{levels}">{html_text.escape(n)}</th>' for n in _label_names(frame)] if level == 0 else []
        j = 0
        while j < len(columns):
            span = 1
            if level < levels - 1:
                while j + span < len(columns) and columns[j + span][:level + 1] == columns[j][:level + 1]:
                    span += 1
            text = columns[j][level] if level < len(columns[j]) else ""
            cells.append(f'<th colspan="{span}">{html_text.escape(str(text))}</th>' if span > 1
                         else f"<th>{html_text.escape(str(text))}</th>")
            j += span
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return rows


NATURAL = 24  # characters: a compact table's column this narrow is never clipped


def _filled(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns of a displayed table that show something (a compact table has no room for the others)."""
    return frame[[column for column in frame.columns if any(str(s) for s in frame[column])]]


def _widths(frame: pd.DataFrame, short: dict) -> list[str]:
    """A compact table's column widths (CSS, row labels first): a column whose texts are at most
    :data:`NATURAL` characters long is as wide as its longest; the others share what is left ("")."""
    texts = [[name] + [str(key[i] if isinstance(key, tuple) else key) for key in frame.index]
             for i, name in enumerate(_label_names(frame))]
    lengths = [max(map(len, column)) for column in texts]
    for column in frame.columns:
        shorten = short.get(column, lambda text: text)
        lengths.append(max(len(_flat(column)), *(len(shorten(s.value)) + round(0.8 * len(s.interval))  # small type
                                                  for s in frame[column])))
    return [f"{n + 3}ch" if n <= NATURAL else "" for n in lengths]


def html(frame: pd.DataFrame, name: str, compact: bool = False, short: dict | None = None,
         widths: list[str] | None = None) -> str:
    """An HTML table: row labels left-aligned, each number with its interval in ``<small>`` and the
    rest of its evidence in the cell's ``title`` (shown on hover). ``compact``: one line per row in
    columns of fixed ``widths`` (by default :func:`_widths` of the columns that show something), each
    cell's whole text on hover where the column clips it; ``short`` maps a column to the function
    that shortens its text."""
    short = short or {}
    if compact and widths is None:
        frame = _filled(frame)

    def title(text: str) -> str:
        return f' title="{html_text.escape(text)}"' if text else ""

    def cell(shown: Shown, column) -> str:
        value = short[column](shown.value) if column in short else shown.value
        interval = f" <small>{html_text.escape(shown.interval)}</small>" if shown.interval else ""
        whole = str(shown) if compact or value != shown.value else ""
        text = "" if NUMBER.fullmatch(shown.value) else ' class="text"'  # words read from the left
        return f"<td{text}{title(shown.detail or whole)}>{html_text.escape(value)}{interval}</td>"

    body = ["<tr>" + "".join(f'<th class="label"{title(label if compact else "")}>{html_text.escape(label)}</th>'
                             for label in labels)
            + "".join(cell(c, column) for c, column in zip(cells, frame.columns)) + "</tr>"
            for labels, cells in zip(row_labels(frame), frame.itertuples(index=False))]
    columns = ""
    if compact:
        columns = "<colgroup>" + "".join(f'<col style="width: {w}">' if w else "<col>"
                                         for w in widths or _widths(frame, short)) + "</colgroup>"
    return (f'<table class="data{" compact" * compact}" id="T_{html_text.escape(name)}">{columns}'
            f'<thead>{"".join(_header_rows(frame))}</thead><tbody>{"".join(body)}</tbody></table>')


def folded_html(frame: pd.DataFrame, name: str, folds: dict[str, str], short: dict | None = None) -> str:
    """One closed ``<details>`` per first-level row label, its summary the label and ``folds[label]``,
    holding the compact table of its rows (:func:`html`; the same column widths in every block)."""
    inner = _filled(frame.droplevel(0))
    widths = _widths(inner, short or {})
    blocks = []
    for i, label in enumerate(dict.fromkeys(frame.index.get_level_values(0))):
        rows = inner[frame.index.get_level_values(0) == label]
        blocks.append(f'<details class="fold"><summary><strong>{html_text.escape(str(label))}</strong> '
                      f'{html_text.escape(folds.get(label, ""))}</summary>'
                      f'{html(rows, f"{name}_{i}", True, short, widths)}</details>')
    return "".join(blocks)
