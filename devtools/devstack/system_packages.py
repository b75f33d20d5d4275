"""The system libraries WeasyPrint needs (Pango) and a CJK font for the PDFs: checked before every
mode, installed with apt-get where that is possible (root or passwordless sudo), otherwise a hint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from devtools.devstack.config import Failure, say

SYSTEM_PACKAGES = [
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "fonts-wqy-microhei",
    "fonts-noto-cjk",
    "fontconfig",
]
MANUAL_INSTALL_HINT = f"""\
  Debian/Ubuntu: sudo apt-get install -y --no-install-recommends {" ".join(SYSTEM_PACKAGES)}
  Fedora:        sudo dnf install -y pango fontconfig wqy-microhei-fonts google-noto-sans-cjk-fonts
  macOS:         brew install pango fontconfig && brew install --cask font-noto-sans-cjk-sc
                 (if WeasyPrint still misses Pango: export DYLD_FALLBACK_LIBRARY_PATH=/opt/homebrew/lib)"""


def weasyprint_problem() -> str | None:
    result = subprocess.run(
        [sys.executable, "-c", "import weasyprint"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return None
    lines = [line for line in (result.stderr or result.stdout).strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"python exited with {result.returncode}"


def has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    result = subprocess.run(  # noqa: S603
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    return result.returncode == 0 and bool(result.stdout.strip())


def _privileged_prefix() -> list[str] | None:
    """How to run apt-get: directly as root, through passwordless sudo, or (None) not at all."""
    env = shutil.which("env") or "/usr/bin/env"
    if os.geteuid() == 0:
        return [env, "DEBIAN_FRONTEND=noninteractive"]
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True, check=False).returncode == 0:  # noqa: S603
        return [sudo, "-n", env, "DEBIAN_FRONTEND=noninteractive"]
    return None


def install_system_packages() -> bool:
    apt_get = shutil.which("apt-get")
    prefix = _privileged_prefix()
    if not apt_get or prefix is None:
        return False
    install = [*prefix, apt_get, "install", "-y", "-q", "--no-install-recommends", *SYSTEM_PACKAGES]
    say("installing " + " ".join(SYSTEM_PACKAGES) + " with apt-get ...")
    if subprocess.run(install, check=False).returncode == 0:  # noqa: S603
        return True
    # Missing or outdated package lists (a fresh machine): refresh them once and try again.
    subprocess.run([*prefix, apt_get, "update", "-q"], check=False)  # noqa: S603
    return subprocess.run(install, check=False).returncode == 0  # noqa: S603


def preflight(mode: str) -> None:
    pango_problem = weasyprint_problem()
    if pango_problem is not None and "No module named" in pango_problem:
        raise Failure(
            f"the Python dependencies are not installed ({pango_problem}); run `make run` / `make test`"
        )
    font_ok = has_cjk_font()
    if pango_problem is None and font_ok:
        return
    missing = []
    if pango_problem is not None:
        missing.append(f"Pango for WeasyPrint ({pango_problem})")
    if not font_ok:
        missing.append("a CJK font for the PDFs (`fc-list :lang=zh` finds none)")
    say("missing system libraries: " + "; ".join(missing))
    if install_system_packages():
        pango_problem = weasyprint_problem()
        font_ok = has_cjk_font()
        if pango_problem is None and font_ok:
            return
    if pango_problem is None and not font_ok and mode == "test":
        say("WARNING: no CJK font; tests that render Chinese PDFs will fail. Install one with:")
        print(MANUAL_INSTALL_HINT, flush=True)
        return
    still_missing = [
        what for what, ok in (("Pango", pango_problem is None), ("a CJK font", font_ok)) if not ok
    ]
    raise Failure(
        f"{' and '.join(still_missing)} could not be installed automatically (that takes apt-get and root "
        "or passwordless sudo). Install them, then run this again:\n" + MANUAL_INSTALL_HINT
    )
