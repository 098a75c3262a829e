--[[
  Compare-and-delete: releases a lock (the digest's lease, a delivery lock) only if this holder
  still owns it, so a holder whose lock expired and was taken cannot free the new holder's.

  Input:
    KEYS[1] the lock (string: the holder's token)

    ARGV[1] the holder's token

  Output:
    1 when the lock was ours and is deleted, 0 otherwise
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0
