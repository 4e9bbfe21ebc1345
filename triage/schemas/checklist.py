"""The checklist as published to partners and forms (GET /api/v1/checklist)."""

from __future__ import annotations

from marshmallow import Schema, fields


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


class RouteOutSchema(Schema):
    service = fields.String()
    instance = fields.String(allow_none=True)
    reason = fields.String()


class ReasonOutSchema(Schema):
    rule = fields.String()
    text = fields.String()
    indicators = fields.List(fields.String())


class DecisionOutSchema(Schema):
    """Documents the decision shape; decisions are stored and returned as the engine made them."""

    level = fields.Integer()
    level_name = fields.String()
    safeguarding = fields.Dict(keys=fields.String(), values=fields.Boolean())
    urgent = fields.Boolean()
    routes = fields.List(fields.Nested(RouteOutSchema))
    reasons = fields.List(fields.Nested(ReasonOutSchema))
    ruleset = fields.Dict(keys=fields.String(), values=fields.String())
    needs_review = fields.Boolean()
    review_reasons = fields.List(fields.String())


class ErrorSchema(Schema):
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
