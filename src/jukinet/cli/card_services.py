"""``jukinet card-service``: card services by ordinance (条例利用).

``add``, ``list`` and ``deactivate`` keep the registry of services the council enacted
(supervisors add and deactivate; the counter lists); ``enrol`` and ``withdraw`` are the
counter's acts for a resident; ``use`` is a service terminal on this host's card reader: the
resident's PIN opens the card, which signs the node's challenge, and only the service's
identifier is printed.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jukinet.cli.common import (
    OperatorOption,
    act_as,
    cli_command,
    console,
    node_of,
    parse_date_option,
    read_secret,
    read_stdin_secret,
    terminal_id,
)
from jukinet.services.card_services.enrolment import EnrolmentView, enrol, withdraw
from jukinet.services.card_services.inputs import Enrolment, NewCardService, Withdrawal
from jukinet.services.card_services.registry import (
    CardServiceView,
    add_service,
    deactivate_service,
    list_services,
)
from jukinet.services.card_services.terminal import use_service_with_pin

app = typer.Typer(
    help="条例利用 / Card services by ordinance: the registry (supervisors), enrolment at the "
    "counter, and a service terminal's use of the card.",
    no_args_is_help=True,
)

ResidentCode = Annotated[str, typer.Argument(help="The resident's code (住民票コード).")]
ServiceCode = Annotated[str, typer.Argument(help="The service's code, e.g. library.")]


def _print_service(what: str, view: CardServiceView) -> None:
    state = "利用中 / active" if view.active else "廃止 / inactive"
    console.print(
        f"[green]{what}:[/] [bold]{escape(view.code)}[/] {escape(view.name_ja)} / "
        f"{escape(view.name_en)} — {escape(view.ordinance_name)} ({view.enacted_on}) [{state}]"
    )


def _print_enrolment(what: str, view: EnrolmentView) -> None:
    console.print(
        f"[green]{what}:[/] [bold]{escape(view.service_code)}[/] "
        f"利用者番号 / service identifier {escape(view.service_identifier)} ({view.state.value})"
    )


@app.command("add")
@cli_command
def add_command(
    ctx: typer.Context,
    code: ServiceCode,
    name_ja: Annotated[str, typer.Option("--name-ja", help="サービス名 (Japanese name).")],
    name_en: Annotated[str, typer.Option("--name-en", help="The English name.")],
    ordinance: Annotated[str, typer.Option("--ordinance", help="条例名: the ordinance's name.")],
    enacted_on: Annotated[
        str, typer.Option("--enacted-on", help="制定日: 令和8年4月1日, R8.4.1 or 2026-04-01.")
    ],
    operator: OperatorOption = None,
) -> None:
    """Enter a service the council enacted by ordinance (supervisors)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card-service add")
    view = add_service(
        node,
        actor=actor,
        service=NewCardService(
            code=code,
            name_ja=name_ja,
            name_en=name_en,
            ordinance_name=ordinance,
            enacted_on=parse_date_option(enacted_on, field="enacted_on"),
        ),
    )
    _print_service("登録しました / added", view)


@app.command("list")
@cli_command
def list_command(ctx: typer.Context, operator: OperatorOption = None) -> None:
    """Every service in the registry, with its ordinance."""
    node = node_of(ctx)
    act_as(node, operator, command="card-service list")
    table = Table("code", "名称 / name", "条例 / ordinance", "制定日 / enacted", "状態 / state")
    for view in list_services(node):
        table.add_row(
            escape(view.code),
            f"{escape(view.name_ja)} / {escape(view.name_en)}",
            escape(view.ordinance_name),
            view.enacted_on.isoformat(),
            "利用中 / active" if view.active else "廃止 / inactive",
        )
    console.print(table)


@app.command("deactivate")
@cli_command
def deactivate_command(
    ctx: typer.Context, code: ServiceCode, operator: OperatorOption = None
) -> None:
    """End a service whose ordinance was repealed (supervisors)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card-service deactivate")
    _print_service("廃止しました / deactivated", deactivate_service(node, actor=actor, code=code))


@app.command("enrol")
@cli_command
def enrol_command(
    ctx: typer.Context,
    resident_code: ResidentCode,
    service: ServiceCode,
    operator: OperatorOption = None,
) -> None:
    """利用登録: enrol a resident with a valid card in a service (counter staff)."""
    _counter_act(ctx, operator, "enrol", Enrolment(resident_code, service))


@app.command("withdraw")
@cli_command
def withdraw_command(
    ctx: typer.Context,
    resident_code: ResidentCode,
    service: ServiceCode,
    operator: OperatorOption = None,
) -> None:
    """利用廃止: withdraw a resident from a service (counter staff)."""
    _counter_act(ctx, operator, "withdraw", Withdrawal(resident_code, service))


def _counter_act(
    ctx: typer.Context, operator: str | None, name: str, act: Enrolment | Withdrawal
) -> None:
    node = node_of(ctx)
    actor = act_as(node, operator, command=f"card-service {name}")
    if isinstance(act, Enrolment):
        _print_enrolment("利用登録しました / enrolled", enrol(node, actor=actor, enrolment=act))
    else:
        _print_enrolment(
            "利用を廃止しました / withdrawn", withdraw(node, actor=actor, withdrawal=act)
        )


@app.command("use")
@cli_command
def use_command(
    ctx: typer.Context,
    service: ServiceCode,
    serial: Annotated[str, typer.Argument(help="The card's serial (MMMMMM-NNNNNNNN).")],
    pin_stdin: Annotated[
        bool,
        typer.Option("--pin-stdin", help="Read the card's PIN from standard input."),
    ] = False,
) -> None:
    """A service terminal on this host: the PIN opens the card; prints the service's
    identifier for its holder (never the resident code)."""
    node = node_of(ctx)
    pin = read_stdin_secret() if pin_stdin else read_secret("暗証番号 / PIN", confirm=False)
    use = use_service_with_pin(node, code=service, serial=serial, pin=pin, place=terminal_id())
    console.print(f"service_code={escape(use.service_code)}")
    console.print(f"service_identifier={escape(use.service_identifier)}")
