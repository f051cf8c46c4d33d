"""The resolution phase's verbs: ballots and votes (ballots, voting, closing), the decision and
its outcome notice (decisions, outcome), the client's page and answers (client_link, answers),
negotiation rounds and the remedy tasks (remedies). See portal/models/resolution.py."""
