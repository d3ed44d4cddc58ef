"""The card move (転入転出の特例, domain.md §4.2): the move-out in advance at the old
municipality, the move-out information it answers, and the move-in with the card at the new one.
"""
