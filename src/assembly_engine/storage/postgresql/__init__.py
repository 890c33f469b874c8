"""Cluster mode's storage in PostgreSQL (in progress: not wired into the engine yet).

``pool`` opens connection pools on ``ENGINE_DATABASE_URL``, ``migrations`` brings a
database to the current schema (``schema_v1``) once, whichever node starts first.
"""
