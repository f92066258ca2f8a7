-- wrk script: POST /customers with the demo documents, a fresh email and
-- identification number on every request (so every answer is a 201).
-- wrk -s bench/create.lua URL -- TOKEN FRONT BACK NONCE
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  token, nonce = args[1], args[4]
  front, back = slurp(args[2]), slurp(args[3])
  counter = 0
  boundary = "benchBoundary7MA4YWxkTrZu0gW"
end

local function field(name, value)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" ..
    name .. "\"\r\n\r\n" .. value .. "\r\n"
end

local function file(name, fname, ctype, data)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" ..
    name .. "\"; filename=\"" .. fname .. "\"\r\nContent-Type: " .. ctype ..
    "\r\n\r\n" .. data .. "\r\n"
end

function request()
  counter = counter + 1
  local u = nonce .. "t" .. tid .. "n" .. counter
  local body = table.concat({
    field("first_name", "John"), field("last_name", "Doe"),
    field("email", "bench." .. u .. "@example.com"),
    field("country", "Nigeria"), field("street", "1 Main Street"),
    field("city", "Lagos"), field("state", "Lagos State"),
    field("postal_code", "100001"), field("country_iso_code", "NG"),
    field("country_phone_code", "+234"), field("phone_number", "8012345678"),
    field("identification_number", "VC" .. u),
    field("id_document_type", "VOTERS_CARD"),
    field("date_of_birth", "1990-01-15"),
    file("id_document_front", "front.jpg", "image/jpeg", front),
    file("id_document_back", "back.png", "image/png", back),
    "--" .. boundary .. "--\r\n" })
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
  }, body)
end

function done(summary, latency, requests)
  io.write(string.format("creates: %d in %.1f s = %.0f/s; non-2xx %d; errors %d\n",
    summary.requests, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
  io.write(string.format("latency: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000))
end
