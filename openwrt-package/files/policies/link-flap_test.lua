local function link(s)
  return sample { interfaces = { { name = "wlan0-mesh", state = s }, { name = "eth0", state = "up" } } }
end

test("damps a link after 3 flaps in 10 minutes and releases it after 15", function()
  for _ = 1, 2 do
    expect(eval("link-flap", link("up")).fired).to_be(false)
    expect(eval("link-flap", link("down")).fired).to_be(false)
  end
  eval("link-flap", link("up"))
  local r = eval("link-flap", link("down"))
  expect(r).to_have_action("iface.down", { iface = "wlan0-mesh" })
  expect(r).to_have_action("alert", { level = "warning" })
  -- still down 10 minutes later: nothing to do
  expect(eval("link-flap", link("down"), { after = "10m" }).fired).to_be(false)
  r = eval("link-flap", link("down"), { after = "5m" })
  expect(r).to_have_action("iface.up", { iface = "wlan0-mesh" })
end)

test("slow flaps are tolerated", function()
  for _ = 1, 4 do
    eval("link-flap", link("up"), { after = "6m" })
    expect(eval("link-flap", link("down")).fired).to_be(false)
  end
end)

test("only mesh links are damped", function()
  local wan = function(s) return sample { interfaces = { { name = "eth0", state = s } } } end
  for _ = 1, 5 do
    eval("link-flap", wan("up"))
    expect(eval("link-flap", wan("down"))).to_have_no_actions()
  end
end)
