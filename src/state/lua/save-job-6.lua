--[[
  Writes one job's new state, and its transition if any, in one atomic step: a compare-and-set on
  the job's index entry ("status|version"), so two replicas that observed the same change cannot
  both record it, and a slow replica cannot overwrite a newer state with an older one.

  Input:
    KEYS[1] jobs hash        (job id -> tracked job JSON)
    KEYS[2] status index     (job id -> "status|version", one hash per job type)
    KEYS[3] transitions      (stream)
    KEYS[4] outbox           (sorted set: undispatched transitions by detection time)
    KEYS[5] outbox data      (hash: outbox member -> transition JSON)
    KEYS[6] vanished         (hash: job id -> "ms|jobType")

    ARGV[1] job id
    ARGV[2] expected index value, '' when the job must be new
    ARGV[3] new index value
    ARGV[4] tracked job JSON, '' to keep only the index entry (compact history)
    ARGV[5] transition JSON, '' when the status did not change
    ARGV[6] stream MINID: entries older than this (ms) are trimmed
    ARGV[7] outbox member, '' when the transition is not to be dispatched
    ARGV[8] now, epoch ms (outbox score)
    ARGV[9] '1' to keep the job's vanished mark (a fetch of a job the list no longer shows), else ''

  Output:
    0 on conflict (the index entry was not the expected one: re-read and diff again)
    1 when saved without a transition
    the transition's stream entry id when a transition was recorded
]]
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current == false then current = '' end
if current ~= ARGV[2] then
  return 0
end

redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
end
if ARGV[9] ~= '1' then
  redis.call('HDEL', KEYS[6], ARGV[1])
end

if ARGV[5] == '' then
  return 1
end

local entryId = redis.call('XADD', KEYS[3], 'MINID', '~', ARGV[6], '*', 't', ARGV[5])
if ARGV[7] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[8], ARGV[7])
  redis.call('HSET', KEYS[5], ARGV[7], ARGV[5])
end
return entryId
