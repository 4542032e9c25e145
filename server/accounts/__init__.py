"""People and their credentials: teams and users, passwords, device tokens, sign-in limits."""
