local function pressure(avail_percent)
  return sample {
    system = { memory = { total_bytes = 100 * 1048576, available_bytes = avail_percent * 1048576 } },
    slivers = {
      { name = "small", state = "started", memory_bytes = 8 * 1048576 },
      { name = "big", state = "started", memory_bytes = 40 * 1048576 },
    },
  }
end

test("caps the hungriest sliver under pressure", function()
  eval("memory-guard", pressure(10))
  eval("memory-guard", pressure(10))
  local r = eval("memory-guard", pressure(10))
  expect(r).to_have_action("sliver.limit", { sliver = "big", memory_bytes = 40 * 1048576 })
end)

test("stops it when memory is critical", function()
  eval("memory-guard", pressure(3), { at = "0s" })
  local r = eval("memory-guard", pressure(3), { at = "40s" })
  expect(r).to_have_action("sliver.stop", { sliver = "big" })
end)

test("plenty of memory: nothing", function()
  for _ = 1, 5 do expect(eval("memory-guard", pressure(60))).to_have_no_actions() end
end)
