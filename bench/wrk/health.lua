-- Atlas — Bench
-- SPDX-License-Identifier: Apache-2.0
--
-- GET of the URL given to wrk (/health/live); only adds the summary line.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
