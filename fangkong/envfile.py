"""The demo's environment file, ``var/demo.env``.

Outside production the ``fangkong`` command and the WSGI application read
``KEY=VALUE`` lines from ``$FANGKONG_VAR_DIR/demo.env`` (default ``var/demo.env``)
into the environment before Django's settings load; variables already set win.
``fangkong demo`` writes the file on its first run with random keys, so a demo
never runs on the development defaults. Production reads only the real environment.

This module must not import Django settings: it runs before them.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
FILE_NAME = "demo.env"


def var_dir() -> Path:
    return Path(os.environ.get("FANGKONG_VAR_DIR", BASE_DIR / "var"))


def demo_env_path() -> Path:
    return var_dir() / FILE_NAME


def is_production() -> bool:
    return os.environ.get("FANGKONG_ENV", "development") == "production"


def parse(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines; blank lines and ``#`` comments ignored, quotes stripped."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key:
            values[key] = value
    return values


def load(path: Path | None = None) -> dict[str, str]:
    """Put the file's values into ``os.environ`` (setdefault). Not in production."""
    if is_production():
        return {}
    path = path or demo_env_path()
    if not path.is_file():
        return {}
    values = parse(path.read_text(encoding="utf-8"))
    for key, value in values.items():
        os.environ.setdefault(key, value)
    return values


def generate() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FANGKONG_FIELD_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "FANGKONG_LOOKUP_KEY": secrets.token_urlsafe(32),
        "FANGKONG_DEMO_PASSWORD": "demo-" + secrets.token_urlsafe(9),
    }


def ensure(path: Path | None = None) -> tuple[Path, bool]:
    """Create the demo environment file with random keys unless it exists.

    Returns the path and whether it was created now.
    """
    path = path or demo_env_path()
    if path.is_file():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Fangkong demo settings, written by `fangkong demo` on its first run.",
        "# Read by the fangkong command and the WSGI app outside production.",
        "# Keep it: the people in the demo database are encrypted with these keys.",
    ]
    lines += [f"{k}={v}" for k, v in generate().items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return path, True


def append(path: Path, key: str, value: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{key}={value}\n")
