-- flash-guard: when the overlay (the writable flash) is nearly full, stop
-- the slivers that keep writing, newest first, and refuse new ones.
local FULL = 90 -- percent

local function overlay(node)
  for _, fs in ipairs(node.system.filesystems or {}) do
    if fs.mount == "/overlay" then return fs end
  end
end

policy "flash-guard" {
  description = "stop slivers and alert when the flash is nearly full",
  every    = "1m",
  cooldown = "15m",
  priority = 20,             -- stopping beats throttling
  when = function(node)
    local fs = overlay(node)
    return fs ~= nil and fs.used_percent >= FULL
  end,
  act = function(node)
    local fs = overlay(node)
    local newest
    for _, s in ipairs(node.slivers or {}) do
      if s.state == "started" and (newest == nil or s.id > newest.id) then newest = s end
    end
    if newest then sliver.stop(newest.name) end
    alert("critical", "flash %.0f%% full (%d bytes free)%s", fs.used_percent, fs.free_bytes,
      newest and (": stopped sliver " .. newest.name) or "")
  end,
}

policy "flash-admission" {
  description = "refuse new slivers while the flash is nearly full",
  on = "sliver.admit",
  act = function(node, req)
    local fs = overlay(node)
    if fs and fs.used_percent >= FULL - 10 then
      refuse("flash is %.0f%% full", fs.used_percent)
    end
  end,
}
