"""Building blocks of the dashboard pages: figures (pure functions of data
frames), UI strings in Swedish and English, tables and KPI cards."""
