-- uplink-alert: tell the admins when the node loses its uplink (the link
-- is down, or nothing has been received on it for a minute), and log when
-- it is back.
local UPLINK = "eth0"

local function uplink(node)
  for _, i in ipairs(node.interfaces or {}) do
    if i.name == UPLINK then return i end
  end
end

policy "uplink-alert" {
  description = "alert when the uplink is offline",
  every    = "15s",
  hold     = "1m",
  cooldown = "30m",
  when = function(node)
    local i = uplink(node)
    local rx = rate("interfaces." .. UPLINK .. ".rx_bytes_total") -- bytes/s, nil the first time
    local offline = i == nil or i.state ~= "up" or rx == 0
    if changed(offline) and not offline then log("%s is back online", UPLINK) end
    return offline
  end,
  act = function(node)
    local i = uplink(node)
    alert("critical", "uplink %s offline (%s)", UPLINK, i and ("state " .. i.state .. ", no traffic") or "missing")
  end,
}
