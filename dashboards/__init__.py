"""The DPO's Dash dashboard: app, pages and components (figures, strings, tables)."""
