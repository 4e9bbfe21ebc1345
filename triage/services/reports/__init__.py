"""Reports for managers and commissioners: declared definitions (catalogue), monthly tallies
recounted by the periodic sweep (refresh), figures for a period and grouping (figures) and
their chart (chart)."""
