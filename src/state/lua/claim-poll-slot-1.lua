--[[
  Marks a poll slot as the newest polled for its job type, unless a newer one already ran: a poll
  task that waited behind newer ones (a replica that was stopped, a backlog) is skipped, so missed
  ticks never pile up into a burst of API calls.

  Input:
    KEYS[1] the job type's newest slot (string: the slot's scheduled time, epoch ms)

    ARGV[1] this task's slot, epoch ms
    ARGV[2] how long the mark is kept, ms

  Output:
    1 when the slot may be polled (and is now the newest), 0 when a newer slot already ran
]]
local newest = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) < newest then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
