"""Single sign-on through the force's OpenID Connect provider (issue 16).

Off unless BEATBOOK_OIDC_ISSUER is set. Authlib's Flask client runs the authorization code flow
with PKCE and checks the ID token (signature against the provider's published keys, issuer,
audience, nonce, expiry); nothing here decodes an ID token by hand.

- mapping.py   the force's groups or roles -> a Beatbook role and team (instance/oidc-mapping.json)
- client.py    the Authlib client, made from discovery; the refresh token sealed at rest
- identity.py  a verified sign-in -> the user, matched by (issuer, subject), made on first sign-in
- leavers.py   asking the provider whether an account still exists; back-channel logout
- views.py     /oidc/start, /oidc/callback, /oidc/backchannel-logout, the refusal page
- handoff.py   the one-time code that carries a sign-in from the provider back to the app
"""
