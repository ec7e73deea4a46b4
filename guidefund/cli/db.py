"""`guidefund db upgrade`: apply the warehouse migrations."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from guidefund.cli.common import EXIT_OK, describe, safe_url, settings_from


def cmd_db(args: argparse.Namespace) -> int:
    from guidefund.warehouse.db import make_engine, upgrade

    settings = settings_from(args)
    upgrade(make_engine(settings.database_url))
    print(f"数据库已升级到最新结构：{safe_url(settings.database_url)}")
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    p = add("db", "汇总库维护：guidefund db upgrade 升级表结构", cmd_db)
    p.add_argument("action", choices=["upgrade"], help="upgrade：把汇总库升级到最新表结构")
    describe(
        p,
        "按迁移脚本（Alembic）把 GUIDEFUND_WAREHOUSE_URL 指向的汇总库升级到最新表结构；"
        "空库会建好全部表。已是最新时什么也不做。",
        examples=["guidefund db upgrade",
                  "GUIDEFUND_WAREHOUSE_URL=postgresql+psycopg://guidefund@127.0.0.1/guidefund guidefund db upgrade"],
        exits={0: "已是最新表结构", 2: "无法升级（无法连接等）"},
    )  # fmt: skip
