--[[
  Adds entries to the notification log (a list, newest first), trims it to its length and renews
  its expiry: one command for what were three, each of them once per delivery.

  Input:
    KEYS[1] the log (list of entry JSON)

    ARGV[1] entries kept (at least 1)
    ARGV[2] expiry of the list, ms
    ARGV[3..] the entries, the last one ending up newest

  Output:
    the list's length after the push, before the trim
]]
local length = redis.call('LPUSH', KEYS[1], unpack(ARGV, 3))
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return length
