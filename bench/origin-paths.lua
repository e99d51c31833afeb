-- bench/origin-paths.lua: the wrk script of bench/origin's table rows.
--
--   wrk ... -s origin-paths.lua URL                  every request is URL's
--   wrk ... -s origin-paths.lua URL -- PATH PATH ... the paths in turn
--
-- Without paths, no request() is defined and wrk sends URL's request as it
-- does without a script (no Lua per request). With paths, each wrk thread
-- cycles through them in order; a join storm passes the master playlist, the
-- media playlist, then the segment three times (a player joining: playlists,
-- then segments). wrk does not tell request() which connection asks, so the
-- cycle is per thread: over a run the mix is exact, not the order on one
-- connection. The requests are formatted once, in init().
--
-- done() prints one line, "bench-origin-wrk {json}", with wrk's exact
-- figures (latencies in microseconds) for bench/origin to read.

local requests = {}
local n = 0

function init(args)
   for _, path in ipairs(args) do
      requests[#requests + 1] = wrk.format("GET", path)
   end
   if #requests > 0 then
      request = function()
         n = n % #requests + 1
         return requests[n]
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'bench-origin-wrk {"requests": %d, "duration_us": %d, "bytes": %d, '
         .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d, '
         .. '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.timeout, e.status,
      latency:percentile(50), latency:percentile(99), latency.max))
end
