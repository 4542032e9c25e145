"""Alerts before a standard slips (issue 15): the rules (rules.py), who sees which and their
dismissals (visible.py), and the daily email digest (digest.py)."""
