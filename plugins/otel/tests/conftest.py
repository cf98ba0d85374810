"""The otel plugin's tests run with the kernel and this plugin alone."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # for otel_support (pytest runs in importlib mode)
