--[[
  Claims the digest period that ends at a cron slot, or finds the one already claimed for it. The
  period runs from where the last one ended (last-end) to the slot; claiming moves last-end to the
  slot and records the period as open, in one step, so every replica and every retry of the slot's
  task agrees on the period, and no two periods overlap or leave a gap.

  Input:
    KEYS[1] digest last-end (string: epoch ms)
    KEYS[2] digest open     (hash: period end → JSON {start, end, force})
    KEYS[3] digest lock     (string: the lease of a daemon from before the digest ran on the queue)
    KEYS[4] digest pending  (string: JSON, that daemon's period in progress)

    ARGV[1] the slot, epoch ms: the period's end
    ARGV[2] "1" to claim even when the schedule has not started (digest --now), else "0"
    ARGV[3] the start to use then (epoch ms)

  Output:
    {"open", json}    the period ending at the slot, claimed now or before
    {"done"}          last-end is at or past the slot: nothing to send
    {"uninitialised"} the schedule has no start yet (a very first start sets it)
    {"busy"}          an older daemon holds its lease or has a period pending; retry later
]]
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {'open', existing} end
local last = redis.call('GET', KEYS[1])
if not last then
  if ARGV[2] ~= '1' then return {'uninitialised'} end
  last = ARGV[3]
end
if tonumber(last) >= tonumber(ARGV[1]) then return {'done'} end
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then return {'busy'} end
local period = cjson.encode({start = tonumber(last), ['end'] = tonumber(ARGV[1]), force = ARGV[2] == '1'})
redis.call('HSET', KEYS[2], ARGV[1], period)
redis.call('SET', KEYS[1], ARGV[1])
return {'open', period}
