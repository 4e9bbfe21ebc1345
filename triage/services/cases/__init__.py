"""Cases after routing: reading and moving them on their pathway, dues, notes, worklists."""
