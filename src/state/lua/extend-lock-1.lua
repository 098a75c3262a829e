--[[
  Extends a lease only if this holder still owns it.

  Input:
    KEYS[1] the lock (string: the holder's token, with PX)

    ARGV[1] the holder's token
    ARGV[2] the new lease, ms from now

  Output:
    1 when the lease was ours and is extended, 0 otherwise
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0
