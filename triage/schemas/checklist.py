"""The checklist as published to partners and forms (GET /api/v1/checklist)."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_dump


class QuestionOutSchema(Schema):
    id = fields.String()
    text = fields.String()
    domain = fields.String()
    kind = fields.String()
    area = fields.String(allow_none=True)


class SectionOutSchema(Schema):
    id = fields.String()
    title = fields.String()
    domain = fields.String()
    questions = fields.List(fields.Nested(QuestionOutSchema))


class ChecklistOutSchema(Schema):
    id = fields.String()
    version = fields.String()
    title = fields.String()
    kinds = fields.Dict(keys=fields.String(), values=fields.String())
    headline_areas = fields.Dict(keys=fields.String(), values=fields.String())
    sections = fields.List(fields.Nested(SectionOutSchema))

    @pre_dump
    def _kind_titles(self, checklist, **kwargs):
        """Partners see each kind's title; what a kind means to the rules stays inside."""
        return {"id": checklist.id, "version": checklist.version, "title": checklist.title,
                "kinds": {k: kind.title for k, kind in checklist.kinds.items()},
                "headline_areas": checklist.headline_areas, "sections": checklist.sections}


class ErrorSchema(Schema):
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
