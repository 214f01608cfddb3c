"""``python -m large_gui`` starts the desktop GUI."""

from __future__ import annotations

import sys

from large_gui import main

if __name__ == "__main__":
    sys.exit(main())
