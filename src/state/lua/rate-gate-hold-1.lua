--[[
  Shuts one endpoint's gate for a while from now (a Retry-After it sent): extends the shut time,
  never shortens it.

  Input:
    KEYS[1] the endpoint's gate (string: epoch ms, Redis clock, before which nothing may pass)

    ARGV[1] milliseconds from now during which nothing may pass

  Output:
    the epoch ms (Redis clock) the gate opens
]]
pcall(function() return redis.replicate_commands() end)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local shutUntil = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local wanted = now + tonumber(ARGV[1])
if wanted > shutUntil then
  redis.call('SET', KEYS[1], tostring(wanted), 'PX', tonumber(ARGV[1]) + 1000)
  return wanted
end
return shutUntil
