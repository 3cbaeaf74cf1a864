"""The boundaries between apps, read from the source (issue 17).

Every module of a domain app under ``fangkong/<app>/`` (its tests excepted: they
set up other apps' data to test against) may import:

- ``fangkong.core.*`` (the shared foundation),
- its own app,
- another domain app's ``selectors.shared`` (typed reads promised to others),
- the entries of ``ALLOWED`` below, each with its reason.

``core`` imports no domain app at all (apps register with core: fast paths,
synthetic-city loaders, labels, encrypted columns, fact handlers). Nowhere in
``fangkong/`` does code catch ``ImportError`` (a broken import must fail, not
turn a feature off), nor look another app's module up by a name string.
Writes in one app that cause writes in another go through ``core.events``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the fangkong package

# (importing app, imported module prefix): reason. Keep it short; aim for none.
ALLOWED: dict[tuple[str, str], str] = {
    # notify is the messaging service: an app sends its own notices through
    # notify's sending services (queued on its commit), as docs/adding-a-domain-app
    # step 6 says. Reads of notify go through notify.selectors.shared.
    ("*", "fangkong.notify.services"): "sending a notice is the caller's own act",
}


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from fangkong.x.selectors import shared`` names the module shared.
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"import_module", "import_string"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))  # a look-up by name string
    return found


def _allowed(own: str, module: str) -> bool:
    for (app, prefix), _reason in ALLOWED.items():
        if app in ("*", own) and (module == prefix or module.startswith(prefix + ".")):
            return True
    return False


def violations(root: Path = ROOT) -> list[str]:
    apps = {p.name for p in root.iterdir() if (p / "apps.py").exists()}
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = "/".join(parts)
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = {
                    n.id if isinstance(n, ast.Name) else getattr(n, "attr", "")
                    for n in ast.walk(node.type)
                }
                if names & {"ImportError", "ModuleNotFoundError"}:
                    out.append(f"{where}:{node.lineno} catches ImportError")
        if len(parts) < 2 or parts[0] not in apps or "tests" in parts:
            continue
        own = parts[0]
        for line, module in _imports(tree):
            bits = module.split(".")
            if bits[0] != "fangkong" or len(bits) < 2 or bits[1] not in apps:
                continue
            other = bits[1]
            if other == own or other == "core":
                continue
            if own == "core":
                out.append(f"{where}:{line} core imports the domain app {module}")
            elif bits[2:4] != ["selectors", "shared"] and not _allowed(own, module):
                out.append(f"{where}:{line} {own} imports {module}")
    return out


def test_apps_meet_only_through_shared_selectors_and_facts() -> None:
    assert violations() == []


def test_the_check_finds_what_it_forbids(tmp_path: Path) -> None:
    """The rule itself: a model import, a non-shared module, core importing an
    app, a name-string look-up and a caught ImportError are all reported."""
    for app in ("core", "alpha", "beta"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "apps.py").write_text("")
    (tmp_path / "alpha" / "bad.py").write_text(
        "from fangkong.beta.models import Thing\n"
        "from fangkong.beta.selectors import rows\n"
        "import importlib\n"
        "importlib.import_module('fangkong.beta.services')\n"
        "try:\n    import fangkong.beta.services\nexcept ImportError:\n    pass\n"
    )
    (tmp_path / "alpha" / "good.py").write_text(
        "from fangkong.beta.selectors.shared import rows\n"
        "from fangkong.beta.selectors import shared\n"
        "from fangkong.core.events import publish\n"
        "from fangkong.alpha.models import Own\n"
    )
    (tmp_path / "core" / "bad.py").write_text("from fangkong.alpha.selectors.shared import x\n")
    (tmp_path / "alpha" / "tests").mkdir()
    (tmp_path / "alpha" / "tests" / "test_x.py").write_text("from fangkong.beta.models import T\n")
    found = violations(tmp_path)
    assert found == [
        "alpha/bad.py:7 catches ImportError",
        "alpha/bad.py:1 alpha imports fangkong.beta.models.Thing",
        "alpha/bad.py:2 alpha imports fangkong.beta.selectors.rows",
        "alpha/bad.py:4 alpha imports fangkong.beta.services",
        "alpha/bad.py:6 alpha imports fangkong.beta.services",
        "core/bad.py:1 core imports the domain app fangkong.alpha.selectors.shared.x",
    ]


# Foreign keys between domain apps' tables tie one app's rows to another's
# internals (a migration, a delete, a rename in one breaks the other): an app
# keeps the other's id as a plain column and reads it through selectors.shared.
# None is allowed (status rules keep a disease id, zones their cases' ids).
FOREIGN_KEYS_ALLOWED: dict[tuple[str, str], str] = {}


def foreign_keys_between_apps() -> list[str]:
    from django.apps import apps as registry

    domain = {p.name for p in ROOT.iterdir() if (p / "apps.py").exists()} - {"core"}
    found = []
    for model in registry.get_models():
        own = model._meta.app_label
        if own not in domain:
            continue
        for field in model._meta.get_fields():
            target = field.related_model if field.is_relation and field.concrete else None
            if not isinstance(target, type):
                continue
            other = target._meta.app_label
            if other in domain and other != own:
                key = (f"{own}.{model.__name__}.{field.name}", f"{other}.{target.__name__}")
                if key not in FOREIGN_KEYS_ALLOWED:
                    found.append(f"{key[0]} -> {key[1]}")
    return found


def test_no_foreign_key_reaches_into_another_app() -> None:
    assert foreign_keys_between_apps() == []
