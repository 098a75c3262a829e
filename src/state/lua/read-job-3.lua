--[[
  Reads one job as stored, in one consistent view: the index value the compare-and-set of
  save-job-6.lua will compare against, the snapshot it belongs to and the vanished mark. A script
  rather than a MULTI because a script is an ordinary command to ioredis and goes out in the same
  socket write as the other commands of its turn (auto-pipelining); a MULTI is a write of its own.

  Input:
    KEYS[1] status index     (job id -> "status|version", one hash per job type)
    KEYS[2] job snapshots    (hash: job id -> JSON)
    KEYS[3] vanished         (hash: job id -> "ms|jobType")

    ARGV[1] job id

  Output:
    { index value or false, snapshot JSON or false, vanished mark or false }
]]
return {
  redis.call('HGET', KEYS[1], ARGV[1]),
  redis.call('HGET', KEYS[2], ARGV[1]),
  redis.call('HGET', KEYS[3], ARGV[1]),
}
