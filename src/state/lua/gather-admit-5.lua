--[[
  Decides, in one step, what becomes of a notification for one destination: a task with a stored
  decision gets it back; else a burst with no window open opens one and the task is sent alone at
  once (`solo`); with a window open, the task joins its gathering and the window's end is pushed
  back a whole window; a held task joins the open hold (opening one if none). The decision is
  stored with the task, so a retry gets the same answer.

  Input:
    KEYS[1] open: the open gathering's seq (burst: with PX = the window)
    KEYS[2] members: hash `<seq>|<task id>` -> member JSON
    KEYS[3] meta: hash `<seq>:opened` (Redis ms), `<seq>:why`, `<seq>:closed`
    KEYS[4] seq counter
    KEYS[5] decision of this task: `solo`, `burst:<seq>`, `held:<seq>`

    ARGV[1] mode: `burst` or `held`
    ARGV[2] task id
    ARGV[3] member JSON
    ARGV[4] burst window, ms
    ARGV[5] lifetime of the decision and of the members hash, ms
    ARGV[6] why (held: what mutes the route), kept with the gathering

  Output:
    { what, seq or stored decision, ms }: `solo` (send it now; a window opened), `burst` (joined
    burst seq; its window ends in ms), `held` (joined hold seq), `decided` (an earlier call decided:
    element 2 is that decision, ms the remaining window when it is a burst still open)
]]
pcall(function() return redis.replicate_commands() end)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local decided = redis.call('GET', KEYS[5])
if decided then
  local ms = 0
  local kind, seq = string.match(decided, '^(%a+):(%d+)$')
  if kind == 'burst' and redis.call('GET', KEYS[1]) == seq then ms = redis.call('PTTL', KEYS[1]) end
  return { 'decided', decided, ms }
end
local ttl = tonumber(ARGV[5])
local open = redis.call('GET', KEYS[1])
if ARGV[1] == 'burst' then
  local window = tonumber(ARGV[4])
  if not open then
    local seq = tostring(redis.call('INCR', KEYS[4]))
    redis.call('SET', KEYS[1], seq, 'PX', window)
    redis.call('SET', KEYS[5], 'solo', 'PX', ttl)
    return { 'solo', seq, 0 }
  end
  redis.call('HSET', KEYS[2], open .. '|' .. ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('HSETNX', KEYS[3], open .. ':opened', now)
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('SET', KEYS[1], open, 'PX', window)
  redis.call('SET', KEYS[5], 'burst:' .. open, 'PX', ttl)
  return { 'burst', open, window }
end
if not open then
  open = tostring(redis.call('INCR', KEYS[4]))
  redis.call('SET', KEYS[1], open)
  redis.call('HSET', KEYS[3], open .. ':opened', now, open .. ':why', ARGV[6])
end
redis.call('HSET', KEYS[2], open .. '|' .. ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('SET', KEYS[5], 'held:' .. open, 'PX', ttl)
return { 'held', open, 0 }
