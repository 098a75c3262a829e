--[[
  Records the digest period being sent, if the sending lease is still ours: a replica that stalled
  past its lease cannot overwrite the period of the replica that took over.

  Input:
    KEYS[1] digest lock   (string: the lease holder's token)
    KEYS[2] digest pending (string: JSON of the period and the channels done)

    ARGV[1] the lease token
    ARGV[2] pending JSON

  Output:
    1 when written, 0 when the lease is not ours (nothing written)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
