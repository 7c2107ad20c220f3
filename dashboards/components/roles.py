"""Who may see what: the one place that names what is for the DPO only.

A `viewer` sees aggregates and findings; person look-ups, access reports and
downloads of personal lists are the `dpo`'s. The request hook
(components/inputs.py) answers 403 for a callback with an output named here,
the navigation leaves the pages named here out, and tables abbreviate e-mail
addresses for anyone but the DPO.
"""

from __future__ import annotations

from insyn.auth import DPO

# Pages a viewer does not get (nor their link in the navigation).
DPO_ONLY_PAGES = frozenset({"/people"})
# Callback outputs that carry a person's data or a personal list: only the DPO's callbacks write them.
DPO_ONLY_OUTPUTS = frozenset({
    ("people-result", "children"),       # a person's rows
    ("report-download", "data"),         # an art. 15 access report
    ("report-status", "children"),       # the report's outcome for an address
    ("contacts-download", "data"),       # the deletion list as CSV (names and e-mails)
    ("erasures-download", "data"),       # erasures as CSV (record ids of people erased)
    ("optouts-breaches-export", "data"),         # /optouts' lists as CSV (e-mail addresses)
    ("optouts-not-synced-export", "data"),
    ("optouts-notice-missing-export", "data"),
    ("optouts-notice-late-export", "data"),
})


def current_role() -> str | None:
    """The role of this request's user: "dpo", "viewer", or None (no session).

    Outside a request (a page function called from Python, as the tests do)
    there is no web user: the caller is the DPO's own code. A server without
    Insyn's login installed (a bare `create_app`, as the tests build it) has
    no users and no roles: the local DPO's.
    """
    import flask

    from insyn import auth

    if not flask.has_request_context():
        return DPO
    role = auth.current_role()
    if role is None and flask.current_app.extensions.get("insyn.auth") is None:
        return DPO
    return role


def is_dpo() -> bool:
    """True only for the DPO: an unknown or missing role gets the viewer's share."""
    return current_role() == DPO


def may_see_page(path: str) -> bool:
    return path not in DPO_ONLY_PAGES or is_dpo()


def dpo_only(outputs) -> bool:
    """True when any of `outputs` ((component id, property) pairs) is the DPO's only."""
    return any(tuple(o) in DPO_ONLY_OUTPUTS for o in outputs)

