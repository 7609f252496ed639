local function with_flash(percent)
  return sample {
    system = { filesystems = { { mount = "/overlay", size_bytes = 8388608,
      used_bytes = 8388608 * percent / 100, free_bytes = 8388608 * (100 - percent) / 100,
      used_percent = percent } } },
    slivers = {
      { name = "old", id = 3, state = "started" },
      { name = "new", id = 7, state = "started" },
    },
  }
end

test("stops the newest sliver when the flash is full", function()
  local r = eval("flash-guard", with_flash(95))
  expect(r).to_have_action("sliver.stop", { sliver = "new" })
  expect(r).to_have_action("alert", { level = "critical" })
end)

test("leaves a roomy flash alone", function()
  expect(eval("flash-guard", with_flash(50))).to_have_no_actions()
end)

test("refuses slivers when the flash fills up", function()
  local req = { slice = "exp", owner = "ssh-ed25519 AAAA", resources = { disk_bytes = 1000000 } }
  expect(eval("flash-admission", with_flash(85), { event = req })).to_have_action("refuse")
  expect(eval("flash-admission", with_flash(40), { event = req })).to_have_no_actions()
end)
