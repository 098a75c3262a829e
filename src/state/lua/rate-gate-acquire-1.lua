--[[
  Takes one endpoint's next slot (a Slack webhook: about one message a second), unless the gate is
  shut (a pass less than an interval ago, or a Retry-After the endpoint sent). Time is Redis's own
  (TIME), so replicas with skewed clocks agree.

  Input:
    KEYS[1] the endpoint's gate (string: epoch ms, Redis clock, before which nothing may pass)

    ARGV[1] interval this pass reserves, ms (0 only honours holds)

  Output:
    0 when the caller may send now (and the gate now shuts for the interval), else the
    milliseconds until it opens
]]
pcall(function() return redis.replicate_commands() end)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local shutUntil = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if shutUntil > now then return shutUntil - now end
local interval = tonumber(ARGV[1])
if interval > 0 then redis.call('SET', KEYS[1], tostring(now + interval), 'PX', interval + 1000) end
return 0
