--[[
  Forgets jobs of one type that have been gone from the list longer than the retention: their index
  entry, snapshot and vanished mark, each only if, at this moment, the job's mark is still there,
  still names this job type and is still old enough. The poll decides from marks it read earlier;
  a job listed again in between (by another replica's poll) has lost its mark, or has a new one,
  and a delete from the earlier read would forget it and announce it again as new.

  A job whose last status change is younger than the retention is kept too (the detail reads of an
  unlisted job can record an end while it is marked): every transition of a forgotten job is then
  older than retention.vanishedDays, so its delivery markers, kept retention.deliveriesDays, are
  gone before a job of that id can start again at version 1 (the config check keeps
  vanishedDays > deliveriesDays).

  Input:
    KEYS[1] vanished         (hash: job id -> "ms|jobType" or "ms|jobType|404")
    KEYS[2] job snapshots    (hash: job id -> JSON with lastChangeAt, epoch ms)
    KEYS[3] status index     (job id -> "status|version", of the job type in ARGV[2])

    ARGV[1] cutoff, epoch ms: marks and last changes at or before it are old enough
    ARGV[2] job type
    ARGV[3..] job ids

  Output:
    the number of jobs forgotten
]]
local cutoff = tonumber(ARGV[1])
local forgotten = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local mark = redis.call('HGET', KEYS[1], id)
  if mark then
    local since, jobType = string.match(mark, '^([^|]*)|([^|]*)')
    since = tonumber(since)
    if since and jobType == ARGV[2] and since <= cutoff then
      local old = true
      local json = redis.call('HGET', KEYS[2], id)
      if json then
        local ok, snapshot = pcall(cjson.decode, json)
        local lastChange = ok and type(snapshot) == 'table' and tonumber(snapshot.lastChangeAt)
        if lastChange and lastChange > cutoff then old = false end
      end
      if old then
        redis.call('HDEL', KEYS[3], id)
        redis.call('HDEL', KEYS[2], id)
        redis.call('HDEL', KEYS[1], id)
        forgotten = forgotten + 1
      end
    end
  end
end
return forgotten
