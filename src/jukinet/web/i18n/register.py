"""Texts of the register itself: record items, history, event kinds, insurance, 続柄.

Shared by the record page and the CLI's renderings (:mod:`jukinet.cli.views`), so a label
cannot differ between the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship, Sex

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    # Record items (art. 7)
    "record.title": ("住民票", "Resident record"),
    "record.title_removed": ("除票", "Removed record"),
    "record.resident_code": ("住民票コード", "Resident code"),
    "record.masked_code": ("住民票コード（一部）", "Resident code (masked)"),
    # Showing the full code: an explicit act, logged with its reason
    "reveal.summary": ("住民票コードを表示", "Show the full resident code"),
    "reveal.hint": (
        "住民票コードは業務に必要な場合に限り表示します。理由はアクセスログに記録されます。",
        "Show the code only when the task needs it. The reason is kept in the access log.",
    ),
    "reveal.reason": ("表示する理由", "Reason for showing it"),
    "reveal.submit": ("表示する（記録されます）", "Show it (this is logged)"),
    "reveal.shown_once": ("この画面限りの表示", "shown on this screen only"),
    "reveal.forbidden": (
        "住民票コードを表示する権限がありません（住民票コードの表示は許可された職員に限られます）。",
        "Your role may not show full resident codes (only staff who need them may).",
    ),
    "record.name": ("氏名", "Name"),
    "record.kana": ("フリガナ", "Reading (kana)"),
    "record.mj": ("MJ文字図形名", "MJ glyph identifiers"),
    "record.birth_date": ("生年月日", "Date of birth"),
    "record.sex": ("性別", "Sex"),
    "record.head": ("世帯主", "Head of household"),
    "record.relationship": ("続柄", "Relationship to head"),
    "record.household_number": ("世帯番号", "Household number"),
    "record.address": ("住所", "Address"),
    "record.address_since": ("住所を定めた年月日", "Address since"),
    "record.became_resident_on": ("住民となった年月日", "Resident since"),
    "record.previous_address": ("前住所", "Previous address"),
    "record.domicile": ("本籍", "Family-register domicile"),
    "record.domicile_head": ("筆頭者", "Head of family register"),
    "record.insurance": ("保険・年金・手当", "Insurance, pension, allowances"),
    "record.municipality": ("市区町村", "Municipality"),
    "record.status": ("状態", "Status"),
    "record.status_active": ("記載中", "On the register"),
    "record.status_removed": ("除票", "Removed (除票)"),
    "record.removal_reason": ("消除事由", "Reason for removal"),
    "record.removed_on": ("消除日", "Removed on"),
    "record.destination": ("転出先", "Destination"),
    "record.version": ("版", "Version"),
    "record.removed_banner": (
        "この住民票は消除されています（除票）。",
        "This record has been removed (除票).",
    ),
    "record.none": ("なし", "none"),
    "insurance.national_health_insurance": ("国民健康保険", "National health insurance"),
    "insurance.late_elderly_insurance": ("後期高齢者医療", "Late-stage elderly insurance"),
    "insurance.long_term_care_insurance": ("介護保険", "Long-term care insurance"),
    "insurance.national_pension": ("国民年金", "National pension"),
    "insurance.child_allowance": ("児童手当", "Child allowance"),
    # Household
    "household.title": ("世帯", "Household"),
    "household.members": ("世帯員", "Members"),
    "household.select": ("選択", "Select"),
    # History
    "history.title": ("履歴", "History"),
    "history.version": ("版", "Version"),
    "history.event": ("異動事由", "Event"),
    "history.event_date": ("異動日", "Event date"),
    "history.filed_on": ("届出日", "Filed on"),
    "history.late": ("遅延", "Late"),
    "history.changes": ("変更内容", "What changed"),
    "history.operator": ("操作者", "Operator"),
    "history.system": ("システム", "System"),
    "history.note": ("備考", "Note"),
    "history.initial": ("新規記載", "Entered"),
    "history.no_change": ("（記載事項の変更なし）", "(no recorded item changed)"),
    # Sex, 続柄 and roles: the Japanese names are the domain's (as a 住民票 prints them)
    "sex.male": (Sex.MALE.label_ja, "male"),
    "sex.female": (Sex.FEMALE.label_ja, "female"),
    "relationship.head": (Relationship.HEAD.label_ja, "head"),
    "relationship.wife": (Relationship.WIFE.label_ja, "wife"),
    "relationship.husband": (Relationship.HUSBAND.label_ja, "husband"),
    "relationship.child": (Relationship.CHILD.label_ja, "child"),
    "relationship.father": (Relationship.FATHER.label_ja, "father"),
    "relationship.mother": (Relationship.MOTHER.label_ja, "mother"),
    "relationship.grandchild": (Relationship.GRANDCHILD.label_ja, "grandchild"),
    "relationship.sibling": (Relationship.SIBLING.label_ja, "sibling"),
    "relationship.other_relative": (Relationship.OTHER_RELATIVE.label_ja, "other relative"),
    "relationship.cohabitant": (Relationship.COHABITANT.label_ja, "cohabitant"),
    "role.clerk": (Role.CLERK.label_ja, "Counter clerk"),
    "role.supervisor": (Role.SUPERVISOR.label_ja, "Supervisor"),
    "role.security_officer": (Role.SECURITY_OFFICER.label_ja, "Security officer"),
    "role.card_administrator": (Role.CARD_ADMINISTRATOR.label_ja, "Card administrator"),
    "role.card_issuer": (Role.CARD_ISSUER.label_ja, "Card issuer"),
    "role.auditor": (Role.AUDITOR.label_ja, "Auditor"),
    "role.system_administrator": (Role.SYSTEM_ADMINISTRATOR.label_ja, "System administrator"),
    # Event kinds in the history
    "event.birth": ("出生", "Birth"),
    "event.move_in": ("転入", "Move-in"),
    "event.move_within": ("転居", "Move within"),
    "event.move_out": ("転出", "Move-out"),
    "event.death": ("死亡", "Death"),
    "event.name_change": ("氏名変更", "Name change"),
    "event.household_change": ("世帯変更", "Household change"),
    "event.code_change": ("住民票コード変更", "Resident-code change"),
    "event.ex_officio_entry": ("職権記載", "Ex-officio entry"),
    "event.ex_officio_correction": ("職権修正", "Ex-officio correction"),
    "event.ex_officio_deletion": ("職権消除", "Ex-officio deletion"),
    # ... and those recorded without a clerk's filing (network notices, the resident's choice)
    "event.move_out_by_notice": ("転出（転入通知による）", "Move-out (by a move-in notice)"),
    "event.move_out_confirmed": (
        "転出の確認（転入通知による）",
        "Move-out confirmed (by a move-in notice)",
    ),
    "event.household_head_left": (
        "世帯主の転出（世帯変更届が必要）",
        "Head of household left (a household change is needed)",
    ),
    "event.opt_out": (
        "住基ネットへの提供停止（本人の申出）",
        "Network opt-out (resident's request)",
    ),
    "event.opt_in": ("住基ネットへの提供再開（本人の申出）", "Network opt-in (resident's request)"),
}
