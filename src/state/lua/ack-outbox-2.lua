--[[
  Acknowledges a transition's outbox entry once its notification tasks exist: the member and its
  data go together, so an interrupted acknowledgement leaves neither half behind. A script rather
  than a MULTI for the reason read-job-3.lua gives.

  Input:
    KEYS[1] outbox           (sorted set: transition key, scored by detection time)
    KEYS[2] outbox data      (hash: transition key -> transition JSON)

    ARGV[1] transition key

  Output:
    1 when the entry was there, 0 otherwise
]]
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return removed
