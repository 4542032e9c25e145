"""Assessment: each team against the force's standards (periods, facts, rollups, measures,
ratings, grid, evidence, packs and exports).

This package is the engine. What shows it lives at the edges: the JSON API in
`server.api.assessment`, the console pages in `server.console.assessment` and
`server.console.meetings`, the public team pages in `server.public`, the CLI in
`server.cli.assessment`.
"""
