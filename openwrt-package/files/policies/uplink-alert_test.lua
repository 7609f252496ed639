local function wan(s, rx, ts)
  return sample { ts = ts, interfaces = { { name = "eth0", state = s, rx_bytes_total = rx } } }
end

test("alerts after a minute without the link", function()
  expect(eval("uplink-alert", wan("down", 100, 0)).fired).to_be(false)
  expect(eval("uplink-alert", wan("down", 100, 30), { at = "30s" }).fired).to_be(false)
  local r = eval("uplink-alert", wan("down", 100, 60), { at = "1m" })
  expect(r).to_have_action("alert", { level = "critical" })
end)

test("alerts when nothing is received", function()
  eval("uplink-alert", wan("up", 5000, 0))
  eval("uplink-alert", wan("up", 5000, 15), { at = "15s" })
  local r = eval("uplink-alert", wan("up", 5000, 75), { at = "75s" })
  expect(r).to_have_action("alert")
end)

test("traffic keeps it quiet", function()
  for k = 0, 10 do
    expect(eval("uplink-alert", wan("up", 1000 * k, 15 * k), { at = 15 * k }).fired).to_be(false)
  end
end)
