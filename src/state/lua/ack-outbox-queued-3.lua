--[[
  Acknowledges a transition's outbox entry only if its notification task is on this server. After a
  failover the task may have been added on the old primary, acknowledged by it and never copied to
  the new one: the entry then stays, and the sweeper dispatches the transition again (its task id is
  the same, and the delivered marker stops a second send). The task is one of those the dispatch
  added: `addBulk` adds them in one MULTI, so they land on one server together.

  Input:
    KEYS[1] outbox           (sorted set: transition key, scored by detection time)
    KEYS[2] outbox data      (hash: transition key -> transition JSON)
    KEYS[3] notify task      (BullMQ's hash of one of the transition's notify tasks)

    ARGV[1] transition key

  Output:
    1 when the entry was there and removed, 0 when it was not there, -1 when the task is missing
    (nothing removed)
]]
if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return removed
