"""`guidefund portal`: serve the units' web page and the office overview (issue 15)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from guidefund.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_scope,
    describe,
    quiet_libraries,
    reference_for,
    settings_from,
)


def _server_class():  # type: ignore[no-untyped-def]
    import contextlib
    import signal

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, stopping on SIGINT or SIGTERM as uvicorn does (requests in flight
        finish) but returning afterwards instead of raising the signal again: the command
        then ends with its own line and exit 0, as `guidefund serve` does."""

        @contextlib.contextmanager
        def capture_signals(self):  # type: ignore[no-untyped-def]
            handled = (signal.SIGINT, signal.SIGTERM)
            before = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in before.items():
                    signal.signal(sig, handler)

    return Server


def cmd_portal(args: argparse.Namespace) -> int:
    from guidefund.warehouse.db import make_engine, schema_problem

    settings = settings_from(args)
    quiet_libraries(settings)
    ref = reference_for(settings, args.year)
    problem = schema_problem(settings.database_url)
    if problem:
        print(f"guidefund portal: {problem}", file=sys.stderr)
        return EXIT_FAILED
    import uvicorn

    from guidefund.portal.app import create_app

    Server = _server_class()  # noqa: N806 - a class

    engine = make_engine(settings.database_url)
    app = create_app(settings, ref, engine)
    app.state.portal.checker.start()  # the reading workers are warm before the first upload
    print(
        f"填报网页：http://{args.host}:{args.port}/（{ref.region_name} {ref.year} 年度，"
        f"工作目录 {settings.workdir.resolve()}）；单位链接用 guidefund links 生成。按 Ctrl+C 停止。"
    )
    config = uvicorn.Config(
        app, host=args.host, port=args.port, log_level="warning", proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_config=None,  # uvicorn's messages go where guidefund's go: the log file
    )  # fmt: skip
    try:
        Server(config).run()
    finally:
        app.state.portal.checker.close()
        engine.dispose()
    print("已停止填报网页。")
    return EXIT_OK


def register(add: Callable[..., Any]) -> None:
    """Add `portal` to the `guidefund` parser."""
    p = add("portal", "启动填报网页：各单位上传填报文件并立即看到检查结果", cmd_portal)
    p.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="地址",
        help="监听地址（默认 127.0.0.1，只本机可访问）",
    )
    p.add_argument("--port", type=int, default=8000, metavar="端口", help="监听端口（默认 8000）")
    add_scope(p)
    p.add_argument(
        "--forwarded-allow-ips", default="127.0.0.1", metavar="地址",
        help="信任其 X-Forwarded-For 的反向代理地址（默认 127.0.0.1），用于按客户端限制错误链接的尝试次数",
    )  # fmt: skip
    describe(
        p,
        "单位打开自己的链接（guidefund links 生成），看到本单位项目的报送状态、已收到的版本和"
        "预填模板，上传工作簿后立即得到与 guidefund check 相同的检查结果；通过检查的文件放入"
        "收件箱，由下一次 guidefund nightly 入库。科技厅用总览链接查看各单位的报送情况并催报。"
        "对外提供服务时请放在 HTTPS 反向代理之后（见 README）。",
        examples=["guidefund portal", "guidefund portal --host 127.0.0.1 --port 8000"],
        exits={0: "已停止", 2: "无法启动（汇总库结构不是最新、参考数据有误、端口被占用）"},
    )
