-- expect: ok
-- Log lines beyond the cap are counted, not kept.
policy "hostile" { every = "1s", act = function(node)
  for i = 1, 2000 do log("line %d %s", i, ("x"):rep(100)) end
end }
