"""The module manifest: `model` (the pydantic models), `load` (reading with full error
reports), `schema` (the generated JSON Schema), `base` (what capabilities' sections share).

Nothing is imported here: capabilities define their sections on `manifest.base`,
and `manifest.model` assembles the permissions from the capability registry, so
importing one part must not import the others.
"""
