import sys
from pathlib import Path

# The editable install may predate sync/__init__.py, in which case `import sync` finds an empty
# namespace package; putting the repository root first makes the real package win.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
