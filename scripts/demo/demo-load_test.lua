local loaded = sample {
  system = { load = { 8.0, 6.0, 3.0 }, cpu = { count = 2 } },
  slivers = {
    { name = "s1", state = "started", cpu_percent = 1 },
    { name = "s2", state = "deployed" },
  },
}
local calm = sample { system = { load = { 0.3, 0.3, 0.3 }, cpu = { count = 2 } } }

test("caps the started slivers once the load held 4 seconds", function()
  expect(eval("demo-load", loaded).fired).to_be(false)
  local r = eval("demo-load", loaded, { at = "4s" })
  expect(r.fired).to_be(true)
  expect(r).to_have_action("sliver.limit", { sliver = "s1", cpu = 0.5 })
  expect(r).to_have_action("alert", { level = "warning" })
  expect(#r.actions).to_be(2)
end)

test("stays calm on a calm node", function()
  eval("demo-load", calm)
  expect(eval("demo-load", calm, { at = "10s" }).fired).to_be(false)
end)
