-- bench/serve-wrk.lua -- the wrk script of bench/serve.sh. Every request is a GET of the next blob in the list
-- $SERVE_PATHS names (one URL path a line, the same list for every server), each wrk thread starting at its own
-- offset so that connections do not fetch the same blob in lock step. At the end it prints one line,
-- "WRKJSON {...}", with the totals, the latency percentiles (microseconds) and the error counts, which serve.sh
-- parses instead of wrk's human-readable units. No response() callback: defining one makes wrk copy every body.
local paths = {}
for line in io.lines(os.getenv("SERVE_PATHS")) do
    if line ~= "" then paths[#paths + 1] = line end
end

local created = 0
function setup(thread)
    created = created + 1
    thread:set("offset", created * 17)
end

local at = 0
function init(_)
    at = (offset or 0) % #paths
end

function request()
    at = at % #paths + 1
    return wrk.format("GET", paths[at])
end

function done(summary, latency, _)
    local e = summary.errors
    io.write(string.format(
        'WRKJSON {"requests": %d, "bytes": %d, "duration_us": %d, "mean_us": %.1f, "p50_us": %d, "p90_us": %d, '
        .. '"p99_us": %d, "max_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
        summary.requests, summary.bytes, summary.duration, latency.mean, latency:percentile(50),
        latency:percentile(90), latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
