"""`collectstatic`, skipped when no static file and no installed package changed since the last one."""

from __future__ import annotations

import hashlib
import sysconfig
from pathlib import Path

from devtools.devstack.config import LOCAL, ROOT, Failure, say
from devtools.devstack.processes import run_foreground


def _static_fingerprint() -> str:
    """Changes when a static source file or an installed package changes."""
    digest = hashlib.sha256()
    for root in sorted({ROOT / "static", *ROOT.glob("*/static"), *ROOT.glob("*/*/static")}):
        if {".venv", ".local"} & set(root.relative_to(ROOT).parts) or not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    packages = Path(sysconfig.get_paths()["purelib"])  # its entries change with every (un)install
    digest.update(f"{packages}\0{packages.stat().st_mtime_ns}".encode())
    return digest.hexdigest()


def collect_static(manage: list[str]) -> None:
    """`collectstatic`, skipped when nothing changed since the last one (it takes a while)."""
    stamp = LOCAL / "static.fingerprint"
    fingerprint = _static_fingerprint()
    manifest = LOCAL / "static" / "staticfiles.json"
    if manifest.is_file() and stamp.is_file() and stamp.read_text().strip() == fingerprint:
        return
    stamp.unlink(missing_ok=True)
    say("collecting static files ...")
    if run_foreground([*manage, "collectstatic", "--noinput", "--verbosity", "0"]) != 0:
        raise Failure("`manage.py collectstatic` failed (see above)")
    stamp.write_text(fingerprint + "\n")
