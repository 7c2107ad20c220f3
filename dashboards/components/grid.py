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
import math
import re
from dataclasses import dataclass

import dash_ag_grid as dag
import pandas as pd

from insyn.csvsafe import to_csv
from insyn.masking import mask_email, mask_in_text

from .. import data
from . import roles
from .i18n import in_language, label, t

PAGE_ROWS = 25                    # rows per block and per page: the most one response carries
MAX_TEXT = 200                    # a filter's text
ADDRESS_COLUMNS = ("email", "email_key")

TEXT_TYPES = {"equals", "notEqual", "contains", "notContains", "startsWith", "endsWith", "blank", "notBlank"}
ORDER_TYPES = {"equals", "notEqual", "lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual",
               "inRange", "blank", "notBlank"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}( 00:00:00)?")


class BadRequest(ValueError):
    """A grid request the page could not have sent."""


@dataclass(frozen=True)
class Column:
    field: str
    header: str                   # message id of its heading
    kind: str = "text"            # text | number | date | words (a value shown by its value.<x> message) | shown
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
        (Column("request_id", "dashboard.column.request_id", width=140),
         Column("request_type", "dashboard.label.type", "words"),
         Column("legal_due_on", "dashboard.column.deadline", "date"),
         Column("days_elapsed", "dashboard.label.days", "number", 105),
         Column("received_on", "dashboard.column.received", "date"),
         Column("closed_on", "value.closed", "date"),
         Column("outcome", "dashboard.column.outcome", "words")),
        ("is_open desc", "case when is_open then legal_due_on end asc nulls last", "received_on desc"),
        "request_id", highlight="is_overdue"),
    "coming_due": Listing(
        "coming_due",
        (Column("due_on", "dashboard.column.due", "date"),
         Column("days_left", "dashboard.label.days", "number", 105),
         Column("record_id", "dashboard.column.crm_id", width=150),
         Column("source", "dashboard.column.source"),
         Column("email_key", "dashboard.column.e_mail", width=160),
         Column("last_dialogue_on", "dashboard.column.last_dialogue", "date")),
        ("due_on asc",), "record_id", personal=True),
    "deletion": Listing(
        "deletion_list",
        (Column("crm_id", "dashboard.column.crm_id", width=150),
         Column("sobject", "dashboard.column.object", "words"),
         Column("email", "dashboard.column.e_mail", width=160),
         Column("created_on", "dashboard.column.created", "date"),
         Column("detail", "dashboard.column.detail", "shown", 260)),
        ("sobject asc",), "crm_id", personal=True,
        export=("crm_id", "sobject", "email", "created_on", "detail")),
}

_FILTERS = {"text": "agTextColumnFilter", "words": "agTextColumnFilter", "number": "agNumberColumnFilter",
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


def grid(name: str, lang: str, grid_id: str) -> dag.AgGrid:
    """The grid of list `name` with its headings in `lang`: the server's rows, a page at a time."""
    listing = LISTS[name]
    column_defs = [{"field": c.field, "headerName": t(c.header, lang), "minWidth": c.width, "flex": 1,
                    "sortable": c.kind != "shown",
                    "filter": _FILTERS.get(c.kind, False),
                    "filterParams": {"maxNumConditions": 2, "buttons": ["reset"]}}
                   for c in listing.columns]
    options = {"cacheBlockSize": PAGE_ROWS, "maxBlocksInCache": 4, "infiniteInitialRowCount": 1,
               "pagination": True, "paginationPageSize": PAGE_ROWS, "paginationPageSizeSelector": False,
               "localeText": {key: t(msgid, lang) for key, msgid in GRID_WORDS.items()},
               "enableCellTextSelection": True, "suppressMultiSort": True,
               # a page's rows all in the page (25 at most): read by the browser, its search and axe
               "domLayout": "autoHeight", "suppressColumnVirtualisation": True}
    # the warning rows' colour of the old tables (style.css --warn-bg), inline: no stylesheet to share
    extra = {"getRowStyle": {"styleConditions": [{"condition": f"params.data && params.data.{listing.highlight}",
                                                  "style": {"backgroundColor": "var(--warn-bg)"}}]}} \
        if listing.highlight else {}
    return dag.AgGrid(id=grid_id, rowModelType="infinite", columnDefs=column_defs,
                      defaultColDef={"resizable": True, "suppressHeaderMenuButton": False},
                      dashGridOptions=options, columnSize="responsiveSizeToFit",
                      style={"width": "100%"}, className="grid", **extra)


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
                or columns.get(item.get("colId")) is None or columns[item["colId"]].kind == "shown":
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
    return Request(start, end - start, tuple((s["colId"], s["sort"]) for s in sort), filters)


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


def _check_condition(column: Column, condition: dict) -> None:
    kind = condition.get("filterType")
    expected = {"text": "text", "words": "text", "number": "number", "date": "date"}[column.kind]
    types = TEXT_TYPES if expected == "text" else ORDER_TYPES
    if kind != expected or condition.get("type") not in types:
        raise BadRequest("not a filter of this list")
    if condition["type"] in ("blank", "notBlank"):
        return
    if expected == "text":
        value = condition.get("filter")
        if not isinstance(value, str) or len(value) > MAX_TEXT:
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
    if column.kind == "words":   # the person reads words: match them, keep the values they stand for
        matching = [v for v in data.distinct(LISTS[name].query, params, column.field)
                    if isinstance(v, str) and _matches(kind, label(v, lang).lower(), text)]
        return f"list_contains(cast({bind(matching)} as varchar[]), {quoted})"
    cell, value = f"lower(cast({quoted} as varchar))", bind(text)
    return {"equals": f"{cell} = {value}", "notEqual": f"{cell} <> {value}",
            "contains": f"contains({cell}, {value})", "notContains": f"not contains({cell}, {value})",
            "startsWith": f"starts_with({cell}, {value})", "endsWith": f"ends_with({cell}, {value})"}[kind]


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
    elif column.kind == "number":
        return int(value) if float(value).is_integer() else float(value)
    elif column.kind == "words":
        text = label(value, lang)
    else:
        text = str(value)
    if dpo:
        return text
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
    """The list as the grid shows it (its filters and sort, every page) as CSV, formulas neutralised."""
    listing = LISTS[name]
    asked = parse(name, request) if request else Request(0, PAGE_ROWS, (), {})
    where, values = _where(name, asked.filters, params, lang)
    frame = in_language(data.listed(listing.query, params, where, values, _order(name, asked.sort)), lang)
    columns = list(listing.export or [c.field for c in listing.columns])
    return to_csv(frame[columns] if not frame.empty else pd.DataFrame(columns=columns))
