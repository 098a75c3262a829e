--[[
  A failed poll of one job type: keeps the earliest failure of the type's current failing spell,
  and answers the earliest of any polled job type.

  Only the `failingSince:*` fields of the job types in ARGV[3..] (the ones polled) count; fields of
  any other type are deleted on the way (a type no longer polled never succeeds again). The same
  part is in poll-health-clear-1.lua and poll-health-fail-1.lua.

  Input:
    KEYS[1] poll health hash (`failingSince:<type>` -> epoch ms of the spell's first failure)

    ARGV[1] field: `failingSince:<type>`
    ARGV[2] start of the failed poll, epoch ms
    ARGV[3..] the job types polled

  Output:
    the earliest `failingSince:*` of any polled job type, as a string; 'nil' when none is failing
]]
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])

local watched = {}
for i = 3, #ARGV do watched['failingSince:' .. ARGV[i]] = true end
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 13) == 'failingSince:' then
    if watched[all[i]] then out[#out + 1] = tonumber(all[i + 1]) else redis.call('HDEL', KEYS[1], all[i]) end
  end
end

local earliest = nil
for _, value in ipairs(out) do
  if earliest == nil or value < earliest then earliest = value end
end
return tostring(earliest)
