"""Emergencies (domain.md §6): threat levels, two-card disconnects, incident notices, quarantine.

- :mod:`.levels` — the security council's decision on the level, and the runbook it starts;
- :mod:`.disconnects` — propose and countersign a cut, its renewal or its end;
- :mod:`.messages` — incident notices up the tiers, the centre's orders down to every node;
- :mod:`.enforcement` — what a level or a cut refuses (agencies' queries, personal-data writes).
"""
