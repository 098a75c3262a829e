--[[
  Closes a gathering, or finds it not due yet, and answers its members. Closing is idempotent: a
  closed gathering answers its frozen members again. Closing a burst that is still going on hands
  its window to a new gathering, so later arrivals keep being grouped; closing a hold ends it, so
  what is muted later opens a new one.

  Input:
    KEYS[1] open, KEYS[2] members, KEYS[3] meta, KEYS[4] seq counter (as in gather-admit-5.lua)

    ARGV[1] mode: `burst` or `held`
    ARGV[2] seq of the gathering to close
    ARGV[3] burst: longest a gathering waits after its first member, ms
    ARGV[4] burst window, ms

  Output:
    { 'wait', ms } while a burst's window is still open (and its first member is younger than
    ARGV[3]); else { 'closed', why, field1, json1, field2, json2, ... } with every member of the
    gathering
]]
pcall(function() return redis.replicate_commands() end)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = ARGV[2]
if not redis.call('HGET', KEYS[3], seq .. ':closed') then
  local open = redis.call('GET', KEYS[1])
  if open == seq then
    if ARGV[1] == 'burst' then
      local opened = tonumber(redis.call('HGET', KEYS[3], seq .. ':opened') or now)
      local maxHold = tonumber(ARGV[3])
      local left = redis.call('PTTL', KEYS[1])
      if now - opened < maxHold then
        if left < 1 then left = 1 end
        return { 'wait', math.min(left, opened + maxHold - now) }
      end
      local nextSeq = redis.call('INCR', KEYS[4])
      if left < 1 then left = tonumber(ARGV[4]) end
      redis.call('SET', KEYS[1], nextSeq, 'PX', left)
    else
      redis.call('DEL', KEYS[1])
    end
  end
  redis.call('HSET', KEYS[3], seq .. ':closed', now)
end
local out = { 'closed', redis.call('HGET', KEYS[3], seq .. ':why') or '' }
local all = redis.call('HGETALL', KEYS[2])
local prefix = seq .. '|'
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #prefix) == prefix then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out
