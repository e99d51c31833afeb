-- bench/origin-sustain.lua: the wrk script of bench/origin's sustained run
-- (a fixed request rate, playlists and segments of the live edge) and of its
-- rows' equal-rate runs (fixed paths: a file holding 0 as EDGE_FILE).
--
--   wrk ... -s origin-sustain.lua URL -- RATE EDGE_FILE BACK PATH PATH ...
--
-- RATE       requests per second of each wrk thread (bench/origin passes its
--            total rate divided by wrk's thread count)
-- EDGE_FILE  a file holding the sequence number of the newest segment the
--            live playlist lists (bench/origin polls the playlist every 25 ms
--            and rewrites the file, by rename, on each new segment); each
--            thread reads it again at most every 100 ms
-- BACK       how far behind that newest segment to ask (2: the third newest,
--            where HLS players start)
-- PATH       requested in turn by each thread; "{seq}" in a path is replaced
--            by the newest listed sequence number less BACK. So the segments
--            asked for follow the live edge as players' do, also when the
--            channel falls behind the wall clock; each stays in the playlist
--            for the window (10 segments), so it is always held.
--
-- The rate: wrk has no rate option, but calls delay() before every request
-- of a connection and waits that many milliseconds. Each thread hands out
-- send times 1/RATE apart (clock_gettime through LuaJIT's ffi), one per
-- delay() call, to whichever connection asks next; with enough connections
-- idle the thread sends exactly RATE per second whatever the response time.
-- When every connection is busy the schedule slips; it is never more than
-- 100 ms behind (no burst to catch up), so a server that cannot keep up shows
-- as a lower achieved rate, not as a storm.
--
-- done() prints "bench-origin-wrk {json}" as bench/origin-paths.lua does.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_origin_timespec;
int clock_gettime(int clock_id, bench_origin_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_origin_timespec")

local function now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
   return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local interval_ms, edge_file, back
local paths, fixed, by_seq = {}, {}, {}
local n = 0
local next_send = nil
local edge, edge_read_at = nil, nil

local function live_edge()
   local now = now_ms()
   if not edge_read_at or now - edge_read_at >= 100 then
      edge_read_at = now
      local f = io.open(edge_file, "r")
      if f then
         local value = tonumber(f:read("*l"))
         f:close()
         edge = value or edge
      end
   end
   return edge
end

function init(args)
   interval_ms = 1000 / tonumber(args[1])
   edge_file = args[2]
   back = tonumber(args[3])
   for i = 4, #args do
      local path = args[i]
      paths[#paths + 1] = path
      if not path:find("{seq}", 1, true) then
         fixed[#paths] = wrk.format("GET", path)
      end
   end
   if not live_edge() then
      error("bench/origin-sustain.lua: no sequence number in " .. edge_file)
   end
end

function request()
   n = n % #paths + 1
   if fixed[n] then
      return fixed[n]
   end
   local seq = live_edge() - back
   local cached = by_seq[n]
   if not cached or cached.seq ~= seq then
      local path = paths[n]:gsub("{seq}", string.format("%d", seq))
      cached = { seq = seq, request = wrk.format("GET", path) }
      by_seq[n] = cached
   end
   return cached.request
end

function delay()
   local now = now_ms()
   if not next_send or next_send < now - 100 then
      next_send = now
   end
   next_send = next_send + interval_ms
   local wait = next_send - now
   if wait < 1 then
      return 0
   end
   return math.floor(wait)
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
