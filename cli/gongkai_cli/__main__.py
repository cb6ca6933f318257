"""``python -m gongkai_cli ...`` is ``gongkai ...``."""

from gongkai_cli.main import run

run()
