"""Ansible playbooks: YAML syntax and style (yamllint) and the shape of a playbook.

yamllint's syntax errors are errors; its style rules are warnings (a long line or a
``yes`` still runs). The structure rules need the parsed YAML: a playbook is a list of
plays, a play a mapping with ``hosts`` (or an ``import_playbook``), and its task lists
are lists of mappings. Positions come from PyYAML's node marks. Runs in the check child.
"""

from __future__ import annotations

from typing import Any

import yaml

from assembly_engine.services.checks.diagnostics import Diagnostic

SOURCE = "yamllint"
STRUCTURE = "playbook-structure"
TASK_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers")
IMPORTS = ("import_playbook", "ansible.builtin.import_playbook")
# Everything is checked; style is reported as warnings (see the module's docstring).
YAMLLINT_CONFIG = """
extends: default
rules:
  document-start: disable
  line-length: {max: 160}
  truthy: {allowed-values: ['true', 'false', 'yes', 'no']}
  comments: {min-spaces-from-content: 1}
"""


def available() -> bool:
    from importlib.util import find_spec

    return find_spec("yamllint") is not None


def warm() -> None:
    """Load yamllint and its rules before the script arrives (a spare child, runner.py)."""
    from yamllint import linter  # noqa: F401
    from yamllint.config import YamlLintConfig

    YamlLintConfig(YAMLLINT_CONFIG)


def _lint(text: str) -> list[Diagnostic]:
    from yamllint import linter
    from yamllint.config import YamlLintConfig

    found = []
    for problem in linter.run(text, YamlLintConfig(YAMLLINT_CONFIG)):
        syntax = problem.rule is None
        found.append(
            Diagnostic.at(
                problem.line,
                problem.column,
                "error" if syntax else "warning",
                "syntax" if syntax else problem.rule,
                problem.desc.removesuffix(" (syntax)")[:1].upper()
                + problem.desc.removesuffix(" (syntax)")[1:]
                + ".",
                SOURCE,
            )
        )
    return found


def _at(node: Any, severity: Any, message: str) -> Diagnostic:
    start, end = node.start_mark, node.end_mark
    return Diagnostic.at(
        start.line + 1,
        start.column + 1,
        severity,
        "structure",
        message,
        STRUCTURE,
        (end.line + 1, end.column + 1),
    )


def _mapping(node: Any) -> dict[str, Any]:
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _structure(root: Any) -> list[Diagnostic]:
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        return [_at(root, "error", "A playbook is a list of plays ('- hosts: …'); this is not a list.")]
    found = []
    for play in root.value:
        if not isinstance(play, yaml.MappingNode):
            found.append(_at(play, "error", "Each play is a mapping with at least 'hosts'."))
            continue
        keys = _mapping(play)
        if not any(name in keys for name in IMPORTS) and "hosts" not in keys:
            found.append(_at(play, "error", "This play has no 'hosts': Ansible refuses to run it."))
        for name in TASK_LISTS:
            tasks = keys.get(name)
            if tasks is None or (isinstance(tasks, yaml.ScalarNode) and tasks.value in ("", "null", "~")):
                continue
            if not isinstance(tasks, yaml.SequenceNode):
                found.append(_at(tasks, "error", f"'{name}' must be a list of tasks."))
                continue
            for task in tasks.value:
                if not isinstance(task, yaml.MappingNode):
                    found.append(_at(task, "error", f"Each entry of '{name}' must be a task (a mapping)."))
                elif not [k for k in _mapping(task) if k not in ("name", "when", "tags", "vars")]:
                    found.append(_at(task, "warning", "This task names no module or action to run."))
    return found


def check(text: str) -> list[Diagnostic]:
    found = _lint(text)
    if any(d.severity == "error" for d in found):
        return found  # the structure of text that does not parse is not known
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return found
    return found + _structure(root)
