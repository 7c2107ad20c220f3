"""Long lists as dash-ag-grid grids on the infinite row model: the server pages, sorts and filters.

`grid(name, lang, grid_id)` builds the grid of a list named in LISTS; the grid asks for one block of
rows at a time (`getRowsRequest`: startRow, endRow, sortModel, filterModel) and `rows(name, request,
params, lang)` answers it (`getRowsResponse`: rowData, rowCount) with at most PAGE_ROWS rows, whatever
the warehouse holds. Sorting and filtering are SQL over the list's named query: a column is one of the
list's (an allow-list, quoted), a value is always a bound `$g…` parameter. `parse(name, request)` checks
a request (components/inputs.py answers 400 for a bad one). `export(...)` is the filtered view, sorted,
as CSV through insyn.csvsafe like every other CSV.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass

import dash_ag_grid as dag
import numpy as np
import pandas as pd
from dash import html

from insyn.auth import current_user
from insyn.csvsafe import to_csv
from insyn.masking import mask_email, mask_in_text
from insyn.text import show_controls

from .. import data
from . import roles
from .i18n import in_language, label, source_label, t

PAGE_ROWS = 25                    # rows per block and per page: the most one response carries
MAX_TEXT = 200                    # a filter's text
ADDRESS_COLUMNS = ("email", "email_key")

TEXT_TYPES = {"equals", "notEqual", "contains", "notContains", "startsWith", "endsWith", "blank", "notBlank"}
ORDER_TYPES = {"equals", "notEqual", "lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual",
               "inRange", "blank", "notBlank"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}( 00:00:00)?")
_PAGE_PATH = re.compile(r"/[a-z-]{0,40}")   # a page of the dashboard: the filter's page, nothing else


class BadRequest(ValueError):
    """A grid request the page could not have sent."""


@dataclass(frozen=True)
class Column:
    field: str
    header: str                   # message id of its heading
    kind: str = "text"            # text | number | date | words (a value shown by its value.<x> message) | shown
                                  # | source (a source kind shown by its name: i18n.source_label)
                                  # | id (an identifier, a request or CRM id: never an address, so
                                  # anyone may filter and sort on it; see `for_anyone`)
    width: int = 110              # its least width in pixels


@dataclass(frozen=True)
class Listing:
    query: str                    # the named query (pipelines/queries) it pages through
    columns: tuple[Column, ...]
    order: tuple[str, ...]        # the default order (SQL from this file only): open items first
    key: str                      # a unique column: the last sort key, so pages never overlap
    personal: bool = False        # e-mails in it: exported by the DPO only
    highlight: str | None = None  # a boolean column: its rows get the warning style
    export: tuple[str, ...] = ()  # columns of its CSV (none: the shown ones)


LISTS = {
    "requests": Listing(
        "dsar_timeline",
        (Column("request_id", "dashboard.column.request_id", "id", 140),
         Column("request_type", "dashboard.label.type", "words"),
         Column("applicable_due_on", "dashboard.column.deadline", "date"),   # extended, when validly
         Column("days_elapsed", "dashboard.label.days", "number", 105),
         Column("received_on", "dashboard.column.received", "date"),
         Column("closed_on", "value.closed", "date"),
         Column("outcome", "dashboard.column.outcome", "words")),
        ("is_open desc", "case when is_open then applicable_due_on end asc nulls last", "received_on desc"),
        "request_id", highlight="is_overdue"),
    "coming_due": Listing(
        "coming_due",
        (Column("due_on", "dashboard.column.due", "date"),
         Column("days_left", "dashboard.label.days", "number", 105),
         Column("record_id", "dashboard.column.crm_id", "id", 150),
         Column("source", "dashboard.column.source", "source"),
         Column("email_key", "dashboard.column.e_mail", width=160),
         Column("last_dialogue_on", "dashboard.column.last_dialogue", "date")),
        ("due_on asc",), "record_id", personal=True),
    "deletion": Listing(
        "deletion_list",
        (Column("crm_id", "dashboard.column.crm_id", "id", 150),
         Column("sobject", "dashboard.column.object", "words"),
         Column("email", "dashboard.column.e_mail", width=160),
         Column("created_on", "dashboard.column.created", "date"),
         Column("detail", "dashboard.column.detail", "shown", 260)),
        ("sobject asc",), "crm_id", personal=True,
        export=("crm_id", "sobject", "email", "created_on", "detail")),
    # /contacts: records flagged for deletion before, those still present first
    "evidence": Listing(
        "deletion_evidence",
        (Column("record_id", "dashboard.column.crm_id", "id", 150),
         Column("source", "dashboard.column.source", "source"),
         Column("first_flagged_on", "dashboard.column.first_flagged", "date"),
         Column("is_gone", "dashboard.column.gone", "shown", 90)),
        ("is_gone asc", "first_flagged_on asc"), "record_id"),
    # /optouts: marketing after an opt-out, one row per mailing, the latest mailing first
    "optout_breaches": Listing(
        "optout_breach_list",
        (Column("record_id", "dashboard.column.record", width=250),
         Column("opted_out_on", "dashboard.column.opted_out_on", "date"),
         Column("mailed_on", "dashboard.column.mailed_on", "date"),
         Column("campaign", "dashboard.column.campaign", width=150),
         Column("event_id", "dashboard.column.event_id", width=210),
         Column("detail", "dashboard.column.detail", "shown", 100)),
        ("mailed_on desc nulls last",), "breach_key", personal=True,
        export=("record_id", "opted_out_on", "mailed_on", "campaign", "event_id", "detail")),
    # /quality: every file loaded, those with rejected lines first, the latest export first
    "files": Listing(
        "files_quality",
        (Column("file", "dashboard.column.file", width=380),
         Column("source", "dashboard.column.source", "source", 130),
         Column("exported_at", "dashboard.column.exported", width=130),
         Column("rows", "dashboard.column.rows", "number", 90),
         Column("rejected", "dashboard.column.rejected", "number", 90),
         Column("encoding", "dashboard.column.encoding", width=100)),
        ("has_rejected desc", "exported_at desc"), "file_id", highlight="has_rejected"),
    # /optouts: the findings of one rule (params: as_of, rule)
    "rule_findings": Listing(
        "rule_findings",
        (Column("record_id", "dashboard.column.record", width=200),
         Column("email", "dashboard.column.e_mail", width=200),
         Column("source", "dashboard.column.source", "source", 150),
         Column("detail", "dashboard.column.detail", "shown", 380)),
        ("record_id asc",), "finding_key", personal=True,
        export=("record_id", "email", "source", "detail")),
}

# /erasures: each erasure and every place still holding the person, those not carried out first; no
# address in it (request ids, source kinds, CRM and e-mail tool record ids): anyone may sort and filter
# it, as the overview's links do; its CSV is the DPO's all the same (roles.DPO_ONLY_OUTPUTS)
LISTS["erasures"] = Listing(
    "erasures",
    (Column("erasure_id", "dashboard.column.request_id", "id", 140),
     Column("erased_on", "dashboard.column.erased_on", "date"),
     Column("erasure_status", "dashboard.label.status", "words", 130),
     Column("found_in", "dashboard.column.found_in", "source", 130),
     Column("found_record_id", "dashboard.column.record", width=150),
     Column("last_seen_on", "dashboard.column.last_seen", "date"),
     Column("days_since", "dashboard.column.days_since_erasure", "number", 105)),
    ("is_open desc", "erasure_status = 'carried_out'", "erased_on asc"), "row_key", highlight="is_open",
    export=("erasure_id", "erased_on", "erasure_status", "found_in", "found_record_id", "first_seen_on",
            "last_seen_on", "days_since"))

# /transfers: the sub-processor register (a few dozen rows: a plain table, filtered through here so
# that the overview's links narrow it as they narrow a grid)
LISTS["subprocessors"] = Listing(
    "subprocessors",
    (Column("subprocessor_name", "dashboard.column.subprocessor", "id", 160),
     Column("country_iso2", "dashboard.column.country", width=90),
     Column("transfer_mechanism", "dashboard.column.mechanism", "words", 130),
     Column("invalid_reason", "dashboard.column.reason", width=200)),
    ("is_transfer_valid asc", "subprocessor_name asc"), "subprocessor_name")

# A filter a grid starts with, chosen on another page (the overview): the shell's session store
# (app.py) holds {"path": the page, "list": a name of LISTS, "filter": a filterModel}, never a URL.
FILTER_STORE = "page-filter"
CLEAR_BUTTON = "filter-clear"

_FILTERS = {"text": "agTextColumnFilter", "id": "agTextColumnFilter", "words": "agTextColumnFilter",
            "source": "agTextColumnFilter",
            "number": "agNumberColumnFilter",
            "date": "agDateColumnFilter"}
# AG Grid's own words (pagination, filter menus), from the catalog: key -> message id
GRID_WORDS = {key: "dashboard.grid." + key for key in (
    "page", "of", "to", "more", "next", "previous", "first", "last", "nextPage", "previousPage", "firstPage",
    "lastPage", "loadingOoo", "noRowsToShow", "filterOoo", "equals", "notEqual", "contains", "notContains",
    "startsWith", "endsWith", "blank", "notBlank", "lessThan", "greaterThan", "lessThanOrEqual",
    "greaterThanOrEqual", "inRange", "inRangeStart", "inRangeEnd", "andCondition", "orCondition",
    "applyFilter", "resetFilter", "clearFilter", "cancelFilter", "dateFormatOoo", "pageSizeSelectorLabel",
    "ariaPageSizeSelectorLabel", "ariaFilterValue", "ariaFilterFromValue", "ariaFilterToValue",
    "ariaFilteringOperator", "ariaFilterList", "ariaFilterInput", "ariaColumnFiltered", "ariaSortableColumn",
    "ariaRowSelect", "ariaSearch", "searchOoo", "filterWithinInput", "ariaFilterColumnsInput")}


def _columns(name: str) -> dict[str, Column]:
    return {c.field: c for c in LISTS[name].columns}


def grid(name: str, lang: str, grid_id: str, chosen=None) -> dag.AgGrid:
    """The grid of list `name` with its headings in `lang`: the server's rows, a page at a time;
    it starts filtered when `chosen` (FILTER_STORE's data) names this list."""
    listing = LISTS[name]
    dpo = roles.is_dpo()
    column_defs = [{"field": c.field, "headerName": t(c.header, lang), "minWidth": c.width, "flex": 1,
                    "tooltipField": c.field,   # a value cut at the column's edge, whole on hover
                    "sortable": c.kind != "shown" and (dpo or for_anyone(listing, c)),
                    "filter": _FILTERS.get(c.kind, False) if dpo or for_anyone(listing, c) else False,
                    "filterParams": {"maxNumConditions": 2, "buttons": ["reset"]}}
                   for c in listing.columns]
    options = {"cacheBlockSize": PAGE_ROWS, "maxBlocksInCache": 4, "infiniteInitialRowCount": 1,
               "pagination": True, "paginationPageSize": PAGE_ROWS, "paginationPageSizeSelector": False,
               "localeText": {key: t(msgid, lang) for key, msgid in GRID_WORDS.items()},
               "enableCellTextSelection": True, "suppressMultiSort": True, "enableBrowserTooltips": True,
               # a page's rows all in the page (25 at most): read by the browser, its search and axe
               "domLayout": "autoHeight", "suppressColumnVirtualisation": True}
    # the warning rows' colour of the old tables (style.css --warn-bg), inline: no stylesheet to share
    extra = {"getRowStyle": {"styleConditions": [{"condition": f"params.data && params.data.{listing.highlight}",
                                                  "style": {"backgroundColor": "var(--warn-bg)"}}]}} \
        if listing.highlight else {}
    start = chosen_filter(chosen, name)
    if start:   # AG Grid sends it in its first getRowsRequest: filtered on the server from the first page
        extra["filterModel"] = start
    return dag.AgGrid(id=grid_id, rowModelType="infinite", columnDefs=column_defs,
                      defaultColDef={"resizable": True, "suppressHeaderMenuButton": False},
                      dashGridOptions=options, columnSize="responsiveSizeToFit",
                      style={"width": "100%"}, className="grid", **extra)


def afresh(children, prefix: str, *state) -> html.Div:
    """`children` (a grid, and what it is filtered to) in a wrapper whose id changes with `state`
    (the page's filters, language, as-of): Dash then mounts a new grid, which asks for its first page
    again; the same state keeps the grid, and the page the person is on."""
    return html.Div(children, id=f"{prefix}-{hashlib.sha1(repr(state).encode()).hexdigest()[:12]}")


def chosen_filter(chosen, name: str) -> dict | None:
    """The filterModel `chosen` (FILTER_STORE's data) asks for on list `name`, or None (another
    list, nothing chosen, or a filter this list does not take)."""
    try:
        check_chosen(chosen)
    except BadRequest:
        return None
    return chosen["filter"] if chosen and chosen["list"] == name else None


def check_chosen(chosen) -> None:
    """None, or a filter chosen for a page: its path, a list of LISTS and a filter it takes. Raises BadRequest."""
    if chosen is None:
        return
    if not isinstance(chosen, dict) or set(chosen) != {"path", "list", "filter"} \
            or not isinstance(chosen["path"], str) or not _PAGE_PATH.fullmatch(chosen["path"]) \
            or not isinstance(chosen["list"], str) or chosen["list"] not in LISTS or not chosen["filter"]:
        raise BadRequest("not a filter of a page")
    parse(chosen["list"], {"startRow": 0, "endRow": 1, "filterModel": chosen["filter"]})


def narrowed(name: str, chosen, params: dict, lang: str) -> pd.DataFrame:
    """Every row of list `name` in its order, narrowed by the filter `chosen` starts it with (a
    plain table's rows, as the grid's would be)."""
    model = chosen_filter(chosen, name) or {}
    where, values = _where(name, model, params, lang)
    return data.listed(LISTS[name].query, params, where, values, _order(name, ()))


def filtered_to(chosen, name: str, lang: str):
    """What list `name` starts filtered to (the overview's choice), in words, with a button that
    clears it (app.py empties the store); None when it starts unfiltered."""
    model = chosen_filter(chosen, name)
    if not model:
        return None
    columns = _columns(name)
    parts = []
    for field, condition in model.items():
        for c in _conditions(condition):
            if c["type"] in ("blank", "notBlank"):
                value = ""
            else:
                value = c["dateFrom"][:10] if columns[field].kind == "date" else c["filter"]
                value = show_controls(_words(columns[field], value, lang) if columns[field].kind in ("words", "source")
                                      else str(value))
            parts.append(" ".join(w for w in (t(columns[field].header, lang),
                                              t(GRID_WORDS[c["type"]], lang).lower(), value) if w))
    return html.Div([html.Span(t("dashboard.filter.shown", lang, filter="; ".join(parts)), id="filter-shown"),
                     html.Button(t("dashboard.grid.clearFilter", lang), id=CLEAR_BUTTON, className="button")],
                    className="filtered", role="status",   # inline: style.css is the layout's
                    style={"display": "flex", "flexWrap": "wrap", "alignItems": "center", "gap": ".6rem",
                           "margin": ".4rem 0 .6rem"})


# ---------------------------------------------------------------- a request, checked

@dataclass(frozen=True)
class Request:
    start: int
    count: int
    sort: tuple[tuple[str, str], ...]
    filters: dict


def parse(name: str, request) -> Request:
    """A getRowsRequest of list `name`, checked: rows of one page at most, sorting by its columns,
    filters of the kinds its columns take. Raises BadRequest."""
    if not isinstance(request, dict):
        raise BadRequest("not a request for rows")
    start, end = request.get("startRow"), request.get("endRow")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) \
            or not 0 <= start < end <= start + PAGE_ROWS or end > 2**31:
        raise BadRequest("not rows of one page")
    columns = _columns(name)
    sort = request.get("sortModel") or []
    if not isinstance(sort, list) or len(sort) > len(columns):
        raise BadRequest("not a sort of this list")
    for item in sort:
        if not isinstance(item, dict) or item.get("sort") not in ("asc", "desc") \
                or not isinstance(item.get("colId"), str) or columns.get(item["colId"]) is None \
                or columns[item["colId"]].kind == "shown":
            raise BadRequest("not a sort of this list")
    filters = request.get("filterModel") or {}
    if not isinstance(filters, dict):
        raise BadRequest("not a filter of this list")
    for field, model in filters.items():
        column = columns.get(field)
        if column is None or column.kind == "shown":
            raise BadRequest("not a filter of this list")
        for condition in _conditions(model):
            _check_condition(column, condition)
    if not roles.is_dpo() and not all(for_anyone(LISTS[name], columns[field])
                                      for field in [s["colId"] for s in sort] + list(filters)):
        raise BadRequest("not a sort or filter for this role")
    return Request(start, end - start, tuple((s["colId"], s["sort"]) for s in sort), filters)


def for_anyone(listing: Listing, column: Column) -> bool:
    """Whether anyone may sort and filter on `column`, not only the DPO. Others see its values
    abbreviated where they hold an address (`_shown`), but a filter or a sort runs on the values
    themselves: "starts with a", "ab", … and the count of rows would spell out an address a letter
    at a time. So: never an address column, and in a list of people only what cannot hold one."""
    if column.field in ADDRESS_COLUMNS:
        return False
    return not listing.personal or column.kind != "text"


def _conditions(model) -> list[dict]:
    if not isinstance(model, dict):
        raise BadRequest("not a filter of this list")
    if "conditions" in model:
        conditions = model["conditions"]
        if model.get("operator") not in ("AND", "OR") or not isinstance(conditions, list) \
                or not 1 <= len(conditions) <= 2 or not all(isinstance(c, dict) for c in conditions):
            raise BadRequest("not a filter of this list")
        return conditions
    return [model]


def _encodable(text: str) -> bool:
    """False for text no database can hold (a lone surrogate from JSON's \\ud800)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_condition(column: Column, condition: dict) -> None:
    kind = condition.get("filterType")
    expected = {"text": "text", "id": "text", "words": "text", "source": "text", "number": "number",
                "date": "date"}[column.kind]
    types = TEXT_TYPES if expected == "text" else ORDER_TYPES
    if kind != expected or not isinstance(condition.get("type"), str) or condition["type"] not in types:
        raise BadRequest("not a filter of this list")
    if condition["type"] in ("blank", "notBlank"):   # no value to check, so none may come (AG Grid sends nulls)
        if any(v is not None for k, v in condition.items() if k not in ("filterType", "type")):
            raise BadRequest("not a filter of this list")
        return
    if expected == "text":
        value = condition.get("filter")
        if not isinstance(value, str) or len(value) > MAX_TEXT or not _encodable(value):
            raise BadRequest("not a filter text")
    elif expected == "number":
        for key in ("filter",) + (("filterTo",) if condition["type"] == "inRange" else ()):
            value = condition.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or abs(value) > 1e12:
                raise BadRequest("not a filter number")
    else:
        for key in ("dateFrom",) + (("dateTo",) if condition["type"] == "inRange" else ()):
            value = condition.get(key)
            if not isinstance(value, str) or not _DATE.fullmatch(value):
                raise BadRequest("not a filter date")
            try:
                dt.date.fromisoformat(value[:10])
            except ValueError:
                raise BadRequest("not a filter date") from None


# ---------------------------------------------------------------- SQL of a request

def _where(name: str, filters: dict, params: dict, lang: str) -> tuple[list[str], dict]:
    """SQL conditions over allow-listed, quoted columns; every value a `$g<n>` parameter."""
    columns = _columns(name)
    where, values = [], {}

    def bind(value) -> str:
        key = f"g{len(values)}"
        values[key] = value
        return "$" + key

    for field, model in filters.items():
        column = columns[field]            # parse() has checked it is one of the list's
        quoted = f'"{column.field}"'
        parts = [_condition(name, column, quoted, c, params, lang, bind) for c in _conditions(model)]
        operator = " or " if model.get("operator") == "OR" else " and "
        where.append("(" + operator.join(parts) + ")")
    return where, values


def _condition(name, column, quoted, condition, params, lang, bind) -> str:
    kind = condition["type"]
    if kind == "blank":
        return f"({quoted} is null or cast({quoted} as varchar) = '')"
    if kind == "notBlank":
        return f"({quoted} is not null and cast({quoted} as varchar) <> '')"
    if column.kind in ("number", "date"):
        cast = "double" if column.kind == "number" else "date"
        value = condition["filter"] if column.kind == "number" else dt.date.fromisoformat(condition["dateFrom"][:10])
        if kind == "inRange":
            upper = condition["filterTo"] if column.kind == "number" \
                else dt.date.fromisoformat(condition["dateTo"][:10])
            return f"({quoted} >= cast({bind(value)} as {cast}) and {quoted} <= cast({bind(upper)} as {cast}))"
        operator = {"equals": "=", "notEqual": "<>", "lessThan": "<", "lessThanOrEqual": "<=",
                    "greaterThan": ">", "greaterThanOrEqual": ">="}[kind]
        return f"{quoted} {operator} cast({bind(value)} as {cast})"
    text = condition["filter"].lower()
    if column.kind in ("words", "source"):   # the person reads words: match them, keep the values
        matching = [v for v in data.distinct(LISTS[name].query, params, column.field)
                    if isinstance(v, str) and _matches(kind, _words(column, v, lang).lower(), text)]
        return f"list_contains(cast({bind(matching)} as varchar[]), {quoted})"
    cell, value = f"lower(cast({quoted} as varchar))", bind(text)
    return {"equals": f"{cell} = {value}", "notEqual": f"{cell} <> {value}",
            "contains": f"contains({cell}, {value})", "notContains": f"not contains({cell}, {value})",
            "startsWith": f"starts_with({cell}, {value})", "endsWith": f"ends_with({cell}, {value})"}[kind]


def _words(column: Column, value, lang: str) -> str:
    return source_label(value, lang) if column.kind == "source" else label(value, lang)


def _matches(kind: str, words: str, text: str) -> bool:
    return {"equals": words == text, "notEqual": words != text, "contains": text in words,
            "notContains": text not in words, "startsWith": words.startswith(text),
            "endsWith": words.endswith(text)}[kind]


def _order(name: str, sort) -> list[str]:
    listing = LISTS[name]
    chosen = [f'"{field}" {direction} nulls last' for field, direction in sort]   # allow-listed by parse()
    return chosen + (list(listing.order) if not chosen else []) + [f'"{listing.key}" asc']


# ---------------------------------------------------------------- answers

def _shown(column: Column, value, lang: str, dpo: bool):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        text = value.strftime("%Y-%m-%d %H:%M") if value.hour or value.minute else value.strftime("%Y-%m-%d")
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, (bool, np.bool_)):
        return "✓" if value else "✗"   # as the plain tables show a yes or no
    elif column.kind == "number":
        return int(value) if float(value).is_integer() else float(value)
    elif column.kind in ("words", "source"):
        text = _words(column, value, lang)
    else:
        text = str(value)
    if dpo:
        return show_controls(text)   # an address reordered on screen is another address
    whole = column.field in ADDRESS_COLUMNS   # shown to a viewer as "a…@domain" whatever it holds
    return mask_email(text) if whole and text else mask_in_text(text)


def rows(name: str, request, params: dict, lang: str) -> dict:
    """The getRowsResponse for `request` (checked by parse): one page of rows and the count of all
    that match. Anyone but the DPO sees e-mail addresses abbreviated."""
    asked = parse(name, request)
    listing = LISTS[name]
    where, values = _where(name, asked.filters, params, lang)
    frame, total = data.page(listing.query, params, where, values, _order(name, asked.sort),
                             asked.start, asked.count)
    frame = in_language(frame, lang)
    dpo = roles.is_dpo()
    shown = [{c.field: _shown(c, record.get(c.field), lang, dpo) for c in listing.columns}
             | ({listing.highlight: bool(record.get(listing.highlight))} if listing.highlight else {})
             for record in frame.to_dict("records")]
    return {"rowData": shown, "rowCount": total}


def export(name: str, request, params: dict, lang: str) -> str:
    """The list as the grid shows it (its filters and sort, every page; its words and dates) as CSV,
    formulas neutralised; the columns keep their names (stable for a script). Every export is
    recorded in the access log (which list, how many rows: no personal data)."""
    listing = LISTS[name]
    asked = parse(name, request) if request else Request(0, PAGE_ROWS, (), {})
    where, values = _where(name, asked.filters, params, lang)
    frame = in_language(data.listed(listing.query, params, where, values, _order(name, asked.sort)), lang)
    shown = _columns(name)
    columns = [shown.get(field, Column(field, "")) for field in listing.export or shown]
    out = pd.DataFrame({c.field: [_shown(c, v, lang, dpo=True) for v in frame[c.field]] for c in columns},
                       columns=[c.field for c in columns])
    _record_export(name, len(out))
    return to_csv(out)


def _record_export(name: str, count: int) -> None:
    """An export in the access log; when it cannot be recorded there is no export
    (raises: the server answers 500 and logs the error's type only)."""
    access_log = data.access_log()
    if access_log is not None:   # a bare app without a log (tests); `insyn dashboard` always has one
        access_log.record("export", user=current_user() or "local", detail=f"{name}: {count} rows")
