"""``jukinet register``: counter work (異動届) from the command line, as a signed-in operator.

Every command goes through the same service as the counter pages, so the same rules, the same
history and the same identity notices apply. Dates may be typed in 和暦 (令和8年11月26日,
R8.11.26) or ISO (2026-11-26); the filing date defaults to today.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape

from jukinet.cli.common import (
    OPERATOR_ENV,
    act_as,
    cli_command,
    console,
    node_of,
    parse_date_option,
)
from jukinet.cli.views import records_table
from jukinet.domain.errors import ValidationError
from jukinet.domain.participation import OptOutRequest
from jukinet.domain.register import Insurance, Relationship, Sex
from jukinet.services import register
from jukinet.services.register import ChangeResult, HouseholdChange, MoveIn, PersonInput

app = typer.Typer(help="異動の届出 / File register changes.", no_args_is_help=True)

OperatorOption = Annotated[
    str | None,
    typer.Option(
        "--operator",
        "-u",
        envvar=OPERATOR_ENV,
        help="Operator username; the password comes from JUKINET_OPERATOR_PASSWORD or a prompt.",
    ),
]
FiledOnOption = Annotated[
    str | None, typer.Option("--filed-on", help="Filing date (届出日); default today.")
]
VersionOption = Annotated[
    int | None,
    typer.Option("--expected-version", help="Refuse if the record changed since this version."),
]
FamilyName = Annotated[str | None, typer.Option("--family-name", help="氏 (as written).")]
GivenName = Annotated[str | None, typer.Option("--given-name", help="名 (as written).")]
FamilyKana = Annotated[
    str | None, typer.Option("--family-name-kana", help="氏のフリガナ (full-width katakana).")
]
GivenKana = Annotated[
    str | None, typer.Option("--given-name-kana", help="名のフリガナ (full-width katakana).")
]
BirthDate = Annotated[str | None, typer.Option("--birth-date", help="生年月日 (和暦 or ISO).")]
SexOption = Annotated[Sex | None, typer.Option("--sex", help="性別.")]
Domicile = Annotated[str | None, typer.Option("--domicile", help="本籍.")]
DomicileHead = Annotated[str | None, typer.Option("--domicile-head", help="筆頭者.")]


def report_change(result: ChangeResult, *, title: str) -> None:
    """Print what a filing did: accepted, late or not, and the records as written."""
    console.print(f"[green]{escape(title)}: 受付しました / filed[/] (event {result.event_id})")
    if result.late:
        console.print("[yellow]届出期間（14日）を過ぎています / filed after the 14-day window[/]")
    console.print(records_table(result.records, title="記載内容 / records"))


def _required(**values: object) -> None:
    missing = [name for name, value in values.items() if value is None or value == ""]
    if missing:
        options = ", ".join("--" + name.replace("_", "-") for name in missing)
        raise typer.BadParameter(f"{options} を入力してください / missing {options}")


def _need(value: str | None, name: str) -> str:
    """A value an option must have; a usage error naming the option otherwise."""
    if value is None or value == "":
        option = "--" + name.replace("_", "-")
        raise typer.BadParameter(f"{option} を入力してください / missing {option}")
    return value


def _person(
    *,
    family_name: str | None,
    given_name: str | None,
    family_name_kana: str | None,
    given_name_kana: str | None,
    birth_date: str | None,
    sex: Sex | str | None,
    relationship: Relationship | str,
    resident_code: str | None = None,
    domicile: str | None = None,
    domicile_head: str | None = None,
    insurance: Insurance | None = None,
) -> PersonInput:
    return PersonInput(
        family_name=_need(family_name, "family_name"),
        given_name=_need(given_name, "given_name"),
        family_name_kana=_need(family_name_kana, "family_name_kana"),
        given_name_kana=_need(given_name_kana, "given_name_kana"),
        birth_date=parse_date_option(_need(birth_date, "birth_date"), field="birth_date"),
        sex=_enum(Sex, _need(sex, "sex"), field="sex"),
        relationship=_enum(Relationship, relationship, field="relationship"),
        resident_code=resident_code or None,
        domicile=domicile or None,
        domicile_head=domicile_head or None,
        insurance=insurance or Insurance(),
    )


E = TypeVar("E", Sex, Relationship)


def _enum(kind: type[E], value: object, *, field: str) -> E:
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValidationError(
            "JUKI-CLI-001",
            ja=f"{field} の値が正しくありません（{allowed}）。",
            en=f"{field} must be one of: {allowed}.",
            field=field,
        ) from None


def _persons_from_json(path: Path) -> tuple[list[PersonInput], dict[str, Any]]:
    """Persons from a JSON file: a list of persons, or ``{"persons": [...], ...}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise typer.BadParameter(f"cannot read {path}: {error}", param_hint="--from-json") from None
    extra: dict[str, Any] = {}
    if isinstance(data, dict):
        extra = {k: v for k, v in data.items() if k != "persons"}
        data = data.get("persons")
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        raise typer.BadParameter(
            "expected a list of persons or an object with 'persons'", param_hint="--from-json"
        )
    persons = []
    for index, item in enumerate(data):
        insurance = item.get("insurance")
        try:
            persons.append(
                _person(
                    family_name=item.get("family_name"),
                    given_name=item.get("given_name"),
                    family_name_kana=item.get("family_name_kana"),
                    given_name_kana=item.get("given_name_kana"),
                    birth_date=item.get("birth_date"),
                    sex=item.get("sex"),
                    relationship=item.get("relationship", "head" if index == 0 else "child"),
                    resident_code=item.get("resident_code"),
                    domicile=item.get("domicile"),
                    domicile_head=item.get("domicile_head"),
                    insurance=Insurance(**insurance) if isinstance(insurance, dict) else None,
                )
            )
        except (typer.BadParameter, TypeError) as error:
            raise typer.BadParameter(
                f"persons[{index}]: {error}", param_hint="--from-json"
            ) from None
    return persons, extra


@app.command("move-in")
@cli_command
def move_in_command(
    ctx: typer.Context,
    address: Annotated[str | None, typer.Option("--address", help="New address (住所).")] = None,
    previous_address: Annotated[
        str | None, typer.Option("--previous-address", help="前住所.")
    ] = None,
    moved_on: Annotated[str | None, typer.Option("--moved-on", help="転入日.")] = None,
    family_name: FamilyName = None,
    given_name: GivenName = None,
    family_name_kana: FamilyKana = None,
    given_name_kana: GivenKana = None,
    birth_date: BirthDate = None,
    sex: SexOption = None,
    relationship: Annotated[
        Relationship, typer.Option("--relationship", help="続柄.")
    ] = Relationship.HEAD,
    resident_code: Annotated[
        str | None,
        typer.Option("--resident-code", help="The code the person brings (not from abroad)."),
    ] = None,
    domicile: Domicile = None,
    domicile_head: DomicileHead = None,
    household_number: Annotated[
        str | None, typer.Option("--household-number", help="Join this household.")
    ] = None,
    from_abroad: Annotated[bool, typer.Option("--from-abroad", help="国外からの転入.")] = False,
    previous_municipality_code: Annotated[
        str | None,
        typer.Option(
            "--previous-municipality-code",
            "--previous-municipality",
            help="The old municipality's code: it is sent a move-in notice (転入通知).",
        ),
    ] = None,
    from_json: Annotated[
        Path | None,
        typer.Option("--from-json", help="Several persons from a JSON file.", exists=True),
    ] = None,
    filed_on: FiledOnOption = None,
    operator: OperatorOption = None,
) -> None:
    """転入: one person from the options, or several with --from-json."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register move-in")
    extra: dict[str, Any] = {}
    if from_json is not None:
        if any(v is not None for v in (family_name, given_name, birth_date, sex)):
            raise typer.BadParameter("give the persons either as options or in --from-json")
        persons, extra = _persons_from_json(from_json)
    else:
        persons = [
            _person(
                family_name=family_name,
                given_name=given_name,
                family_name_kana=family_name_kana,
                given_name_kana=given_name_kana,
                birth_date=birth_date,
                sex=sex,
                relationship=relationship,
                resident_code=resident_code,
                domicile=domicile,
                domicile_head=domicile_head,
            )
        ]
    address = address or extra.get("address")
    previous_address = previous_address or extra.get("previous_address")
    moved_on = moved_on or extra.get("moved_on")
    household_number = household_number or extra.get("household_number")
    from_abroad = from_abroad or bool(extra.get("from_abroad", False))
    previous_municipality_code = previous_municipality_code or extra.get(
        "previous_municipality_code"
    )
    _required(previous_address=previous_address, moved_on=moved_on)
    if household_number is None:
        _required(address=address)
    today = node.today()
    result = register.file_move_in(
        node,
        actor=actor,
        move_in=MoveIn(
            persons=tuple(persons),
            address=address or "",
            previous_address=str(previous_address),
            moved_on=parse_date_option(moved_on, field="moved_on"),
            filed_on=parse_date_option(filed_on, field="filed_on", default=today),
            household_number=household_number,
            from_abroad=from_abroad,
            previous_municipality_code=previous_municipality_code,
        ),
    )
    report_change(result, title="転入 / move-in")


@app.command("birth")
@cli_command
def birth_command(
    ctx: typer.Context,
    household_number: Annotated[str, typer.Option("--household-number", help="世帯番号.")],
    family_name: FamilyName = None,
    given_name: GivenName = None,
    family_name_kana: FamilyKana = None,
    given_name_kana: GivenKana = None,
    birth_date: BirthDate = None,
    sex: SexOption = None,
    relationship: Annotated[
        Relationship, typer.Option("--relationship", help="続柄 (usually child).")
    ] = Relationship.CHILD,
    domicile: Domicile = None,
    domicile_head: DomicileHead = None,
    filed_on: FiledOnOption = None,
    operator: OperatorOption = None,
) -> None:
    """出生: a newborn joins a household and gets a code from the pool."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register birth")
    person = _person(
        family_name=family_name,
        given_name=given_name,
        family_name_kana=family_name_kana,
        given_name_kana=given_name_kana,
        birth_date=birth_date,
        sex=sex,
        relationship=relationship,
        domicile=domicile,
        domicile_head=domicile_head,
    )
    result = register.file_birth(
        node,
        actor=actor,
        household_number=household_number,
        person=person,
        filed_on=parse_date_option(filed_on, field="filed_on", default=node.today()),
    )
    report_change(result, title="出生 / birth")


@app.command("move-within")
@cli_command
def move_within_command(
    ctx: typer.Context,
    household_number: Annotated[str, typer.Option("--household-number", help="世帯番号.")],
    address: Annotated[str, typer.Option("--address", help="新住所.")],
    moved_on: Annotated[str, typer.Option("--moved-on", help="転居日.")],
    filed_on: FiledOnOption = None,
    operator: OperatorOption = None,
) -> None:
    """転居: a household moves inside the municipality."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register move-within")
    moved = parse_date_option(moved_on, field="moved_on")
    filed = parse_date_option(filed_on, field="filed_on", default=node.today())
    result = register.file_move_within(
        node,
        actor=actor,
        household_number=household_number,
        address=address,
        moved_on=moved,
        filed_on=filed,
    )
    report_change(result, title="転居 / move within")


@app.command("move-out")
@cli_command
def move_out_command(
    ctx: typer.Context,
    codes: Annotated[list[str], typer.Argument(help="Resident codes of those who leave.")],
    destination: Annotated[str, typer.Option("--destination", help="転出先.")],
    planned_on: Annotated[str, typer.Option("--planned-on", help="転出予定日.")],
    filed_on: FiledOnOption = None,
    operator: OperatorOption = None,
) -> None:
    """転出: people leave; their records become 除票."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register move-out")
    planned = parse_date_option(planned_on, field="planned_on")
    filed = parse_date_option(filed_on, field="filed_on", default=node.today())
    result = register.file_move_out(
        node,
        actor=actor,
        resident_codes=codes,
        destination=destination,
        planned_on=planned,
        filed_on=filed,
    )
    report_change(result, title="転出 / move-out")


@app.command("death")
@cli_command
def death_command(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Resident code of the deceased.")],
    died_on: Annotated[str, typer.Option("--died-on", help="死亡日.")],
    new_head: Annotated[
        str | None, typer.Option("--new-head", help="New head's code, if the head died.")
    ] = None,
    filed_on: FiledOnOption = None,
    expected_version: VersionOption = None,
    operator: OperatorOption = None,
) -> None:
    """死亡: the record becomes a 除票."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register death")
    died = parse_date_option(died_on, field="died_on")
    filed = parse_date_option(filed_on, field="filed_on", default=node.today())
    result = register.file_death(
        node,
        actor=actor,
        resident_code=code,
        died_on=died,
        filed_on=filed,
        new_head_code=new_head,
        expected_version=expected_version,
    )
    report_change(result, title="死亡 / death")


@app.command("name-change")
@cli_command
def name_change_command(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Resident code.")],
    changed_on: Annotated[str, typer.Option("--changed-on", help="変更日.")],
    family_name: FamilyName = None,
    given_name: GivenName = None,
    family_name_kana: FamilyKana = None,
    given_name_kana: GivenKana = None,
    filed_on: FiledOnOption = None,
    expected_version: VersionOption = None,
    operator: OperatorOption = None,
) -> None:
    """氏名変更: the whole new name (written form and reading)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register name-change")
    family_name = _need(family_name, "family_name")
    given_name = _need(given_name, "given_name")
    family_name_kana = _need(family_name_kana, "family_name_kana")
    given_name_kana = _need(given_name_kana, "given_name_kana")
    changed = parse_date_option(changed_on, field="changed_on")
    filed = parse_date_option(filed_on, field="filed_on", default=node.today())
    result = register.file_name_change(
        node,
        actor=actor,
        resident_code=code,
        family_name=family_name,
        given_name=given_name,
        family_name_kana=family_name_kana,
        given_name_kana=given_name_kana,
        changed_on=changed,
        filed_on=filed,
        expected_version=expected_version,
    )
    report_change(result, title="氏名変更 / name change")


@app.command("code-change")
@cli_command
def code_change_command(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The resident code to replace.")],
    filed_on: FiledOnOption = None,
    expected_version: VersionOption = None,
    operator: OperatorOption = None,
) -> None:
    """住民票コード変更: a new code from the pool; the old one is retired for ever."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register code-change")
    filed = parse_date_option(filed_on, field="filed_on", default=node.today())
    result = register.change_resident_code(
        node, actor=actor, resident_code=code, filed_on=filed, expected_version=expected_version
    )
    report_change(result, title="住民票コード変更 / code change")


@app.command("opt-out")
@cli_command
def opt_out_command(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The resident code.")],
    request_number: Annotated[
        str, typer.Option("--request-number", help="The municipality's number of the request.")
    ],
    requested_on: Annotated[
        str | None,
        typer.Option("--requested-on", help="Date of the resident's request (default: today)."),
    ] = None,
    back_in: Annotated[
        bool, typer.Option("--back-in", help="Resume notification (a fresh copy goes upstream).")
    ] = False,
    expected_version: VersionOption = None,
    operator: OperatorOption = None,
) -> None:
    """本人確認情報の通知停止 (Yokohama's choice): upstream deletes what it holds; with
    --back-in the resident opts back in."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register opt-out")
    result = register.set_upstream_opt_out(
        node,
        actor=actor,
        request=OptOutRequest(
            resident_code=code,
            opt_out=not back_in,
            requested_on=parse_date_option(
                requested_on, field="requested_on", default=node.today()
            ),
            request_number=request_number,
            expected_version=expected_version,
        ),
    )
    report_change(result, title="通知の再開 / opt back in" if back_in else "通知の停止 / opt-out")


def _household_change(spec: str) -> HouseholdChange:
    """``CODE:RELATIONSHIP``, ``CODE:RELATIONSHIP:HOUSEHOLD`` or ``CODE:head:new``."""
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise typer.BadParameter(
            f"{spec!r}: expected CODE:RELATIONSHIP[:HOUSEHOLD_NUMBER|new]", param_hint="--change"
        )
    code, relationship = parts[0], _enum(Relationship, parts[1], field="relationship")
    target = parts[2] if len(parts) == 3 else None
    return HouseholdChange(
        resident_code=code,
        relationship=relationship,
        household_number=None if target in (None, "new") else target,
        new_household=target == "new",
    )


@app.command("household-change")
@cli_command
def household_change_command(
    ctx: typer.Context,
    change: Annotated[
        list[str],
        typer.Option(
            "--change",
            help="CODE:RELATIONSHIP[:HOUSEHOLD_NUMBER|new], once per person "
            "(e.g. 12345678901:head:new to split off a new household).",
        ),
    ],
    changed_on: Annotated[str, typer.Option("--changed-on", help="変更日.")],
    filed_on: FiledOnOption = None,
    operator: OperatorOption = None,
) -> None:
    """世帯変更: a new head, a member joining another household at the address, or a split."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register household-change")
    changes = [_household_change(spec) for spec in change]
    changed = parse_date_option(changed_on, field="changed_on")
    filed = parse_date_option(filed_on, field="filed_on", default=node.today())
    result = register.file_household_change(
        node, actor=actor, changes=changes, changed_on=changed, filed_on=filed
    )
    report_change(result, title="世帯変更 / household change")
