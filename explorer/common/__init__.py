"""Small helpers every folder may use: argument checks a student can act on (checks), the named random streams
behind every reproducible view (streams), and where a computation runs (device).

Imports from explorer: nothing.
"""
