"""The answers the services return: pydantic models, one per answer, grouped by area.

Services build them and routes return them as they are, with the model as FastAPI's
``response_model`` so /openapi.json documents every answer from the same class; the list
page (services/assemblies/listing.py) and the create fast path (api/write_lane.py)
serialise the same models. Field names follow Docs/assemblies.md §7. A field with a default
is one an answer may leave out (``payload_guid`` for admins only, ``match``, ``upstream``
...): builders pass exactly the fields an answer has, and answers are serialised with
``exclude_unset``, so a field left out never appears as null.
"""
