-- wrk script for bench/api.py: raise a ticket per request (POST /api/v1/tickets), token and
-- result line as api.lua.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "api.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title": "Load ticket", "description": "Raised by bench/api.py"}'
