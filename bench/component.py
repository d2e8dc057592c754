"""`python -m bench.component worker|gateway`: exactly `hotline worker|gateway` (same CLI entry
point, same code), under a command line of its own.

The machine is shared: someone stopping *their* stack with a broad `pkill -f "hotline worker"`
must not take down a benchmark in flight (it did, twice, while this bench was written).
"""

from __future__ import annotations

import sys

from cli.main import main

if __name__ == "__main__":
    sys.argv[0] = "hotline"
    main()
