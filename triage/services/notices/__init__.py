"""Telling people: the transactional outbox, notifications and email."""
