"""``python -m bench``: run the registered benchmarks (``--only NAME``, ``--scale N``, ``--no-write``)."""

from bench.run import main

raise SystemExit(main())
