--[[
  Records the first sync's history in bulk: jobs that were already over when gem-watch first looked
  get their index entry and nothing else (no snapshot, no transition, no outbox), exactly as
  save-job-6.lua does for one job with an empty expected value and no snapshot, but for many jobs
  per call, so 50,000 jobs cost ~100 calls instead of 50,000.

  Input:
    KEYS[1] status index     (job id -> "status|version", one hash per job type)
    KEYS[2] vanished         (hash: job id -> "ms|jobType")

    ARGV    pairs: job id, index value ("finished|1"), ...

  Output:
    the number of jobs recorded; a job that already has an index entry is left as it is (someone
    recorded it first: the compare-and-set on '' fails for it)
]]
local recorded = 0
for i = 1, #ARGV - 1, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HDEL', KEYS[2], ARGV[i])
    recorded = recorded + 1
  end
end
return recorded
