"""Texts of the notification forms (届出) and of the notices after one is accepted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    # Actions
    "actions.title": ("届出・処理", "Notifications and actions"),
    "actions.birth": ("出生届", "Birth"),
    "actions.move_in_join": ("この世帯への転入届", "Move-in to this household"),
    "actions.move_within": ("転居届", "Move within"),
    "actions.move_out": ("転出届", "Move-out"),
    "actions.death": ("死亡届", "Death"),
    "actions.name_change": ("氏名変更", "Name change"),
    "actions.household_change": ("世帯変更", "Household change"),
    "actions.code_change": ("住民票コード変更", "Resident-code change"),
    "actions.correction": ("職権修正", "Ex-officio correction"),
    "actions.supervisor_only": ("管理職のみ", "supervisors only"),
    # Notices after a change
    "done.title": ("受け付けました", "Accepted"),
    "done.birth": ("出生届を受け付けました。", "The birth has been registered."),
    "done.move_in": ("転入届を受け付けました。", "The move-in has been registered."),
    "done.move_within": ("転居届を受け付けました。", "The move has been registered."),
    "done.move_out": ("転出届を受け付けました。", "The move-out has been registered."),
    "done.death": ("死亡届を受け付けました。", "The death has been registered."),
    "done.name_change": ("氏名変更を受け付けました。", "The name change has been registered."),
    "done.household_change": (
        "世帯変更を受け付けました。",
        "The household change has been registered.",
    ),
    "done.code_change": (
        "住民票コードを変更しました。新しいコードを本人に通知してください。",
        "The resident code was changed. Tell the resident the new code.",
    ),
    "done.correction": ("職権修正を記録しました。", "The correction has been recorded."),
    "late.title": ("届出期間超過（遅延）", "Filed after the deadline (late)"),
    "late.body": (
        "届出期間（14日）を過ぎた届出です。受理しましたが、届出遅延として記録しました。",
        "This notification was filed after the 14-day period. It was accepted and recorded "
        "as late.",
    ),
    # Common event fields
    "field.household_number": ("世帯番号", "Household number"),
    "field.family_name": ("氏", "Family name"),
    "field.given_name": ("名", "Given name"),
    "field.family_name_kana": ("氏（フリガナ）", "Family name (katakana)"),
    "field.given_name_kana": ("名（フリガナ）", "Given name (katakana)"),
    "field.kana_hint": ("全角カタカナ", "Full-width katakana"),
    "field.birth_date": ("生年月日", "Date of birth"),
    "field.sex": ("性別", "Sex"),
    "field.relationship": ("続柄", "Relationship to head"),
    "field.resident_code": ("住民票コード", "Resident code"),
    "field.resident_code_hint": (
        "11桁。国外からの転入で初めての方は空欄（新しいコードを割り当てます）",
        "11 digits. Leave empty for a first arrival from abroad (a new code is assigned)",
    ),
    "field.domicile": ("本籍", "Family-register domicile"),
    "field.domicile_head": ("筆頭者", "Head of family register"),
    "field.address": ("住所", "Address"),
    "field.new_address": ("新住所", "New address"),
    "field.previous_address": ("前住所", "Previous address"),
    "field.previous_municipality_code": (
        "前住所地の市区町村コード",
        "Previous municipality code",
    ),
    "move_in.previous_municipality_hint": (
        "6桁（例 132292）。前住所地に転入通知を送ります。国外からは空欄。",
        "6 digits (e.g. 132292). The old municipality is sent a move-in notice. "
        "Leave empty for arrivals from abroad.",
    ),
    "field.moved_on": ("異動日（転入・転居した日）", "Date of the move"),
    "field.filed_on": ("届出日", "Filing date"),
    "field.destination": ("転出先", "Destination"),
    "field.planned_on": ("転出予定日", "Planned date of the move"),
    "field.died_on": ("死亡日", "Date of death"),
    "field.changed_on": ("変更日", "Date of the change"),
    "field.new_head_code": ("新しい世帯主", "New head of household"),
    "field.reason_note": ("修正の理由", "Reason for the correction"),
    "field.from_abroad": ("国外からの転入", "Arriving from abroad"),
    "field.choose": ("選択してください", "Choose"),
    "field.resident_codes": ("転出する人", "People moving out"),
    "field.version": ("版", "Version"),
    # Move-in
    "move_in.title": ("転入届", "Move-in notification"),
    "move_in.household": ("世帯", "Household"),
    "move_in.new_household": ("新しい世帯をつくる", "Form a new household"),
    "move_in.join_household": ("既存の世帯に入る", "Join an existing household"),
    "move_in.join_hint": (
        "既存の世帯に入る場合、住所は世帯の住所になります。",
        "When joining a household, its address is used.",
    ),
    "move_in.persons": ("転入する人", "People moving in"),
    "move_in.person_n": ("{n}人目", "Person {n}"),
    "move_in.no_person": ("転入する人を1人以上入力してください。", "Enter at least one person."),
    "move_in.more_rows": ("{n}人目を入力する", "Enter person {n}"),
    "move_in.rows_hint": (
        "空欄の行は無視されます。新しい世帯では1人を世帯主にしてください。",
        "Empty rows are skipped. A new household needs exactly one head.",
    ),
    # Birth
    "birth.title": ("出生届", "Birth notification"),
    "birth.hint": (
        "新しい住民票コードを割り当てます。住所は世帯の住所になります。",
        "A new resident code is assigned. The household's address is used.",
    ),
    # Move within
    "move_within.title": ("転居届", "Move within the municipality"),
    "move_within.hint": (
        "世帯全員の住所を変更します。",
        "The whole household moves to the new address.",
    ),
    # Move out
    "move_out.title": ("転出届", "Move-out notification"),
    "move_out.hint": (
        "転出する世帯員を選んでください。世帯主は世帯全員でのみ転出できます。",
        "Choose who moves out. The head leaves only with the whole household.",
    ),
    "move_out.inline": ("選択した世帯員の転出届", "Move-out of the selected members"),
    "move_out.submit": ("選択した人の転出届を受け付ける", "Accept the move-out of those selected"),
    # Death
    "death.title": ("死亡届", "Death notification"),
    "death.new_head_hint": (
        "世帯主が死亡した場合、残る世帯員から新しい世帯主を選んでください。",
        "If the head died, choose the new head among the remaining members.",
    ),
    "death.no_new_head": ("（指定しない）", "(none)"),
    # Name change
    "name_change.title": ("氏名変更", "Name change"),
    # Household change
    "household_change.title": ("世帯変更", "Household change"),
    "household_change.mode": ("変更の内容", "Kind of change"),
    "household_change.mode_new_household": (
        "この人を世帯主として新しい世帯をつくる（世帯分離）",
        "Make this person head of a new household (split)",
    ),
    "household_change.mode_become_head": (
        "この人を今の世帯の世帯主にする（世帯主変更）",
        "Make this person head of the current household",
    ),
    "household_change.mode_relationship": (
        "続柄を変更する",
        "Change the relationship to the head",
    ),
    "household_change.mode_join": (
        "同じ住所の別の世帯に入る（世帯合併）",
        "Join another household at the same address",
    ),
    "household_change.old_head_relationship": (
        "元の世帯主の新しい続柄",
        "New relationship of the former head",
    ),
    "household_change.target_household": ("入る世帯の世帯番号", "Household number to join"),
    # Code change
    "code_change.title": ("住民票コード変更", "Resident-code change"),
    "code_change.hint": (
        "本人の請求により、割当て済みのコードから新しいコードを付番します。"
        "旧コードは廃止され、住基カードは使えなくなります。",
        "On the resident's request a new code is drawn from the pool. The old code is retired "
        "and the resident card stops working.",
    ),
    "code_change.submit": ("コードを変更する", "Change the code"),
    # Correction
    "correction.title": ("職権修正", "Ex-officio correction"),
    "correction.hint": (
        "誤っている項目だけを修正してください。修正の理由は必ず記録されます。",
        "Change only the items that are wrong. The reason is always recorded.",
    ),
    "correction.submit": ("修正を記録する", "Record the correction"),
}
