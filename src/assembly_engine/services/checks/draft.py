"""The body of ``POST /api/assemblies/check``: a script (or a workflow) not saved yet."""

from __future__ import annotations

from typing import Any

from assembly_engine.domain.types import AssemblyType
from assembly_engine.services.assemblies.payload_layout import workflow_bytes
from assembly_engine.services.request_bodies import StrictModel


class CheckDraft(StrictModel):
    assembly_type: AssemblyType
    script: str | None = None
    workflow: dict[str, Any] | None = None

    def language_and_text(self) -> tuple[str, str]:
        """What to check; ValueError says what is missing."""
        if self.assembly_type is AssemblyType.WORKFLOW:
            if self.workflow is None or self.script is not None:
                raise ValueError("a workflow draft is sent as workflow (an object with nodes and edges)")
            # Checked in its stored form, so positions match the saved workflow.json.
            return "workflow", workflow_bytes(self.workflow).decode("utf-8")
        if self.script is None or self.workflow is not None:
            raise ValueError(f"a {self.assembly_type.value} draft is sent as script (its text)")
        return self.assembly_type.value, self.script
