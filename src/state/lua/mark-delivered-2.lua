--[[
  Writes a task's delivered marker and then releases its delivery lock if this holder still owns
  it, in one step: whoever takes the lock next finds the marker (the order the delivery protocol
  needs, docs/architecture.md "Delivery and its crash window"), now by atomicity rather than by the
  order of two commands on one connection.

  Input:
    KEYS[1] the delivered marker (string: the record JSON)
    KEYS[2] the delivery lock (string: the holder's token)

    ARGV[1] the record JSON
    ARGV[2] the marker's lifetime, ms
    ARGV[3] the holder's token

  Output:
    1 when the lock was ours and is released, 0 otherwise (the marker is written either way)
]]
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then return redis.call('DEL', KEYS[2]) end
return 0
