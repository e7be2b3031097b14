"""The class store's one schema (SQLAlchemy Core tables), the same on SQLite and PostgreSQL: classes, their teacher
keys (SHA-256) and single-use teacher-link tokens, students, revealed steps, and answers (one per student and step)."""
from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, String, Table

from .rules import CODE_LENGTH, MAX_NAME, MAX_VALUE

META = MetaData()
CLASSES = Table("classes", META,
                Column("code", String(CODE_LENGTH), primary_key=True),
                Column("lesson", Integer), Column("step", Integer),
                Column("created", Float, nullable=False), Column("touched", Float, nullable=False))
KEYS = Table("teacher_keys", META,  # SHA-256 of each teacher key (a class's first, and one per reopened view)
             Column("key_hash", String(64), primary_key=True),
             Column("code", String(CODE_LENGTH), ForeignKey("classes.code"), nullable=False, index=True))
REOPENS = Table("reopen_tokens", META,  # single-use tokens of teacher links, SHA-256, valid for REOPEN_SECONDS
                Column("token_hash", String(64), primary_key=True),
                Column("code", String(CODE_LENGTH), ForeignKey("classes.code"), nullable=False),
                Column("expires", Float, nullable=False))
STUDENTS = Table("students", META,
                 Column("id", String(32), primary_key=True),
                 Column("code", String(CODE_LENGTH), ForeignKey("classes.code"), nullable=False, index=True),
                 Column("name", String(MAX_NAME), nullable=False), Column("joined", Float, nullable=False))
REVEALS = Table("reveals", META,
                Column("code", String(CODE_LENGTH), ForeignKey("classes.code"), primary_key=True),
                Column("lesson", Integer, primary_key=True), Column("step", Integer, primary_key=True))
ANSWERS = Table("answers", META,
                Column("student", String(32), ForeignKey("students.id"), primary_key=True),
                Column("lesson", Integer, primary_key=True), Column("step", Integer, primary_key=True),
                Column("code", String(CODE_LENGTH), ForeignKey("classes.code"), nullable=False, index=True),
                Column("value", String(MAX_VALUE), nullable=False), Column("at", Float, nullable=False))
