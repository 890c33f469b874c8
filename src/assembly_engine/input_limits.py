"""Every limit on what a request may carry, defined once.

The API's request models, the legacy importer and the payload codec all take their limits
from here, so the three edges where input enters cannot drift apart, and the table in
Docs/assemblies.md ("Input limits") can be checked against one module. Each check returns
a sentence that names the field and the limit (or None), so a refusal tells a person what
to change; nothing is ever truncated silently.

Why caps at all: free text travels into audit details, search, sorting and every list
page. A field without a bound lets one request make every later request slow.
"""

from __future__ import annotations

import unicodedata

import orjson

# SQLite's INTEGER and orjson both stop at signed 64-bit: a larger number would be
# accepted, then fail when it is answered (500) or flushed (a poisoned batch).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

DISPLAY_NAME_CHARS = 200
SUMMARY_CHARS = 10_000
CATEGORY_CHARS = 200
ASSEMBLY_TYPE_CHARS = 32
TAG_CHARS = 64
TAGS_PER_ASSEMBLY = 50
VARIABLES_PER_ASSEMBLY = 500
VARIABLE_NAME_CHARS = 200
VARIABLE_LABEL_CHARS = 200
VARIABLE_TYPE_CHARS = 64
VARIABLE_TEXT_CHARS = 10_000  # a variable's description, and a default given as text
SITES_MODE_CHARS = 64
SITE_VALUE_CHARS = 200
SITE_VALUES_PER_ASSEMBLY = 10_000
FILE_NAME_BYTES = 255  # what every common file system allows for one name
# Every attachment is a file in each payload folder, and each clone or edit of the
# payload writes them all again: real assemblies attach a handful.
FILES_PER_ASSEMBLY = 100
MIME_TYPE_CHARS = 255
REASON_CHARS = 500  # the Dev Mode reason
SEARCH_CHARS = 200  # the list's q
BULK_ITEMS = 1000  # assemblies named by one bulk action or bulk export
# An assembly's metadata as stored (compact JSON, UTF-8). Every revision and detail carries
# it; real metadata (variables, sites, legacy fields) is a few kilobytes, a long site list
# a few hundred.
METADATA_BYTES = 1024 * 1024
# Playbook text is parsed as YAML on import, which costs far more per byte than JSON and
# holds the interpreter lock: even with libyaml, 1 MiB costs about a second of CPU. Real
# playbooks are a few kilobytes, so 512 KiB leaves ample room.
PLAYBOOK_BYTES = 512 * 1024

# Characters that make a name show something other than what it is: the bidi embedding,
# override and isolate controls (U+202E turns "gpj.exe" around) and the directional marks.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# The same rule as a JSON Schema pattern, so the OpenAPI document says what a name may hold.
# The format characters of the Basic Multilingual Plane (category Cf, the bidi controls
# among them) but the two joiners; the Python check covers the other planes too.
ONE_LINE_PATTERN = (
    r"^[^\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    r"\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    r"\u2028\u2029]*$"
)
# Unicode categories never allowed in a one-line name: control characters (NUL, CR, LF,
# tab, DEL, C1), the line separator and the paragraph separator.
_LINE_BREAKING_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
# Format characters (category Cf) show nothing: "Reset\u200bPassword" reads as another
# name. The zero-width joiner and non-joiner stay allowed: emoji sequences and Persian or
# Indic spelling need them.
_ALLOWED_FORMAT = frozenset("\u200c\u200d")
# Letters that render as nothing (the Hangul fillers) and the blank Braille pattern: a name
# made of them, of spaces and of format characters looks empty.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def forbidden_name_character(value: str) -> str | None:
    """Describe the first character that may not appear in a name, or None."""
    for position, char in enumerate(value):
        if char in BIDI_CONTROLS:
            return f"a bidirectional control character (U+{ord(char):04X}) at position {position}"
        category = unicodedata.category(char)
        if category == "Cc":
            return f"a control character (U+{ord(char):04X}) at position {position}"
        if category in _LINE_BREAKING_CATEGORIES:
            return f"a line or paragraph separator (U+{ord(char):04X}) at position {position}"
        if category == "Cf" and char not in _ALLOWED_FORMAT:
            return f"an invisible format character (U+{ord(char):04X}) at position {position}"
    return None


def is_blank(value: str) -> bool:
    """Whether ``value`` is not empty but shows nothing: only spaces, format characters and
    invisible letters (an empty value is each field's own rule)."""
    return value != "" and all(
        char.isspace() or char in _INVISIBLE_LETTERS or unicodedata.category(char) in ("Cf", "Zs", "Mn")
        for char in value
    )


def nfc(value: str) -> str:
    """Names are kept in NFC, so "é" typed precomposed or as "e" + accent is one name."""
    return unicodedata.normalize("NFC", value)


def text_problem(value: str, where: str, max_chars: int) -> str | None:
    """A free-text field over its limit (multi-line text such as a description), or holding
    NUL, which no text column of PostgreSQL (cluster mode) can store."""
    if len(value) > max_chars:
        return (
            f"{where} is {len(value)} characters long; the limit is {max_chars} "
            "characters. Shorten it and send it again"
        )
    if "\x00" in value:
        return f"{where} contains a NUL character (U+0000) at position {value.index(chr(0))}; remove it"
    return None


def name_problem(value: str, where: str, max_chars: int, *, visible: bool = False) -> str | None:
    """A one-line name: within its limit and free of control, bidi and format characters;
    with ``visible`` (names that identify something), not blank either."""
    too_long = text_problem(value, where, max_chars)
    if too_long is not None:
        return too_long
    bad = forbidden_name_character(value)
    if bad is not None:
        return (
            f"{where} contains {bad}; names must be one line of visible text "
            "(no control, line-separator, bidi override or invisible format characters)"
        )
    if visible and is_blank(value):
        return f"{where} is blank: it shows no visible character; give it a name people can read"
    return None


def integer_problem(value: int, where: str) -> str | None:
    if INT64_MIN <= value <= INT64_MAX:
        return None
    return (
        f"{where} is {'above' if value > 0 else 'below'} the signed 64-bit range: whole "
        f"numbers must be between {INT64_MIN} and {INT64_MAX}"
    )


def mime_type_problem(value: str, where: str) -> str | None:
    """A media type must be a ``type/subtype`` token (RFC 6838), nothing a header could break on."""
    too_long = text_problem(value, where, MIME_TYPE_CHARS)
    if too_long is not None:
        return too_long
    kind, slash, subtype = value.partition("/")
    if not slash or not _is_token(kind) or not _is_token(subtype):
        shown = value if len(value) <= 60 else value[:60] + "…"
        return (
            f"{where} {shown!r} is not a media type: use type/subtype such as "
            "'application/octet-stream' (letters, digits and !#$&^_.+- only)"
        )
    return None


_TOKEN_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&^_.+-")


def _is_token(text: str) -> bool:
    return 0 < len(text) <= 127 and all(char in _TOKEN_CHARACTERS for char in text)


def metadata_size_problem(metadata: object, where: str) -> str | None:
    """The whole of ``metadata`` over :data:`METADATA_BYTES` as compact JSON."""
    try:
        size = len(orjson.dumps(metadata))
    except (TypeError, orjson.JSONEncodeError):
        return None  # not JSON at all: the JSON checks name the problem
    if size <= METADATA_BYTES:
        return None
    return (
        f"{where} is {size} bytes as JSON; the limit is {METADATA_BYTES} bytes "
        f"({METADATA_BYTES // 1024 // 1024} MiB). Keep large data in an attached file"
    )


def metadata_problem(metadata: dict[str, object], where: str) -> str | None:
    """The size of ``metadata`` and the legacy fields inside it that people see (timeout,
    sites, variables).

    Other keys of ``metadata`` are the client's own and only bound by the size and the
    integer range; these three are shown and edited by the UI and exported again.
    """
    too_large = metadata_size_problem(metadata, where)
    if too_large is not None:
        return too_large
    timeout = metadata.get("timeout_seconds")
    if isinstance(timeout, int) and not isinstance(timeout, bool):
        problem = integer_problem(timeout, f"{where}.timeout_seconds")
        if problem is not None:
            return problem
    sites = metadata.get("sites")
    if isinstance(sites, dict):
        problem = sites_problem(sites, f"{where}.sites")
        if problem is not None:
            return problem
    variables = metadata.get("variables")
    if isinstance(variables, list):
        return variables_problem(variables, f"{where}.variables")
    return None


def sites_problem(sites: dict[str, object], where: str) -> str | None:
    mode = sites.get("mode")
    if isinstance(mode, str):
        problem = name_problem(mode, f"{where}.mode", SITES_MODE_CHARS)
        if problem is not None:
            return problem
    values = sites.get("values")
    if isinstance(values, list):
        if len(values) > SITE_VALUES_PER_ASSEMBLY:
            return f"{where}.values has {len(values)} entries; the limit is {SITE_VALUES_PER_ASSEMBLY}"
        for index, value in enumerate(values):
            if isinstance(value, str):
                problem = name_problem(value, f"{where}.values[{index}]", SITE_VALUE_CHARS)
                if problem is not None:
                    return problem
    return None


_VARIABLE_NAMES = (
    ("name", VARIABLE_NAME_CHARS),
    ("label", VARIABLE_LABEL_CHARS),
    ("type", VARIABLE_TYPE_CHARS),
)
_VARIABLE_TEXTS = (("description", VARIABLE_TEXT_CHARS), ("default", VARIABLE_TEXT_CHARS))


def variables_problem(variables: list[object], where: str) -> str | None:
    if len(variables) > VARIABLES_PER_ASSEMBLY:
        return f"{where} has {len(variables)} variables; the limit is {VARIABLES_PER_ASSEMBLY}"
    for index, variable in enumerate(variables):
        if not isinstance(variable, dict):
            continue
        here = f"{where}[{index}]"
        for keys, problem_of in ((_VARIABLE_NAMES, name_problem), (_VARIABLE_TEXTS, text_problem)):
            for key, limit in keys:
                value = variable.get(key)
                if isinstance(value, str):
                    problem = problem_of(value, f"{here}.{key}", limit)
                    if problem is not None:
                        return problem
    return None


def tags_problem(tags: list[str], where: str) -> str | None:
    if len(tags) > TAGS_PER_ASSEMBLY:
        return f"{where} has {len(tags)} tags; the limit is {TAGS_PER_ASSEMBLY}"
    for index, tag in enumerate(tags):
        problem = name_problem(tag, f"{where}[{index}]", TAG_CHARS, visible=True)
        if problem is not None:
            return problem
    return None


def file_count_problem(count: int, where: str) -> str | None:
    if count <= FILES_PER_ASSEMBLY:
        return None
    return (
        f"{where} has {count} attached files; the limit is {FILES_PER_ASSEMBLY} per assembly. "
        "Pack them into one archive and attach that"
    )


def file_name_bytes_problem(value: str, where: str) -> str | None:
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return f"{where} is not valid Unicode text"
    if size > FILE_NAME_BYTES:
        return f"{where} is {size} bytes long in UTF-8; the limit is {FILE_NAME_BYTES} bytes"
    return None


def file_name_problem(value: str, where: str) -> str | None:
    """An attached file's name: one plain name a payload folder can hold, nothing that
    could leave it or hide in it (every edge that takes attachments checks this)."""
    reason: str | None = None
    if "/" in value or "\\" in value:
        reason = "contains a path separator"
    elif "\x00" in value:
        reason = "contains a NUL character"
    elif ".." in value:
        reason = "contains '..'"
    elif value.startswith("."):
        reason = "starts with '.'"
    elif (bad := forbidden_name_character(value)) is not None:
        reason = f"contains {bad}"
    elif is_blank(value):
        reason = "is blank (it shows no visible character)"
    else:
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            reason = "is not valid Unicode text"
        else:
            if size > FILE_NAME_BYTES:
                reason = f"is longer than {FILE_NAME_BYTES} bytes"
    if reason is None:
        return None
    return (
        f"{where} {value!r} is not a safe file name: it {reason}; use a plain name "
        "such as 'installer.msi' (no '/', '\\', NUL, '..' or leading '.')"
    )


def playbook_problem(size_bytes: int, where: str) -> str | None:
    if size_bytes > PLAYBOOK_BYTES:
        return (
            f"{where} is {size_bytes} bytes; playbook text is limited to {PLAYBOOK_BYTES} "
            f"bytes ({PLAYBOOK_BYTES // 1024} KiB). Split it into smaller playbooks "
            "(import_playbook) and import them one by one"
        )
    return None
