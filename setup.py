"""Packaging hook: the wheel carries the officers' app (the repository's pwa/) as server/_pwa/.

pwa/ stays the only copy in the repository (the PWA has no build step and its tests read it
there); building a wheel copies it in, so an installed server serves the whole app. Editable
installs serve the checkout's pwa/ directly (see server/config.py's default_pwa_dir).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PWA_SOURCE = Path(__file__).resolve().parent / "pwa"
PWA_TARGET = ("server", "_pwa")  # keep in step with server/config.py's PACKAGED_PWA


class BuildPyWithPWA(build_py):
    """build_py, then the PWA copied into the built server package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        shutil.copytree(PWA_SOURCE, Path(self.build_lib, *PWA_TARGET), dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("README.md"))

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        target = Path(self.build_lib, *PWA_TARGET)
        return outputs + [str(p) for p in target.rglob("*") if p.is_file()]


setup(cmdclass={"build_py": BuildPyWithPWA})
