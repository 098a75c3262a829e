--[[
  Reports one outcome to a named health flag shared by all replicas, and says whether this report
  changed the flag: the compare and the write are one atomic step, so of N replicas seeing the same
  change, exactly one is told it changed it (and sends the one alert).

  A flag never reported is healthy. A report older than the flag's last change (a request that
  started before it) is stale and changes nothing, so late answers cannot flap the flag.

  Input:
    KEYS[1] the flag's hash (ok = '1' | '0', reason, since = epoch ms of the last change)

    ARGV[1] '1' for ok, '0' for not ok
    ARGV[2] reason (text for the operator; '' when ok)
    ARGV[3] now, epoch ms: when the reported request started

  Output:
    { changed (1 | 0), ok ('1' | '0'), reason, since ('' when never changed) } after the report
]]
local current = redis.call('HMGET', KEYS[1], 'ok', 'reason', 'since')
local ok = current[1] or '1'
local reason = current[2] or ''
local since = current[3] or ''

if ok == ARGV[1] then
  return { 0, ok, reason, since }
end
if since ~= '' and tonumber(ARGV[3]) < tonumber(since) then
  return { 0, ok, reason, since }
end

redis.call('HSET', KEYS[1], 'ok', ARGV[1], 'reason', ARGV[2], 'since', ARGV[3])
return { 1, ARGV[1], ARGV[2], ARGV[3] }
