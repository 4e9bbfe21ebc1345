"""Marshmallow schemas: the single source of validation for the API, the forms and the CSV batch."""
