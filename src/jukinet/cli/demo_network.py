"""``jukinet demo``: the demo network — six node processes on loopback with mutual TLS."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from jukinet.cli.common import cli_command, console, state_of
from jukinet.runtime.demo import (
    DEMO_OPERATORS,
    DemoNetwork,
    build_demo,
    make_moves,
    sample_codes,
    wait_until_delivered,
)
from jukinet.runtime.demo_participation import opt_out_one
from jukinet.runtime.demo_provision import (
    PENSION_AFFAIR,
    PENSION_AGENCY,
    AgencyRun,
    client_folder,
    network_url,
    run_agency_queries,
)

ROLE_NAMES = {
    "national:jlis": "全国センター / national centre",
    "prefecture:13": "東京都 / Tokyo",
    "prefecture:14": "神奈川県 / Kanagawa",
    "municipality:132292": "西東京市 / Nishitokyo",
    "municipality:132152": "国立市 / Kunitachi (未接続 / not connected)",
    "municipality:141003": "横浜市 / Yokohama (通知選択制 / opt-out allowed)",
}


def _say(message: str) -> None:
    console.print(escape(message))


@cli_command
def demo_command(
    ctx: typer.Context,
    residents: Annotated[int, typer.Option(min=10, help="Synthetic residents in all.")] = 10_000,
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo lives (a previous one is kept, see --fresh).")
    ] = Path("var/demo"),
    seed: Annotated[int, typer.Option(help="Same seed, same population.")] = 42,
    base_port: Annotated[
        int,
        typer.Option(
            min=1024,
            max=65000,
            help="Pages on base..base+5, mutual-TLS network ports on base+100..base+105.",
        ),
    ] = 8000,
    no_serve: Annotated[
        bool,
        typer.Option(
            "--no-serve", help="Stop once the network has settled (for scripts and tests)."
        ),
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", help="Delete a previous demo instead of keeping it as <data-dir>.previous."
        ),
    ] = False,
) -> None:
    """The demo network: six node processes with synthetic residents and a few moves.

    PKI, national centre, Tokyo and Kanagawa, Nishitokyo, Kunitachi (not connected) and
    Yokohama (opt-out allowed), each a separate process with its own database.

    SQLite by default; ``jukinet --database-url 'postgresql+psycopg://…/demo_{node}' demo``
    puts every node on PostgreSQL (``{node}`` becomes each node's name).
    """
    template = state_of(ctx).database_url
    if template is not None and "{node}" not in template:
        raise typer.BadParameter(
            "the database URL must contain {node}", param_hint="--database-url"
        )
    demo = build_demo(
        data_dir,
        residents=residents,
        seed=seed,
        database_url_template=template,
        base_port=base_port,
        say=_say,
        fresh=fresh,
    )
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        console.print("ノードを起動しています / starting the nodes …")
        demo.cluster.start()
        make_moves(demo, say=_say)
        opt_out_one(demo, say=_say)
        settled = wait_until_delivered(demo, say=_say)
        agency = run_agency_queries(demo.cluster, sample_codes(demo), say=_say)
        _print_summary(demo, settled=settled)
        _print_agency(demo, agency)
        if no_serve:
            return
        console.print("Ctrl-C で終了します / press Ctrl-C to stop")
        while not stop.wait(1.0):
            for name, node in demo.cluster.nodes.items():
                if node.process is not None and node.process.poll() is not None:
                    console.print(f"[red]{name} stopped; see {node.folder}/node.log[/]")
                    stop.set()
    finally:
        signal.signal(signal.SIGINT, previous)
        console.print("ノードを停止しています / stopping the nodes …")
        demo.cluster.stop()


def _print_summary(demo: DemoNetwork, *, settled: bool) -> None:

    console.print("[bold]ノード / nodes[/] — 画面・API (pages, API) | 住基ネット (mutual TLS)")
    for name, node in demo.cluster.nodes.items():
        console.print(f"  [bold]{node.operator_url}/[/]  {escape(ROLE_NAMES.get(name, name))}")
        console.print(f"      {name}  network https://127.0.0.1:{node.config.network_port}")
    operators = Table(
        title="デモ用の操作者（全ノード共通・この一度だけ表示）/ demo operators "
        "(same on every node, shown once)"
    )
    operators.add_column("役割 / role")
    operators.add_column("ユーザー名 / username", style="bold")
    operators.add_column("パスワード / password", style="bold magenta")
    for username, role, _display in DEMO_OPERATORS:
        operators.add_row(f"{role.label_ja} / {role.value}", username, demo.passwords[username])
    console.print(operators)
    moved = ", ".join(demo.moves) or "—"
    ledger_url = demo.cluster.nodes["municipality:132292"].operator_url
    state = (
        "全ノードに届きました / delivered everywhere"
        if settled
        else "まだ配送中 / still delivering"
    )
    console.print(
        Panel(
            f"西東京市 → 横浜市 の転入: {escape(moved)}\n{state}\n"
            f"送受信台帳 / delivery ledger: {ledger_url}/network (kanri / anzen)",
            title="jukinet demo",
            expand=False,
        )
    )


def _print_agency(demo: DemoNetwork, run: AgencyRun) -> None:
    cluster = demo.cluster
    centre = cluster.nodes["national:jlis"]
    certs = client_folder(cluster, PENSION_AGENCY)
    subject = run.looked_up[0] if run.looked_up else "<住民票コード>"
    console.print(
        Panel(
            f"機関照会 / agency queries at the centre ({escape(PENSION_AGENCY)}):\n"
            f"  提供 / provided {len(run.looked_up)}, 拒否 / refused {escape(str(run.refused))}, "
            f"一括 / batch {run.batch_found}/{run.batch_rows}\n"
            f"提供状況の開示 / disclosure: {centre.operator_url}/disclosure (madoguchi)\n"
            f"公表 / transparency: {centre.operator_url}/transparency\n"
            f"不正利用の兆候 / alerts: {centre.operator_url}/security/alerts (anzen)\n\n"
            "jukinet agency lookup "
            f"--url {network_url(cluster, 'national:jlis')} --cert-dir {escape(str(certs))} "
            f"--ca {escape(str(cluster.pki.ca_cert_path))} --affair {PENSION_AFFAIR} "
            f"--officer 'デモ' {escape(subject)}\n"
            f"jukinet audit verify --dir {escape(str(centre.folder))}",
            title="住基ネット 提供・アクセスログ / provision and access log",
            expand=False,
        )
    )
