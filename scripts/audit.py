"""`make lint`'s dependency audit: pip-audit over requirements.lock, or a clear skip offline.

pip-audit asks PyPI about every pinned version. Where PyPI's data cannot be reached (no network,
or a mirror that serves packages but not their JSON metadata) it would report each package as
"not found" and audit nothing; this says so in one line and succeeds instead, so `make lint`
works everywhere and audits wherever it can.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PROBE = "https://pypi.org/pypi/{name}/{version}/json"
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", re.M)


def pins(text: str) -> dict[str, str]:
    return {name.lower(): version for name, version in _PIN.findall(text)}


def reachable(name: str, version: str, timeout: float = 10) -> str | None:
    """None when PyPI answers for this exact release; otherwise why not."""
    try:
        with urllib.request.urlopen(PROBE.format(name=name, version=version),
                                    timeout=timeout) as response:
            body = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return str(getattr(exc, "reason", exc))
    if "vulnerabilities" not in body:
        return "the answer has no vulnerability data"
    return None


def main() -> int:
    locked = pins(LOCK.read_text(encoding="utf-8"))
    probe = "flask" if "flask" in locked else next(iter(locked))
    why = reachable(probe, locked[probe])
    if why is not None:
        print(f"pip-audit skipped: PyPI's vulnerability data cannot be reached ({why}).")
        return 0
    command = [sys.executable, "-m", "pip_audit", "--requirement", str(LOCK), "--require-hashes",
               "--disable-pip", "--progress-spinner", "off", "--strict"]
    return subprocess.call(command, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
