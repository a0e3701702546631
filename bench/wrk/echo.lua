-- Atlas — Bench
-- SPDX-License-Identifier: Apache-2.0
--
-- POST /debug/echo with one valid body. The request is set once as static fields, not built in a
-- request() function, so wrk formats it a single time and the client stays as cheap as for the GET.
-- A body the server rejects shows up as non2xx in the summary line.

wrk.method = "POST"
wrk.path = "/debug/echo"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name": "benchmark", "count": 3, "tags": ["a","b"]}'

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
