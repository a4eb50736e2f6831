-- wrk script: every request comes from the next signed-in voter, with that voter's session and CSRF cookies.
-- Arguments (after --): cookies file ("sessionid csrftoken" per line), method, first voter (0-based),
-- and for POST the form body, where TOKEN is replaced by the voter's CSRF token.
-- One wrk thread (-t1): the voters are taken in order, each once until the list runs out.
local voters = {}
local index = 0
local method = "GET"
local body_template = ""

function init(args)
   for line in io.lines(args[1]) do
      local session, csrf = line:match("^(%S+) (%S+)$")
      if session then
         voters[#voters + 1] = {session, csrf}
      end
   end
   method = args[2] or "GET"
   index = tonumber(args[3] or "0")
   body_template = args[4] or ""
end

function request()
   local voter = voters[index % #voters + 1]
   index = index + 1
   local headers = {Cookie = "sessionid=" .. voter[1] .. "; csrftoken=" .. voter[2]}
   local body = nil
   if method == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      body = (body_template:gsub("TOKEN", voter[2]))
   end
   return wrk.format(method, nil, headers, body)
end
