"""Insider-misuse signals from the access log: who read too much, whom too many read, and when.

Curiosity lookups — staff reading a celebrity's, a patient's or an ex-partner's record — are the
main insider threat to the register (design/domain.md §6). Every read of personal data is in the
access log; this package turns aggregates of that log into an alert list for security staff.

It is pure: the service layer aggregates the log in SQL and hands over plain values, and this
package only applies the rules. Three kinds of :class:`Signal` come out:

* :attr:`SignalKind.VOLUME` (:func:`volume_signals`) — an actor (an operator, or an agency /
  recipient) read far more on one day than its own norm: the day's count is greater than
  ``max(volume_multiplier × median, volume_floor)``, where the median is over the actor's previous
  ``history_days`` days, a day without reads counting as zero. An actor with no reads in that
  history therefore alerts only above the floor. The median of peers of the same actor kind on
  the same day is attached as evidence, never as a separate signal.
* :attr:`SignalKind.MANY_READERS` (:func:`many_reader_signals`) — one subject (a resident code)
  read by at least ``many_readers`` distinct actors within ``many_readers_window_days`` days: the
  "celebrity lookup" pattern. The caller passes operator reads only, so that agencies answering
  through a batch do not count.
* :attr:`SignalKind.OFF_HOURS` (:func:`off_hours_signals`) — reads outside
  :class:`BusinessHours` in Japan time: one signal per actor per JST day.

Severity (:class:`Severity`) follows fixed rules, documented on each function:

========================  ======================  ======================  ==================
kind                      NOTICE                  WARNING                 ALERT
========================  ======================  ======================  ==================
VOLUME (``ratio``)        fires, ratio < 5        5 ≤ ratio < 10          ratio ≥ 10
MANY_READERS (readers)    threshold ≤ n < 1.5×    1.5× ≤ n < 2×           n ≥ 2× (default 10)
OFF_HOURS (reads a day)   1 – 9                   10 – 49                 ≥ 50
========================  ======================  ======================  ==================

For VOLUME, ``ratio`` is the count divided by the *effective baseline*
``max(median, volume_floor / volume_multiplier)`` — the median, or for a quiet or new actor the
level at which the floor takes over — so a volume signal always has ``ratio > volume_multiplier``
and a new actor reading just over the floor is a NOTICE, not an ALERT.

Privacy: summaries name actors by id and carry counts, dates and times only — never a name or
address. A MANY_READERS signal must name its subject so that staff can investigate: the full
resident code is in :attr:`Signal.subject` and the evidence, while the summaries show it masked
as staff screens do (:func:`~jukinet.domain.codes.mask_resident_code`). Error messages name the
field and the rule, never the value.

All dates are Japan (JST, UTC+9, no daylight saving) calendar days. Every error is an
:class:`InsiderSignalError`, which is both a :class:`~jukinet.domain.errors.ValidationError` and
a :class:`ValueError`.

The package is split by concern, one module each:

* ``model`` — the alert model: :class:`Signal`, its kind and severity, and the list's order;
* ``thresholds`` — when signals fire and how severe they are, and business hours;
* ``inputs`` — the aggregates the service layer hands in;
* ``volume``, ``many_readers``, ``off_hours`` — one rule each; ``combined`` — all three at once;
* ``errors`` — the ``JUKI-SIG-0NN`` errors; ``validation`` — checks on the values handed in,
  and Japan time; ``summaries`` — wording the summaries share.
"""

from jukinet.domain.insider_signals.combined import all_signals
from jukinet.domain.insider_signals.errors import (
    InsiderSignalError,
    InvalidBusinessHours,
    InvalidSignalInput,
    InvalidThreshold,
    NaiveTimestamp,
    ReadsOutsideWindow,
)
from jukinet.domain.insider_signals.inputs import DailyCount, OffHoursRead, SubjectReaders
from jukinet.domain.insider_signals.many_readers import many_reader_signals
from jukinet.domain.insider_signals.model import Severity, Signal, SignalKind, signal_sort_key
from jukinet.domain.insider_signals.off_hours import off_hours_signals
from jukinet.domain.insider_signals.thresholds import (
    MANY_READERS_ALERT_FACTOR,
    MANY_READERS_WARNING_FACTOR,
    OFF_HOURS_ALERT_COUNT,
    OFF_HOURS_WARNING_COUNT,
    VOLUME_ALERT_RATIO,
    VOLUME_WARNING_RATIO,
    BusinessHours,
    SignalThresholds,
)
from jukinet.domain.insider_signals.validation import JST
from jukinet.domain.insider_signals.volume import volume_signals

__all__ = [
    "JST",
    "MANY_READERS_ALERT_FACTOR",
    "MANY_READERS_WARNING_FACTOR",
    "OFF_HOURS_ALERT_COUNT",
    "OFF_HOURS_WARNING_COUNT",
    "VOLUME_ALERT_RATIO",
    "VOLUME_WARNING_RATIO",
    "BusinessHours",
    "DailyCount",
    "InsiderSignalError",
    "InvalidBusinessHours",
    "InvalidSignalInput",
    "InvalidThreshold",
    "NaiveTimestamp",
    "OffHoursRead",
    "ReadsOutsideWindow",
    "Severity",
    "Signal",
    "SignalKind",
    "SignalThresholds",
    "SubjectReaders",
    "all_signals",
    "many_reader_signals",
    "off_hours_signals",
    "signal_sort_key",
    "volume_signals",
]
