"""Supervisor actions on records (review, conflict resolution), written through the SQL Store,
and the record schema bound to the app's vocabularies and catalogues."""
