--[[
  Completes a digest period if the sending lease is still ours: last-end moves forward to the
  period end (never back), pending is cleared and the entry logged, at once.

  Input:
    KEYS[1] digest lock     (string: the lease holder's token)
    KEYS[2] digest last-end (string: epoch ms)
    KEYS[3] digest pending  (string: JSON)
    KEYS[4] digest log      (list, newest first)

    ARGV[1] the lease token
    ARGV[2] period end, epoch ms
    ARGV[3] log entry JSON
    ARGV[4] log entries kept

  Output:
    1 when done, 0 when the lease is not ours (nothing written)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local current = redis.call('GET', KEYS[2])
if (not current) or tonumber(current) < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], ARGV[2]) end
redis.call('DEL', KEYS[3])
redis.call('LPUSH', KEYS[4], ARGV[3])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[4]) - 1)
return 1
