-- bench/get.lua: GETs for wrk, the paths of a file taken in turn.
--   wrk -s bench/get.lua URL -- TOKEN PATHS_FILE
-- PATHS_FILE: one absolute path per line (e.g. /api/v1/customers/ID).
package.path = (os.getenv("CARTEVO_BENCH_LUA") or "bench") .. "/?.lua;" .. package.path
local report = require("report")

local reqs, i = {}, 0

function init(args)
  local token = args[1]
  for path in io.lines(args[2]) do
    if path ~= "" then
      table.insert(reqs, wrk.format("GET", path,
        token ~= "-" and { ["Authorization"] = "Bearer " .. token } or {}))
    end
  end
  assert(#reqs > 0, "no paths in " .. args[2])
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end

done = report.done
