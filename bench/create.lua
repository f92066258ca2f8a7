-- bench/create.lua: POST /customers with two documents for wrk; every
-- request has its own email and identification number, so every answer
-- is a 201 (or, against /bench/discard, the same bytes are discarded).
--   wrk -s bench/create.lua URL -- TOKEN FRONT BACK NONCE
-- NONCE: 8 characters unique to the run. CARTEVO_BENCH_MAX (optional):
-- requests per run, after which each of CARTEVO_BENCH_THREADS (2) threads
-- stops and creates the file CARTEVO_BENCH_DONE.<thread>.
--
-- wrk's own CPU is part of what is measured, and a fresh 200 KB string
-- per request would cost it more than a create costs httpd; so each
-- thread formats its request once and, with LuaJIT's FFI, rewrites the
-- counter digits in place (wrk copies the string into its buffer before
-- the next call). Without FFI a new string is formatted per request.
package.path = (os.getenv("CARTEVO_BENCH_LUA") or "bench") .. "/?.lua;" .. package.path
local report = require("report")
local ok, ffi = pcall(require, "ffi")

local threads = {}
local tid_next = 0

function setup(thread)
  thread:set("tid", tid_next)
  tid_next = tid_next + 1
  table.insert(threads, thread)
end

local function slurp(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local data = f:read("*a")
  f:close()
  return data
end

local boundary = "benchBoundary7MA4YWxkTrZu0gW"
local DIGITS = 10
local counter, limit, req, offsets = 0, nil, nil, nil

local function field(name, value)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" ..
    name .. "\"\r\n\r\n" .. value .. "\r\n"
end

local function file(name, fname, ctype, data)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" ..
    name .. "\"; filename=\"" .. fname .. "\"\r\nContent-Type: " .. ctype ..
    "\r\n\r\n" .. data .. "\r\n"
end

function init(args)
  local token, front, back, nonce = args[1], slurp(args[2]), slurp(args[3]), args[4]
  local max = tonumber(os.getenv("CARTEVO_BENCH_MAX") or "")
  local nthreads = tonumber(os.getenv("CARTEVO_BENCH_THREADS") or "2")
  if max then limit = math.ceil(max / nthreads) end
  local u = nonce .. string.format("%02d", tid % 100) .. string.rep("0", DIGITS)
  local body = table.concat({
    field("first_name", "John"), field("last_name", "Doe"),
    field("email", "bench." .. u .. "@example.com"),
    field("country", "Nigeria"), field("street", "1 Main Street"),
    field("city", "Lagos"), field("state", "Lagos State"),
    field("postal_code", "100001"), field("country_iso_code", "NG"),
    field("country_phone_code", "+234"), field("phone_number", "8012345678"),
    field("identification_number", "DL" .. u),
    field("id_document_type", "DRIVERS_LICENSE"),
    field("date_of_birth", "1990-01-15"),
    file("id_document_front", "front.jpg", "image/jpeg", front),
    file("id_document_back", "back.png", "image/png", back),
    "--" .. boundary .. "--\r\n" })
  req = wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
  }, body)
  -- The text fields come before the documents, so the first match of
  -- each is the field's (0-based offsets of the digits).
  offsets = {}
  for _, prefix in ipairs({ "bench.", "DL" }) do
    local s = assert(req:find(prefix .. u, 1, true), "digit offsets")
    table.insert(offsets, s - 1 + #prefix + #u - DIGITS)
  end
end

local function digits(n) return string.format("%0" .. DIGITS .. "d", n) end

function request()
  counter = counter + 1
  local d = digits(counter)
  if ok then
    local p = ffi.cast("char *", req)
    for _, o in ipairs(offsets) do ffi.copy(p + o, d, DIGITS) end
    return req
  end
  return req:sub(1, offsets[1]) .. d .. req:sub(offsets[1] + DIGITS + 1, offsets[2]) ..
    d .. req:sub(offsets[2] + DIGITS + 1)
end

-- Only with a limit: a response() makes wrk parse every answer's body.
if os.getenv("CARTEVO_BENCH_MAX") then
  local seen = 0
  function response(status, headers, body)
    seen = seen + 1
    if seen == limit then
      -- wrk waits out -d unless interrupted: tell run_wrk this thread is
      -- done, so that it sends the SIGINT that ends the run.
      local f = io.open(os.getenv("CARTEVO_BENCH_DONE") .. "." .. tid, "w")
      if f then f:close() end
      wrk.thread:stop()
    end
  end
end

done = report.done
