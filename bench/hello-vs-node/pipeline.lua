-- Sends DEPTH requests at once on each connection (HTTP/1.1 pipelining), as the
-- TechEmpower "plaintext" test does, so the load tool's own cost per request stops
-- hiding the server's.
init = function(args)
    local depth = tonumber(args[1]) or 16
    local batch = {}
    for i = 1, depth do
        batch[i] = wrk.format()
    end
    pipelined = table.concat(batch)
end

request = function()
    return pipelined
end
