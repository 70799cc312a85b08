"""Entry point for `python -m prolo_planner`."""

from prolo_planner.cli import main

raise SystemExit(main())
