"""The look shared by the dashboard and the reports: one colour palette and the order of values.

Okabe & Ito (2008): colours that stay distinct under the common colour-vision
deficiencies. The dashboard's figures and the audit notebooks' figures both
take their colours from here, so a request type or a severity has one colour
wherever it is drawn.
"""

from __future__ import annotations

BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#999999"

COLORWAY = [BLUE, ORANGE, GREEN, VERMILLION, SKY_BLUE, PURPLE, YELLOW, BLACK]
WARNING = VERMILLION

# Values the data carries, in the order they are shown (their words: `value.<value>` in the catalog).
SEVERITIES = ("high", "medium", "low")
SEVERITY_COLOURS = {"high": VERMILLION, "medium": ORANGE, "low": SKY_BLUE}
REQUEST_TYPES = ("access", "erasure", "rectification", "restriction", "objection", "portability", "unknown")
REQUEST_TYPE_COLOURS = dict(zip(REQUEST_TYPES, (BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY_BLUE, GREY)))
# The order of policy.toml [transfer].mechanisms; other values follow alphabetically.
MECHANISMS = ("adequacy", "dpf", "scc_2021", "scc_2010", "bcr", "privacy_shield", "none")
