"""The benchmark floor: a bare Flask endpoint that inserts one row into the same database."""

from __future__ import annotations

import os

from flask import Flask, jsonify
from sqlalchemy import Column, Integer, MetaData, String, Table

from triage.db import Database

metadata = MetaData()
floor = Table("bench_floor", metadata, Column("id", Integer, primary_key=True),
              Column("note", String(50)))


def create() -> Flask:
    app = Flask(__name__)
    db = Database(os.environ["TRIAGE_DATABASE_URL"])  # the table is made by bench/intake.py

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.post("/floor")
    def insert():
        with db.unit_of_work() as session:
            session.execute(floor.insert().values(note="x"))
        return jsonify({"ok": True}), 201

    return app
