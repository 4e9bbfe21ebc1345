"""Referrals from intake to routing: record, decide, route, consent, override, close, list."""
