"""Counter work (窓口業務): every change to the register goes through these use cases.

Each is one transaction: the record, its previous version, the event and the identity notice
in the outbox commit together, or nothing is written at all. Arrivals, departures, amendments
and the notices other municipalities send live in their own modules; this package names them.
"""

from jukinet.services.register.amendments import (
    change_resident_code,
    correct_record,
    file_household_change,
    file_move_within,
    file_name_change,
)
from jukinet.services.register.arrivals import file_birth, file_move_in
from jukinet.services.register.change import Change, ChangeResult
from jukinet.services.register.departures import delete_ex_officio, file_death, file_move_out
from jukinet.services.register.inputs import HouseholdChange, MoveIn, PersonInput
from jukinet.services.register.notices import initial_load, set_upstream_opt_out

__all__ = [
    "Change",
    "ChangeResult",
    "HouseholdChange",
    "MoveIn",
    "PersonInput",
    "change_resident_code",
    "correct_record",
    "delete_ex_officio",
    "file_birth",
    "file_death",
    "file_household_change",
    "file_move_in",
    "file_move_out",
    "file_move_within",
    "file_name_change",
    "initial_load",
    "set_upstream_opt_out",
]
