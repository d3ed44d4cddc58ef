"""Residents' cards (住基カード): counter work, the network's view of a card, and its use.

- :mod:`.counter` — application, issuance with the resident's PIN, PIN change and reset, loss
  report (suspension), resumption, return: the card issuer's and the counter's use cases.
- :mod:`.lifecycle` — the register's changes that end a card (code change, death, move-out).
- :mod:`.status` — card status notices upward and status checks by serial at any node.
- :mod:`.terminal` — a terminal authenticating a card (challenge, PIN on the chip, signature).
"""
