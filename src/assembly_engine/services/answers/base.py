"""The base of every answer model."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticUndefined, core_schema


class Answer(BaseModel):
    """An answer the service builds itself: only its declared fields (``extra="forbid"``).

    ``built`` makes one from the engine's own values without validating them, as
    ``model_construct`` does but several times faster (the list builds a hundred per page):
    it knows the defaults beforehand and does not look for aliases. A field left out is
    unset, so answers serialised with ``exclude_unset`` leave it out."""

    model_config = ConfigDict(extra="forbid")
    _defaults: ClassVar[dict[str, Any]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        defaults: dict[str, Any] = {}
        for name, field in cls.__pydantic_fields__.items():
            if field.default_factory is not None or field.alias not in (None, name):
                raise TypeError(f"{cls.__name__}.{name}: answers take plain defaults and no aliases")
            if field.default is not PydanticUndefined:
                defaults[name] = field.default
        cls._defaults = defaults

    @classmethod
    def built(cls, **values: Any) -> Self:
        """An answer of ``values`` (serialised in their order); missing optional fields
        take their defaults and stay unset."""
        answer = cls.__new__(cls)
        fields_set = set(values)
        for name, default in cls._defaults.items():
            values.setdefault(name, default)
        object.__setattr__(answer, "__dict__", values)
        object.__setattr__(answer, "__pydantic_fields_set__", fields_set)
        object.__setattr__(answer, "__pydantic_extra__", None)
        object.__setattr__(answer, "__pydantic_private__", None)
        return answer

    @classmethod
    def of_attributes(cls, source: object) -> Self:
        """An answer of ``source``'s attributes of the same names as its fields (a value
        type the answer shows whole)."""
        return cls.built(**{name: getattr(source, name) for name in cls.__pydantic_fields__})


class UnsaidExtras(Answer):
    """A typed answer whose published schema was written before its model and says nothing
    of extra fields; kept as published so the OpenAPI document does not change."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=lambda schema: schema.pop("additionalProperties")
    )


class OpenAnswer(Answer):
    """A typed answer published as open (``additionalProperties: true``): clients were told
    it may grow fields, so the published schema keeps saying so."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"additionalProperties": True})


class PublishedAsObject:
    """A typed part of an answer that the OpenAPI document publishes as a free-form object
    (it was one before it had a type); it serialises itself with :meth:`published`, so no
    schema of its own joins the document."""

    def published(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.is_instance_schema(
            cls,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda value: value.published()),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"additionalProperties": True, "type": "object"}
