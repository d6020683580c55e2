"""`GET /metrics`: the portal's numbers for whoever runs it, in Prometheus text format.

- routes.py   the endpoint (its blueprint): 404 when METRICS_TOKEN is unset, 401 without its token
- numbers.py  what it reports, read at scrape time (see its docstring)
- counters.py the few counts no table keeps (refused confirmations, pauses), in Redis; low-level
              modules (pause, the attendance routes) add to them, so this package imports nothing
"""
