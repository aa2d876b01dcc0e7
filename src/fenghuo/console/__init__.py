"""烽火控制台 The web console for operators and regulators (issue 16).

Served by ``fenghuo serve`` at ``/`` from the same process and the same roles and scopes as the
JSON API: every page and form calls the domain function the matching ``/api/v1`` route calls,
with the actor of the logged-in token, so the console can show or do nothing that token could
not through the API. Server-rendered Jinja2 templates, a little JavaScript of our own
(countdowns, live updates from the switch's SSE stream), charts as inline SVG.

Modules, one per page area: ``web`` (session, CSRF, rendering), ``auth`` (log in/out, language),
``overview``, ``service_page`` (the switch), ``alerts_page`` (warnings, silences),
``incidents_page`` (clocks, reports), ``complaints_page`` (CN-TC-17 tickets), ``corpus_page`` (manual
sample review), ``regulator_page`` (the jurisdiction tree), ``ledger_page``,
``live`` (SSE); ``reads`` (what is read, through which domain function) and ``charts`` (SVG).
``routes.router`` is what the app mounts. See docs/console.md.
"""
