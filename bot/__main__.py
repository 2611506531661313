"""`python -m bot` is the `yizhan` command."""

from bot.cli import main

raise SystemExit(main())
