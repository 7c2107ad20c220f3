"""Every value a callback receives, checked on the server before the callback runs.

The browser is not trusted: anyone who can reach the server can POST any
JSON to /_dash-update-component. `VALIDATORS` maps each (component id,
property) that any callback takes as Input or State to a check against what
the page offers (a language of the switch, an as-of date of the dropdown, a
report format of the list ...). `install(app)` puts a Flask hook in front of
Dash's dispatch: a body that is not JSON, names a callback or component the
app does not have, or carries a value the page could not have sent gets a
400 with a short JSON error; a callback whose output is the DPO's only
(components/roles.py) gets a 403 for anyone else. Dash never sees either.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

import flask

from insyn.access_report import FORMATS

from .. import data
from . import grid, roles
from .i18n import OFFERED, SHOWN

REQUEST_STATUSES = ("open", "closed", "overdue")
MAX_BODY_BYTES = 64 * 1024      # the largest callback body of these pages is a few kB
MAX_EMAIL_CHARS = 320           # RFC 5321: 64 + 1 + 255
MAX_NAME_CHARS = 120            # who vouched for an identity
MAX_PATH_CHARS = 2048
MAX_CLICKS = 2**31 - 1
MAX_POINTS = 100                # a click on the timeline gives one point
MAX_ID_CHARS = 200

_BODY_KEYS = {"output", "outputs", "inputs", "state", "changedPropIds", "parsedChangedPropsIds"}
_ENTRY_KEYS = {"id", "property", "value"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Refused(Exception):
    """A request the hook answers itself: `status` and a short message without the value."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


# ---------------------------------------------------------------- checks of one value

Check = Callable[[object], None]


def optional(check: Check) -> Check:
    def run(value):
        if value is not None:
            check(value)
    return run


def one_of(choices) -> Check:
    def run(value):
        if not isinstance(value, str) or value not in choices():
            raise Refused("not one of the values offered")
    return run


def text(max_chars: int, *, controls: bool = True) -> Check:
    def run(value):
        if not isinstance(value, str):
            raise Refused("not text")
        if len(value) > max_chars:
            raise Refused(f"longer than {max_chars} characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:   # a lone surrogate (JSON allows "\ud800"): no text a person typed
            raise Refused("not text") from None
        if not controls and _CONTROL.search(value):
            raise Refused("control characters")
    return run


def clicks(value) -> None:
    """n_clicks: None before the first click, then a count."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CLICKS:
        raise Refused("not a click count")


def pathname(value) -> None:
    if value is None:
        return
    text(MAX_PATH_CHARS, controls=False)(value)
    if not value.startswith("/"):
        raise Refused("not a path")


def as_of(value) -> None:
    """None (nothing chosen yet) or one of the dates the dropdown offers, as ISO text."""
    if value is None:
        return
    if not isinstance(value, str) or len(value) != 10:
        raise Refused("not a date")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise Refused("not a date") from None
    if day not in data.as_of_dates():
        raise Refused("not one of the dates offered")


def remembered_as_of(value) -> None:
    """The as-of the tab remembers (app.py): None or a date as ISO text, offered or not any more
    (the shell then shows the newest)."""
    if value is None:
        return
    if not isinstance(value, str) or len(value) != 10:
        raise Refused("not a date")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise Refused("not a date") from None


def _all_requests():
    return data.q("dsar_timeline", year=None, request_type=None, status=None)


def year(value) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused("not a year")
    if value not in {d.year for d in _all_requests()["received_on"]}:
        raise Refused("not one of the years offered")


def click_data(value) -> None:
    """A click on the request timeline: {"points": [{..., "customdata": request id}]}."""
    if value is None:
        return
    if not isinstance(value, dict) or not isinstance(value.get("points"), list):
        raise Refused("not a click on the chart")
    points = value["points"]
    if not 1 <= len(points) <= MAX_POINTS or not all(isinstance(p, dict) for p in points):
        raise Refused("not a click on the chart")
    request_id = points[0].get("customdata")
    if isinstance(request_id, list) and request_id:
        request_id = request_id[0]
    if not isinstance(request_id, str) or len(request_id) > MAX_ID_CHARS:
        raise Refused("not a request of the chart")
    if request_id not in set(_all_requests()["request_id"]):
        raise Refused("not a request of the chart")


def grid_request(name: str) -> Check:
    """A grid's request for rows of list `name` (components/grid.py): None before it asks."""
    def run(value):
        if value is None:
            return
        try:
            grid.parse(name, value)
        except grid.BadRequest as exc:
            raise Refused(str(exc)) from None
    return run


def chosen_filter(value) -> None:
    """A filter chosen on the overview for a page's grid: None, or one its list takes (grid.check_chosen)."""
    try:
        grid.check_chosen(value)
    except grid.BadRequest as exc:
        raise Refused(str(exc)) from None


# Every (component id, property) a callback takes, with what the page can send for it.
VALIDATORS: dict[tuple[str, str], Check] = {
    # the shell (app.py) and Dash Pages' own router
    ("lang", "value"): one_of(lambda: flask.current_app.extensions.get(OFFERED, SHOWN)),
    ("as-of", "value"): as_of,
    ("as-of-chosen", "data"): remembered_as_of,
    ("url", "pathname"): pathname,
    ("_pages_location", "pathname"): pathname,
    ("_pages_location", "search"): optional(text(MAX_PATH_CHARS, controls=False)),
    # /requests
    ("requests-year", "value"): optional(year),
    ("requests-type", "value"): optional(one_of(lambda: set(_all_requests()["request_type"]))),
    ("requests-status", "value"): optional(one_of(lambda: REQUEST_STATUSES)),
    ("requests-timeline", "clickData"): click_data,
    ("requests-grid", "getRowsRequest"): grid_request("requests"),
    ("requests-export-button", "n_clicks"): clicks,
    # /contacts
    ("contacts-download-button", "n_clicks"): clicks,
    ("contacts-deletion", "getRowsRequest"): grid_request("deletion"),
    ("contacts-coming-due", "getRowsRequest"): grid_request("coming_due"),
    ("contacts-evidence", "getRowsRequest"): grid_request("evidence"),
    # /quality
    ("quality-files", "getRowsRequest"): grid_request("files"),
    # /optouts (pages/optouts.py SECTIONS: a grid and its export per list)
    ("optouts-breaches-grid", "getRowsRequest"): grid_request("optout_breaches"),
    ("optouts-not-synced-grid", "getRowsRequest"): grid_request("rule_findings"),
    ("optouts-notice-missing-grid", "getRowsRequest"): grid_request("rule_findings"),
    ("optouts-notice-late-grid", "getRowsRequest"): grid_request("rule_findings"),
    ("optouts-breaches-export-button", "n_clicks"): clicks,
    ("optouts-not-synced-export-button", "n_clicks"): clicks,
    ("optouts-notice-missing-export-button", "n_clicks"): clicks,
    ("optouts-notice-late-export-button", "n_clicks"): clicks,
    # /erasures, and a filter the overview chose for a page's grid (grid.FILTER_STORE)
    ("erasures-grid", "getRowsRequest"): grid_request("erasures"),
    ("erasures-download-button", "n_clicks"): clicks,
    (grid.FILTER_STORE, "data"): chosen_filter,
    # /people
    ("people-search", "n_clicks"): clicks,
    ("people-email", "value"): optional(text(MAX_EMAIL_CHARS, controls=False)),
    ("report-produce", "n_clicks"): clicks,
    ("report-vouched-by", "value"): optional(text(MAX_NAME_CHARS, controls=False)),
    ("report-format", "value"): one_of(lambda: FORMATS),
}


# ---------------------------------------------------------------- the request

def _targets(key: str) -> list[tuple[str, str]]:
    """The (id, property) outputs of a callback from Dash's output key ("a.b" or "..a.b...c.d..")."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [tuple(part.rsplit(".", 1)) for part in parts]


def _entries(body: dict, field: str, declared: list[dict]) -> list[tuple[str, str, object]]:
    """The (id, property, value) entries of `field`, exactly the callback's declared ones in order."""
    entries = body.get(field, [])
    if entries is None and field == "state":
        entries = []
    if not isinstance(entries, list) or len(entries) != len(declared):
        raise Refused(f"{field}: not the callback's")
    out = []
    for entry, spec in zip(entries, declared):
        if not isinstance(entry, dict) or not set(entry) <= _ENTRY_KEYS:
            raise Refused(f"{field}: not the callback's")
        if entry.get("id") != spec["id"] or entry.get("property") != spec["property"]:
            raise Refused(f"{field}: not the callback's")
        out.append((spec["id"], spec["property"], entry.get("value")))
    return out


def check_body(body, callbacks: dict[str, dict]) -> list[tuple[str, str]]:
    """Check a parsed callback body against the app's `callbacks` (output key -> dependency
    entry of /_dash-dependencies); returns the callback's outputs. Raises Refused."""
    if not isinstance(body, dict) or not set(body) <= _BODY_KEYS:
        raise Refused("not a callback request")
    key = body.get("output")
    spec = callbacks.get(key) if isinstance(key, str) else None
    if spec is None:
        raise Refused("no such callback")
    targets = _targets(key)
    outputs = body.get("outputs")
    if len(targets) == 1 and isinstance(outputs, dict):   # Dash sends one output alone, several as a list
        outputs = [outputs]
    elif len(targets) == 1 or not isinstance(outputs, list):
        raise Refused("outputs: not the callback's")
    if [(o.get("id"), o.get("property")) if isinstance(o, dict) else None for o in outputs] != targets:
        raise Refused("outputs: not the callback's")
    if roles.dpo_only(targets) and not roles.is_dpo():
        raise Refused("not for this role", 403)
    inputs = _entries(body, "inputs", spec["inputs"])
    states = _entries(body, "state", spec["state"])
    changed = {f"{i}.{p}" for i, p, _ in inputs}
    for field in ("changedPropIds", "parsedChangedPropsIds"):
        ids = body.get(field, [])
        if not isinstance(ids, list) or not all(isinstance(i, str) and i in changed for i in ids):
            raise Refused(f"{field}: not the callback's inputs")
    for component, prop, value in inputs + states:
        check = VALIDATORS.get((component, prop))
        if check is None:
            raise Refused(f"{component}.{prop}: no check for this input")   # fail closed
        try:
            check(value)
        except Refused as exc:
            raise Refused(f"{component}.{prop}: {exc.message}") from None
    return targets


def _no_constants(name):
    raise ValueError(name)   # NaN and Infinity are not JSON


def install(app) -> None:
    """Check every POST to /_dash-update-component before Dash dispatches it."""
    import flask
    from werkzeug.exceptions import RequestEntityTooLarge

    route = app.config.routes_pathname_prefix + "_dash-update-component"
    callbacks: dict[str, dict] = {}

    def refuse(message: str, status: int):
        response = flask.jsonify({"error": message})
        response.status_code = status
        response.headers["Cache-Control"] = "no-store"
        return response

    def check_callback_request():
        request = flask.request
        if request.path != route:
            return None
        if request.method != "POST":
            return None   # Flask answers 405 itself
        if not callbacks:   # Dash gathers its callbacks at the first request, before this hook
            callbacks.update({c["output"]: c for c in app._callback_list if not c.get("clientside_function")})
        request.max_content_length = MAX_BODY_BYTES
        try:
            raw = request.get_data(cache=True)
        except RequestEntityTooLarge:
            return refuse("request too large", 413)
        try:
            body = json.loads(raw, parse_constant=_no_constants)
        except (ValueError, RecursionError):
            return refuse("not JSON", 400)
        try:
            check_body(body, callbacks)
        except Refused as exc:
            return refuse(exc.message, exc.status)
        return None

    app.server.before_request(check_callback_request)
