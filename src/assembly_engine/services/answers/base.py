"""The base of every answer model."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticUndefined


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


class DictAnswer(BaseModel):
    """An answer a service still returns as a dict, described for OpenAPI: extra fields are
    allowed so the model never drops part of it."""

    model_config = ConfigDict(extra="allow")
