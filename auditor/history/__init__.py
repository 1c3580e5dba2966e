"""The history store (`--history URL`): every run recorded, so the nightly report can show trends, what is new
and what was fixed, and how long findings stay open.

An embedded SQLite file by default (a path); a team shares one PostgreSQL database by giving its URL. The schema is
versioned with Alembic (migrations/), so an older store is upgraded in place and a store written by a newer auditor
is refused. Written through SQLAlchemy Core, one transaction per run."""
