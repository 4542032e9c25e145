"""The sync engine on the database: push, pull and the SQL Store (`sync/`'s protocol)."""
