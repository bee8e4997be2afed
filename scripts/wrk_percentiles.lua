-- wrk -s scripts/wrk_percentiles.lua URL: at the end, one line of latency percentiles in µs
-- ("PCT n 750000 mean 450 p50 400 ... p99.9 3000"), finer than --latency's four.
done = function(summary, latency, requests)
  local line = string.format("PCT n %d mean %.0f", summary.requests, latency.mean)
  for _, p in ipairs({50, 75, 90, 95, 98, 99, 99.5, 99.9}) do
    line = line .. string.format(" p%s %.0f", p, latency:percentile(p))
  end
  io.write(line .. "\n")
end
