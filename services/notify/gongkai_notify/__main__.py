"""``gongkai-notify serve|migrate``."""

from pathlib import Path

from gongkai_shared.runtime import service_main

from .app import create_app
from .settings import NotifySettings


def main() -> None:
    service_main("notify", NotifySettings, create_app, Path(__file__).parent / "migrations")


if __name__ == "__main__":
    main()
