"""The one web server: pages, the JSON API and the FHIR API share one security model.

``create_app`` (in :mod:`bettercare.app.main`) builds the FastAPI application. Its own
database (:mod:`bettercare.app.db`; SQLite by default, PostgreSQL supported, schema by
Alembic) holds plans, users, the workflow and the append-only audit log. Who may do what
is decided in :mod:`bettercare.app.security` and nowhere else; every change and every
refused attempt is written by :mod:`bettercare.app.audit`. The app is a thin edge: the
planning rules, metrics and reports come from the layers below, as for the CLI.
"""
