"""``jukinet audit …``: the access log — verify it, publish heads, disclose to a resident, check a
disclosure's proofs, apply retention."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from jukinet.cli.common import (
    EXIT_FAILED,
    OperatorOption,
    act_as,
    cli_command,
    console,
    err_console,
    parse_date_option,
)
from jukinet.cli.provision import NodeDirOption, target_node
from jukinet.services import audit, head_publication, security_signals, witness

audit_app = typer.Typer(
    help="The access log: verify, tree heads, disclosure with proofs, retention.",
    no_args_is_help=True,
)


@audit_app.command("verify")
@cli_command
def audit_verify(ctx: typer.Context, folder: NodeDirOption = None) -> None:
    """Check the whole log: every entry against its leaf, the tree, every signed head.

    Exits 1 and names the first bad entry when anything does not verify. Needs no sign-in: it
    prints no personal data, and must not itself write to the log it checks (a sign-in would
    leave an entry no signed head covers yet).
    """
    node = target_node(ctx, folder)
    report = audit.verify(node)
    published = "none" if report.published_sequence is None else f"#{report.published_sequence}"
    console.print(
        f"entries: {report.entries} (deleted after retention: {report.purged}), "
        f"signed heads checked: {report.heads_checked}, latest published head: {published}"
    )
    if report.ok:
        console.print("[bold green]アクセスログは検証されました / the access log verifies[/]")
        return
    err_console.print(
        "[bold red]アクセスログに改ざんがあります / the access log does not verify[/]"
    )
    if report.first_bad_entry is not None:
        err_console.print(f"[red]first bad entry: {report.first_bad_entry}[/]")
    for problem in report.problems[:20]:
        err_console.print(f"[red]  {escape(problem)}[/]")
    raise typer.Exit(EXIT_FAILED)


@audit_app.command("init-key")
@cli_command
def audit_init_key(
    ctx: typer.Context, folder: NodeDirOption = None, operator: OperatorOption = None
) -> None:
    """Create a stand-alone node's key for signing tree heads, once (JUKINET_AUDIT_KEY_PATH).

    Kept in a folder apart from the database, mode 0600; an existing key is never overwritten,
    and a node never creates one by itself. Prints the public key to publish (system
    administrators).
    """
    node = target_node(ctx, folder)
    act_as(node, operator, command="audit init-key")
    path = audit.create_log_key(node)
    console.print(f"[green]署名鍵を作成しました / signing key created:[/] {escape(str(path))}")
    sys.stdout.write(audit.public_key_pem(node))


@audit_app.command("head")
@cli_command
def audit_head(
    ctx: typer.Context, folder: NodeDirOption = None, operator: OperatorOption = None
) -> None:
    """Publish (sign) a tree head over the log as it stands and print it as JSON (auditors)."""
    node = target_node(ctx, folder)
    act_as(node, operator, command="audit head")
    head = audit.publish_tree_head(node)
    sys.stdout.write(json.dumps(head.to_dict(), indent=2) + "\n")


@audit_app.command("publish")
@cli_command
def audit_publish(
    ctx: typer.Context, folder: NodeDirOption = None, operator: OperatorOption = None
) -> None:
    """Sign a tree head and publish it to this node's witnesses, which countersign it if it
    extends the head they hold (auditors). Exits 1 if a witness refused or was unreachable."""
    node = target_node(ctx, folder)
    act_as(node, operator, command="audit publish")
    results = head_publication.publish(node)
    if not results:
        console.print("このノードには立会人がいません / this node has no witnesses")
    for result in results:
        if result.witnessed:
            console.print(
                f"[green]{result.witness}: 副署されました / countersigned[/] "
                f"(head of {result.tree_size} entries)"
            )
        else:
            err_console.print(
                f"[bold red]{result.witness}: 副署されません / not countersigned[/]: "
                f"{escape(result.problem or '')}"
            )
    if any(not r.witnessed for r in results):
        raise typer.Exit(EXIT_FAILED)


@audit_app.command("witnessed")
@cli_command
def audit_witnessed(
    ctx: typer.Context,
    of: Annotated[str | None, typer.Option("--of", help="Only this node's heads.")] = None,
    folder: NodeDirOption = None,
    operator: OperatorOption = None,
) -> None:
    """The tree heads of other nodes this node (their witness) countersigned, newest first."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="audit witnessed")
    heads = witness.witnessed_heads(node, actor=actor, of=of)
    if not heads:
        console.print("副署したツリーヘッドはありません / no witnessed heads")
    for head in heads:
        console.print(
            f"{head.node:<22} #{head.sequence} size {head.tree_size:<8} "
            f"root {head.root_hash[:16]}… signed {head.signed_at} "
            f"witnessed {head.witnessed_at.isoformat(timespec='seconds')}"
        )


@audit_app.command("consistency")
@cli_command
def audit_consistency(
    ctx: typer.Context,
    old: Annotated[int, typer.Argument(help="Size of the earlier signed head.")],
    new: Annotated[int, typer.Argument(help="Size of the later signed head.")],
    folder: NodeDirOption = None,
) -> None:
    """Prove that the later head only appended to the earlier one (no sign-in: public heads)."""
    node = target_node(ctx, folder)
    result = audit.consistency(node, old, new)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    if not result["consistent"]:
        raise typer.Exit(EXIT_FAILED)


@audit_app.command("disclose")
@cli_command
def audit_disclose(
    ctx: typer.Context,
    resident_code: Annotated[str, typer.Argument(help="The resident's code.")],
    operator: OperatorOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON here.")] = None,
    folder: NodeDirOption = None,
) -> None:
    """本人確認情報の提供状況の開示: every entry about one resident, each with its proof."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="audit disclose")
    document = head_publication.witnessed_disclosure(
        node, actor=actor, request=audit.DisclosureRequest(resident_code)
    )
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"[green]{len(document['entries'])} entries with proofs written to {out}[/]")


@audit_app.command("check-proof")
@cli_command
def audit_check_proof(
    file: Annotated[
        Path,
        typer.Argument(
            help="A disclosure document (JSON), or the portal's list of them.", exists=True
        ),
    ],
    ca: Annotated[
        Path | None, typer.Option("--ca", help="The network CA certificate to trust.")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The node's published public key (PEM).")
    ] = None,
) -> None:
    """Check a disclosure offline: the head's signature and every entry's inclusion proof."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        err_console.print("[bold red]JSON として読めません / not readable as JSON[/]")
        raise typer.Exit(EXIT_FAILED) from None
    # The resident portal's download holds one document per tier (municipality, prefecture,
    # centre): each is checked on its own, against the same trust.
    documents = document if isinstance(document, list) else [document]
    if not documents or not all(isinstance(d, dict) for d in documents):
        err_console.print("[bold red]開示文書ではありません / not a disclosure document[/]")
        raise typer.Exit(EXIT_FAILED)
    failed = False
    for one in documents:
        result = audit.check_disclosure(
            one,
            ca_pem=ca.read_bytes() if ca else None,
            public_key_pem=public_key.read_bytes() if public_key else None,
        )
        node = escape(str(one.get("node", "")))
        if result.ok:
            console.print(
                f"[bold green]OK[/] {node}: {result.entries} entries are in the log whose signed "
                f"head covers {result.tree_size} entries / {result.entries}件すべて検証されました"
            )
            if result.witnesses:
                console.print(
                    "立会人の副署 / witnessed by: " + ", ".join(escape(w) for w in result.witnesses)
                )
            continue
        failed = True
        err_console.print(f"[bold red]検証できません / does not verify[/] {node}")
        for problem in result.problems:
            err_console.print(f"[red]  {escape(problem)}[/]")
    if failed:
        raise typer.Exit(EXIT_FAILED)


@audit_app.command("retention")
@cli_command
def audit_retention(
    ctx: typer.Context, folder: NodeDirOption = None, operator: OperatorOption = None
) -> None:
    """Delete entries past the 7-year retention, leaving a signed deletion receipt (system
    administrators)."""
    node = target_node(ctx, folder)
    act_as(node, operator, command="audit retention")
    result = audit.apply_retention(node)
    if not result.count:
        console.print(f"nothing recorded before {result.before} is left to delete")
        return
    console.print(
        f"[green]{result.count} entries ({result.first}–{result.end - 1}) deleted; "
        f"receipt at entry {result.receipt_position}[/]"
    )


@audit_app.command("alerts")
@cli_command
def audit_alerts(
    ctx: typer.Context,
    day: Annotated[
        str | None, typer.Option(help="Day to judge (ISO or 和暦); default today.")
    ] = None,
    operator: OperatorOption = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Also write the list as CSV.")
    ] = None,
    folder: NodeDirOption = None,
) -> None:
    """Insider signals for security staff: unusual volume, many readers, off-hours reads."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="audit alerts")
    judged = None if day is None else parse_date_option(day, field="day")
    signals = security_signals.alerts(node, actor=actor, day=judged)
    if csv_out is not None:
        csv_out.write_text(security_signals.alerts_csv(signals), encoding="utf-8-sig")
    if not signals:
        console.print("[green]兆候はありません / no signals[/]")
        return
    for signal in signals:
        colour = {"alert": "red", "warning": "yellow"}.get(signal.severity.value, "cyan")
        console.print(
            f"[{colour}]{signal.severity.value:<8}[/] {signal.kind.value:<13} "
            f"{escape(signal.summary_ja)} / {escape(signal.summary_en)}"
        )
