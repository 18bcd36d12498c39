"""The run phase of scripts/demo (scripts/demo.py wires it), one concern a module:
settings (configs/demo.json), processes (waiting for and stopping children), servers
(MariaDB, Redis, the token stand-in, sysbench), cluster (the shoal nodes), view (what it
prints while running) and verdict (what it saw, and the checks that decide pass or fail)."""
