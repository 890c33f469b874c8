"""Editing one assembly: create, update, delete and clone.

Each asks the policy about the domain it will actually write (the existing record's domain
for updates and deletes, the target for clones) and writes exactly one audit entry.
"""

from __future__ import annotations

import json
from typing import Any

from assembly_engine import input_limits as limits
from assembly_engine.domain.clock import utc_now
from assembly_engine.domain.types import KIND_TYPES, AssemblyKind, Domain
from assembly_engine.services.answers.records import AssemblyView, Deleted
from assembly_engine.services.assemblies.changes import Changes
from assembly_engine.services.assemblies.inputs import AssemblyChanges, CloneRequest, NewAssembly
from assembly_engine.services.assemblies.inputs import expected_revision as expected_revision_of
from assembly_engine.services.assemblies.records import Details, require_whole_row
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import InvalidInput
from assembly_engine.storage.contract.models import AssemblyRecord, PayloadContent
from assembly_engine.storage.contract.upstream import UPSTREAM_KEY, with_note


def check_variables(metadata: dict[str, Any] | None) -> None:
    """``metadata.variables``, when given, is a list of objects with unique, non-blank
    names; a refusal names the row (1-based, as the editor shows it)."""
    variables = (metadata or {}).get("variables")
    if variables is None:
        return
    if not isinstance(variables, list):
        raise InvalidInput("metadata.variables must be a list of variable objects.")
    first_row: dict[str, int] = {}
    for index, variable in enumerate(variables):
        where = f"metadata.variables[{index}] (variable row {index + 1})"
        if not isinstance(variable, dict):
            raise InvalidInput(f"{where} must be an object with at least a name.")
        name = variable.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"{where} has no name: every variable needs a name.")
        key = name.strip()
        if key in first_row:
            raise InvalidInput(
                f"{where} is named {key!r} like row {first_row[key] + 1}: variable names must be unique."
            )
        first_row[key] = index


def check_kind_type(kind: AssemblyKind, assembly_type: str) -> None:
    allowed = KIND_TYPES[kind]
    if assembly_type not in {t.value for t in allowed}:
        names = ", ".join(sorted(t.value for t in allowed))
        raise InvalidInput(
            f"assembly_type '{assembly_type}' does not fit assembly_kind '{kind.value}' "
            f"(use one of: {names})."
        )


class Editing:
    def __init__(self, changes: Changes) -> None:
        self._changes = changes
        self._auditor = changes.auditor
        self._cache = changes.cache
        self._contents = changes.contents

    def create(self, caller: Caller, new: NewAssembly) -> AssemblyView:
        self._auditor.require(
            policy.may_write(caller.actor, new.domain), caller, "assembly.create", domain=new.domain
        )
        check_kind_type(new.assembly_kind, new.assembly_type)
        check_variables(new.metadata)
        content = self._contents.build(new.payload, new.assembly_kind, new.assembly_type)
        created = self._changes.insert(caller, "assembly.create", new.domain, content, Details.given(new))
        return AssemblyView.of(created, admin=caller.is_admin)

    def update(
        self, caller: Caller, guid: str, changes: AssemblyChanges, *, expected_revision: int | None = None
    ) -> AssemblyView:
        current = self._changes.existing_for(caller, "assembly.update", guid)
        domain = current.domain
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, "assembly.update", domain=domain, guid=guid
        )
        if changes.domain is not None and changes.domain is not domain:
            raise InvalidInput(
                f"An update cannot move an assembly from {domain.value} to {changes.domain.value}; "
                "clone it into the other domain instead."
            )
        revision = expected_revision_of(expected_revision, changes.expected_revision)
        kind = current.record.assembly_kind
        new_type = changes.assembly_type or current.record.assembly_type or ""
        check_kind_type(kind, new_type)
        check_variables(changes.metadata)
        with self._changes.audited(caller, "assembly.update", domain=domain, guid=guid):
            require_whole_row(current)
            new_content: PayloadContent | None = None
            if changes.payload is not None or new_type != current.record.assembly_type:
                previous = self._contents.read(current)
                content = self._contents.build(changes.payload or {}, kind, new_type, previous)
                new_content = content if content != previous else None
            with self._changes.new_payload(domain, new_content) as new_ref:
                updates: dict[str, Any] = {
                    "updated_at": utc_now(),
                    "updated_by": caller.username,
                    "assembly_type": new_type,
                }
                for name in ("display_name", "summary", "category", "version"):
                    if name in changes.model_fields_set:
                        value = getattr(changes, name)
                        if name == "display_name" and value is None:
                            raise InvalidInput("display_name cannot be empty.")
                        updates[name] = value
                if changes.tags is not None:
                    updates["tags_json"] = json.dumps(changes.tags, ensure_ascii=False)

                def change(record: AssemblyRecord) -> AssemblyRecord:
                    fields = dict(updates)
                    if changes.metadata is not None:
                        merged = record.metadata
                        for key, value in changes.metadata.items():
                            if key == UPSTREAM_KEY and domain is Domain.OFFICIAL:
                                continue  # the engine's vendor note: never from a body
                            if value is None:
                                merged.pop(key, None)
                            else:
                                merged[key] = value
                        # The merge with what is stored can outgrow the limit each part kept.
                        problem = limits.metadata_size_problem(merged, "metadata (after the update)")
                        if problem is not None:
                            raise InvalidInput(f"{problem}.")
                        fields["metadata_json"] = json.dumps(merged, ensure_ascii=False)
                    if new_ref is not None:
                        fields["payload"] = new_ref
                    return record.evolve(**fields)

                updated = self._changes.update(
                    caller,
                    "assembly.update",
                    current,
                    change,
                    lambda record: f"revision {record.revision}",
                    expected_revision=revision,
                )
        return AssemblyView.of(updated, admin=caller.is_admin)

    def delete(self, caller: Caller, guid: str, *, expected_revision: int | None = None) -> Deleted:
        current = self._changes.existing_for(caller, "assembly.delete", guid)
        domain = current.domain
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, "assembly.delete", domain=domain, guid=guid
        )
        note = self._auditor.note(
            caller, "assembly.delete", domain=domain, guid=guid, detail=current.record.display_name
        )
        with self._changes.audited(caller, "assembly.delete", domain=domain, guid=guid):
            deleted = self._changes.commit(
                lambda: self._cache.delete(
                    guid, expected_revision=expected_revision, note=lambda _: note, actor=caller.username
                )
            )
        return Deleted.built(
            assembly_guid=guid, source=domain, status="queued_delete", is_dirty=deleted.state.is_dirty
        )

    def clone(self, caller: Caller, guid: str, request: CloneRequest) -> AssemblyView:
        source = self._changes.existing_for(caller, "assembly.clone", guid)
        target = request.target_domain
        self._auditor.require(
            policy.may_write(caller.actor, target), caller, "assembly.clone", domain=target, guid=guid
        )
        require_whole_row(source)
        content = self._contents.read(source)
        self._contents.require_file_count(content)
        name = request.display_name or source.record.display_name
        if request.display_name is None and target is source.domain:
            name = f"{name} (copy)"
        created = self._changes.insert(
            caller,
            "assembly.clone",
            target,
            content,
            Details.of(with_note(source.record, None)).renamed(name[:200]),  # a copy has no vendor
            detail=f"cloned from {source.domain.value}: {source.record.display_name}",
        )
        return AssemblyView.of(created, admin=caller.is_admin)
