-- expect: cpu
-- An endless loop at the file's top level: the load is stopped.
while true do end
