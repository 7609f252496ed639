local busy = sample {
  system = { load = { 6.0, 5.5, 4.0 }, cpu = { count = 2 } },
  slivers = {
    { name = "s3", state = "started", cpu_percent = 90 },
    { name = "s4", state = "started", cpu_percent = 10 },
    { name = "s5", state = "stopped", cpu_percent = 80 },
  },
}
local calm = sample { system = { load = { 0.5, 0.5, 0.5 }, cpu = { count = 2 } } }

test("waits for the load to hold 2 minutes", function()
  expect(eval("cpu-guard", busy).fired).to_be(false)            -- 0s
  expect(eval("cpu-guard", busy, { at = "1m" }).fired).to_be(false)
  local r = eval("cpu-guard", busy, { at = "2m" })
  expect(r.fired).to_be(true)
  expect(r).to_have_action("sliver.limit", { sliver = "s3", cpu = 0.5 })
  expect(r).to_have_action("alert", { level = "warning" })
  expect(#r.actions).to_be(2)                                    -- s4 is calm, s5 stopped
end)

test("a calm minute restarts the hold", function()
  eval("cpu-guard", busy)
  eval("cpu-guard", calm, { at = "1m" })
  expect(eval("cpu-guard", busy, { at = "2m" }).fired).to_be(false)
end)

test("acts at most once per cooldown", function()
  eval("cpu-guard", busy)
  expect(eval("cpu-guard", busy, { at = "2m" }).fired).to_be(true)
  expect(eval("cpu-guard", busy, { at = "5m" }).fired).to_be(false)
  expect(eval("cpu-guard", busy, { at = "12m" }).fired).to_be(true)
end)

test("a calm node is left alone", function()
  local r = eval("cpu-guard", calm)
  expect(r.when).to_be(false)
  expect(r).to_have_no_actions()
end)
