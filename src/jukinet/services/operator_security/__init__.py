"""Operator security: sessions, sign-in with password and card, cards, terminals, hours, permits."""
