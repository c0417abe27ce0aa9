"""Pānui command line: `python run.py --help`."""

from pipeline.cli import main

raise SystemExit(main())
