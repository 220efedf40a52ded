#!/usr/bin/env python3
"""The two commands of the quick start, with nothing but Python on the machine:

    python3 dev.py demo     set up and run the whole product on embedded defaults
    python3 dev.py test     set up and run the test suite (extra arguments go to pytest)

Both create .venv and install the project into it when pyproject.toml has changed.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("JSUI_VENV", ROOT / ".venv"))
PYTHON = VENV / "bin" / "python"


def ensure_venv():
    if not PYTHON.exists():
        print(f"creating a virtualenv in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if not stamp.exists():
        print("installing the project and its test tools", flush=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"], check=True)
        for old in VENV.glob(".installed-*"):
            old.unlink()
        stamp.touch()


def ensure_chromium():
    """The browser tests drive Debian's Chromium; install it where we may."""
    if shutil.which("chromium"):
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("installing Debian's chromium for the browser tests", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    else:
        print("chromium is not installed: the browser tests will be skipped (they fail in CI)")


def main(argv):
    if not argv or argv[0] not in ("demo", "test"):
        sys.exit(__doc__)
    ensure_venv()
    os.chdir(ROOT)
    if argv[0] == "demo":
        os.execv(PYTHON, [str(PYTHON), "manage.py", "demo", *argv[1:]])
    ensure_chromium()
    os.execv(PYTHON, [str(PYTHON), "-m", "pytest", *argv[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
