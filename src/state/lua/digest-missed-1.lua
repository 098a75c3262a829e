--[[
  Notes in the digest log that a channel gave a period up: it refused the period until the next
  one was due. The period's line gains the channel in `missed`; when every channel it was queued
  for missed it, its outcome becomes "given-up".

  Input:
    KEYS[1] digest log (list, newest first, JSON lines)

    ARGV[1] period end, epoch ms
    ARGV[2] the channel

  Output:
    1 when the line was found and updated, 0 when not (trimmed away, or noted already)
]]
local lines = redis.call('LRANGE', KEYS[1], 0, -1)
for index, line in ipairs(lines) do
  local ok, entry = pcall(cjson.decode, line)
  if ok and type(entry) == 'table' and tonumber(entry['end']) == tonumber(ARGV[1]) then
    local missed = entry.missed
    if type(missed) ~= 'table' then missed = {} end
    for _, channel in ipairs(missed) do
      if channel == ARGV[2] then return 0 end
    end
    table.insert(missed, ARGV[2])
    entry.missed = missed
    local channels = entry.channels
    if type(channels) == 'table' and #missed >= #channels then entry.outcome = 'given-up' end
    redis.call('LSET', KEYS[1], index - 1, cjson.encode(entry))
    return 1
  end
end
return 0
