-- wrk script of the benchmark (bench/load.ts runs it). Modes, the first argument:
--   actions FIRST COUNT COOKIE CSRF_HEADER CSRF [KEYS]   cycles tickets t{FIRST}..t{FIRST+COUNT-1}.bench,
--       resolve on even passes and reopen on odd ones (every ticket starts in REOPEN); with KEYS,
--       each request carries a new Idempotency-Key, KEYS-{n} (as the typed client sends one)
--   login DOMAIN PASSWORD                         POST /api/login as u{n}@DOMAIN, each a new
--       unknown account (so every attempt costs a password check, none is throttled)
--   list PATH COOKIE                              GET PATH&start=0,20,...,980
--   pages PATH COOKIE FORMAT FIRST STEP COUNT     GET PATH&after=FORMAT(FIRST + STEP*k) for k in
--       0..COUNT-1 in turn: keyset paging, as a client pages on (FORMAT a string.format pattern)
-- Every mode prints one JSON line at the end: requests, seconds, statuses, p50/p99 (µs).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  statuses = {}
  i = 0
  if mode == "actions" then
    first, count = tonumber(args[2]), tonumber(args[3])
    headers = { ["Cookie"] = args[4], [args[5]] = args[6], ["Content-Type"] = "application/json" }
    keys = args[7]
  elseif mode == "login" then
    domain, password = args[2], args[3]
    headers = { ["Content-Type"] = "application/json" }
  else
    path, headers = args[2], { ["Cookie"] = args[3] }
    if mode == "pages" then
      format, first, step, count = args[4], tonumber(args[5]), tonumber(args[6]), tonumber(args[7])
    end
  end
end

function request()
  local n = i
  i = i + 1
  if mode == "actions" then
    local action = (math.floor(n / count) % 2 == 0) and "resolve" or "reopen"
    if keys then headers["Idempotency-Key"] = keys .. "-" .. n end
    return wrk.format("POST", "/api/tickets/t" .. (first + n % count) .. ".bench/actions", headers,
      '{"ActionName":"ticket.action.' .. action .. '","Comments":"bench"}')
  elseif mode == "login" then
    return wrk.format("POST", "/api/login", headers,
      '{"email":"u' .. n .. '@' .. domain .. '","password":"' .. password .. '"}')
  elseif mode == "pages" then
    return wrk.format("GET", path .. "&after=" .. string.format(format, first + step * (n % count)), headers)
  end
  return wrk.format("GET", path .. "&start=" .. ((n % 50) * 20), headers)
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency)
  local merged, counts = {}, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  for status, n in pairs(merged) do
    counts[#counts + 1] = '"' .. status .. '":' .. n
  end
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"seconds":%.3f,"p50":%d,"p99":%d,"socketErrors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(counts, ",")))
end
