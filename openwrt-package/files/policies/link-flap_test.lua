local node = sample {}
local function down(name, after)
  return eval("link-flap", node, { event = { iface = name }, after = after or "1m" })
end

test("damps a link after 3 flaps in 10 minutes, however short, and releases it after 15", function()
  -- Three flaps a few seconds apart: a poll every 10 s would have seen none.
  expect(down("wlan0-mesh", "1s").fired).to_be(false)
  expect(down("wlan0-mesh", "2s").fired).to_be(false)
  local r = down("wlan0-mesh", "3s")
  expect(r).to_have_action("iface.down", { iface = "wlan0-mesh" })
  expect(r).to_have_action("alert", { level = "warning" })
  -- our own iface.down raises link.down again: not a flap
  expect(down("wlan0-mesh", "0s").fired).to_be(false)
  expect(eval("link-flap-release", node, { after = "10m" }).fired).to_be(false)
  r = eval("link-flap-release", node, { after = "5m" })
  expect(r).to_have_action("iface.up", { iface = "wlan0-mesh" })
  expect(eval("link-flap-release", node, { after = "1m" }).fired).to_be(false)
  -- counted afresh after the penalty
  expect(down("wlan0-mesh").fired).to_be(false)
end)

test("slow flaps are tolerated", function()
  for _ = 1, 4 do
    expect(down("wlan0-mesh", "6m").fired).to_be(false)
  end
end)

test("only mesh links are damped", function()
  for _ = 1, 5 do
    expect(down("eth0", "1s")).to_have_no_actions()
  end
end)
