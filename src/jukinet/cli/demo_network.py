"""``jukinet demo``: the demo network — six node processes on loopback with mutual TLS."""

from __future__ import annotations

import gc
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jukinet.cli.common import PASSWORD_ENV, cli_command, console, state_of
from jukinet.runtime.demo import (
    DEMO_OPERATORS,
    PUBLIC_KEY_FILE,
    DemoNetwork,
    build_demo,
    make_moves,
    sample_codes,
    wait_until_delivered,
)
from jukinet.runtime.demo_participation import opt_out_one
from jukinet.runtime.demo_provision import (
    BROWSER_CERTIFICATE,
    CONSOLE_OFFICERS,
    PENSION_AFFAIR,
    PENSION_AGENCY,
    AgencyRun,
    client_folder,
    network_url,
    run_agency_queries,
)

#: How long the nodes have to stop after Ctrl-C before they are killed.
STOP_SECONDS = 1.5
#: The exit status after Ctrl-C (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED = 130

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
    # Ctrl-C (and SIGTERM) interrupt whatever phase is running; every node stops within
    # STOP_SECONDS and the demo says "stopped" (the nodes run in their own sessions, so the
    # terminal's Ctrl-C reaches only this process, which stops them).
    # Set both explicitly: a process started in the background inherits SIGINT ignored.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    demo: DemoNetwork | None = None
    interrupted = False
    try:
        demo = build_demo(
            data_dir,
            residents=residents,
            seed=seed,
            database_url_template=template,
            base_port=base_port,
            say=_say,
            fresh=fresh,
        )
        _run(demo, serve=not no_serve)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # A second Ctrl-C must not cut the stopping short (it is bounded anyway).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if demo is not None:
            console.print("ノードを停止しています / stopping the nodes …")
            demo.cluster.stop(timeout=STOP_SECONDS)
        console.print("停止しました / stopped")
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)
    # The seeded population leaves millions of objects: the interpreter's last garbage
    # collection took 2–4 s after "stopped". Nothing here needs finalizers; skip that pass.
    gc.freeze()
    if interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _run(demo: DemoNetwork, *, serve: bool) -> None:
    console.print("ノードを起動しています / starting the nodes …")
    demo.cluster.start()
    make_moves(demo, say=_say)
    opt_out_one(demo, say=_say)
    settled = wait_until_delivered(demo, say=_say)
    agency = run_agency_queries(demo.cluster, sample_codes(demo), say=_say)
    _print_summary(demo, settled=settled)
    _print_agency(demo, agency)
    _print_commands(demo_commands(demo, agency))
    if not serve:
        return
    console.print("Ctrl-C で終了します / press Ctrl-C to stop")
    while True:
        time.sleep(0.5)
        for name, node in demo.cluster.nodes.items():
            if node.process is not None and node.process.poll() is not None:
                console.print(f"[red]{name} stopped; see {node.folder}/node.log[/]")
                return


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
    console.print(f"西東京市 → 横浜市 の転入 / moves: {escape(moved)} — {state}")
    console.print(f"送受信台帳 / delivery ledger: {ledger_url}/network (kanri / anzen)")
    portal_url = demo.cluster.nodes["municipality:132292"].public_url
    if portal_url is not None:
        console.print(f"住民ポータル / resident portal (西東京市): {portal_url}/")


def _print_agency(demo: DemoNetwork, run: AgencyRun) -> None:
    centre = demo.cluster.nodes["national:jlis"]
    console.print(
        f"機関照会 / agency queries at the centre ({escape(PENSION_AGENCY)}): "
        f"提供 / provided {len(run.looked_up)}, 拒否 / refused {escape(str(run.refused))}, "
        f"一括 / batch {run.batch_found}/{run.batch_rows}"
    )
    # localhost, not 127.0.0.1: the officer's card (WebAuthn) needs the relying-party id.
    console_url = f"https://localhost:{centre.config.network_port}/agency"
    for login, principal, _name in CONSOLE_OFFICERS:
        p12 = demo.cluster.pki.node(principal).folder / BROWSER_CERTIFICATE
        console.print(
            f"機関照会画面 / agency console: {console_url} — officer {login} "
            f"{escape(demo.passwords[login])} (browser certificate {escape(str(p12))}, "
            "same password)"
        )
    console.print(
        "職員カード / officer card: パスワードの後、初回はこのブラウザのパスキーまたは"
        "セキュリティキーを職員カードとして登録します（デモのみ） / after the password, the first "
        "sign-in enrols the browser's passkey or security key as the officer's card (demo only)"
    )
    console.print(f"提供状況の開示 / disclosure: {centre.operator_url}/disclosure (madoguchi)")
    console.print(f"公表 / transparency: {centre.operator_url}/transparency")
    console.print(f"不正利用の兆候 / alerts: {centre.operator_url}/security/alerts (anzen)")


def jukinet_command() -> str:
    """How a new shell runs this jukinet: the script beside this interpreter (the venv's
    ``bin/jukinet``, no activation needed), or ``jukinet`` from PATH."""
    script = shutil.which("jukinet", path=str(Path(sys.executable).parent))
    return shlex.quote(str(Path(script).absolute())) if script else "jukinet"


def demo_commands(demo: DemoNetwork, run: AgencyRun) -> list[tuple[str, str]]:
    """(what it does, the command) for each command the demo prints, in the order to run
    them: every path absolute and every argument quoted, so each runs as printed in a new
    shell in any folder."""
    cluster = demo.cluster
    centre = cluster.nodes["national:jlis"]
    jukinet = jukinet_command()
    subject = run.looked_up[0] if run.looked_up else "00000000000"
    folder = shlex.quote(str(centre.folder.absolute()))
    document = shlex.quote(str((cluster.folder / "disclosure.json").absolute()))
    public_key = shlex.quote(str((centre.folder / PUBLIC_KEY_FILE).absolute()))
    lookup = [
        "agency", "lookup", "--url", network_url(cluster, "national:jlis"),
        "--cert-dir", str(client_folder(cluster, PENSION_AGENCY).absolute()),
        "--ca", str(cluster.pki.ca_cert_path.absolute()),
        "--affair", PENSION_AFFAIR, "--officer", "デモ", subject,
    ]  # fmt: skip
    password = shlex.quote(demo.passwords["madoguchi"])
    return [
        (
            "機関として照会する / look a resident up as the pension agency",
            f"{jukinet} {shlex.join(lookup)}",
        ),
        (
            "本人への開示文書（全国センター、窓口担当）/ the resident's disclosure, with proofs",
            f"{PASSWORD_ENV}={password} {jukinet} audit disclose {subject} "
            f"--operator madoguchi --dir {folder} --out {document}",
        ),
        (
            "開示文書を公表された公開鍵で検証する / check it with the centre's published key",
            f"{jukinet} audit check-proof {document} --public-key {public_key}",
        ),
        (
            "全国センターのアクセスログを検証する / verify the centre's access log",
            f"{jukinet} audit verify --dir {folder}",
        ),
    ]


def _print_commands(commands: list[tuple[str, str]]) -> None:
    # Plain lines, never wrapped or boxed: each copies and pastes as it is (a "#" line is a
    # shell comment, so the whole block pastes too).
    console.print(
        "新しいシェルで実行できるコマンド / commands to run in a new shell "
        "(jukinet is named by its path: no need to activate .venv):"
    )
    for purpose, command in commands:
        console.print(f"# {purpose}", markup=False, highlight=False, soft_wrap=True)
        console.print(command, markup=False, highlight=False, soft_wrap=True)
