"""`guidefund db upgrade`: apply the warehouse migrations."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from guidefund.cli.common import EXIT_OK, safe_url, settings_from


def cmd_db(args: argparse.Namespace) -> int:
    from guidefund.warehouse.db import make_engine, upgrade

    settings = settings_from(args)
    upgrade(make_engine(settings.database_url))
    print(f"数据库已升级到最新结构：{safe_url(settings.database_url)}")
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add("db", "warehouse maintenance: `guidefund db upgrade` applies the migrations", cmd_db)
    p.add_argument("action", choices=["upgrade"])
