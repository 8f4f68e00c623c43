"""The public surface: each module exports what a user calls, every exported name is
documented and listed in docs/library.md, and the pages' code and references use only those."""

import ast
import importlib
import inspect
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "docs" / "library.md"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: The namespaces a user imports from, each with an ``__all__``.
NAMESPACES = (
    "netspectra",
    "netspectra.theory",
    "netspectra.probes",
    "netspectra.models",
    "netspectra.data",
    "netspectra.training",
    "netspectra.experiments",
    "netspectra.report",
    "netspectra.results",
)
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_SPAN = re.compile(r"`([^`\n]+)`")
_NAME = re.compile(r"[A-Za-z_]\w*")
_REFERENCE = re.compile(r"\bnetspectra(?:\.[A-Za-z_]\w*)+")


def _public(namespace: str) -> list[str]:
    return importlib.import_module(namespace).__all__


def _docstring(obj) -> str | None:
    """The docstring written in the source (not one generated for a dataclass or NamedTuple)."""
    node = ast.parse(textwrap.dedent(inspect.getsource(obj))).body[0]
    return ast.get_docstring(node)


def _defining_source(namespace: str, name: str) -> str:
    """The source of the module that assigns ``name``: the namespace's own, or the submodule
    its ``from .sub import name`` names."""
    module = importlib.import_module(namespace)
    source = inspect.getsource(module)
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and name in {a.name for a in node.names}:
            package = namespace if hasattr(module, "__path__") else namespace.rpartition(".")[0]
            origin = importlib.import_module("." * node.level + (node.module or ""), package)
            return inspect.getsource(origin)
    return source


def _commented(source: str, name: str) -> bool:
    lines = source.splitlines()
    return any(re.match(rf"{re.escape(name)}\b[^=]*=", line) and lines[i - 1].startswith("#:")
               for i, line in enumerate(lines) if i)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_public_name_resolves_once_and_is_documented(namespace):
    names = _public(namespace)
    assert len(names) == len(set(names)), "duplicates in __all__"
    module = importlib.import_module(namespace)
    for name in names:
        obj = getattr(module, name)  # resolves
        if callable(obj):
            assert _docstring(obj), f"{namespace}.{name} has no docstring"
        else:  # a constant: a '#:' comment on its assignment
            assert _commented(_defining_source(namespace, name), name), f"{namespace}.{name}"


def _library_rows() -> dict[str, set[str]]:
    """Module → the bare names in backticks of its row of docs/library.md's table."""
    rows = {}
    for line in LIBRARY.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and re.fullmatch(r"`netspectra[\w.]*`", cells[0]):
            rows[cells[0].strip("`")] = {s for s in _SPAN.findall(cells[1]) if _NAME.fullmatch(s)}
    return rows


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_library_page_lists_exactly_the_public_names(namespace):
    listed = _library_rows()[namespace]
    public = set(_public(namespace))
    assert public - listed == set(), "public, but not named in docs/library.md"
    assert listed - public == set(), "named in docs/library.md, but not public"


def _resolve(reference: str) -> str | None:
    """Follow ``netspectra.a.b.c`` through modules; the first part that is no module must be
    a public name of a namespace. Returns what is wrong, or None."""
    parts = reference.split(".")
    for i in range(1, len(parts)):
        module, name = ".".join(parts[:i]), parts[i]
        try:
            importlib.import_module(f"{module}.{name}")
        except ModuleNotFoundError:
            if module not in NAMESPACES or name not in _public(module):
                return f"{reference}: {name} is not a public name of {module}"
            return None
    return None


def _python_blocks():
    for page in PAGES:
        for i, match in enumerate(_FENCE.finditer(page.read_text())):
            if match.group(1) == "python":
                yield pytest.param(match.group(2), id=f"{page.name}-{i}")


@pytest.mark.parametrize("code", _python_blocks())
def test_code_blocks_use_only_public_names(code):
    aliases = {}
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("netspectra"):
            assert node.module in NAMESPACES, f"imports from {node.module}"
            for alias in node.names:
                assert alias.name in _public(node.module), f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("netspectra"):
                    assert alias.name in NAMESPACES, f"imports {alias.name}"
                    aliases[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in aliases:
            assert node.attr in _public(aliases[node.value.id]), ast.unparse(node)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_references_in_the_text_name_public_names(page):
    text = _FENCE.sub("", page.read_text())
    references = {r for span in _SPAN.findall(text) for r in _REFERENCE.findall(span)}
    assert [wrong for r in sorted(references) if (wrong := _resolve(r))] == []

