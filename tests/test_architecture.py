"""The layer rule, read from the source: no module imports a project module of a higher layer.

Layers, bottom to top:
  0  basics/ (errors, Japanese text helpers, file hashing) and prompts/ (data)
  1  ingest/      2  index/      3  answer/
  4  the service floor: policyqa/__init__.py, policyqa/service.py, policyqa/settings.py, policyqa/conversations.py,
     policyqa/testing/
  5  edges: policyqa/cli.py, policyqa/evaluate.py, policyqa/guard.py, policyqa/present.py, policyqa/users.py,
     app.py, views/, eval/, bench/

Edges import only policyqa.* and basics.* of the project (never ingest, index or answer: everything goes through
policyqa.service). Scripts import the installed package only: no sys.path edits, no loading a file by path, no
importing another script or a test helper. The shared folder is found through Settings (shared_dir, dev_qa_path,
jsquad_path), never by a literal path outside policyqa/settings.py.

Every .py outside tests/ and the virtual environments is read (imports inside functions included); a file that
fits no layer is itself a violation, so a new module has to be placed deliberately.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]

ROOMS = {"basics": 0, "prompts": 0, "ingest": 1, "index": 2, "answer": 3}
FLOOR = {
    "policyqa",
    "policyqa.service",
    "policyqa.settings",
    "policyqa.conversations",
    "policyqa.testing",
}  # and policyqa.testing.*
EDGE_MODULES = {"policyqa.cli", "policyqa.evaluate", "policyqa.guard", "policyqa.present", "policyqa.users"}
EDGE_ALLOWED = {"policyqa", "basics"}  # the project packages an edge may import
PACKAGES = {*ROOMS, "policyqa"}  # what the wheel installs
EDGE_DIRS = {"views", "eval", "bench"}  # folders of edge files (not packages: nothing imports them)
SETTINGS_FILE = "policyqa/settings.py"  # the one place that may spell where the shared folder is
SKIP_DIRS = {"tests", "build", "dist", "data", "node_modules", "__pycache__"}

LAYER_NAMES = {0: "basics/prompts", 1: "ingest", 2: "index", 3: "answer", 4: "service floor", 5: "edge"}


def project_files(root: Path = ROOT) -> list[Path]:
    """Every .py of the project, tests/, virtual environments, build output and hidden folders left out."""
    files = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts[:-1]
        if any(p in SKIP_DIRS or p.startswith(".") or p.endswith(".egg-info") for p in parts):
            continue
        if parts and (root / parts[0] / "pyvenv.cfg").exists():  # any virtual environment, whatever its name
            continue
        files.append(path)
    return files


def _module_name(rel: PurePosixPath) -> str | None:
    """The dotted name of a file inside one of the installed packages (None for edge files and scripts)."""
    if rel.parts[0] not in PACKAGES:
        return None
    parts = list(rel.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _all_modules(root: Path = ROOT) -> set[str]:
    return {m for p in project_files(root) if (m := _module_name(PurePosixPath(p.relative_to(root).as_posix())))}


def _local_names(root: Path = ROOT) -> set[str]:
    """Names that import a script, a test file or a folder of them, never something installed: reachable only
    by sys.path tricks or by running from the checkout."""
    names = {p.stem for p in root.glob("*.py")}
    for folder in [*EDGE_DIRS, "tests"]:
        if (root / folder).is_dir():
            names.add(folder)
            names.update(p.stem for p in (root / folder).glob("*.py") if p.stem != "__init__")
    return names


MODULES = _all_modules()
LOCAL_NAMES = _local_names()


def module_layer(module: str) -> int | None:
    """The layer of a project module; None for anything else (standard library, third party)."""
    top = module.split(".")[0]
    if top in ROOMS:
        return ROOMS[top]
    if top == "policyqa":
        if module in FLOOR or module.startswith("policyqa.testing."):
            return 4
        if module in EDGE_MODULES or any(module.startswith(m + ".") for m in EDGE_MODULES):
            return 5
    return None


def file_layer(rel: str) -> tuple[int | None, str | None]:
    """(layer, dotted module name or None) of a file by its path relative to the project root."""
    path = PurePosixPath(rel)
    module = _module_name(path)
    if module is not None:
        return module_layer(module), module
    if len(path.parts) == 1 or (len(path.parts) == 2 and path.parts[0] in EDGE_DIRS):
        return 5, None
    return None, None


def _from(prefix: str, name: str) -> str:
    """What `from prefix import name` imports: the submodule when there is one, else the module itself."""
    return f"{prefix}.{name}" if f"{prefix}.{name}" in MODULES else prefix


def imported(tree: ast.AST, module: str | None, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) for every import in the tree, at any depth, relative ones resolved; a relative import
    outside a package is reported as `.name` (it can only reach a neighbouring script)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if module is None:
                    found += [(node.lineno, "." * node.level + (node.module or a.name)) for a in node.names]
                    continue
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            found += [(node.lineno, _from(prefix, a.name)) for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and _called(node) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _called(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _is_sys_path(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "path"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


PATH_TRICKS = {"spec_from_file_location", "SourceFileLoader", "run_path", "addsitedir"}
_SHARED_LITERAL = re.compile(r"\.\.[/\\]+shared\b")


def _path_tricks(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and _is_sys_path(f.value):
                found.append((node.lineno, f"sys.path.{f.attr}(…)"))
            elif _called(node) in PATH_TRICKS:
                found.append((node.lineno, f"{_called(node)}(…)"))
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if _is_sys_path(t) or (isinstance(t, ast.Subscript) and _is_sys_path(t.value)):
                    found.append((node.lineno, "assignment to sys.path"))
        elif isinstance(node, ast.ImportFrom) and node.module == "sys" and any(a.name == "path" for a in node.names):
            found.append((node.lineno, "from sys import path"))
    return found


def _is_parent(node: ast.AST) -> bool:
    """`x.parent`, `x.parents[n]`, `".."` or `Path("..")`: a step up out of the checkout."""
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        return True
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents":
        return True
    if isinstance(node, ast.Constant) and node.value == "..":
        return True
    return isinstance(node, ast.Call) and any(_is_parent(a) for a in node.args)


def _shared_paths(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SHARED_LITERAL.search(node.value):
            found.append((node.lineno, f"literal {node.value!r}"))
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Div)
            and isinstance(node.right, ast.Constant)
            and isinstance(node.right.value, str)
            and node.right.value.strip("/").split("/")[0] == "shared"
            and _is_parent(node.left)
        ):
            found.append((node.lineno, f"{ast.unparse(node)}"))
        elif isinstance(node, ast.Call) and _called(node) == "join":
            words = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if ".." in words and "shared" in words:
                found.append((node.lineno, f"{ast.unparse(node)}"))
    return found


def violations(rel: str, source: str) -> list[str]:
    """Every breach of the layer rule in one file (`rel`: its path from the project root, with `/`)."""
    layer, module = file_layer(rel)
    if layer is None:
        return [f"{rel}: fits no layer (place it: a room, the service floor, or an edge)"]
    tree = ast.parse(source, filename=rel)
    out = []
    where = f"{rel} [{LAYER_NAMES[layer]}]"
    for line, name in sorted(set(imported(tree, module, rel.endswith("__init__.py")))):
        top = name.split(".")[0]
        if name.startswith(".") or top in LOCAL_NAMES:
            out.append(f"{where}:{line} imports {name}: a script or test file, not the installed package")
            continue
        if top not in PACKAGES:
            continue  # standard library or third party
        if name not in MODULES:
            out.append(f"{where}:{line} imports {name}, which is no module of the project")
            continue
        target = module_layer(name)
        if target is None:
            out.append(f"{where}:{line} imports {name}, which fits no layer")
        elif layer == 5 and top not in EDGE_ALLOWED:
            out.append(f"{where}:{line} imports {name} [{LAYER_NAMES[target]}]: an edge goes through policyqa.service")
        elif target > layer:
            out.append(f"{where}:{line} imports {name} [{LAYER_NAMES[target]}]: a lower layer imports a higher one")
    for line, what in _path_tricks(tree):
        out.append(f"{where}:{line} {what}: import the installed package, never a path")
    if rel != SETTINGS_FILE:
        for line, what in _shared_paths(tree):
            out.append(f"{where}:{line} {what}: find the shared folder through Settings.from_env().shared_dir")
    return out


# --- the project --------------------------------------------------------------------------------------------
def test_no_module_imports_a_higher_layer():
    found = []
    for path in project_files():
        rel = path.relative_to(ROOT).as_posix()
        found += violations(rel, path.read_text(encoding="utf-8"))
    assert not found, f"{len(found)} layer violation(s):\n" + "\n".join(found)


def test_the_scan_sees_every_layer_and_skips_tests_and_venvs():
    rels = {p.relative_to(ROOT).as_posix() for p in project_files()}
    assert {"basics/errors.py", "ingest/load.py", "index/store.py", "answer/pipeline.py"} <= rels
    assert {"policyqa/service.py", "policyqa/testing/bench.py", "policyqa/cli.py", "app.py"} <= rels
    assert {"bench/run.py", "eval/llm_run.py", "views/chat.py"} <= rels
    assert not any(r.startswith(("tests/", ".venv/")) for r in rels)


# --- the checker itself: each kind of violation, fed to it, is reported --------------------------------------
@pytest.mark.parametrize(
    ("rel", "source", "expected"),
    [
        # a room imports the service (inside a function, as lazy imports are written)
        ("ingest/load.py", "def f():\n    from policyqa.service import Service\n", "lower layer imports a higher"),
        ("index/store.py", "import answer.types\n", "lower layer imports a higher"),
        ("basics/jatext.py", "from ingest import chunk\n", "lower layer imports a higher"),
        ("answer/llm.py", "from ..policyqa import settings\n", "lower layer imports a higher"),
        # the floor imports an edge
        ("policyqa/service.py", "from policyqa import present\n", "lower layer imports a higher"),
        ("policyqa/testing/bench.py", "from policyqa.evaluate import load_questions\n", "lower layer imports"),
        ("policyqa/service.py", "from .cli import main\n", "lower layer imports a higher"),
        # edges reaching into the rooms
        ("bench/run.py", "from index.store import Store\n", "an edge goes through policyqa.service"),
        ("views/chat.py", "import answer.pipeline as p\n", "an edge goes through policyqa.service"),
        ("policyqa/cli.py", "from ingest.load import read_file\n", "an edge goes through policyqa.service"),
        ("eval/llm_run.py", "from prompts import x\n", "an edge goes through policyqa.service"),
        # scripts loading scripts
        ("bench/matryoshka.py", "import run as bench\n", "a script or test file"),
        ("bench/matryoshka.py", "import importlib\nm = importlib.import_module('run')\n", "a script or test file"),
        ("eval/llm_run.py", "from helpers import run\n", "a script or test file"),
        ("eval/llm_run.py", "from eval.run import build_store\n", "a script or test file"),
        ("bench/quick.py", "from . import run\n", "a script or test file"),
        ("bench/quick.py", "import sys\nsys.path.insert(0, 'tests')\n", "sys.path.insert"),
        ("eval/llm_run.py", "import sys\nsys.path = ['x'] + sys.path\n", "assignment to sys.path"),
        (
            "bench/matryoshka.py",
            "import importlib.util\ns = importlib.util.spec_from_file_location('r', 'eval/run.py')\n",
            "spec_from_file_location",
        ),
        # modules that do not exist (policyqa.runtime was removed) or fit no layer
        ("bench/quick.py", "from policyqa.runtime import open_runtime\n", "no module of the project"),
        ("scripts/tool.py", "", "fits no layer"),
        # the shared folder by a literal path
        ("bench/quick.py", "from pathlib import Path\nq = Path('../shared/eval/dev_qa.jsonl')\n", "literal"),
        ("bench/quick.py", "ROOT = x\nq = ROOT.parent / 'shared' / 'eval'\n", "Settings.from_env().shared_dir"),
        ("eval/run.py", "q = ROOT.parents[1] / 'shared/eval/dev_qa.jsonl'\n", "Settings.from_env().shared_dir"),
        ("policyqa/cli.py", "q = Path('..') / 'shared'\n", "Settings.from_env().shared_dir"),
        ("app.py", "import os\nq = os.path.join(root, '..', 'shared')\n", "Settings.from_env().shared_dir"),
    ],
)
def test_the_checker_reports_a_violation(rel, source, expected):
    found = violations(rel, source)
    assert any(expected in v for v in found), found


def test_the_checker_accepts_what_the_rule_allows():
    allowed = {
        "index/search.py": "from ingest.chunk import Chunk\nfrom basics.jatext import tokenize\nimport numpy\n",
        "answer/pipeline.py": "def f():\n    from index.search import Hit\n    from answer.llm import stream_answer\n",
        "policyqa/service.py": "from answer.types import NOT_FOUND\nfrom index import store\nfrom . import settings\n",
        "policyqa/testing/bench.py": "from ingest.document import parse_document\nfrom policyqa import service\n",
        "policyqa/cli.py": "from policyqa.present import describe_result\nfrom basics.errors import PolicyQAError\n",
        "bench/run.py": "from policyqa.testing.bench import timed\nimport sys\nprint(sys.argv)\nimport streamlit\n",
        "eval/llm_run.py": "from policyqa.settings import Settings\nq = Settings.from_env().shared_dir / 'eval'\n",
        "policyqa/settings.py": "from pathlib import Path\nshared = Path('..') / 'shared'\n",
    }
    assert {rel: violations(rel, src) for rel, src in allowed.items()} == {rel: [] for rel in allowed}
