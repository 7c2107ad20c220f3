"""Small layout pieces shared by pages: tables, KPI cards, download buttons."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import dcc, html

from insyn.masking import mask_email, mask_in_text
from insyn.text import show_controls

from . import roles
from .i18n import label, t

ADDRESS_COLUMNS = ("email", "email_key")   # shown to a viewer as "a…@domain" whatever they hold


def _cell(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d %H:%M") if value.hour or value.minute else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def table(df: pd.DataFrame, columns: list[tuple[str, str]], lang: str, *, max_rows: int = 200,
          highlight: str | None = None, table_id: str | None = None,
          translate: tuple[str, ...] = ("request_type", "outcome", "severity", "sobject",
                                        "transfer_mechanism")) -> html.Div:
    """An HTML table of `columns` ((column, message id of its header) pairs); rows whose `highlight`
    column is true get the warning style; values of `translate` columns are shown in words (i18n.label).
    Every data cell carries `data-value`: its text is the data's, not the catalog's.
    Anyone but the DPO sees e-mail addresses abbreviated ("a…@example.se")."""
    ids = {"id": table_id} if table_id else {}
    dpo = roles.is_dpo()

    def shown(col: str, text: str) -> str:
        if dpo:
            return show_controls(text)   # text reordered on screen is other text
        # an address column whole (whatever it holds), any other text for the addresses in it
        whole = col in ADDRESS_COLUMNS or (col == "record_id" and "@" in text)   # an opt-out's id is the address
        return mask_email(text) if whole and text else mask_in_text(text)

    if df.empty:
        return html.P(t("dashboard.message.no_rows", lang), className="empty", **ids)
    head = html.Thead(html.Tr([html.Th(t(key, lang)) for _, key in columns]))
    rows = []
    for record in df.head(max_rows).to_dict("records"):
        cls = "warn" if highlight and bool(record.get(highlight)) else None
        cells = [shown(col, label(record[col], lang) if col in translate and isinstance(record.get(col), str)
                       else _cell(record.get(col))) for col, _ in columns]
        rows.append(html.Tr([html.Td(c, **{"data-value": ""}) for c in cells], className=cls))
    more = [html.P(f"+ {len(df) - max_rows}", className="note")] if len(df) > max_rows else []
    return html.Div([html.Table([head, html.Tbody(rows)], className="data", **ids)] + more,
                    className="table-wrap")


def kpi(label: str, value, *, delta: int | None = None, tone: str = "neutral", kpi_id: str | None = None) -> html.Div:
    children = [html.Div(str(value), className="kpi-value"), html.Div(label, className="kpi-label")]
    if delta:
        children.append(html.Div(("▲ " if delta > 0 else "▼ ") + str(abs(delta)),
                                 className="kpi-delta " + ("up" if delta > 0 else "down")))
    return html.Div(children, className=f"kpi {tone}", **({"id": kpi_id} if kpi_id else {}))


def download(button_id: str, download_id: str, lang: str) -> html.Div:
    """A CSV download button; these lists are personal, so only the DPO gets the button."""
    if not roles.is_dpo():
        return html.Div(className="download")
    return html.Div([html.Button(t("dashboard.label.download_csv", lang), id=button_id, className="button"),
                     dcc.Download(id=download_id)], className="download")
