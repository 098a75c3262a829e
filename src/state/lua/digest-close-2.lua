--[[
  Closes an open digest period once its messages are queued (or it was skipped as empty): the
  period leaves the open hash and its line goes into the digest log, at once, so a retry of the
  slot's task finds nothing left to do and the log has the line once.

  Input:
    KEYS[1] digest open (hash: period end → JSON)
    KEYS[2] digest log  (list, newest first)

    ARGV[1] period end, epoch ms
    ARGV[2] log entry JSON
    ARGV[3] log entries kept

  Output:
    1 when closed now, 0 when it was not open (closed before)
]]
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return 1
